'use strict';
// Packages and batches beyond creation: ListOTAFirmware, DeleteOTAFirmware,
// CreateOTAVerifyJob, CreateOTADynamicUpgradeJob, QueryOTAJob,
// ListOTAJobByFirmware and CancelOTAStrategyByJob. Raw JSON types and wrappers are
// checked against the SDK's response models, and the SDK model the caller gets
// is checked too. Another tenant's ids must answer like nonexistent ones.

const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');

const { startServer } = require('../lib/server');
const { Iot, makeDriver, FLAVOURS } = require('../lib/clients');
const {
  assertSuccess, assertBusinessError, assertTypes, assertUtc, assertRecent, expectGateway, randomLike, uniqueName,
} = require('../lib/checks');
const {
  createProduct, registerDevice, createFirmware, createStaticJob, expectedOrder, FIRMWARE_URL_BASE, NO_THROTTLING,
} = require('../lib/fixtures');
const {
  assertNoKey, checkPagedList, sameAsNonexistent, queryJob, tasksOf, firmwareStatus, futureMs,
} = require('../lib/ota');

let server;
let account;
let other;

before(async () => {
  server = await startServer({ config: NO_THROTTLING });
  account = await server.createAccount('jobs');
  other = await server.createAccount('jobs-other');
});

after(async () => {
  if (server) await server.stop();
});

const isSdk = (d) => d.name === 'v3' || d.name === 'v2';

// A product with `n` devices.
async function productWithDevices(d, n) {
  const { productKey, productName } = await createProduct(d);
  const devices = [];
  for (let i = 0; i < n; i++) devices.push(await registerDevice(d, productKey));
  return { productKey, productName, devices, names: devices.map((x) => x.deviceName) };
}

async function listFirmware(d, params, where) {
  const res = await d.call('ListOTAFirmware', params);
  assertSuccess(res, where);
  const items = checkPagedList(res.raw, {
    wrapper: 'FirmwareInfo', item: 'SimpleFirmwareInfo', model: Iot.ListOTAFirmwareResponseBody,
    currentPage: params.CurrentPage, pageSize: params.PageSize,
  }, where);
  return { res, items };
}

async function listJobsByFirmware(d, params, where) {
  const res = await d.call('ListOTAJobByFirmware', params);
  assertSuccess(res, where);
  const items = checkPagedList(res.raw, {
    wrapper: 'Data', item: 'SimpleOTAJobInfo', model: Iot.ListOTAJobByFirmwareResponseBody,
    currentPage: params.CurrentPage, pageSize: params.PageSize,
  }, where);
  return { res, items };
}

function newestFirst(fws) {
  return [...fws].sort((a, b) => {
    const ta = Date.parse(a.utcCreate);
    const tb = Date.parse(b.utcCreate);
    if (ta !== tb) return tb - ta;
    return a.firmwareId < b.firmwareId ? -1 : a.firmwareId > b.firmwareId ? 1 : 0;
  }).map((f) => f.firmwareId);
}

// ---------------------------------------------------------------------------
// ListOTAFirmware
// ---------------------------------------------------------------------------

FLAVOURS.forEach((flavour, idx) => {
  test(`ListOTAFirmware via ${flavour}`, async (t) => {
    const d = makeDriver(flavour, server, account);
    const vA = `7.${idx}.1`;
    const vB = `7.${idx}.2`;
    const p1 = await createProduct(d);
    const p2 = await createProduct(d);
    const empty = await createProduct(d);
    const made = [];
    const mk = async (productKey, extra) => {
      const fw = await createFirmware(d, productKey, extra);
      const rec = { firmwareId: fw.firmwareId, utcCreate: fw.res.raw.Data.UtcCreate, params: fw.params, productKey };
      made.push(rec);
      return rec;
    };
    const f1 = await mk(p1.productKey, { DestVersion: vA, NeedToVerify: false, FirmwareDesc: 'first' });
    const f2 = await mk(p1.productKey, { DestVersion: vB, NeedToVerify: true });
    const f3 = await mk(p1.productKey, { DestVersion: vB, NeedToVerify: false, SignMethod: 'SHA256', FirmwareSign: 'ab'.repeat(32) });
    const f4 = await mk(p2.productKey, { DestVersion: vB, Type: 1, SrcVersion: vA });

    await t.test('ProductKey filter: wrapper, fields, types, newest first', async () => {
      const { res, items } = await listFirmware(d, { ProductKey: p1.productKey, CurrentPage: 1, PageSize: 10 }, 'ListOTAFirmware');
      assert.equal(res.raw.Total, 3);
      assert.ok(!('Data' in res.raw), 'ListOTAFirmware answers in FirmwareInfo, not Data');
      assert.deepEqual(items.map((x) => x.FirmwareId), newestFirst([f1, f2, f3]));
      const byId = Object.fromEntries(items.map((x) => [x.FirmwareId, x]));
      for (const f of [f1, f2, f3]) {
        const x = byId[f.firmwareId];
        assert.equal(x.FirmwareName, f.params.FirmwareName);
        assert.equal(x.ProductKey, p1.productKey);
        assert.equal(x.ProductName, p1.productName);
        assert.equal(x.ModuleName, 'default');
        assert.equal(x.DestVersion, f.params.DestVersion);
        assert.equal(x.Type, 0);
        assert.equal(x.FirmwareSize, 1048576);
        assert.equal(x.FirmwareSign, f.params.FirmwareSign);
        assert.equal(x.UtcCreate, f.utcCreate);
        assertUtc(x.UtcModified, 'UtcModified');
        assertNoKey(x, 'SrcVersion', 'full package');
      }
      assert.equal(byId[f1.firmwareId].FirmwareDesc, 'first');
      assert.equal(byId[f1.firmwareId].SignMethod, 'MD5');
      assert.equal(byId[f3.firmwareId].SignMethod, 'SHA256');
      assert.equal(byId[f1.firmwareId].Status, -1, 'NeedToVerify=false: Status is the JSON number -1');
      assert.equal(byId[f2.firmwareId].Status, 0, 'NeedToVerify=true, not verified: Status 0');
      assert.equal(byId[f3.firmwareId].Status, -1);
      if (isSdk(d)) {
        const m = res.model.body;
        assert.equal(m.total, 3);
        assert.ok(Array.isArray(m.firmwareInfo.simpleFirmwareInfo), 'SDK model firmwareInfo.simpleFirmwareInfo is an array');
        const mById = Object.fromEntries(m.firmwareInfo.simpleFirmwareInfo.map((x) => [x.firmwareId, x]));
        assert.equal(mById[f1.firmwareId].status, -1);
        assert.equal(mById[f2.firmwareId].status, 0);
        assert.equal(mById[f1.firmwareId].firmwareSize, 1048576);
      }
    });

    await t.test('differential package: Type 1 and SrcVersion', async () => {
      const { items } = await listFirmware(d, { ProductKey: p2.productKey, CurrentPage: 1, PageSize: 10 }, 'ListOTAFirmware p2');
      assert.equal(items.length, 1);
      assert.equal(items[0].FirmwareId, f4.firmwareId);
      assert.equal(items[0].Type, 1);
      assert.equal(items[0].SrcVersion, vA);
    });

    await t.test('DestVersion filter, alone and with ProductKey', async () => {
      const both = await listFirmware(d, { ProductKey: p1.productKey, DestVersion: vB, CurrentPage: 1, PageSize: 10 }, 'ProductKey+DestVersion');
      assert.deepEqual(both.items.map((x) => x.FirmwareId), newestFirst([f2, f3]));
      assert.equal(both.res.raw.Total, 2);
      const alone = await listFirmware(d, { DestVersion: vB, CurrentPage: 1, PageSize: 10 }, 'DestVersion');
      assert.deepEqual(alone.items.map((x) => x.FirmwareId), newestFirst([f2, f3, f4]), 'every product of the account');
      const none = await listFirmware(d, { DestVersion: `${vB}.404`, CurrentPage: 1, PageSize: 10 }, 'DestVersion without match');
      assert.deepEqual(none.res.raw.FirmwareInfo, { SimpleFirmwareInfo: [] });
      assert.equal(none.res.raw.Total, 0);
      assert.equal(none.res.raw.PageCount, 0);
    });

    await t.test('paging', async () => {
      const seen = [];
      for (const page of [1, 2]) {
        const { items } = await listFirmware(d, { ProductKey: p1.productKey, CurrentPage: page, PageSize: 2 }, `page ${page}`);
        assert.equal(items.length, page === 1 ? 2 : 1);
        seen.push(...items.map((x) => x.FirmwareId));
      }
      assert.deepEqual(seen, newestFirst([f1, f2, f3]), 'pages concatenate to the full order');
      const past = await listFirmware(d, { ProductKey: p1.productKey, CurrentPage: 3, PageSize: 2 }, 'page past the end');
      assert.equal(past.items.length, 0);
      assert.equal(past.res.raw.Total, 3);
      await listFirmware(d, { ProductKey: p1.productKey, CurrentPage: 1, PageSize: 100 }, 'PageSize 100');
      for (const bad of [{ CurrentPage: 1, PageSize: 101 }, { CurrentPage: 0, PageSize: 10 }, { CurrentPage: 1, PageSize: 0 }]) {
        const r = await d.call('ListOTAFirmware', { ProductKey: p1.productKey, ...bad });
        assertBusinessError(r, 'iot.common.InvalidPageParams', `ListOTAFirmware ${JSON.stringify(bad)}`);
      }
    });

    await t.test('a product without packages: empty wrapper', async () => {
      const { res, items } = await listFirmware(d, { ProductKey: empty.productKey, CurrentPage: 1, PageSize: 10 }, 'empty product');
      assert.equal(items.length, 0);
      assert.deepEqual(res.raw.FirmwareInfo, { SimpleFirmwareInfo: [] });
      if (isSdk(d)) assert.deepEqual(res.model.body.firmwareInfo.simpleFirmwareInfo, []);
    });
    assert.equal(made.length, 4);
  });
});

