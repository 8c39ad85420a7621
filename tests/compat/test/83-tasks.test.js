'use strict';
// Per-device tasks: ListOTATaskByJob, ListOTAUnfinishedTaskByDevice,
// CancelOTATaskByJob, CancelOTATaskByDevice, ReupgradeOTATask and ConfirmOTATask.
// Only the transitions the API itself drives are covered here (creation, cancel,
// re-run, confirm); those that need a device to report are not.

const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');

const { startServer } = require('../lib/server');
const { Iot, makeDriver, FLAVOURS } = require('../lib/clients');
const {
  assertSuccess, assertBusinessError, assertTypes, assertUtc, assertRecent, expectGateway, randomLike,
} = require('../lib/checks');
const { createProduct, registerDevice, createFirmware, createStaticJob, NO_THROTTLING } = require('../lib/fixtures');
const { v1Request } = require('../lib/http');
const {
  assertNoKey, checkPagedList, sameAsNonexistent, queryJob, tasksOf, futureMs,
} = require('../lib/ota');

let server;
let account;
let other;

before(async () => {
  server = await startServer({ config: NO_THROTTLING });
  account = await server.createAccount('tasks');
  other = await server.createAccount('tasks-other');
});

after(async () => {
  if (server) await server.stop();
});

const isSdk = (d) => d.name === 'v3' || d.name === 'v2';

async function setup(d, n, fwExtra = {}) {
  const { productKey, productName } = await createProduct(d);
  const devices = [];
  for (let i = 0; i < n; i++) devices.push(await registerDevice(d, productKey));
  const fw = await createFirmware(d, productKey, { DestVersion: '2.5.0', ...fwExtra });
  return { productKey, productName, devices, names: devices.map((x) => x.deviceName), firmwareId: fw.firmwareId, fw };
}

function specific(cat, names, extra = {}) {
  return { FirmwareId: cat.firmwareId, ProductKey: cat.productKey, TargetSelection: 'SPECIFIC', TargetDeviceName: names, ...extra };
}

async function listTasks(d, params, where) {
  const res = await d.call('ListOTATaskByJob', params);
  assertSuccess(res, where);
  const items = checkPagedList(res.raw, { wrapper: 'Data', item: 'SimpleOTATaskInfo', model: Iot.ListOTATaskByJobResponseBody }, where);
  return { res, items };
}

async function unfinished(d, params, where) {
  const res = await d.call('ListOTAUnfinishedTaskByDevice', params);
  assertSuccess(res, where);
  assertTypes(res.raw, Iot.ListOTAUnfinishedTaskByDeviceResponseBody, where);
  for (const k of ['CurrentPage', 'PageSize', 'PageCount', 'Total']) assertNoKey(res.raw, k, `${where} (no paging)`);
  assert.ok(res.raw.Data && !Array.isArray(res.raw.Data), `${where}: Data is the wrapper object`);
  assert.ok(Array.isArray(res.raw.Data.SimpleOTATaskInfo), `${where}: Data.SimpleOTATaskInfo is an array`);
  return { res, items: res.raw.Data.SimpleOTATaskInfo };
}

async function statusesOf(d, jobId) {
  const { byDevice } = await tasksOf(d, jobId);
  return Object.fromEntries(Object.entries(byDevice).map(([k, v]) => [k, v.TaskStatus]));
}

// ---------------------------------------------------------------------------
// ListOTATaskByJob
// ---------------------------------------------------------------------------

