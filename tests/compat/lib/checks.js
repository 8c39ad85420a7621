'use strict';
// Assertions shared by the test files.

const assert = require('node:assert/strict');
const crypto = require('node:crypto');

const UUID_RE = /^[0-9A-F]{8}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{12}$/;
const UTC_MS_RE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

function headerOf(headers, name) {
  if (!headers) return undefined;
  const want = name.toLowerCase();
  for (const [k, v] of Object.entries(headers)) if (k.toLowerCase() === want) return v;
  return undefined;
}

function assertRequestId(raw, headers, where = '') {
  assert.match(String(raw.RequestId), UUID_RE, `${where} RequestId must be an upper-case UUID, got ${raw.RequestId}`);
  if (headers) {
    assert.equal(headerOf(headers, 'x-acs-request-id'), raw.RequestId, `${where} x-acs-request-id header must equal the body RequestId`);
  }
}

// A successful reply: HTTP 200, Success true, no non-empty Code, a RequestId.
function assertSuccess(res, where = '') {
  const w = `${where}:`;
  assert.equal(res.status, 200, `${w} HTTP status`);
  assert.equal(res.clientThrew, false, `${w} client threw on a success reply: ${JSON.stringify(res.raw)}`);
  assert.equal(res.raw.Success, true, `${w} Success must be the JSON boolean true, body: ${JSON.stringify(res.raw)}`);
  assert.ok(res.raw.Code === undefined || res.raw.Code === '', `${w} success body must not carry a Code, got ${JSON.stringify(res.raw.Code)}`);
  assertRequestId(res.raw, res.headers, w);
  if (res.headers) {
    const ct = headerOf(res.headers, 'content-type');
    assert.match(String(ct), /^application\/json/i, `${w} content-type of a JSON reply`);
  }
}

// A business error: HTTP 200 with Success false and an iot.* Code.
function assertBusinessError(res, code, where = '') {
  const w = `${where}:`;
  assert.equal(res.status, 200, `${w} business errors ride on HTTP 200`);
  assert.equal(res.raw.Success, false, `${w} Success must be false, body: ${JSON.stringify(res.raw)}`);
  if (code instanceof RegExp) assert.match(String(res.raw.Code), code, `${w} Code`);
  else assert.equal(res.raw.Code, code, `${w} Code (body: ${JSON.stringify(res.raw)})`);
  assert.equal(typeof res.raw.ErrorMessage, 'string', `${w} ErrorMessage must be a string`);
  assert.ok(res.raw.ErrorMessage.length > 0, `${w} ErrorMessage must not be empty`);
  assertRequestId(res.raw, res.headers, w);
}

// Gateway-family error body checks (4xx/5xx): RequestId, HostId, Code, Message, Recommend.
function assertGatewayBody(body, code, where = '') {
  const w = `${where}:`;
  assert.equal(body.Code, code, `${w} Code (body: ${JSON.stringify(body)})`);
  assert.match(String(body.RequestId), UUID_RE, `${w} RequestId`);
  assert.equal(typeof body.Message, 'string', `${w} Message must be a string`);
  assert.ok(body.Message.length > 0, `${w} Message must not be empty`);
  assert.equal(typeof body.HostId, 'string', `${w} HostId must be a string`);
  assert.ok('Recommend' in body, `${w} Recommend must be present`);
}

// Await a driver call that must fail at the gateway level.
async function expectGateway(promise, code, status, where = '') {
  let res;
  try {
    res = await promise;
  } catch (err) {
    if (!err || err.code === undefined || err.statusCode === undefined) throw err;
    assert.equal(err.code, code, `${where}: error code (body: ${JSON.stringify(err.body)})`);
    assert.equal(err.statusCode, status, `${where}: HTTP status for ${code}`);
    assertGatewayBody(err.body, code, where);
    if (err.headers) assert.equal(headerOf(err.headers, 'x-acs-request-id'), err.body.RequestId, `${where}: x-acs-request-id header`);
    return err;
  }
  assert.fail(`${where}: expected ${status} ${code}, got HTTP ${res.status} ${JSON.stringify(res.raw)}`);
}

function jsonType(v) {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  return typeof v;
}