// ---------------------------------------------------------------------------
// DeleteOTAFirmware
// ---------------------------------------------------------------------------

for (const flavour of ['v3', 'v2', 'pop']) {
  test(`DeleteOTAFirmware via ${flavour}`, async (t) => {
    const d = makeDriver(flavour, server, account);
    const cat = await productWithDevices(d, 2);

    await t.test('an unused package is deleted; afterwards it does not exist', async () => {
      const fw = await createFirmware(d, cat.productKey, { DestVersion: '3.0.0' });
      const res = await d.call('DeleteOTAFirmware', { FirmwareId: fw.firmwareId });
      assertSuccess(res, 'DeleteOTAFirmware');
      assertTypes(res.raw, Iot.DeleteOTAFirmwareResponseBody, 'DeleteOTAFirmware');
      if (isSdk(d)) assert.equal(res.model.body.success, true);
      assertBusinessError(await d.call('QueryOTAFirmware', { FirmwareId: fw.firmwareId }), 'iot.ota.FirmwareNotExist', 'QueryOTAFirmware after delete');
      assertBusinessError(await d.call('DeleteOTAFirmware', { FirmwareId: fw.firmwareId }), 'iot.ota.FirmwareNotExist', 'DeleteOTAFirmware twice');
      const { items } = await listFirmware(d, { ProductKey: cat.productKey, CurrentPage: 1, PageSize: 100 }, 'list after delete');
      assert.ok(!items.some((x) => x.FirmwareId === fw.firmwareId), 'a deleted package is not listed');
    });

    await t.test('refused while a batch has unfinished tasks, allowed once they ended', async () => {
      const fw = await createFirmware(d, cat.productKey, { DestVersion: '3.1.0' });
      const job = await createStaticJob(d, { FirmwareId: fw.firmwareId, ProductKey: cat.productKey, TargetSelection: 'SPECIFIC', TargetDeviceName: [cat.names[0]] });
      const refused = await d.call('DeleteOTAFirmware', { FirmwareId: fw.firmwareId });
      assertBusinessError(refused, 'iot.ota.FirmwareInUse', 'DeleteOTAFirmware with a QUEUED task');
      if (isSdk(d)) assert.equal(refused.model.body.code, 'iot.ota.FirmwareInUse');
      assertSuccess(await d.call('QueryOTAFirmware', { FirmwareId: fw.firmwareId }), 'package still there');

      assertSuccess(await d.call('CancelOTATaskByJob', { JobId: job.jobId, CancelQueuedTask: true }), 'CancelOTATaskByJob');
      assert.equal((await queryJob(d, job.jobId)).JobStatus, 'COMPLETED', 'every task ended, so the batch completed');
      assertSuccess(await d.call('DeleteOTAFirmware', { FirmwareId: fw.firmwareId }), 'DeleteOTAFirmware after the tasks ended');
      assertBusinessError(await d.call('QueryOTAJob', { JobId: job.jobId }), 'iot.ota.JobNotExist', 'the package\'s batches go with it');
    });

    await t.test('refused while a dynamic batch runs or a scheduled batch waits', async () => {
      const fw = await createFirmware(d, cat.productKey, { DestVersion: '3.2.0' });
      const dyn = await d.call('CreateOTADynamicUpgradeJob', { FirmwareId: fw.firmwareId, ProductKey: cat.productKey, SrcVersion: ['0.0.1'] });
      assertSuccess(dyn, 'CreateOTADynamicUpgradeJob');
      assertBusinessError(await d.call('DeleteOTAFirmware', { FirmwareId: fw.firmwareId }), 'iot.ota.FirmwareInUse', 'running dynamic batch');
      assertSuccess(await d.call('CancelOTAStrategyByJob', { JobId: dyn.raw.Data.JobId }), 'CancelOTAStrategyByJob');
      assertSuccess(await d.call('DeleteOTAFirmware', { FirmwareId: fw.firmwareId }), 'DeleteOTAFirmware after the strategy ended');

      const fw2 = await createFirmware(d, cat.productKey, { DestVersion: '3.3.0' });
      const planned = await createStaticJob(d, {
        FirmwareId: fw2.firmwareId, ProductKey: cat.productKey, TargetSelection: 'SPECIFIC', TargetDeviceName: [cat.names[1]], ScheduleTime: futureMs(60),
      });
      assertBusinessError(await d.call('DeleteOTAFirmware', { FirmwareId: fw2.firmwareId }), 'iot.ota.FirmwareInUse', 'PLANNED batch');
      assertSuccess(await d.call('CancelOTATaskByJob', { JobId: planned.jobId, CancelScheduledTask: true }), 'cancel the scheduled batch');
      assertSuccess(await d.call('DeleteOTAFirmware', { FirmwareId: fw2.firmwareId }), 'DeleteOTAFirmware after the scheduled batch was cancelled');
    });

    await t.test('unknown package', async () => {
      assertBusinessError(await d.call('DeleteOTAFirmware', { FirmwareId: randomLike('s8SSHiKjpBfrM3BSN0z8030100') }), 'iot.ota.FirmwareNotExist', 'unknown FirmwareId');
    });
  });
}