for (const flavour of FLAVOURS) {
  test(`ListOTATaskByJob via ${flavour}`, async (t) => {
    const d = makeDriver(flavour, server, account);
    const cat = await setup(d, 5);
    const withTimeout = await createStaticJob(d, specific(cat, cat.names.slice(0, 3), { TimeoutInMinutes: 30 }));
    const noTimeout = await createStaticJob(d, specific(cat, cat.names.slice(3)));

    await t.test('fields, types and defaults', async () => {
      const { res, items } = await listTasks(d, { JobId: withTimeout.jobId }, 'ListOTATaskByJob without paging');
      assert.equal(res.raw.CurrentPage, 1, 'CurrentPage defaults to 1');
      assert.equal(res.raw.PageSize, 10, 'PageSize defaults to 10');
      assert.equal(res.raw.Total, 3);
      assert.equal(res.raw.PageCount, 1);
      assert.equal(items.length, 3);
      assert.deepEqual(items.map((x) => x.DeviceName).sort(), cat.names.slice(0, 3).sort());
      assert.equal(new Set(items.map((x) => x.TaskId)).size, 3, 'TaskIds are unique');
      for (const x of items) {
        const dev = cat.devices.find((z) => z.deviceName === x.DeviceName);
        assert.equal(typeof x.TaskId, 'string');
        assert.ok(x.TaskId.length > 0);
        assert.equal(x.JobId, withTimeout.jobId);
        assert.equal(x.FirmwareId, cat.firmwareId);
        assert.equal(x.ProductKey, cat.productKey);
        assert.equal(x.ProductName, cat.productName);
        assert.equal(x.IotId, dev.iotId);
        assert.equal(x.DestVersion, '2.5.0');
        assert.equal(typeof x.SrcVersion, 'string', 'SrcVersion is the version the device ran (none reported yet)');
        assert.equal(x.TaskStatus, 'QUEUED');
        assert.equal(x.Progress, '0.00', 'Progress is a string with two decimals');
        assert.equal(x.Timeout, '30', 'Timeout is a string of minutes');
        assert.equal(typeof x.TaskDesc, 'string');
        assertRecent(x.UtcCreate, 'UtcCreate');
        assertUtc(x.UtcModified, 'UtcModified');
      }
      if (isSdk(d)) {
        const m = res.model.body;
        assert.equal(m.total, 3);
        assert.ok(Array.isArray(m.data.simpleOTATaskInfo));
        assert.equal(m.data.simpleOTATaskInfo[0].progress, '0.00');
        assert.equal(m.data.simpleOTATaskInfo[0].timeout, '30');
      }
      const plain = await listTasks(d, { JobId: noTimeout.jobId, CurrentPage: 1, PageSize: 10 }, 'batch without timeout');
      assert.equal(plain.items.length, 2);
      for (const x of plain.items) assertNoKey(x, 'Timeout', 'batch without TimeoutInMinutes');
    });

    await t.test('paging', async () => {
      const seen = [];
      for (const page of [1, 2]) {
        const { items, res } = await listTasks(d, { JobId: withTimeout.jobId, CurrentPage: page, PageSize: 2 }, `page ${page}`);
        assert.equal(res.raw.PageCount, 2);
        assert.equal(items.length, page === 1 ? 2 : 1);
        seen.push(...items.map((x) => x.TaskId));
      }
      assert.equal(new Set(seen).size, 3, 'pages do not overlap');
      const past = await listTasks(d, { JobId: withTimeout.jobId, CurrentPage: 4, PageSize: 2 }, 'past the end');
      assert.deepEqual(past.res.raw.Data, { SimpleOTATaskInfo: [] });
      assert.equal(past.res.raw.Total, 3);
      await listTasks(d, { JobId: withTimeout.jobId, CurrentPage: 1, PageSize: 100 }, 'PageSize 100');
      for (const bad of [{ CurrentPage: 1, PageSize: 101 }, { CurrentPage: 0, PageSize: 10 }]) {
        assertBusinessError(await d.call('ListOTATaskByJob', { JobId: withTimeout.jobId, ...bad }), 'iot.common.InvalidPageParams', `ListOTATaskByJob ${JSON.stringify(bad)}`);
      }
    });

    await t.test('DeviceNames.N: only those devices, paging ignored', async () => {
      const want = [cat.names[0], cat.names[2]];
      const { res, items } = await listTasks(d, { JobId: withTimeout.jobId, DeviceNames: [...want, 'not-in-batch'], CurrentPage: 3, PageSize: 1 }, 'DeviceNames');
      assert.deepEqual(items.map((x) => x.DeviceName).sort(), [...want].sort());
      assert.equal(res.raw.Total, 2);
      assert.equal(res.raw.CurrentPage, 1);
      assert.equal(res.raw.PageCount, 1);
      const many = Array.from({ length: 51 }, (_, i) => `dev-many-${i}`);
      assertBusinessError(await d.call('ListOTATaskByJob', { JobId: withTimeout.jobId, DeviceNames: many }), 'iot.common.InvalidFormattedParameter', '51 DeviceNames');
    });

    await t.test('TaskStatus filter', async () => {
      assertSuccess(await d.call('CancelOTATaskByDevice', { ProductKey: cat.productKey, FirmwareId: cat.firmwareId, DeviceName: [cat.names[1]], JobId: withTimeout.jobId }), 'CancelOTATaskByDevice');
      const queued = await listTasks(d, { JobId: withTimeout.jobId, TaskStatus: 'QUEUED', CurrentPage: 1, PageSize: 10 }, 'TaskStatus QUEUED');
      assert.deepEqual(queued.items.map((x) => x.DeviceName).sort(), [cat.names[0], cat.names[2]].sort());
      assert.equal(queued.res.raw.Total, 2);
      const canceled = await listTasks(d, { JobId: withTimeout.jobId, TaskStatus: 'CANCELED' }, 'TaskStatus CANCELED');
      assert.equal(canceled.items.length, 1);
      assert.equal(canceled.items[0].DeviceName, cat.names[1]);
      assert.ok(canceled.items[0].TaskDesc.length > 0, 'a cancelled task says why');
      const none = await listTasks(d, { JobId: withTimeout.jobId, TaskStatus: 'SUCCEEDED' }, 'TaskStatus SUCCEEDED');
      assert.equal(none.items.length, 0);
      const named = await listTasks(d, { JobId: withTimeout.jobId, TaskStatus: 'QUEUED', DeviceNames: [cat.names[0], cat.names[1]] }, 'TaskStatus with DeviceNames');
      assert.deepEqual(named.items.map((x) => x.DeviceName), [cat.names[0]]);
      for (const bad of ['BOGUS', 'queued', 'COMPLETED']) {
        assertBusinessError(await d.call('ListOTATaskByJob', { JobId: withTimeout.jobId, TaskStatus: bad }), 'iot.common.InvalidFormattedParameter', `TaskStatus ${bad}`);
      }
    });

    await t.test('unknown JobId', async () => {
      assertBusinessError(await d.call('ListOTATaskByJob', { JobId: randomLike(withTimeout.jobId) }), 'iot.ota.JobNotExist', 'unknown JobId');
    });
  });
}

// ---------------------------------------------------------------------------
// ListOTAUnfinishedTaskByDevice
// ---------------------------------------------------------------------------

