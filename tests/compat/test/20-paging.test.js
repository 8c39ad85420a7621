'use strict';
// Paging of ListOTAJobByDevice: page sizes, page counts, pages past the end,
// ordering (newest first, then JobId) and out-of-range page parameters.

const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');

const { startServer } = require('../lib/server');
const { Iot, makeDriver } = require('../lib/clients');
const { assertSuccess, assertBusinessError, assertTypes } = require('../lib/checks');
const { setupCatalog, createFirmware, registerDevice, createStaticJob, expectedOrder, NO_THROTTLING } = require('../lib/fixtures');
const { v1Request } = require('../lib/http');

const JOBS = 7;
let server;
let account;
let d;
let cat;
let device;
let idle;
let order;

before(async () => {
  server = await startServer({ config: NO_THROTTLING });
  account = await server.createAccount('paging');
  d = makeDriver('v3', server, account);
  cat = await setupCatalog(d, { devices: 2 });
  [device, idle] = cat.devices;

  // A job of another package for the same device must not show up below.
  const other = await createFirmware(d, cat.productKey, { DestVersion: '3.0.0' });
  await createStaticJob(d, {
    FirmwareId: other.firmwareId, ProductKey: cat.productKey, TargetSelection: 'SPECIFIC', TargetDeviceName: [device.deviceName],
  });

  // Each new batch replaces the device's pending task (OverwriteMode 2), so the
  // device has had a task in every one of them.
  const jobs = [];
  for (let i = 0; i < JOBS; i++) {
    jobs.push(await createStaticJob(d, {
      FirmwareId: cat.firmwareId,
      ProductKey: cat.productKey,
      TargetSelection: 'SPECIFIC',
      TargetDeviceName: [device.deviceName],
      OverwriteMode: 2,
      Tag: [{ Key: 'seq', Value: String(i) }],
    }));
  }
  order = expectedOrder(jobs);
});

after(async () => {
  if (server) await server.stop();
});

function list(extra, drv = d) {
  return drv.call('ListOTAJobByDevice', {
    ProductKey: cat.productKey, DeviceName: device.deviceName, FirmwareId: cat.firmwareId, ...extra,
  });
}

function checkPage(res, currentPage, pageSize, total, expectedIds, where) {
  assertSuccess(res, where);
  assertTypes(res.raw, Iot.ListOTAJobByDeviceResponseBody, where);
  const r = res.raw;
  assert.equal(r.CurrentPage, currentPage, `${where}: CurrentPage`);
  assert.equal(r.PageSize, pageSize, `${where}: PageSize`);
  assert.equal(r.Total, total, `${where}: Total`);
  assert.equal(r.PageCount, total === 0 ? 0 : Math.ceil(total / pageSize), `${where}: PageCount`);
  assert.ok(Array.isArray(r.Data.SimpleOTAJobInfo), `${where}: Data.SimpleOTAJobInfo must be an array`);
  assert.deepEqual(r.Data.SimpleOTAJobInfo.map((j) => j.JobId), expectedIds, `${where}: job ids in order`);
}

test('one page with everything, newest first', async () => {
  const res = await list({ CurrentPage: 1, PageSize: 100 });
  checkPage(res, 1, 100, JOBS, order, 'PageSize 100');
  for (const item of res.raw.Data.SimpleOTAJobInfo) {
    assert.equal(item.FirmwareId, cat.firmwareId);
    assert.ok(Array.isArray(item.Tags.OtaTagDTO), 'Tags.OtaTagDTO is an array with one element');
    assert.equal(item.Tags.OtaTagDTO.length, 1);
    assert.equal(item.Tags.OtaTagDTO[0].Key, 'seq');
    assert.ok(['IN_PROGRESS', 'COMPLETED', 'CANCELED'].includes(item.JobStatus), `JobStatus ${item.JobStatus}`);
    assert.equal('UtcEndTime' in item, item.JobStatus === 'COMPLETED' || item.JobStatus === 'CANCELED',
      `UtcEndTime only for ended jobs (${item.JobStatus}, ${item.UtcEndTime})`);
    assert.ok('UtcStartTime' in item, 'started jobs carry UtcStartTime');
  }
});