// ---------------------------------------------------------------------------
// CreateOTAVerifyJob
// ---------------------------------------------------------------------------

for (const flavour of FLAVOURS) {
  test(`CreateOTAVerifyJob via ${flavour}`, async (t) => {
    const d = makeDriver(flavour, server, account);
    const cat = await productWithDevices(d, 3);
    const otherProduct = await productWithDevices(d, 1);
    const fw = await createFirmware(d, cat.productKey, { DestVersion: '4.0.0', NeedToVerify: true });
    let verifyJobId;

    await t.test('a package that needs verification starts at Status 0 and blocks update batches', async () => {
      const f = await firmwareStatus(d, fw.firmwareId);
      assert.equal(f.Status, 0);
      assert.equal(f.VerifyProgress, 0);
      assertBusinessError(await d.call('CreateOTAStaticUpgradeJob', { FirmwareId: fw.firmwareId, ProductKey: cat.productKey, TargetSelection: 'ALL' }),
        'iot.ota.FirmwareNotVerified', 'static batch on an unverified package');
      assertBusinessError(await d.call('CreateOTADynamicUpgradeJob', { FirmwareId: fw.firmwareId, ProductKey: cat.productKey, SrcVersion: ['1.0.0'] }),
        'iot.ota.FirmwareNotVerified', 'dynamic batch on an unverified package');
    });

    await t.test('rejected target lists store nothing', async () => {
      const cases = [
        [[cat.names[0], 'no-such-device'], 'iot.device.NotExistedDevice', 'unknown device'],
        [[otherProduct.names[0]], 'iot.device.NotExistedDevice', 'device of another product'],
        [[cat.names[0], cat.names[0]], 'iot.common.InvalidFormattedParameter', 'duplicate names'],
      ];
      for (const [names, code, what] of cases) {
        const r = await d.call('CreateOTAVerifyJob', { FirmwareId: fw.firmwareId, ProductKey: cat.productKey, TargetDeviceName: names });
        assertBusinessError(r, code, `CreateOTAVerifyJob ${what}`);
      }
      assertBusinessError(await d.call('CreateOTAVerifyJob', { FirmwareId: randomLike(fw.firmwareId), ProductKey: cat.productKey, TargetDeviceName: [cat.names[0]] }),
        'iot.ota.FirmwareNotExist', 'unknown package');
      assertBusinessError(await d.call('CreateOTAVerifyJob', { FirmwareId: fw.firmwareId, ProductKey: otherProduct.productKey, TargetDeviceName: [otherProduct.names[0]] }),
        'iot.ota.FirmwareProductNotMatch', 'package of another product');
      assert.equal((await firmwareStatus(d, fw.firmwareId)).Status, 0, 'still not verified');
      const { items } = await listJobsByFirmware(d, { FirmwareId: fw.firmwareId, CurrentPage: 1, PageSize: 10 }, 'no batch stored');
      assert.equal(items.length, 0);
    });

    await t.test('creation moves the package to Status 2', async () => {
      const res = await d.call('CreateOTAVerifyJob', {
        FirmwareId: fw.firmwareId, ProductKey: cat.productKey, TargetDeviceName: [cat.names[0], cat.names[1]],
        TimeoutInMinutes: 15, NeedPush: true, NeedConfirm: false, DownloadProtocol: 'HTTPS', Tag: [{ Key: 'stage', Value: 'verify' }],
      });
      assertSuccess(res, 'CreateOTAVerifyJob');
      assertTypes(res.raw, Iot.CreateOTAVerifyJobResponseBody, 'CreateOTAVerifyJob');
      verifyJobId = res.raw.Data.JobId;
      assert.equal(typeof verifyJobId, 'string');
      assert.ok(verifyJobId.length > 0);
      assertRecent(res.raw.Data.UtcCreate, 'UtcCreate');
      if (isSdk(d)) assert.equal(res.model.body.data.jobId, verifyJobId);
      const f = await firmwareStatus(d, fw.firmwareId);
      assert.equal(f.Status, 2, 'verifying');
      assert.equal(f.VerifyProgress, 0);
    });

    await t.test('a second verification while verifying is refused; update batches still are', async () => {
      const again = await d.call('CreateOTAVerifyJob', { FirmwareId: fw.firmwareId, ProductKey: cat.productKey, TargetDeviceName: [cat.names[2]] });
      assertBusinessError(again, 'iot.ota.FirmwareVerifyingOrVerified', 'second CreateOTAVerifyJob');
      assertBusinessError(await d.call('CreateOTAStaticUpgradeJob', { FirmwareId: fw.firmwareId, ProductKey: cat.productKey, TargetSelection: 'ALL' }),
        'iot.ota.FirmwareNotVerified', 'static batch while verifying');
    });

    await t.test('QueryOTAJob, ListOTATaskByJob and ListOTAJobByFirmware show the verification batch', async () => {
      const j = await queryJob(d, verifyJobId);
      assert.equal(j.JobId, verifyJobId);
      assert.equal(j.JobType, 'VERFIY_FIRMWARE', 'Alibaba\'s spelling');
      assert.equal(j.JobStatus, 'IN_PROGRESS');
      assert.equal(j.SelectionType, 'STATIC');
      assert.equal(j.TargetSelection, 'SPECIFIC');
      assert.equal(j.Name, fw.params.FirmwareName);
      assert.equal(j.DestVersion, '4.0.0');
      assert.equal(j.TimeoutInMinutes, 15);
      assert.deepEqual(j.Tags, { OtaTagDTO: [{ Key: 'stage', Value: 'verify' }] });
      assertNoKey(j, 'UtcEndTime', 'running verification batch');
      assertNoKey(j, 'DynamicMode', 'verification batch');

      const { items } = await tasksOf(d, verifyJobId);
      assert.deepEqual(items.map((x) => x.DeviceName).sort(), [cat.names[0], cat.names[1]].sort());
      for (const x of items) {
        assert.equal(x.TaskStatus, 'QUEUED');
        assert.equal(x.Timeout, '15');
      }

      const list = await listJobsByFirmware(d, { FirmwareId: fw.firmwareId, CurrentPage: 1, PageSize: 10 }, 'ListOTAJobByFirmware');
      assert.equal(list.items.length, 1);
      assert.equal(list.items[0].JobId, verifyJobId);
      assert.equal(list.items[0].JobType, 'VERFIY_FIRMWARE');
      if (isSdk(d)) assert.equal(list.res.model.body.data.simpleOTAJobInfo[0].jobType, 'VERFIY_FIRMWARE');
    });

    await t.test('a verification batch is not a dynamic strategy', async () => {
      assertBusinessError(await d.call('CancelOTAStrategyByJob', { JobId: verifyJobId }), 'iot.ota.JobNotDynamic', 'CancelOTAStrategyByJob on a verification batch');
    });
  });
}

