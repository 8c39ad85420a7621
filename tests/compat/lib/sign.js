'use strict';
// Independent implementation of the HMAC-SHA1 (signature version 1.0) request
// signing used by Alibaba Cloud RPC APIs. Written from the protocol description,
// not from the server's code, so that it can be used as a reference client.

const crypto = require('node:crypto');

// RFC 3986 percent-encoding of the UTF-8 bytes: only A-Z a-z 0-9 - _ . ~ stay raw,
// everything else becomes %XX with upper-case hex digits.
function percentEncode(value) {
  const bytes = Buffer.from(String(value), 'utf8');
  let out = '';
  for (const b of bytes) {
    const c = String.fromCharCode(b);
    if (/[A-Za-z0-9\-_.~]/.test(c)) out += c;
    else out += '%' + b.toString(16).toUpperCase().padStart(2, '0');
  }
  return out;
}

// Sort by name using plain byte order (so "Tag.10" sorts before "Tag.2").
function byteCompare(a, b) {
  const ba = Buffer.from(a, 'utf8');
  const bb = Buffer.from(b, 'utf8');
  return Buffer.compare(ba, bb);
}

function canonicalQuery(params) {
  return Object.keys(params)
    .filter((k) => k !== 'Signature')
    .sort(byteCompare)
    .map((k) => `${percentEncode(k)}=${percentEncode(params[k])}`)
    .join('&');
}

function stringToSign(method, params) {
  return `${method.toUpperCase()}&${percentEncode('/')}&${percentEncode(canonicalQuery(params))}`;
}

function signV1(method, params, secret) {
  return crypto.createHmac('sha1', `${secret}&`).update(stringToSign(method, params), 'utf8').digest('base64');
}

// "YYYY-MM-DDThh:mm:ssZ" in UTC without fractional seconds.
function formatTimestamp(date) {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

function randomNonce() {
  return crypto.randomBytes(16).toString('hex');
}

// Flatten a PascalCase parameter object the way the SDKs do on the wire:
// arrays become Name.1, Name.2 ...; objects inside arrays become Name.N.Field.
function flatten(params, prefix = '', out = {}) {
  for (const [k, v] of Object.entries(params)) {
    if (v === undefined || v === null) continue;
    const key = prefix ? `${prefix}.${k}` : k;
    if (Array.isArray(v)) {
      v.forEach((item, i) => {
        if (item === undefined || item === null) return;
        if (typeof item === 'object') flatten(item, `${key}.${i + 1}`, out);
        else out[`${key}.${i + 1}`] = String(item);
      });
    } else if (typeof v === 'object') {
      flatten(v, key, out);
    } else {
      out[key] = String(v);
    }
  }
  return out;
}

// Build the complete, signed parameter set of a V1 request.
// opts: accessKeyId, accessKeySecret, method, format, version, timestamp (Date or string),
// nonce, securityToken, extra (raw name/value pairs merged last, e.g. to override common params).
function buildSignedParams(action, params, opts) {
  const method = (opts.method || 'GET').toUpperCase();
  const ts = opts.timestamp instanceof Date ? formatTimestamp(opts.timestamp)
    : (opts.timestamp || formatTimestamp(new Date()));
  const all = {
    Action: action,
    Version: opts.version || '2018-01-20',
    AccessKeyId: opts.accessKeyId,
    SignatureMethod: 'HMAC-SHA1',
    SignatureVersion: '1.0',
    SignatureNonce: opts.nonce || randomNonce(),
    Timestamp: ts,
    ...(opts.format === null ? {} : { Format: opts.format || 'JSON' }),
    ...(opts.securityToken ? { SecurityToken: opts.securityToken } : {}),
    ...flatten(params || {}),
    ...(opts.extra || {}),
  };
  for (const k of Object.keys(all)) if (all[k] === undefined) delete all[k];
  all.Signature = signV1(method, all, opts.accessKeySecret);
  return { method, params: all };
}

function encodeForm(params) {
  return Object.keys(params).map((k) => `${percentEncode(k)}=${percentEncode(params[k])}`).join('&');
}

// ACS3-HMAC-SHA256 (V3) signature over a received request, rebuilt from its parts:
// the request-target query (decoded, then re-encoded), the headers named in
// SignedHeaders, and the hex SHA-256 of the body bytes.
function formDecode(s) {
  return decodeURIComponent(s.replace(/\+/g, ' '));
}

function v3Signature({ method, target, headers, body, secret, signedHeaders }) {
  const q = target.includes('?') ? target.slice(target.indexOf('?') + 1) : '';
  const pairs = q ? q.split('&').map((item) => {
    const i = item.indexOf('=');
    return i < 0 ? [formDecode(item), ''] : [formDecode(item.slice(0, i)), formDecode(item.slice(i + 1))];
  }) : [];
  pairs.sort((a, b) => byteCompare(a[0], b[0]));
  const canonicalQueryString = pairs.map(([k, v]) => `${percentEncode(k)}=${percentEncode(v)}`).join('&');
  const lower = {};
  for (const [k, v] of Object.entries(headers)) lower[k.toLowerCase()] = String(v).trim();
  const names = signedHeaders.split(';');
  const canonicalHeaders = names.map((n) => `${n}:${lower[n]}\n`).join('');
  const payloadHash = crypto.createHash('sha256').update(body || Buffer.alloc(0)).digest('hex');
  const path = target.split('?')[0];
  const canonicalRequest = [method, path, canonicalQueryString, canonicalHeaders, signedHeaders, payloadHash].join('\n');
  const toSign = `ACS3-HMAC-SHA256\n${crypto.createHash('sha256').update(canonicalRequest, 'utf8').digest('hex')}`;
  return {
    payloadHash,
    canonicalRequest,
    signature: crypto.createHmac('sha256', secret).update(toSign, 'utf8').digest('hex'),
  };
}

module.exports = {
  v3Signature, formDecode,
  percentEncode, canonicalQuery, stringToSign, signV1, formatTimestamp, randomNonce,
  flatten, buildSignedParams, encodeForm, byteCompare,
};