for (const flavour of FLAVOURS) {
  test(`ListOTAUnfinishedTaskByDevice via ${flavour}`, async (t) => {
    const d = makeDriver(flavour, server, account);
    const cat = await setup(d, 2);
    const moduleName = `mcu_${flavour}`;
    assertSuccess(await d.call('CreateOTAModule', { ProductKey: cat.productKey, ModuleName: moduleName }), 'CreateOTAModule');
    const fwModule = await createFirmware(d, cat.productKey, { DestVersion: '3.0.0', ModuleName: moduleName });
    const [dev, idle] = cat.devices;
    // One QUEUED task of the default module, one CONFIRM task of the custom module.
    const jobDefault = await createStaticJob(d, specific(cat, [dev.deviceName]));
    const jobModule = await createStaticJob(d, {
      FirmwareId: fwModule.firmwareId, ProductKey: cat.productKey, TargetSelection: 'SPECIFIC', TargetDeviceName: [dev.deviceName],
      MultiModuleMode: true, NeedConfirm: true,
    });

    await t.test('by IotId and by ProductKey+DeviceName', async () => {
      const byId = await unfinished(d, { IotId: dev.iotId }, 'by IotId');
      const byName = await unfinished(d, { ProductKey: cat.productKey, DeviceName: dev.deviceName }, 'by name');
      assert.deepEqual(byName.items, byId.items);
      assert.equal(byId.items.length, 2);
      const byJob = Object.fromEntries(byId.items.map((x) => [x.JobId, x]));
      const a = byJob[jobDefault.jobId];
      const b = byJob[jobModule.jobId];
      assert.equal(a.TaskStatus, 'QUEUED');
      assert.equal(a.ModuleName, 'default');
      assert.equal(a.FirmwareId, cat.firmwareId);
      assert.equal(b.TaskStatus, 'CONFIRM');
      assert.equal(b.ModuleName, moduleName);
      assert.equal(b.DestVersion, '3.0.0');
      for (const x of byId.items) {
        assert.equal(x.ProductKey, cat.productKey);
        assert.equal(x.ProductName, cat.productName);
        assert.equal(x.DeviceName, dev.deviceName);
        assert.equal(x.IotId, dev.iotId);
        assert.equal(typeof x.TaskId, 'string');
        assert.equal(typeof x.SrcVersion, 'string');
        assertUtc(x.UtcCreate, 'UtcCreate');
        assertUtc(x.UtcModified, 'UtcModified');
      }
      if (isSdk(d)) {
        const m = byId.res.model.body.data.simpleOTATaskInfo;
        assert.ok(Array.isArray(m));
        assert.deepEqual(m.map((x) => x.moduleName).sort(), ['default', moduleName].sort());
      }
    });

    await t.test('TaskStatus and ModuleName filters', async () => {
      const q = await unfinished(d, { IotId: dev.iotId, TaskStatus: 'QUEUED' }, 'TaskStatus QUEUED');
      assert.deepEqual(q.items.map((x) => x.JobId), [jobDefault.jobId]);
      const c = await unfinished(d, { IotId: dev.iotId, TaskStatus: 'CONFIRM' }, 'TaskStatus CONFIRM');
      assert.deepEqual(c.items.map((x) => x.JobId), [jobModule.jobId]);
      const n = await unfinished(d, { IotId: dev.iotId, TaskStatus: 'IN_PROGRESS' }, 'TaskStatus IN_PROGRESS');
      assert.equal(n.items.length, 0);
      const m = await unfinished(d, { IotId: dev.iotId, ModuleName: moduleName }, 'ModuleName');
      assert.deepEqual(m.items.map((x) => x.JobId), [jobModule.jobId]);
      const def = await unfinished(d, { ProductKey: cat.productKey, DeviceName: dev.deviceName, ModuleName: 'default', TaskStatus: 'QUEUED' }, 'ModuleName default + QUEUED');
      assert.deepEqual(def.items.map((x) => x.JobId), [jobDefault.jobId]);
      const nomod = await unfinished(d, { IotId: dev.iotId, ModuleName: 'nomodule' }, 'unknown module');
      assert.deepEqual(nomod.res.raw.Data, { SimpleOTATaskInfo: [] });
      for (const bad of ['SUCCEEDED', 'CANCELED', 'BOGUS']) {
        assertBusinessError(await d.call('ListOTAUnfinishedTaskByDevice', { IotId: dev.iotId, TaskStatus: bad }), 'iot.common.InvalidFormattedParameter', `TaskStatus ${bad}`);
      }
    });

    await t.test('a device without unfinished tasks; finished tasks are not listed', async () => {
      const empty = await unfinished(d, { IotId: idle.iotId }, 'idle device');
      assert.deepEqual(empty.res.raw.Data, { SimpleOTATaskInfo: [] });
      if (isSdk(d)) assert.deepEqual(empty.res.model.body.data.simpleOTATaskInfo, []);
      const j = await createStaticJob(d, specific(cat, [idle.deviceName]));
      assertSuccess(await d.call('CancelOTATaskByJob', { JobId: j.jobId, CancelQueuedTask: true }), 'cancel');
      const after = await unfinished(d, { IotId: idle.iotId }, 'after cancel');
      assert.equal(after.items.length, 0);
    });

    await t.test('unknown device or product', async () => {
      assertBusinessError(await d.call('ListOTAUnfinishedTaskByDevice', { IotId: randomLike(dev.iotId) }), 'iot.device.NotExistedDevice', 'unknown IotId');
      assertBusinessError(await d.call('ListOTAUnfinishedTaskByDevice', { ProductKey: cat.productKey, DeviceName: 'no-such-device' }), 'iot.device.NotExistedDevice', 'unknown DeviceName');
      assertBusinessError(await d.call('ListOTAUnfinishedTaskByDevice', { ProductKey: randomLike(cat.productKey), DeviceName: dev.deviceName }), 'iot.prod.NotExistedProduct', 'unknown ProductKey');
    });

    if (flavour === 'v3') {
      await t.test('TaskStatusList.N from a raw signed request (absent from the SDK)', async () => {
        const call = async (params) => {
          const r = await v1Request(server, account, 'ListOTAUnfinishedTaskByDevice', params);
          assert.equal(r.status, 200, `HTTP status (${r.text})`);
          return r.json;
        };
        const both = await call({ IotId: dev.iotId, 'TaskStatusList.1': 'CONFIRM', 'TaskStatusList.2': 'QUEUED' });
        assert.equal(both.Success, true);
        assert.equal(both.Data.SimpleOTATaskInfo.length, 2);
        const one = await call({ IotId: dev.iotId, 'TaskStatusList.1': 'CONFIRM' });
        assert.deepEqual(one.Data.SimpleOTATaskInfo.map((x) => x.JobId), [jobModule.jobId]);
        const bad = await call({ IotId: dev.iotId, 'TaskStatusList.1': 'FAILED' });
        assert.equal(bad.Success, false);
        assert.equal(bad.Code, 'iot.common.InvalidFormattedParameter');
        const mixed = await call({ IotId: dev.iotId, TaskStatus: 'QUEUED', 'TaskStatusList.1': 'CONFIRM' });
        assert.equal(mixed.Success, false);
        assert.equal(mixed.Code, 'iot.common.InvalidFormattedParameter', 'TaskStatus and TaskStatusList together');
      });
    }
  });
}