test('CreateOTAVerifyJob takes at most 10 devices', async () => {
  const d = makeDriver('v3', server, account);
  const cat = await productWithDevices(d, 11);
  const fw = await createFirmware(d, cat.productKey, { DestVersion: '4.1.0', NeedToVerify: true });
  const r = await d.call('CreateOTAVerifyJob', { FirmwareId: fw.firmwareId, ProductKey: cat.productKey, TargetDeviceName: cat.names });
  assertBusinessError(r, 'iot.ota.TooManyTargetDevices', '11 devices');
  assert.equal((await firmwareStatus(d, fw.firmwareId)).Status, 0);
  const ok = await d.call('CreateOTAVerifyJob', { FirmwareId: fw.firmwareId, ProductKey: cat.productKey, TargetDeviceName: cat.names.slice(0, 10) });
  assertSuccess(ok, '10 devices');
  assert.equal((await tasksOf(d, ok.raw.Data.JobId)).items.length, 10);
});

// ---------------------------------------------------------------------------
// CreateOTADynamicUpgradeJob and CancelOTAStrategyByJob
// ---------------------------------------------------------------------------

for (const flavour of FLAVOURS) {
  test(`CreateOTADynamicUpgradeJob and CancelOTAStrategyByJob via ${flavour}`, async (t) => {
    const d = makeDriver(flavour, server, account);
    const cat = await productWithDevices(d, 2);
    const fw = await createFirmware(d, cat.productKey, { DestVersion: '5.0.0' });
    let jobId;

    await t.test('SrcVersion.N is required without GroupId', async () => {
      const err = await expectGateway(d.call('CreateOTADynamicUpgradeJob', { FirmwareId: fw.firmwareId, ProductKey: cat.productKey }),
        'MissingSrcVersion', 400, 'no SrcVersion, no GroupId');
      assert.equal(err.body.Message, 'SrcVersion is mandatory for this action.');
      await expectGateway(d.call('CreateOTADynamicUpgradeJob', { FirmwareId: fw.firmwareId, ProductKey: cat.productKey, GroupId: 'tDQvBJqbUyHs01234567010200' }),
        'MissingGroupType', 400, 'GroupId without GroupType');
    });

    await t.test('invalid values are business errors', async () => {
      const base = { FirmwareId: fw.firmwareId, ProductKey: cat.productKey, SrcVersion: ['1.0.0'] };
      for (const extra of [{ DynamicMode: 3 }, { RetryInterval: 7, RetryCount: 1 }, { SrcVersion: ['1.0.0', '1.0.0'] }]) {
        assertBusinessError(await d.call('CreateOTADynamicUpgradeJob', { ...base, ...extra }), 'iot.common.InvalidFormattedParameter', `dynamic ${JSON.stringify(extra)}`);
      }
    });

    await t.test('version-based strategy', async () => {
      const res = await d.call('CreateOTADynamicUpgradeJob', {
        FirmwareId: fw.firmwareId, ProductKey: cat.productKey, SrcVersion: ['1.0.0', '1.1.0'],
        RetryInterval: 10, RetryCount: 2, TimeoutInMinutes: 60, Tag: [{ Key: 'ring', Value: 'beta' }],
      });
      assertSuccess(res, 'CreateOTADynamicUpgradeJob');
      assertTypes(res.raw, Iot.CreateOTADynamicUpgradeJobResponseBody, 'CreateOTADynamicUpgradeJob');
      jobId = res.raw.Data.JobId;
      assertRecent(res.raw.Data.UtcCreate, 'UtcCreate');
      if (isSdk(d)) assert.equal(res.model.body.data.jobId, jobId);

      const q = await d.call('QueryOTAJob', { JobId: jobId });
      assertSuccess(q, 'QueryOTAJob');
      assertTypes(q.raw, Iot.QueryOTAJobResponseBody, 'QueryOTAJob');
      const j = q.raw.Data;
      assert.equal(j.SelectionType, 'DYNAMIC');
      assert.equal(j.TargetSelection, 'ALL', 'dynamic batches report ALL');
      assert.equal(j.JobType, 'UPGRADE_FIRMWARE');
      assert.equal(j.JobStatus, 'IN_PROGRESS');
      assert.equal(j.DynamicMode, 1, 'DynamicMode defaults to the JSON number 1');
      assert.deepEqual(j.SrcVersions, { SrcVersion: ['1.0.0', '1.1.0'] });
      assert.equal(j.RetryInterval, 10);
      assert.equal(j.RetryCount, 2);
      assert.equal(j.TimeoutInMinutes, 60);
      assertUtc(j.UtcStartTime, 'UtcStartTime');
      for (const k of ['UtcEndTime', 'UtcScheduleTime', 'UtcScheduleFinishTime', 'GrayPercent', 'GroupId', 'GroupName']) assertNoKey(j, k, 'version-based dynamic batch');
      if (isSdk(d)) {
        const m = q.model.body.data;
        assert.equal(m.dynamicMode, 1);
        assert.deepEqual(m.srcVersions.srcVersion, ['1.0.0', '1.1.0']);
        assert.equal(m.selectionType, 'DYNAMIC');
      }
      const tasks = await d.call('ListOTATaskByJob', { JobId: jobId });
      assertSuccess(tasks, 'ListOTATaskByJob');
      assert.deepEqual(tasks.raw.Data, { SimpleOTATaskInfo: [] }, 'no device runs 1.0.0 or 1.1.0');
    });

    await t.test('one running dynamic batch per package', async () => {
      const again = await d.call('CreateOTADynamicUpgradeJob', { FirmwareId: fw.firmwareId, ProductKey: cat.productKey, SrcVersion: ['1.2.0'] });
      assertBusinessError(again, 'iot.ota.DynamicJobAlreadyExists', 'second dynamic batch');
      const fw2 = await createFirmware(d, cat.productKey, { DestVersion: '5.0.1' });
      assertSuccess(await d.call('CreateOTADynamicUpgradeJob', { FirmwareId: fw2.firmwareId, ProductKey: cat.productKey, SrcVersion: ['1.0.0'] }),
        'a dynamic batch of another package');
    });

    await t.test('CancelOTAStrategyByJob', async () => {
      const res = await d.call('CancelOTAStrategyByJob', { JobId: jobId });
      assertSuccess(res, 'CancelOTAStrategyByJob');
      assertTypes(res.raw, Iot.CancelOTAStrategyByJobResponseBody, 'CancelOTAStrategyByJob');
      const j = await queryJob(d, jobId);
      assert.equal(j.JobStatus, 'CANCELED');
      assertNoKey(j, 'UtcEndTime', 'UtcEndTime belongs to COMPLETED batches only');
      assertBusinessError(await d.call('CancelOTAStrategyByJob', { JobId: jobId }), 'iot.ota.JobStatusInvalid', 'cancel twice');
      assertBusinessError(await d.call('CancelOTAStrategyByJob', { JobId: randomLike(jobId) }), 'iot.ota.JobNotExist', 'unknown JobId');
      const stat = await createStaticJob(d, { FirmwareId: fw.firmwareId, ProductKey: cat.productKey, TargetSelection: 'SPECIFIC', TargetDeviceName: [cat.names[0]] });
      assertBusinessError(await d.call('CancelOTAStrategyByJob', { JobId: stat.jobId }), 'iot.ota.JobNotDynamic', 'static batch');
    });

    await t.test('after the cancellation a new strategy may start (DynamicMode 2, one SrcVersion)', async () => {
      const res = await d.call('CreateOTADynamicUpgradeJob', { FirmwareId: fw.firmwareId, ProductKey: cat.productKey, SrcVersion: ['1.0.0'], DynamicMode: 2 });
      assertSuccess(res, 'second strategy after cancel');
      const j = await queryJob(d, res.raw.Data.JobId);
      assert.equal(j.DynamicMode, 2);
      assert.deepEqual(j.SrcVersions, { SrcVersion: ['1.0.0'] }, 'one element is still an array');
      assertNoKey(j, 'RetryInterval', 'no retry policy');
      assertNoKey(j, 'RetryCount', 'no retry policy');
      assertNoKey(j, 'TimeoutInMinutes', 'no timeout');
      const list = await listJobsByFirmware(d, { FirmwareId: fw.firmwareId, CurrentPage: 1, PageSize: 10 }, 'ListOTAJobByFirmware');
      assert.equal(list.items.length, 3);
      assert.equal(list.items.filter((x) => x.SelectionType === 'DYNAMIC').length, 2);
    });
  });
}

