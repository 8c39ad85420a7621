'use strict';
// Helpers for the batch and task suites: list envelopes, "another tenant's id
// answers like a nonexistent one", and short-hands for the calls those suites
// repeat (query a batch, list its tasks).

const assert = require('node:assert/strict');
const { assertSuccess, assertBusinessError, assertTypes, randomLike, normalizeReply } = require('./checks');
const { Iot } = require('./clients');

function assertNoKey(obj, key, where) {
  assert.ok(!(key in obj), `${where}: ${key} must be absent, got ${JSON.stringify(obj[key])}`);
}

// Top-level paging fields as JSON numbers, the wrapper object `wrapper` holding
// the array `item`, and the raw reply matching the SDK's response model.
function checkPagedList(raw, { wrapper, item, model, currentPage, pageSize, total }, where) {
  for (const k of ['CurrentPage', 'PageSize', 'PageCount', 'Total']) {
    assert.equal(typeof raw[k], 'number', `${where}: ${k} must be a JSON number, got ${JSON.stringify(raw[k])}`);
  }
  if (currentPage !== undefined) assert.equal(raw.CurrentPage, currentPage, `${where}: CurrentPage`);
  if (pageSize !== undefined) assert.equal(raw.PageSize, pageSize, `${where}: PageSize`);
  if (total !== undefined) assert.equal(raw.Total, total, `${where}: Total`);
  assert.equal(raw.PageCount, raw.Total === 0 ? 0 : Math.ceil(raw.Total / raw.PageSize), `${where}: PageCount = ceil(Total / PageSize)`);
  const box = raw[wrapper];
  assert.equal(typeof box, 'object', `${where}: ${wrapper} must be an object`);
  assert.ok(box !== null && !Array.isArray(box), `${where}: ${wrapper} must be the wrapper object, not ${JSON.stringify(box)}`);
  assert.ok(Array.isArray(box[item]), `${where}: ${wrapper}.${item} must be an array, got ${JSON.stringify(box)}`);
  if (model) assertTypes(raw, model, where);
  return box[item];
}

// Call `action` twice as the other tenant - once with the real foreign ids, once
// with random ids of the same shape - and require the same answer apart from the
// RequestId and the echoed ids.
async function sameAsNonexistent(drv, action, build, ids, expectedCode, where) {
  const fake = Object.fromEntries(Object.entries(ids).map(([k, v]) => [k, randomLike(v)]));
  const real = await drv.call(action, build(ids));
  const ghost = await drv.call(action, build(fake));
  assertBusinessError(real, expectedCode, `${where} with the other tenant's ids`);
  assertBusinessError(ghost, expectedCode, `${where} with nonexistent ids`);
  const subsReal = Object.entries(ids).map(([k, v]) => [v, `<${k}>`]);
  const subsGhost = Object.entries(ids).map(([k, v]) => [fake[k], `<${k}>`]);
  assert.deepEqual(normalizeReply(real.status, real.raw, subsReal), normalizeReply(ghost.status, ghost.raw, subsGhost),
    `${where}: another tenant's resource must answer exactly like a nonexistent one`);
}

async function queryJob(d, jobId, where = 'QueryOTAJob') {
  const res = await d.call('QueryOTAJob', { JobId: jobId });
  assertSuccess(res, where);
  assertTypes(res.raw, Iot.QueryOTAJobResponseBody, where);
  return res.raw.Data;
}

// Every task of a batch (one page of up to 100), keyed by device name.
async function tasksOf(d, jobId, where = 'ListOTATaskByJob') {
  const res = await d.call('ListOTATaskByJob', { JobId: jobId, CurrentPage: 1, PageSize: 100 });
  assertSuccess(res, where);
  const items = res.raw.Data.SimpleOTATaskInfo;
  const byDevice = {};
  for (const t of items) byDevice[t.DeviceName] = t;
  return { items, byDevice };
}

async function firmwareStatus(d, firmwareId) {
  const res = await d.call('QueryOTAFirmware', { FirmwareId: firmwareId });
  assertSuccess(res, 'QueryOTAFirmware');
  return res.raw.FirmwareInfo;
}

// A time the server accepts as ScheduleTime (5 minutes to 7 days ahead).
function futureMs(minutes) {
  return Date.now() + minutes * 60 * 1000;
}

module.exports = { assertNoKey, checkPagedList, sameAsNonexistent, queryJob, tasksOf, firmwareStatus, futureMs };