// ---------------------------------------------------------------------------
// CancelOTATaskByJob
// ---------------------------------------------------------------------------

for (const flavour of ['v3', 'v2', 'pop', 'popPost']) {
  test(`CancelOTATaskByJob via ${flavour}`, async (t) => {
    const d = makeDriver(flavour, server, account);
    const cat = await setup(d, 8);
    const n = cat.names;

    await t.test('without any Cancel* flag: business error', async () => {
      const job = await createStaticJob(d, specific(cat, [n[0]]));
      const r = await d.call('CancelOTATaskByJob', { JobId: job.jobId });
      assertBusinessError(r, 'iot.common.InvalidFormattedParameter', 'no flag');
      if (isSdk(d)) assert.equal(r.model.body.success, false);
      assert.deepEqual(await statusesOf(d, job.jobId), { [n[0]]: 'QUEUED' }, 'nothing cancelled');
      assertBusinessError(await d.call('CancelOTATaskByJob', { JobId: randomLike(job.jobId), CancelQueuedTask: true }), 'iot.ota.JobNotExist', 'unknown JobId');
      // Clean up for later steps.
      assertSuccess(await d.call('CancelOTATaskByJob', { JobId: job.jobId, CancelQueuedTask: true }), 'cleanup');
    });

    await t.test('CancelQueuedTask cancels QUEUED tasks and completes the batch', async () => {
      const job = await createStaticJob(d, specific(cat, [n[1], n[2]]));
      const r = await d.call('CancelOTATaskByJob', { JobId: job.jobId, CancelQueuedTask: true });
      assertSuccess(r, 'CancelQueuedTask');
      assertTypes(r.raw, Iot.CancelOTATaskByJobResponseBody, 'CancelOTATaskByJob');
      const { items } = await tasksOf(d, job.jobId);
      for (const x of items) {
        assert.equal(x.TaskStatus, 'CANCELED');
        assert.ok(x.TaskDesc.length > 0);
      }
      const j = await queryJob(d, job.jobId);
      assert.equal(j.JobStatus, 'COMPLETED', 'every task is final');
      assertUtc(j.UtcEndTime, 'UtcEndTime');
    });

    await t.test('CancelUnconfirmedTask=false protects CONFIRM tasks; absent, they go with the queued ones', async () => {
      const job = await createStaticJob(d, specific(cat, [n[3], n[4], n[5]], { NeedConfirm: true }));
      const { byDevice } = await tasksOf(d, job.jobId);
      assert.ok(Object.values(byDevice).every((x) => x.TaskStatus === 'CONFIRM'), 'NeedConfirm: tasks start in CONFIRM');
      assertSuccess(await d.call('ConfirmOTATask', { TaskId: [byDevice[n[3]].TaskId] }), 'confirm one');

      assertSuccess(await d.call('CancelOTATaskByJob', { JobId: job.jobId, CancelQueuedTask: true, CancelUnconfirmedTask: false }), 'queued only');
      assert.deepEqual(await statusesOf(d, job.jobId), { [n[3]]: 'CANCELED', [n[4]]: 'CONFIRM', [n[5]]: 'CONFIRM' });
      assert.equal((await queryJob(d, job.jobId)).JobStatus, 'IN_PROGRESS');

      assertSuccess(await d.call('CancelOTATaskByJob', { JobId: job.jobId, CancelNotifiedTask: true, CancelInProgressTask: true }), 'flags that match nothing');
      assert.deepEqual(await statusesOf(d, job.jobId), { [n[3]]: 'CANCELED', [n[4]]: 'CONFIRM', [n[5]]: 'CONFIRM' });

      assertSuccess(await d.call('CancelOTATaskByJob', { JobId: job.jobId, CancelQueuedTask: true }), 'queued, unconfirmed flag absent');
      assert.deepEqual(await statusesOf(d, job.jobId), { [n[3]]: 'CANCELED', [n[4]]: 'CANCELED', [n[5]]: 'CANCELED' });
      assert.equal((await queryJob(d, job.jobId)).JobStatus, 'COMPLETED');
    });

    await t.test('CancelUnconfirmedTask=true alone cancels only CONFIRM tasks', async () => {
      const job = await createStaticJob(d, specific(cat, [n[6], n[7]], { NeedConfirm: true }));
      const { byDevice } = await tasksOf(d, job.jobId);
      assertSuccess(await d.call('ConfirmOTATask', { TaskId: [byDevice[n[6]].TaskId] }), 'confirm one');
      assertSuccess(await d.call('CancelOTATaskByJob', { JobId: job.jobId, CancelUnconfirmedTask: true }), 'unconfirmed only');
      assert.deepEqual(await statusesOf(d, job.jobId), { [n[6]]: 'QUEUED', [n[7]]: 'CANCELED' });
      assertSuccess(await d.call('CancelOTATaskByJob', { JobId: job.jobId, CancelQueuedTask: true }), 'cleanup');
    });

    await t.test('CancelScheduledTask on a scheduled batch cancels the batch', async () => {
      const job = await createStaticJob(d, specific(cat, [n[0], n[1]], { ScheduleTime: futureMs(30) }));
      assert.equal((await queryJob(d, job.jobId)).JobStatus, 'PLANNED');
      assertSuccess(await d.call('CancelOTATaskByJob', { JobId: job.jobId, CancelScheduledTask: true }), 'CancelScheduledTask');
      const j = await queryJob(d, job.jobId);
      assert.equal(j.JobStatus, 'CANCELED');
      assert.deepEqual(await statusesOf(d, job.jobId), { [n[0]]: 'CANCELED', [n[1]]: 'CANCELED' });
      // The devices are free again.
      const again = await createStaticJob(d, specific(cat, [n[0]]));
      assert.deepEqual(await statusesOf(d, again.jobId), { [n[0]]: 'QUEUED' });
      assertSuccess(await d.call('CancelOTATaskByJob', { JobId: again.jobId, CancelQueuedTask: true }), 'cleanup');
    });
  });
}