test('group-based dynamic strategy: tasks now, GroupId/GroupName, cancellation keeps the tasks', async () => {
  const d = makeDriver('v3', server, account);
  const cat = await productWithDevices(d, 2);
  const fw = await createFirmware(d, cat.productKey, { DestVersion: '5.5.0' });
  const groupName = uniqueName('dyn_').replace(/-/g, '_');
  const g = await d.call('CreateDeviceDynamicGroup', { GroupName: groupName, DynamicGroupExpression: `product_key = "${cat.productKey}"` });
  assertSuccess(g, 'CreateDeviceDynamicGroup');
  const groupId = g.raw.Data.GroupId;
  const info = await d.call('QueryDeviceGroupInfo', { GroupId: groupId });
  assertSuccess(info, 'QueryDeviceGroupInfo');
  assert.equal(info.raw.Data.DeviceCount, 2, 'both devices satisfy the rule');

  assertBusinessError(await d.call('CreateOTADynamicUpgradeJob', { FirmwareId: fw.firmwareId, ProductKey: cat.productKey, GroupId: groupId, GroupType: 'LINK_PLATFORM_DYNAMIC', SrcVersion: ['1.0.0'] }),
    'iot.common.InvalidFormattedParameter', 'SrcVersion with GroupId');
  const res = await d.call('CreateOTADynamicUpgradeJob', { FirmwareId: fw.firmwareId, ProductKey: cat.productKey, GroupId: groupId, GroupType: 'LINK_PLATFORM_DYNAMIC' });
  assertSuccess(res, 'CreateOTADynamicUpgradeJob by group');
  const jobId = res.raw.Data.JobId;
  const j = await queryJob(d, jobId);
  assert.equal(j.GroupId, groupId);
  assert.equal(j.GroupName, groupName);
  assert.equal(j.TargetSelection, 'ALL');
  assert.deepEqual(j.SrcVersions, { SrcVersion: [] }, 'no versions: an empty array inside the wrapper');
  const { items } = await tasksOf(d, jobId);
  assert.deepEqual(items.map((x) => x.DeviceName).sort(), [...cat.names].sort());
  assert.ok(items.every((x) => x.TaskStatus === 'QUEUED'));

  assertSuccess(await d.call('CancelOTAStrategyByJob', { JobId: jobId }), 'CancelOTAStrategyByJob');
  assert.equal((await queryJob(d, jobId)).JobStatus, 'CANCELED');
  // otad's choice: ending the strategy stops enrolment; tasks already made stay until
  // cancelled with CancelOTATaskByJob.
  assert.ok((await tasksOf(d, jobId)).items.every((x) => x.TaskStatus === 'QUEUED'));
  assertSuccess(await d.call('CancelOTATaskByJob', { JobId: jobId, CancelQueuedTask: true }), 'CancelOTATaskByJob on the cancelled strategy');
  assert.ok((await tasksOf(d, jobId)).items.every((x) => x.TaskStatus === 'CANCELED'));
});

// ---------------------------------------------------------------------------
// QueryOTAJob: every field, its type and when it is present
// ---------------------------------------------------------------------------