test('several pages of 3', async () => {
  const seen = [];
  for (let p = 1; p <= 3; p++) {
    const res = await list({ CurrentPage: p, PageSize: 3 });
    const ids = order.slice((p - 1) * 3, p * 3);
    checkPage(res, p, 3, JOBS, ids, `page ${p} of 3`);
    seen.push(...ids);
  }
  assert.deepEqual(seen, order);
});

test('page past the end is an empty array, not an error', async () => {
  checkPage(await list({ CurrentPage: 4, PageSize: 3 }), 4, 3, JOBS, [], 'page 4 of 3');
  checkPage(await list({ CurrentPage: 1000, PageSize: 100 }), 1000, 100, JOBS, [], 'page 1000');
});

test('PageSize 1 walks every job; PageSize equal to Total is one page', async () => {
  for (let p = 1; p <= JOBS; p++) checkPage(await list({ CurrentPage: p, PageSize: 1 }), p, 1, JOBS, [order[p - 1]], `PageSize 1 page ${p}`);
  checkPage(await list({ CurrentPage: JOBS + 1, PageSize: 1 }), JOBS + 1, 1, JOBS, [], 'PageSize 1 past the end');
  checkPage(await list({ CurrentPage: 1, PageSize: JOBS }), 1, JOBS, JOBS, order, 'PageSize = Total');
});

test('same pages through the other clients', async () => {
  for (const flavour of ['v2', 'pop', 'popPost', 'raw']) {
    const drv = makeDriver(flavour, server, account);
    checkPage(await list({ CurrentPage: 2, PageSize: 2 }, drv), 2, 2, JOBS, order.slice(2, 4), `${flavour} page 2 of 2`);
  }
});

test('device without tasks: empty list with zero counts', async () => {
  const res = await d.call('ListOTAJobByDevice', {
    ProductKey: cat.productKey, DeviceName: idle.deviceName, FirmwareId: cat.firmwareId, CurrentPage: 1, PageSize: 10,
  });
  checkPage(res, 1, 10, 0, [], 'idle device');
  assert.deepEqual(res.raw.Data, { SimpleOTAJobInfo: [] });
});

test('out-of-range page parameters', async () => {
  const bad = [
    { CurrentPage: 0, PageSize: 10 },
    { CurrentPage: -1, PageSize: 10 },
    { CurrentPage: 1, PageSize: 0 },
    { CurrentPage: 1, PageSize: 101 },
    { CurrentPage: 1, PageSize: -5 },
  ];
  for (const flavour of ['v3', 'pop']) {
    const drv = makeDriver(flavour, server, account);
    for (const p of bad) {
      const res = await list(p, drv);
      assertBusinessError(res, 'iot.common.InvalidPageParams', `${flavour} ${JSON.stringify(p)}`);
      if (flavour === 'pop') assert.equal(res.clientThrew, true, 'pop-core throws on a business error Code');
      if (flavour === 'v3') {
        assert.equal(res.model.body.success, false);
        assert.equal(res.model.body.code, 'iot.common.InvalidPageParams');
      }
    }
  }
  // The boundaries themselves are fine.
  assertSuccess(await list({ CurrentPage: 1, PageSize: 1 }), 'PageSize 1');
  assertSuccess(await list({ CurrentPage: 1, PageSize: 100 }), 'PageSize 100');
});

test('non-numeric page parameters are rejected', async () => {
  for (const p of [{ CurrentPage: 'abc', PageSize: '10' }, { CurrentPage: '1', PageSize: 'ten' }, { CurrentPage: '1.5', PageSize: '10' }]) {
    const res = await v1Request(server, account, 'ListOTAJobByDevice', {
      ProductKey: cat.productKey, DeviceName: device.deviceName, FirmwareId: cat.firmwareId, ...p,
    });
    assert.ok(res.json, `JSON reply expected, got ${res.text}`);
    if (res.status === 400) {
      assert.equal(typeof res.json.Code, 'string', 'a 400 carries a Code');
      assert.ok(res.json.Code.length > 0);
    } else {
      assert.equal(res.status, 200, `status ${res.status}`);
      assert.equal(res.json.Success, false, `${JSON.stringify(p)} must not succeed: ${res.text}`);
      assert.ok(res.json.Code, 'Success:false carries a Code');
    }
  }
});