test('CancelOTATaskByJob on a dynamic batch keeps the strategy running', async () => {
  const d = makeDriver('v3', server, account);
  const cat = await setup(d, 2);
  const g = await d.call('CreateDeviceDynamicGroup', { GroupName: `grp_${Date.now() % 1e8}`, DynamicGroupExpression: `product_key = "${cat.productKey}"` });
  assertSuccess(g, 'CreateDeviceDynamicGroup');
  const r = await d.call('CreateOTADynamicUpgradeJob', { FirmwareId: cat.firmwareId, ProductKey: cat.productKey, GroupId: g.raw.Data.GroupId, GroupType: 'LINK_PLATFORM_DYNAMIC' });
  assertSuccess(r, 'CreateOTADynamicUpgradeJob');
  const jobId = r.raw.Data.JobId;
  assert.equal((await tasksOf(d, jobId)).items.length, 2);
  assertSuccess(await d.call('CancelOTATaskByJob', { JobId: jobId, CancelQueuedTask: true }), 'CancelOTATaskByJob');
  assert.ok((await tasksOf(d, jobId)).items.every((x) => x.TaskStatus === 'CANCELED'));
  assert.equal((await queryJob(d, jobId)).JobStatus, 'IN_PROGRESS', 'a dynamic batch does not end by itself');
  assertSuccess(await d.call('CancelOTAStrategyByJob', { JobId: jobId }), 'CancelOTAStrategyByJob');
});

// ---------------------------------------------------------------------------
// CancelOTATaskByDevice
// ---------------------------------------------------------------------------

for (const flavour of ['v3', 'v2', 'pop']) {
  test(`CancelOTATaskByDevice via ${flavour}`, async (t) => {
    const d = makeDriver(flavour, server, account);
    const cat = await setup(d, 4);
    const n = cat.names;
    const job1 = await createStaticJob(d, specific(cat, [n[0], n[1], n[2]]));
    const fw2 = await createFirmware(d, cat.productKey, { DestVersion: '2.6.0' });
    const job2 = await createStaticJob(d, { FirmwareId: fw2.firmwareId, ProductKey: cat.productKey, TargetSelection: 'SPECIFIC', TargetDeviceName: [n[3]] });

    await t.test('cancels only the named devices\' tasks of that package', async () => {
      const r = await d.call('CancelOTATaskByDevice', { ProductKey: cat.productKey, FirmwareId: cat.firmwareId, DeviceName: [n[0]] });
      assertSuccess(r, 'CancelOTATaskByDevice');
      assertTypes(r.raw, Iot.CancelOTATaskByDeviceResponseBody, 'CancelOTATaskByDevice');
      assert.deepEqual(await statusesOf(d, job1.jobId), { [n[0]]: 'CANCELED', [n[1]]: 'QUEUED', [n[2]]: 'QUEUED' });
      // n[3]'s task belongs to another package: naming the device here leaves it alone.
      assertSuccess(await d.call('CancelOTATaskByDevice', { ProductKey: cat.productKey, FirmwareId: cat.firmwareId, DeviceName: [n[3]] }), 'device without a task of this package');
      assert.deepEqual(await statusesOf(d, job2.jobId), { [n[3]]: 'QUEUED' });
    });

    await t.test('JobId restricts the cancellation to one batch', async () => {
      assertBusinessError(await d.call('CancelOTATaskByDevice', { ProductKey: cat.productKey, FirmwareId: cat.firmwareId, DeviceName: [n[1]], JobId: job2.jobId }),
        'iot.ota.JobNotExist', 'JobId of another package');
      assertSuccess(await d.call('CancelOTATaskByDevice', { ProductKey: cat.productKey, FirmwareId: cat.firmwareId, DeviceName: [n[1]], JobId: job1.jobId }), 'with JobId');
      assert.deepEqual(await statusesOf(d, job1.jobId), { [n[0]]: 'CANCELED', [n[1]]: 'CANCELED', [n[2]]: 'QUEUED' });
    });

    await t.test('finished tasks are left alone; the batch completes with its last task', async () => {
      assertSuccess(await d.call('CancelOTATaskByDevice', { ProductKey: cat.productKey, FirmwareId: cat.firmwareId, DeviceName: [n[0], n[2]] }), 'again, with one finished');
      assert.deepEqual(await statusesOf(d, job1.jobId), { [n[0]]: 'CANCELED', [n[1]]: 'CANCELED', [n[2]]: 'CANCELED' });
      assert.equal((await queryJob(d, job1.jobId)).JobStatus, 'COMPLETED');
    });

    await t.test('unknown product, package, device', async () => {
      assertBusinessError(await d.call('CancelOTATaskByDevice', { ProductKey: randomLike(cat.productKey), FirmwareId: cat.firmwareId, DeviceName: [n[0]] }), 'iot.prod.NotExistedProduct', 'unknown ProductKey');
      assertBusinessError(await d.call('CancelOTATaskByDevice', { ProductKey: cat.productKey, FirmwareId: randomLike(cat.firmwareId), DeviceName: [n[0]] }), 'iot.ota.FirmwareNotExist', 'unknown FirmwareId');
      assertBusinessError(await d.call('CancelOTATaskByDevice', { ProductKey: cat.productKey, FirmwareId: cat.firmwareId, DeviceName: ['no-such-device'] }), 'iot.device.NotExistedDevice', 'unknown DeviceName');
      assertBusinessError(await d.call('CancelOTATaskByDevice', { ProductKey: cat.productKey, FirmwareId: cat.firmwareId, DeviceName: [n[0], n[0]] }), 'iot.common.InvalidFormattedParameter', 'duplicate names');
    });
  });
}