// Compare a raw JSON reply with the SDK response-body model: every field that is
// present must already have the JSON type the model declares (no quoted numbers,
// no singleton objects where arrays belong, no bare arrays where wrappers belong).
function typeViolations(raw, ModelClass, path = '') {
  const out = [];
  if (jsonType(raw) !== 'object') {
    out.push(`${path || '<root>'}: expected object, got ${jsonType(raw)}`);
    return out;
  }
  const names = ModelClass.names();
  const types = ModelClass.types();
  for (const [prop, wire] of Object.entries(names)) {
    if (!(wire in raw)) continue;
    const v = raw[wire];
    const p = path ? `${path}.${wire}` : wire;
    const t = types[prop];
    if (v === null) { out.push(`${p}: null`); continue; }
    if (typeof t === 'string') {
      if (t === 'any' || t === 'map' || t === 'Readable' || t === 'Buffer') continue;
      if (jsonType(v) !== t) out.push(`${p}: expected JSON ${t}, got ${jsonType(v)} ${JSON.stringify(v)}`);
    } else if (t && t.type === 'array') {
      if (!Array.isArray(v)) { out.push(`${p}: expected array, got ${jsonType(v)}`); continue; }
      v.forEach((item, i) => {
        if (typeof t.itemType === 'function') out.push(...typeViolations(item, t.itemType, `${p}[${i}]`));
        else if (typeof t.itemType === 'string' && jsonType(item) !== t.itemType) out.push(`${p}[${i}]: expected ${t.itemType}, got ${jsonType(item)}`);
      });
    } else if (t && t.type === 'map') {
      if (jsonType(v) !== 'object') out.push(`${p}: expected object, got ${jsonType(v)}`);
    } else if (typeof t === 'function') {
      out.push(...typeViolations(v, t, p));
    }
  }
  return out;
}

function assertTypes(raw, ModelClass, where = '') {
  const v = typeViolations(raw, ModelClass);
  assert.deepEqual(v, [], `${where}: raw JSON does not match the SDK model ${ModelClass.name}:\n  ${v.join('\n  ')}`);
}

function assertUtc(value, where) {
  assert.match(String(value), UTC_MS_RE, `${where} must be YYYY-MM-DDTHH:mm:ss.SSSZ, got ${JSON.stringify(value)}`);
  assert.ok(!Number.isNaN(Date.parse(value)), `${where} must be a valid date`);
}

function assertRecent(value, where, toleranceMs = 5 * 60 * 1000) {
  assertUtc(value, where);
  const delta = Math.abs(Date.parse(value) - Date.now());
  assert.ok(delta < toleranceMs, `${where} (${value}) should be close to now`);
}

const ALNUM_LOWER = 'abcdefghijklmnopqrstuvwxyz';
const ALNUM_UPPER = ALNUM_LOWER.toUpperCase();
const DIGITS = '0123456789';

// A random identifier shaped like `id` (same length, same character class at each position).
function randomLike(id) {
  let out = '';
  for (const ch of String(id)) {
    const pick = (set) => set[crypto.randomInt(set.length)];
    if (ALNUM_LOWER.includes(ch)) out += pick(ALNUM_LOWER);
    else if (ALNUM_UPPER.includes(ch)) out += pick(ALNUM_UPPER);
    else if (DIGITS.includes(ch)) out += pick(DIGITS);
    else out += ch;
  }
  return out === id ? randomLike(id) : out;
}

// Remove what legitimately differs between two replies that should otherwise be
// identical: the RequestId, and the identifiers the caller passed in (an error
// message may echo them).
function normalizeReply(status, body, substitutions) {
  let text = JSON.stringify(body);
  for (const [from, to] of substitutions) text = text.split(from).join(to);
  const obj = JSON.parse(text);
  delete obj.RequestId;
  if (typeof obj.Recommend === 'string') obj.Recommend = obj.Recommend.replace(/[0-9A-F]{8}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{12}/g, '<REQUESTID>');
  return { status, body: obj };
}

function uniqueName(prefix) {
  return `${prefix}${crypto.randomBytes(4).toString('hex')}`;
}

module.exports = {
  UUID_RE, UTC_MS_RE, headerOf, assertRequestId, assertSuccess, assertBusinessError, assertGatewayBody,
  expectGateway, typeViolations, assertTypes, assertUtc, assertRecent, randomLike, normalizeReply, uniqueName,
};