for (const flavour of FLAVOURS) {
  test(`QueryOTAJob fields via ${flavour}`, async (t) => {
    const d = makeDriver(flavour, server, account);
    const cat = await productWithDevices(d, 4);
    const fw = await createFirmware(d, cat.productKey, { DestVersion: '6.0.0' });
    const base = { FirmwareId: fw.firmwareId, ProductKey: cat.productKey };

    await t.test('a batch with every option', async () => {
      const job = await createStaticJob(d, {
        ...base, TargetSelection: 'SPECIFIC', TargetDeviceName: [cat.names[0]], Tag: [{ Key: 'env', Value: 'prod' }],
        RetryInterval: 30, RetryCount: 5, TimeoutInMinutes: 60, MaximumPerMinute: 500, OverwriteMode: 2,
        NeedPush: false, NeedConfirm: true, DownloadProtocol: 'HTTPS', MultiModuleMode: false,
      });
      const res = await d.call('QueryOTAJob', { JobId: job.jobId });
      assertSuccess(res, 'QueryOTAJob');
      assertTypes(res.raw, Iot.QueryOTAJobResponseBody, 'QueryOTAJob');
      const j = res.raw.Data;
      const expect = {
        JobId: job.jobId, JobStatus: 'IN_PROGRESS', JobType: 'UPGRADE_FIRMWARE', SelectionType: 'STATIC', TargetSelection: 'SPECIFIC',
        FirmwareId: fw.firmwareId, Name: fw.params.FirmwareName, ProductKey: cat.productKey, DestVersion: '6.0.0',
        SrcVersions: { SrcVersion: [] }, Tags: { OtaTagDTO: [{ Key: 'env', Value: 'prod' }] },
        RetryInterval: 30, RetryCount: 5, TimeoutInMinutes: 60, MaximumPerMinute: 500, OverwriteMode: 2,
        MultiModuleMode: false, NeedPush: false, NeedConfirm: true, DownloadProtocol: 'HTTPS', UtcCreate: job.utcCreate,
      };
      for (const [k, v] of Object.entries(expect)) assert.deepEqual(j[k], v, `QueryOTAJob ${k}`);
      for (const k of ['MultiModuleMode', 'NeedPush', 'NeedConfirm']) assert.equal(typeof j[k], 'boolean', `${k} must be a JSON boolean`);
      for (const k of ['RetryInterval', 'RetryCount', 'TimeoutInMinutes', 'MaximumPerMinute', 'OverwriteMode']) assert.equal(typeof j[k], 'number', `${k} must be a JSON number`);
      assert.equal(typeof j.JobDesc, 'string');
      assertUtc(j.UtcModified, 'UtcModified');
      assertRecent(j.UtcStartTime, 'UtcStartTime');
      for (const k of ['UtcEndTime', 'UtcScheduleTime', 'UtcScheduleFinishTime', 'DynamicMode', 'GrayPercent', 'GroupId', 'GroupName']) assertNoKey(j, k, 'running SPECIFIC batch');
      if (isSdk(d)) {
        const m = res.model.body.data;
        assert.equal(m.needPush, false);
        assert.equal(m.needConfirm, true);
        assert.equal(m.multiModuleMode, false);
        assert.equal(m.retryInterval, 30);
        assert.equal(m.name, fw.params.FirmwareName);
        assert.deepEqual(m.srcVersions.srcVersion, []);
        assert.equal(m.tags.otaTagDTO.length, 1);
        assert.equal(m.tags.otaTagDTO[0].key, 'env');
        assert.equal(m.tags.otaTagDTO[0].value, 'prod');
        assert.equal(m.utcEndTime, undefined);
      }
    });

    let plainJobId;
    await t.test('a batch without options: defaults, no retry or timeout fields, empty wrappers', async () => {
      const job = await createStaticJob(d, { ...base, TargetSelection: 'SPECIFIC', TargetDeviceName: [cat.names[1]] });
      plainJobId = job.jobId;
      const j = await queryJob(d, job.jobId);
      assert.equal(j.MaximumPerMinute, 10000);
      assert.equal(j.OverwriteMode, 1);
      assert.equal(j.NeedPush, true);
      assert.equal(j.NeedConfirm, false);
      assert.equal(j.MultiModuleMode, false);
      assert.equal(j.DownloadProtocol, 'HTTPS');
      assert.deepEqual(j.Tags, { OtaTagDTO: [] });
      assert.deepEqual(j.SrcVersions, { SrcVersion: [] });
      for (const k of ['RetryInterval', 'RetryCount', 'TimeoutInMinutes', 'UtcEndTime', 'UtcScheduleTime', 'UtcScheduleFinishTime']) assertNoKey(j, k, 'batch without options');
    });

    await t.test('scheduled batches: PLANNED, schedule fields only when given', async () => {
      const start = futureMs(60);
      const finish = start + 3 * 60 * 60 * 1000;
      const both = await createStaticJob(d, { ...base, TargetSelection: 'SPECIFIC', TargetDeviceName: [cat.names[2]], ScheduleTime: start, ScheduleFinishTime: finish });
      const j = await queryJob(d, both.jobId);
      assert.equal(j.JobStatus, 'PLANNED');
      assert.equal(j.UtcScheduleTime, new Date(start).toISOString());
      assert.equal(j.UtcScheduleFinishTime, new Date(finish).toISOString());
      assertNoKey(j, 'UtcStartTime', 'PLANNED batch');
      assertNoKey(j, 'UtcEndTime', 'PLANNED batch');

      const only = await createStaticJob(d, { ...base, TargetSelection: 'SPECIFIC', TargetDeviceName: [cat.names[3]], ScheduleTime: start });
      const j2 = await queryJob(d, only.jobId);
      assert.equal(j2.UtcScheduleTime, new Date(start).toISOString());
      assertNoKey(j2, 'UtcScheduleFinishTime', 'no ScheduleFinishTime given');
    });

    await t.test('GRAY: GrayPercent is a string; a batch whose devices are all blocked completes at once', async () => {
      // Every device of the product already has an unfinished task, so each gets a
      // FAILED task saying why and the batch has nothing left to do.
      const job = await createStaticJob(d, { ...base, TargetSelection: 'GRAY', GrayPercent: '50' });
      const j = await queryJob(d, job.jobId);
      assert.equal(j.TargetSelection, 'GRAY');
      assert.equal(typeof j.GrayPercent, 'string');
      assert.equal(Number(j.GrayPercent), 50);
      assert.equal(j.JobStatus, 'COMPLETED');
      assertUtc(j.UtcEndTime, 'UtcEndTime of a completed batch');
      const { items } = await tasksOf(d, job.jobId);
      assert.equal(items.length, 2, '50 % of 4 devices');
      for (const x of items) {
        assert.equal(x.TaskStatus, 'FAILED');
        assert.ok(x.TaskDesc.length > 0, 'TaskDesc says why');
      }
    });

    await t.test('UtcEndTime appears once the batch ended', async () => {
      assertSuccess(await d.call('CancelOTATaskByJob', { JobId: plainJobId, CancelQueuedTask: true }), 'CancelOTATaskByJob');
      const j = await queryJob(d, plainJobId);
      assert.equal(j.JobStatus, 'COMPLETED');
      assertUtc(j.UtcEndTime, 'UtcEndTime');
      assert.ok(Date.parse(j.UtcEndTime) >= Date.parse(j.UtcStartTime), 'ends after it started');
      const list = await listJobsByFirmware(d, { FirmwareId: fw.firmwareId, CurrentPage: 1, PageSize: 50 }, 'ListOTAJobByFirmware');
      const item = list.items.find((x) => x.JobId === plainJobId);
      assert.equal(item.JobStatus, 'COMPLETED');
      assert.equal(item.UtcEndTime, j.UtcEndTime);
    });

    await t.test('unknown JobId', async () => {
      assertBusinessError(await d.call('QueryOTAJob', { JobId: randomLike(plainJobId) }), 'iot.ota.JobNotExist', 'QueryOTAJob unknown');
    });
  });
}