// ---------------------------------------------------------------------------
// ReupgradeOTATask
// ---------------------------------------------------------------------------

for (const flavour of ['v3', 'v2', 'pop']) {
  test(`ReupgradeOTATask via ${flavour}`, async (t) => {
    const d = makeDriver(flavour, server, account);
    const cat = await setup(d, 6);
    const n = cat.names;

    await t.test('CANCELED -> QUEUED, and the completed batch runs again', async (st) => {
      const job = await createStaticJob(d, specific(cat, [n[0], n[1]]));
      assertSuccess(await d.call('CancelOTATaskByJob', { JobId: job.jobId, CancelQueuedTask: true }), 'cancel');
      assert.equal((await queryJob(d, job.jobId)).JobStatus, 'COMPLETED');
      const { byDevice } = await tasksOf(d, job.jobId);
      const r = await d.call('ReupgradeOTATask', { JobId: job.jobId, TaskId: [byDevice[n[0]].TaskId] });
      assertSuccess(r, 'ReupgradeOTATask');
      assertTypes(r.raw, Iot.ReupgradeOTATaskResponseBody, 'ReupgradeOTATask');
      const after = (await tasksOf(d, job.jobId)).byDevice;
      assert.equal(after[n[0]].TaskStatus, 'QUEUED');
      assert.equal(after[n[0]].TaskId, byDevice[n[0]].TaskId, 'the same task runs again');
      assert.equal(after[n[0]].Progress, '0.00');
      assert.equal(after[n[1]].TaskStatus, 'CANCELED');
      const j = await queryJob(d, job.jobId);
      assert.equal(j.JobStatus, 'IN_PROGRESS', 'a re-run task re-opens the batch');
      assertNoKey(j, 'UtcEndTime', 're-opened batch');

      await st.test('a task that is not FAILED or CANCELED', async () => {
        assertBusinessError(await d.call('ReupgradeOTATask', { JobId: job.jobId, TaskId: [byDevice[n[0]].TaskId] }), 'iot.ota.TaskStatusInvalid', 'QUEUED task');
        assertBusinessError(await d.call('ReupgradeOTATask', { JobId: job.jobId, TaskId: [byDevice[n[1]].TaskId, byDevice[n[0]].TaskId] }), 'iot.ota.TaskStatusInvalid', 'one good, one QUEUED');
        assert.equal((await tasksOf(d, job.jobId)).byDevice[n[1]].TaskStatus, 'CANCELED', 'all or nothing');
      });
      await st.test('unknown ids', async () => {
        assertBusinessError(await d.call('ReupgradeOTATask', { JobId: job.jobId, TaskId: [randomLike(byDevice[n[1]].TaskId)] }), 'iot.ota.TaskNotExist', 'unknown TaskId');
        assertBusinessError(await d.call('ReupgradeOTATask', { JobId: randomLike(job.jobId), TaskId: [byDevice[n[1]].TaskId] }), 'iot.ota.JobNotExist', 'unknown JobId');
        const otherJob = await createStaticJob(d, specific(cat, [n[5]]));
        assertBusinessError(await d.call('ReupgradeOTATask', { JobId: otherJob.jobId, TaskId: [byDevice[n[1]].TaskId] }), 'iot.ota.TaskNotExist', 'task of another batch');
        const eleven = Array.from({ length: 11 }, () => randomLike(byDevice[n[1]].TaskId));
        assertBusinessError(await d.call('ReupgradeOTATask', { JobId: job.jobId, TaskId: eleven }), 'iot.common.InvalidFormattedParameter', '11 TaskIds');
      });
      await st.test('a device with another unfinished task is not re-run', async () => {
        const blocker = await createStaticJob(d, specific(cat, [n[1]]));
        assertBusinessError(await d.call('ReupgradeOTATask', { JobId: job.jobId, TaskId: [byDevice[n[1]].TaskId] }), 'iot.ota.TaskStatusInvalid', 'device busy elsewhere');
        assertSuccess(await d.call('CancelOTATaskByJob', { JobId: blocker.jobId, CancelQueuedTask: true }), 'free the device');
        assertSuccess(await d.call('ReupgradeOTATask', { JobId: job.jobId, TaskId: [byDevice[n[1]].TaskId] }), 're-run once free');
        assert.equal((await tasksOf(d, job.jobId)).byDevice[n[1]].TaskStatus, 'QUEUED');
      });
    });

    await t.test('NeedConfirm batch: CANCELED -> CONFIRM', async () => {
      const job = await createStaticJob(d, specific(cat, [n[2]], { NeedConfirm: true }));
      assertSuccess(await d.call('CancelOTATaskByJob', { JobId: job.jobId, CancelUnconfirmedTask: true }), 'cancel');
      const task = (await tasksOf(d, job.jobId)).byDevice[n[2]];
      assert.equal(task.TaskStatus, 'CANCELED');
      assertSuccess(await d.call('ReupgradeOTATask', { JobId: job.jobId, TaskId: [task.TaskId] }), 'ReupgradeOTATask');
      assert.equal((await tasksOf(d, job.jobId)).byDevice[n[2]].TaskStatus, 'CONFIRM', 'needs confirmation again');
      assertSuccess(await d.call('ConfirmOTATask', { TaskId: [task.TaskId] }), 'confirm');
      assert.equal((await tasksOf(d, job.jobId)).byDevice[n[2]].TaskStatus, 'QUEUED');
    });

    await t.test('a cancelled scheduled batch takes no re-runs', async () => {
      const job = await createStaticJob(d, specific(cat, [n[3]], { ScheduleTime: futureMs(30) }));
      assertSuccess(await d.call('CancelOTATaskByJob', { JobId: job.jobId, CancelScheduledTask: true }), 'cancel the batch');
      const task = (await tasksOf(d, job.jobId)).byDevice[n[3]];
      assertBusinessError(await d.call('ReupgradeOTATask', { JobId: job.jobId, TaskId: [task.TaskId] }), 'iot.ota.JobStatusInvalid', 'cancelled batch');
    });
  });
}

// ---------------------------------------------------------------------------
// ConfirmOTATask
// ---------------------------------------------------------------------------

for (const flavour of ['v3', 'v2', 'pop', 'popPost']) {
  test(`ConfirmOTATask via ${flavour}`, async (t) => {
    const d = makeDriver(flavour, server, account);
    const cat = await setup(d, 5);
    const n = cat.names;

    await t.test('CONFIRM -> QUEUED; twice is refused', async () => {
      const job = await createStaticJob(d, specific(cat, [n[0], n[1]], { NeedConfirm: true }));
      const { byDevice } = await tasksOf(d, job.jobId);
      const ids = [byDevice[n[0]].TaskId, byDevice[n[1]].TaskId];
      const r = await d.call('ConfirmOTATask', { TaskId: ids });
      assertSuccess(r, 'ConfirmOTATask');
      assertTypes(r.raw, Iot.ConfirmOTATaskResponseBody, 'ConfirmOTATask');
      if (isSdk(d)) assert.equal(r.model.body.success, true);
      assert.deepEqual(await statusesOf(d, job.jobId), { [n[0]]: 'QUEUED', [n[1]]: 'QUEUED' });
      const unf = await d.call('ListOTAUnfinishedTaskByDevice', { IotId: cat.devices[0].iotId, TaskStatus: 'QUEUED' });
      assertSuccess(unf, 'ListOTAUnfinishedTaskByDevice');
      assert.deepEqual(unf.raw.Data.SimpleOTATaskInfo.map((x) => x.TaskId), [ids[0]]);
      assertBusinessError(await d.call('ConfirmOTATask', { TaskId: [ids[0]] }), 'iot.ota.TaskStatusInvalid', 'confirm twice');
    });

    await t.test('a task of a batch without NeedConfirm, unknown ids, too many ids', async () => {
      const job = await createStaticJob(d, specific(cat, [n[2]]));
      const task = (await tasksOf(d, job.jobId)).byDevice[n[2]];
      assertBusinessError(await d.call('ConfirmOTATask', { TaskId: [task.TaskId] }), 'iot.ota.TaskStatusInvalid', 'QUEUED task');
      assertBusinessError(await d.call('ConfirmOTATask', { TaskId: [randomLike(task.TaskId)] }), 'iot.ota.TaskNotExist', 'unknown TaskId');
      const eleven = Array.from({ length: 11 }, () => randomLike(task.TaskId));
      assertBusinessError(await d.call('ConfirmOTATask', { TaskId: eleven }), 'iot.common.InvalidFormattedParameter', '11 TaskIds');
    });

    await t.test('a scheduled batch takes confirmations only once it started', async () => {
      const job = await createStaticJob(d, specific(cat, [n[3]], { NeedConfirm: true, ScheduleTime: futureMs(30) }));
      const task = (await tasksOf(d, job.jobId)).byDevice[n[3]];
      assert.equal(task.TaskStatus, 'CONFIRM');
      assertBusinessError(await d.call('ConfirmOTATask', { TaskId: [task.TaskId] }), 'iot.ota.JobStatusInvalid', 'before ScheduleTime');
      assert.equal((await tasksOf(d, job.jobId)).byDevice[n[3]].TaskStatus, 'CONFIRM', 'unchanged');
    });

    await t.test('a cancelled CONFIRM task cannot be confirmed', async () => {
      const job = await createStaticJob(d, specific(cat, [n[4]], { NeedConfirm: true }));
      const task = (await tasksOf(d, job.jobId)).byDevice[n[4]];
      assertSuccess(await d.call('CancelOTATaskByDevice', { ProductKey: cat.productKey, FirmwareId: cat.firmwareId, DeviceName: [n[4]] }), 'CancelOTATaskByDevice');
      assertBusinessError(await d.call('ConfirmOTATask', { TaskId: [task.TaskId] }), 'iot.ota.TaskStatusInvalid', 'CANCELED task');
    });
  });
}

// ---------------------------------------------------------------------------
// Missing parameters and tenant isolation
// ---------------------------------------------------------------------------