// ---------------------------------------------------------------------------
// ListOTAJobByFirmware
// ---------------------------------------------------------------------------

for (const flavour of FLAVOURS) {
  test(`ListOTAJobByFirmware via ${flavour}`, async () => {
    const d = makeDriver(flavour, server, account);
    const cat = await productWithDevices(d, 3);
    const fw = await createFirmware(d, cat.productKey, { DestVersion: '8.0.0' });
    const idle = await createFirmware(d, cat.productKey, { DestVersion: '8.0.1' });
    const jobs = [];
    for (let i = 0; i < 3; i++) {
      jobs.push(await createStaticJob(d, {
        FirmwareId: fw.firmwareId, ProductKey: cat.productKey, TargetSelection: 'SPECIFIC', TargetDeviceName: [cat.names[i]],
        ...(i === 1 ? { Tag: [{ Key: 'n', Value: 'one' }] } : {}),
      }));
    }
    const order = expectedOrder(jobs);

    const all = await listJobsByFirmware(d, { FirmwareId: fw.firmwareId, CurrentPage: 1, PageSize: 200 }, 'PageSize 200');
    assert.equal(all.res.raw.Total, 3);
    assert.deepEqual(all.items.map((x) => x.JobId), order, 'newest first');
    for (const x of all.items) {
      const mine = jobs.find((j) => j.jobId === x.JobId);
      assert.equal(x.FirmwareId, fw.firmwareId);
      assert.equal(x.ProductKey, cat.productKey);
      assert.equal(x.JobStatus, 'IN_PROGRESS');
      assert.equal(x.JobType, 'UPGRADE_FIRMWARE');
      assert.equal(x.SelectionType, 'STATIC');
      assert.equal(x.TargetSelection, 'SPECIFIC');
      assert.equal(x.UtcCreate, mine.utcCreate);
      assertUtc(x.UtcModified, 'UtcModified');
      assertUtc(x.UtcStartTime, 'UtcStartTime');
      assertNoKey(x, 'UtcEndTime', 'running batch');
      assert.ok(Array.isArray(x.Tags.OtaTagDTO), 'Tags.OtaTagDTO is an array');
    }
    const tagged = all.items.find((x) => x.JobId === jobs[1].jobId);
    assert.deepEqual(tagged.Tags, { OtaTagDTO: [{ Key: 'n', Value: 'one' }] });
    if (isSdk(d)) {
      const m = all.res.model.body;
      assert.equal(m.total, 3);
      assert.deepEqual(m.data.simpleOTAJobInfo.map((x) => x.jobId), order);
      assert.ok(m.data.simpleOTAJobInfo.every((x) => Array.isArray(x.tags.otaTagDTO)));
    }

    const p2 = await listJobsByFirmware(d, { FirmwareId: fw.firmwareId, CurrentPage: 2, PageSize: 2 }, 'page 2 of 2');
    assert.deepEqual(p2.items.map((x) => x.JobId), order.slice(2));
    const past = await listJobsByFirmware(d, { FirmwareId: fw.firmwareId, CurrentPage: 5, PageSize: 2 }, 'past the end');
    assert.deepEqual(past.res.raw.Data, { SimpleOTAJobInfo: [] });
    assert.equal(past.res.raw.Total, 3);

    for (const bad of [{ CurrentPage: 1, PageSize: 201 }, { CurrentPage: 0, PageSize: 10 }]) {
      assertBusinessError(await d.call('ListOTAJobByFirmware', { FirmwareId: fw.firmwareId, ...bad }), 'iot.common.InvalidPageParams', `ListOTAJobByFirmware ${JSON.stringify(bad)}`);
    }
    const none = await listJobsByFirmware(d, { FirmwareId: idle.firmwareId, CurrentPage: 1, PageSize: 10 }, 'package without batches');
    assert.equal(none.items.length, 0);
    assert.equal(none.res.raw.PageCount, 0);
    assertBusinessError(await d.call('ListOTAJobByFirmware', { FirmwareId: randomLike(fw.firmwareId), CurrentPage: 1, PageSize: 10 }), 'iot.ota.FirmwareNotExist', 'unknown package');
  });
}

// ---------------------------------------------------------------------------
// Missing parameters (gateway, HTTP 400) and tenant isolation
// ---------------------------------------------------------------------------

for (const flavour of [...FLAVOURS, 'raw']) {
  test(`missing required parameters of the batch operations via ${flavour}`, async () => {
    const d = makeDriver(flavour, server, account);
    const fw = 'T0F5b5tpFnHQrgfkABCD030100';
    const pk = 'a1BwAGVxxxx';
    const cases = [
      ['ListOTAFirmware', { PageSize: 10 }, 'CurrentPage'],
      ['ListOTAFirmware', { CurrentPage: 1 }, 'PageSize'],
      ['DeleteOTAFirmware', {}, 'FirmwareId'],
      ['CreateOTAVerifyJob', { ProductKey: pk, TargetDeviceName: ['dev-a'] }, 'FirmwareId'],
      ['CreateOTAVerifyJob', { FirmwareId: fw, TargetDeviceName: ['dev-a'] }, 'ProductKey'],
      ['CreateOTAVerifyJob', { FirmwareId: fw, ProductKey: pk }, 'TargetDeviceName'],
      ['CreateOTADynamicUpgradeJob', { ProductKey: pk, SrcVersion: ['1.0.0'] }, 'FirmwareId'],
      ['CreateOTADynamicUpgradeJob', { FirmwareId: fw, SrcVersion: ['1.0.0'] }, 'ProductKey'],
      ['QueryOTAJob', {}, 'JobId'],
      ['ListOTAJobByFirmware', { CurrentPage: 1, PageSize: 10 }, 'FirmwareId'],
      ['ListOTAJobByFirmware', { FirmwareId: fw, PageSize: 10 }, 'CurrentPage'],
      ['ListOTAJobByFirmware', { FirmwareId: fw, CurrentPage: 1 }, 'PageSize'],
      ['CancelOTAStrategyByJob', {}, 'JobId'],
    ];
    for (const [action, params, name] of cases) {
      const err = await expectGateway(d.call(action, params), `Missing${name}`, 400, `${flavour} ${action} without ${name}`);
      assert.equal(err.body.Message, `${name} is mandatory for this action.`);
    }
  });
}