for (const flavour of [...FLAVOURS, 'raw']) {
  test(`missing required parameters of the task operations via ${flavour}`, async () => {
    const d = makeDriver(flavour, server, account);
    const job = 'HvKuBpuk3rdk6E92CPab020200';
    const task = 'y3tOmCDNgpR8F9jnVEzC010100';
    const fw = 'T0F5b5tpFnHQrgfkABCD030100';
    const pk = 'a1BwAGVxxxx';
    const cases = [
      ['ListOTATaskByJob', {}, 'JobId'],
      ['ListOTAUnfinishedTaskByDevice', {}, 'ProductKey'],
      ['ListOTAUnfinishedTaskByDevice', { DeviceName: 'dev-a' }, 'ProductKey'],
      ['ListOTAUnfinishedTaskByDevice', { ProductKey: pk }, 'DeviceName'],
      ['CancelOTATaskByJob', { CancelQueuedTask: true }, 'JobId'],
      ['CancelOTATaskByDevice', { FirmwareId: fw, DeviceName: ['dev-a'] }, 'ProductKey'],
      ['CancelOTATaskByDevice', { ProductKey: pk, DeviceName: ['dev-a'] }, 'FirmwareId'],
      ['CancelOTATaskByDevice', { ProductKey: pk, FirmwareId: fw }, 'DeviceName'],
      ['ReupgradeOTATask', { TaskId: [task] }, 'JobId'],
      ['ReupgradeOTATask', { JobId: job }, 'TaskId'],
      ['ConfirmOTATask', {}, 'TaskId'],
    ];
    for (const [action, params, name] of cases) {
      const err = await expectGateway(d.call(action, params), `Missing${name}`, 400, `${flavour} ${action} without ${name}`);
      assert.equal(err.body.Message, `${name} is mandatory for this action.`);
    }
  });
}

for (const flavour of ['v3', 'pop']) {
  test(`another tenant's batches, tasks and devices answer like nonexistent ones (${flavour})`, async (t) => {
    const a = makeDriver('v3', server, account);
    const b = makeDriver(flavour, server, other);
    const catA = await setup(a, 2);
    const jobA = await createStaticJob(a, specific(catA, [catA.names[0], catA.names[1]], { NeedConfirm: true }));
    const tasksA = (await tasksOf(a, jobA.jobId)).byDevice;
    const t0 = tasksA[catA.names[0]].TaskId;
    const t1 = tasksA[catA.names[1]].TaskId;
    assertSuccess(await a.call('CancelOTATaskByDevice', { ProductKey: catA.productKey, FirmwareId: catA.firmwareId, DeviceName: [catA.names[1]] }), 'A cancels one task');
    const catB = await setup(b, 1);
    const jobB = await createStaticJob(b, specific(catB, [catB.names[0]]));

    await t.test('ListOTATaskByJob', () => sameAsNonexistent(b, 'ListOTATaskByJob', (x) => ({ JobId: x.job }), { job: jobA.jobId }, 'iot.ota.JobNotExist', 'ListOTATaskByJob'));
    await t.test('ListOTAUnfinishedTaskByDevice by IotId', () => sameAsNonexistent(b, 'ListOTAUnfinishedTaskByDevice',
      (x) => ({ IotId: x.iot }), { iot: catA.devices[0].iotId }, 'iot.device.NotExistedDevice', 'ListOTAUnfinishedTaskByDevice IotId'));
    await t.test('ListOTAUnfinishedTaskByDevice by name', () => sameAsNonexistent(b, 'ListOTAUnfinishedTaskByDevice',
      (x) => ({ ProductKey: x.pk, DeviceName: catA.names[0] }), { pk: catA.productKey }, 'iot.prod.NotExistedProduct', 'ListOTAUnfinishedTaskByDevice name'));
    await t.test('CancelOTATaskByJob', () => sameAsNonexistent(b, 'CancelOTATaskByJob',
      (x) => ({ JobId: x.job, CancelUnconfirmedTask: true, CancelQueuedTask: true }), { job: jobA.jobId }, 'iot.ota.JobNotExist', 'CancelOTATaskByJob'));
    await t.test('CancelOTATaskByDevice with A\'s product', () => sameAsNonexistent(b, 'CancelOTATaskByDevice',
      (x) => ({ ProductKey: x.pk, FirmwareId: catA.firmwareId, DeviceName: [catA.names[0]] }), { pk: catA.productKey }, 'iot.prod.NotExistedProduct', 'CancelOTATaskByDevice product'));
    await t.test('CancelOTATaskByDevice with A\'s package', () => sameAsNonexistent(b, 'CancelOTATaskByDevice',
      (x) => ({ ProductKey: catB.productKey, FirmwareId: x.fw, DeviceName: [catB.names[0]] }), { fw: catA.firmwareId }, 'iot.ota.FirmwareNotExist', 'CancelOTATaskByDevice package'));
    await t.test('ReupgradeOTATask with A\'s batch', () => sameAsNonexistent(b, 'ReupgradeOTATask',
      (x) => ({ JobId: x.job, TaskId: [x.task] }), { job: jobA.jobId, task: t1 }, 'iot.ota.JobNotExist', 'ReupgradeOTATask job'));
    await t.test('ReupgradeOTATask with B\'s batch and A\'s task', () => sameAsNonexistent(b, 'ReupgradeOTATask',
      (x) => ({ JobId: jobB.jobId, TaskId: [x.task] }), { task: t1 }, 'iot.ota.TaskNotExist', 'ReupgradeOTATask task'));
    await t.test('ConfirmOTATask', () => sameAsNonexistent(b, 'ConfirmOTATask', (x) => ({ TaskId: [x.task] }), { task: t0 }, 'iot.ota.TaskNotExist', 'ConfirmOTATask'));
    await t.test('A\'s tasks are untouched', async () => {
      const now = (await tasksOf(a, jobA.jobId)).byDevice;
      assert.equal(now[catA.names[0]].TaskStatus, 'CONFIRM');
      assert.equal(now[catA.names[1]].TaskStatus, 'CANCELED');
      assertSuccess(await a.call('ConfirmOTATask', { TaskId: [t0] }), 'A can still confirm its task');
    });
  });
}