for (const flavour of ['v3', 'pop']) {
  test(`another tenant's packages and batches answer like nonexistent ones (${flavour})`, async (t) => {
    const a = makeDriver('v3', server, account);
    const b = makeDriver(flavour, server, other);
    const catA = await productWithDevices(a, 2);
    const fwA = await createFirmware(a, catA.productKey, { DestVersion: '9.0.0' });
    const jobA = await createStaticJob(a, { FirmwareId: fwA.firmwareId, ProductKey: catA.productKey, TargetSelection: 'SPECIFIC', TargetDeviceName: [catA.names[0]] });
    const dynA = await a.call('CreateOTADynamicUpgradeJob', { FirmwareId: fwA.firmwareId, ProductKey: catA.productKey, SrcVersion: ['1.0.0'] });
    assertSuccess(dynA, 'CreateOTADynamicUpgradeJob');
    const fwVerifyA = await createFirmware(a, catA.productKey, { DestVersion: '9.1.0', NeedToVerify: true });
    const catB = await productWithDevices(b, 1);

    await t.test('QueryOTAJob', () => sameAsNonexistent(b, 'QueryOTAJob', (x) => ({ JobId: x.job }), { job: jobA.jobId }, 'iot.ota.JobNotExist', 'QueryOTAJob'));
    await t.test('ListOTAJobByFirmware', () => sameAsNonexistent(b, 'ListOTAJobByFirmware',
      (x) => ({ FirmwareId: x.fw, CurrentPage: 1, PageSize: 10 }), { fw: fwA.firmwareId }, 'iot.ota.FirmwareNotExist', 'ListOTAJobByFirmware'));
    await t.test('DeleteOTAFirmware', () => sameAsNonexistent(b, 'DeleteOTAFirmware',
      (x) => ({ FirmwareId: x.fw }), { fw: fwVerifyA.firmwareId }, 'iot.ota.FirmwareNotExist', 'DeleteOTAFirmware'));
    await t.test('CancelOTAStrategyByJob', () => sameAsNonexistent(b, 'CancelOTAStrategyByJob',
      (x) => ({ JobId: x.job }), { job: dynA.raw.Data.JobId }, 'iot.ota.JobNotExist', 'CancelOTAStrategyByJob'));
    await t.test('CreateOTAVerifyJob with A\'s package', () => sameAsNonexistent(b, 'CreateOTAVerifyJob',
      (x) => ({ FirmwareId: x.fw, ProductKey: catB.productKey, TargetDeviceName: [catB.names[0]] }), { fw: fwVerifyA.firmwareId }, 'iot.ota.FirmwareNotExist', 'CreateOTAVerifyJob'));
    await t.test('CreateOTAVerifyJob with all of A\'s ids', () => sameAsNonexistent(b, 'CreateOTAVerifyJob',
      (x) => ({ FirmwareId: x.fw, ProductKey: x.pk, TargetDeviceName: [catA.names[1]] }), { fw: fwVerifyA.firmwareId, pk: catA.productKey },
      /^iot\.(ota\.FirmwareNotExist|prod\.NotExistedProduct)$/, 'CreateOTAVerifyJob (A\'s product)'));
    await t.test('CreateOTADynamicUpgradeJob with A\'s package', () => sameAsNonexistent(b, 'CreateOTADynamicUpgradeJob',
      (x) => ({ FirmwareId: x.fw, ProductKey: catB.productKey, SrcVersion: ['0.9.0'] }), { fw: fwVerifyA.firmwareId }, 'iot.ota.FirmwareNotExist', 'CreateOTADynamicUpgradeJob'));
    await t.test('ListOTAFirmware filtered by A\'s product is empty', async () => {
      const { items, res } = await listFirmware(b, { ProductKey: catA.productKey, CurrentPage: 1, PageSize: 10 }, 'B lists A\'s product');
      assert.equal(items.length, 0);
      assert.equal(res.raw.Total, 0);
      const mine = await listFirmware(b, { CurrentPage: 1, PageSize: 100 }, 'B lists everything');
      assert.ok(!mine.items.some((x) => x.ProductKey === catA.productKey), 'none of A\'s packages');
    });
    await t.test('A\'s resources are untouched', async () => {
      assert.equal((await firmwareStatus(a, fwVerifyA.firmwareId)).Status, 0, 'still unverified, not deleted');
      assert.equal((await queryJob(a, dynA.raw.Data.JobId)).JobStatus, 'IN_PROGRESS', 'strategy still running');
      assert.equal((await queryJob(a, jobA.jobId)).JobStatus, 'IN_PROGRESS');
    });
  });
}

// Raw XML: the wrappers become repeated elements, empty ones self-close.
test('QueryOTAJob and ListOTAFirmware as XML', async () => {
  const { v1Request } = require('../lib/http');
  const { parseXml, child, children, textOf } = require('../lib/xml');
  const d = makeDriver('v3', server, account);
  const cat = await productWithDevices(d, 1);
  const fw = await createFirmware(d, cat.productKey, { DestVersion: '9.9.0' });
  const job = await createStaticJob(d, { FirmwareId: fw.firmwareId, ProductKey: cat.productKey, TargetSelection: 'SPECIFIC', TargetDeviceName: [cat.names[0]] });
  const q = await v1Request(server, account, 'QueryOTAJob', { JobId: job.jobId }, { format: 'XML' });
  assert.equal(q.status, 200);
  const root = parseXml(q.text).root;
  const data = child(root, 'Data');
  assert.equal(textOf(data, 'JobId'), job.jobId);
  assert.equal(textOf(data, 'NeedPush'), 'true');
  assert.equal(children(child(data, 'SrcVersions'), 'SrcVersion').length, 0);
  assert.equal(children(child(data, 'Tags'), 'OtaTagDTO').length, 0);
  const l = await v1Request(server, account, 'ListOTAFirmware', { ProductKey: cat.productKey, CurrentPage: 1, PageSize: 10 }, { format: 'XML' });
  assert.equal(l.status, 200);
  const lroot = parseXml(l.text).root;
  const infos = children(child(lroot, 'FirmwareInfo'), 'SimpleFirmwareInfo');
  assert.equal(infos.length, 1);
  assert.equal(textOf(infos[0], 'FirmwareId'), fw.firmwareId);
  assert.equal(textOf(infos[0], 'Status'), '-1');
});
