'use strict';
// The complete OTA setup flow through every client flavour, with field-by-field
// checks of both the raw JSON and what the SDK model hands to the caller.

const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');

const { startServer } = require('../lib/server');
const { Iot, makeDriver, FLAVOURS } = require('../lib/clients');
const {
  assertSuccess, assertBusinessError, assertTypes, assertUtc, assertRecent, headerOf, UUID_RE, uniqueName,
} = require('../lib/checks');
const { createProduct, registerDevice, createFirmware, createStaticJob, NO_THROTTLING } = require('../lib/fixtures');
const { v1Request } = require('../lib/http');
const { parseXml, child, children, textOf } = require('../lib/xml');

let server;
let account;
const created = {}; // per flavour, reused by the XML checks

before(async () => {
  server = await startServer({ config: NO_THROTTLING });
  account = await server.createAccount('happy');
});

after(async () => {
  if (server) await server.stop();
});

function assertNoKey(obj, key, where) {
  assert.ok(!(key in obj), `${where}: ${key} must be absent, got ${JSON.stringify(obj[key])}`);
}

function checkListEnvelope(raw, { currentPage, pageSize, total }, where) {
  assert.equal(raw.CurrentPage, currentPage, `${where} CurrentPage`);
  assert.equal(raw.PageSize, pageSize, `${where} PageSize`);
  assert.equal(raw.Total, total, `${where} Total`);
  assert.equal(raw.PageCount, total === 0 ? 0 : Math.ceil(total / pageSize), `${where} PageCount`);
  for (const k of ['CurrentPage', 'PageSize', 'PageCount', 'Total']) assert.equal(typeof raw[k], 'number', `${where} ${k} must be a JSON number`);
  assert.equal(typeof raw.Data, 'object', `${where} Data must be an object`);
  assert.ok(!Array.isArray(raw.Data), `${where} Data must be the wrapper object, not an array`);
  assert.ok(Array.isArray(raw.Data.SimpleOTAJobInfo), `${where} Data.SimpleOTAJobInfo must be an array, got ${JSON.stringify(raw.Data)}`);
  assertTypes(raw, Iot.ListOTAJobByDeviceResponseBody, where);
}

for (const flavour of FLAVOURS) {
  test(`full OTA flow via ${flavour}`, async (t) => {
    const d = makeDriver(flavour, server, account);
    const sdk = flavour === 'v3' || flavour === 'v2';
    const ctx = { flavour };
    created[flavour] = ctx;

    await t.test('CreateProduct', async () => {
      const name = uniqueName(`p_${flavour}_`);
      const { productKey, res } = await createProduct(d, {
        ProductName: name, NodeType: 0, Description: 'compat test product', AliyunCommodityCode: 'iothub_senior', DataFormat: 1,
      });
      const raw = res.raw;
      assertTypes(raw, Iot.CreateProductResponseBody, 'CreateProduct');
      assert.equal(typeof raw.ProductKey, 'string');
      assert.ok(raw.ProductKey.length > 0);
      assert.equal(raw.Data.ProductKey, raw.ProductKey, 'ProductKey appears top-level and in Data');
      assert.equal(raw.Data.ProductName, name);
      assert.equal(raw.Data.NodeType, 0);
      assert.equal(raw.Data.DataFormat, 1);
      assert.equal(raw.Data.AliyunCommodityCode, 'iothub_senior');
      assert.equal(raw.Data.Description, 'compat test product');
      assert.equal(typeof raw.Data.ProductSecret, 'string');
      assert.ok(raw.Data.ProductSecret.length > 0);
      if (sdk) {
        assert.equal(res.model.body.productKey, productKey);
        assert.equal(res.model.body.data.nodeType, 0);
        assert.equal(res.model.body.success, true);
      }
      Object.assign(ctx, { productKey, productName: name, productSecret: raw.Data.ProductSecret });
    });

    await t.test('RegisterDevice x3', async () => {
      ctx.devices = [];
      for (let i = 0; i < 3; i++) {
        const extra = i === 0 ? { Nickname: `nick_${flavour}_one` } : {};
        const dev = await registerDevice(d, ctx.productKey, extra);
        const raw = dev.res.raw;
        assertTypes(raw, Iot.RegisterDeviceResponseBody, 'RegisterDevice');
        assert.equal(raw.Data.ProductKey, ctx.productKey);
        assert.equal(raw.Data.DeviceName, dev.deviceName);
        assert.equal(typeof raw.Data.IotId, 'string');
        assert.ok(raw.Data.IotId.length > 0);
        assert.equal(typeof raw.Data.DeviceSecret, 'string');
        assert.ok(raw.Data.DeviceSecret.length > 0);
        if (i === 0) assert.equal(raw.Data.Nickname, `nick_${flavour}_one`);
        ctx.devices.push(dev);
      }
      assert.equal(new Set(ctx.devices.map((x) => x.iotId)).size, 3, 'IotIds are unique');
    });

    await t.test('QueryProduct', async () => {
      const res = await d.call('QueryProduct', { ProductKey: ctx.productKey });
      assertSuccess(res, 'QueryProduct');
      assertTypes(res.raw, Iot.QueryProductResponseBody, 'QueryProduct');
      const p = res.raw.Data;
      assert.equal(p.ProductKey, ctx.productKey);
      assert.equal(p.ProductName, ctx.productName);
      assert.equal(p.ProductSecret, ctx.productSecret);
      assert.equal(p.Description, 'compat test product');
      assert.equal(p.NodeType, 0);
      assert.equal(p.DataFormat, 1);
      assert.equal(p.AliyunCommodityCode, 'iothub_senior');
      assert.equal(p.DeviceCount, 3);
      assert.equal(p.AuthType, 'secret', 'default AuthType');
      assert.equal(p.NetType, 3, 'default NetType WIFI is reported as the number 3');
      assert.equal(typeof p.GmtCreate, 'number', 'GmtCreate is epoch milliseconds as a number');
      assert.ok(Math.abs(p.GmtCreate - Date.now()) < 5 * 60 * 1000, `GmtCreate ${p.GmtCreate} close to now`);
      if ('ProductStatus' in p) assert.ok(['DEVELOPMENT_STATUS', 'RELEASE_STATUS'].includes(p.ProductStatus));
      if (sdk) {
        assert.equal(res.model.body.data.deviceCount, 3);
        assert.equal(res.model.body.data.gmtCreate, p.GmtCreate);
      }
    });

    await t.test('QueryDeviceDetail by ProductKey+DeviceName and by IotId', async () => {
      const dev = ctx.devices[0];
      const res = await d.call('QueryDeviceDetail', { ProductKey: ctx.productKey, DeviceName: dev.deviceName });
      assertSuccess(res, 'QueryDeviceDetail');
      assertTypes(res.raw, Iot.QueryDeviceDetailResponseBody, 'QueryDeviceDetail');
      const x = res.raw.Data;
      assert.equal(x.IotId, dev.iotId);
      assert.equal(x.ProductKey, ctx.productKey);
      assert.equal(x.ProductName, ctx.productName);
      assert.equal(x.DeviceName, dev.deviceName);
      assert.equal(x.DeviceSecret, dev.deviceSecret);
      assert.equal(x.Nickname, `nick_${flavour}_one`);
      assert.equal(x.NodeType, 0);
      assert.equal(x.Status, 'UNACTIVE', 'a device that never connected');
      assertRecent(x.UtcCreate, 'UtcCreate');
      assert.match(String(x.GmtCreate), /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/, 'GmtCreate format');
      const eight = new Date(Date.parse(x.UtcCreate) + 8 * 3600 * 1000).toISOString().slice(0, 19).replace('T', ' ');
      assert.equal(x.GmtCreate, eight, 'GmtCreate is UtcCreate as UTC+8 wall-clock time');
      assert.ok(!x.FirmwareVersion, 'no firmware version reported yet');
      const byId = await d.call('QueryDeviceDetail', { IotId: dev.iotId });
      assertSuccess(byId, 'QueryDeviceDetail by IotId');
      assert.deepEqual(byId.raw.Data, res.raw.Data);
      if (sdk) assert.equal(res.model.body.data.iotId, dev.iotId);
    });

    await t.test('CreateOTAFirmware and QueryOTAFirmware', async () => {
      const fw = await createFirmware(d, ctx.productKey, { FirmwareDesc: 'compat test firmware', Type: 0 });
      assertTypes(fw.res.raw, Iot.CreateOTAFirmwareResponseBody, 'CreateOTAFirmware');
      assert.equal(typeof fw.firmwareId, 'string');
      assert.ok(fw.firmwareId.length > 0);
      assertRecent(fw.res.raw.Data.UtcCreate, 'CreateOTAFirmware UtcCreate');
      ctx.firmwareId = fw.firmwareId;

      const res = await d.call('QueryOTAFirmware', { FirmwareId: fw.firmwareId, IotInstanceId: account.IotInstanceId });
      assertSuccess(res, 'QueryOTAFirmware');
      assertTypes(res.raw, Iot.QueryOTAFirmwareResponseBody, 'QueryOTAFirmware');
      assert.ok(!('Data' in res.raw) || res.raw.Data === undefined, 'QueryOTAFirmware answers in FirmwareInfo, not Data');
      const f = res.raw.FirmwareInfo;
      assert.equal(f.FirmwareId, fw.firmwareId);
      assert.equal(f.FirmwareName, fw.params.FirmwareName);
      assert.equal(f.FirmwareDesc, 'compat test firmware');
      assert.equal(f.ProductKey, ctx.productKey);
      assert.equal(f.ProductName, ctx.productName);
      assert.equal(f.ModuleName, 'default');
      assert.equal(f.DestVersion, '2.0.0');
      assert.ok(!f.SrcVersion, 'full package has no SrcVersion');
      assert.equal(f.Type, 0);
      assert.equal(f.SignMethod, 'MD5');
      assert.equal(f.FirmwareSign, fw.params.FirmwareSign);
      assert.equal(f.FirmwareSize, 1048576);
      assert.match(String(f.FirmwareUrl), /^https?:\/\//, 'FirmwareUrl is an absolute URL');
      assert.equal(f.Status, -1, 'NeedToVerify=false package reports Status -1');
      assertNoKey(f, 'MultiFiles', 'single-file package');
      assert.equal(f.UtcCreate, fw.res.raw.Data.UtcCreate);
      assertUtc(f.UtcModified, 'UtcModified');
      if (sdk) {
        assert.equal(res.model.body.firmwareInfo.status, -1);
        assert.equal(res.model.body.firmwareInfo.firmwareSize, 1048576);
      }
    });

    await t.test('CreateOTAStaticUpgradeJob SPECIFIC with tags and options', async () => {
      const job = await createStaticJob(d, {
        FirmwareId: ctx.firmwareId,
        ProductKey: ctx.productKey,
        TargetSelection: 'SPECIFIC',
        TargetDeviceName: [ctx.devices[0].deviceName],
        Tag: [{ Key: 'env', Value: 'prod' }, { Key: 'k2', Value: 'v 2+x/y=z' }],
        RetryInterval: 10,
        RetryCount: 1,
        TimeoutInMinutes: 60,
        MaximumPerMinute: 100,
        OverwriteMode: 1,
        NeedPush: true,
        NeedConfirm: false,
        DownloadProtocol: 'HTTPS',
        MultiModuleMode: false,
      });
      assertTypes(job.res.raw, Iot.CreateOTAStaticUpgradeJobResponseBody, 'CreateOTAStaticUpgradeJob');
      assert.equal(typeof job.jobId, 'string');
      assert.ok(job.jobId.length > 0);
      assertRecent(job.utcCreate, 'job UtcCreate');
      if (sdk) assert.equal(job.res.model.body.data.jobId, job.jobId);
      ctx.jobSpecific = job;
    });

    await t.test('CreateOTAStaticUpgradeJob ALL with a schedule', async () => {
      const start = Date.now() + 60 * 60 * 1000;
      const job = await createStaticJob(d, {
        FirmwareId: ctx.firmwareId,
        ProductKey: ctx.productKey,
        TargetSelection: 'ALL',
        ScheduleTime: start,
        ScheduleFinishTime: start + 2 * 60 * 60 * 1000,
      });
      assert.notEqual(job.jobId, ctx.jobSpecific.jobId);
      ctx.jobAll = job;
    });

    await t.test('ListOTAJobByDevice: scheduled ALL job on untouched devices', async () => {
      for (const dev of ctx.devices.slice(1)) {
        const res = await d.call('ListOTAJobByDevice', {
          ProductKey: ctx.productKey, DeviceName: dev.deviceName, FirmwareId: ctx.firmwareId, CurrentPage: 1, PageSize: 10,
        });
        assertSuccess(res, 'ListOTAJobByDevice');
        checkListEnvelope(res.raw, { currentPage: 1, pageSize: 10, total: 1 }, 'ListOTAJobByDevice');
        const items = res.raw.Data.SimpleOTAJobInfo;
        assert.equal(items.length, 1);
        const it = items[0];
        assert.equal(it.JobId, ctx.jobAll.jobId);
        assert.equal(it.FirmwareId, ctx.firmwareId);
        assert.equal(it.ProductKey, ctx.productKey);
        assert.equal(it.JobStatus, 'PLANNED');
        assert.equal(it.JobType, 'UPGRADE_FIRMWARE');
        assert.equal(it.SelectionType, 'STATIC');
        assert.equal(it.TargetSelection, 'ALL');
        assert.deepEqual(it.Tags, { OtaTagDTO: [] }, 'no tags: Tags is {"OtaTagDTO":[]}');
        assert.equal(it.UtcCreate, ctx.jobAll.utcCreate);
        assertUtc(it.UtcModified, 'UtcModified');
        assertNoKey(it, 'UtcStartTime', 'PLANNED job');
        assertNoKey(it, 'UtcEndTime', 'PLANNED job');
        if (sdk) {
          const m = res.model.body;
          assert.equal(m.total, 1);
          assert.ok(Array.isArray(m.data.simpleOTAJobInfo));
          assert.equal(m.data.simpleOTAJobInfo[0].jobId, ctx.jobAll.jobId);
          assert.ok(Array.isArray(m.data.simpleOTAJobInfo[0].tags.otaTagDTO), 'SDK model tags.otaTagDTO is an array');
          assert.equal(m.data.simpleOTAJobInfo[0].tags.otaTagDTO.length, 0);
          assert.equal(m.data.simpleOTAJobInfo[0].utcStartTime, undefined);
        }
      }
    });

    await t.test('ListOTAJobByDevice: SPECIFIC job with tags', async () => {
      const dev = ctx.devices[0];
      const res = await d.call('ListOTAJobByDevice', {
        ProductKey: ctx.productKey, DeviceName: dev.deviceName, FirmwareId: ctx.firmwareId, CurrentPage: 1, PageSize: 10,
      });
      assertSuccess(res, 'ListOTAJobByDevice');
      const items = res.raw.Data.SimpleOTAJobInfo;
      // The first device also falls under the later ALL job; whether a device that
      // already has a pending task gets a record there is not pinned down here.
      checkListEnvelope(res.raw, { currentPage: 1, pageSize: 10, total: items.length }, 'ListOTAJobByDevice');
      const ids = items.map((i) => i.JobId);
      assert.ok(ids.includes(ctx.jobSpecific.jobId), `SPECIFIC job listed, got ${JSON.stringify(ids)}`);
      if (ids.length === 2) assert.deepEqual(ids, [ctx.jobAll.jobId, ctx.jobSpecific.jobId], 'newest first');
      else assert.equal(ids.length, 1);
      const it = items.find((i) => i.JobId === ctx.jobSpecific.jobId);
      assert.equal(it.FirmwareId, ctx.firmwareId);
      assert.equal(it.ProductKey, ctx.productKey);
      assert.equal(it.JobStatus, 'IN_PROGRESS');
      assert.equal(it.JobType, 'UPGRADE_FIRMWARE');
      assert.equal(it.SelectionType, 'STATIC');
      assert.equal(it.TargetSelection, 'SPECIFIC');
      assert.deepEqual(it.Tags, { OtaTagDTO: [{ Key: 'env', Value: 'prod' }, { Key: 'k2', Value: 'v 2+x/y=z' }] });
      assert.equal(it.UtcCreate, ctx.jobSpecific.utcCreate);
      assertUtc(it.UtcModified, 'UtcModified');
      assertRecent(it.UtcStartTime, 'UtcStartTime of a started job');
      assertNoKey(it, 'UtcEndTime', 'running job');
      if (sdk) {
        const mi = res.model.body.data.simpleOTAJobInfo.find((i) => i.jobId === ctx.jobSpecific.jobId);
        assert.deepEqual(mi.tags.otaTagDTO.map((x) => [x.key, x.value]), [['env', 'prod'], ['k2', 'v 2+x/y=z']]);
        assert.equal(mi.jobStatus, 'IN_PROGRESS');
      }
    });

    await t.test('ListOTAJobByDevice: device registered after the jobs has none', async () => {
      const late = await registerDevice(d, ctx.productKey);
      ctx.lateDevice = late;
      const res = await d.call('ListOTAJobByDevice', {
        ProductKey: ctx.productKey, DeviceName: late.deviceName, FirmwareId: ctx.firmwareId, CurrentPage: 1, PageSize: 10,
      });
      assertSuccess(res, 'ListOTAJobByDevice (empty)');
      checkListEnvelope(res.raw, { currentPage: 1, pageSize: 10, total: 0 }, 'ListOTAJobByDevice (empty)');
      assert.deepEqual(res.raw.Data, { SimpleOTAJobInfo: [] });
      if (sdk) assert.deepEqual(res.model.body.data.simpleOTAJobInfo, []);
    });

    await t.test('SrcVersion.N filters ALL batches and is refused with SPECIFIC', async () => {
      // No device has reported any version, so a version filter matches nobody: the
      // server may refuse the empty batch or create it without tasks, but it must
      // not touch the devices.
      const res = await d.call('CreateOTAStaticUpgradeJob', {
        FirmwareId: ctx.firmwareId,
        ProductKey: ctx.productKey,
        TargetSelection: 'ALL',
        SrcVersion: ['1.0.0', '1.0.1'],
        Tag: [{ Key: 'wave', Value: '2' }],
      });
      assert.equal(res.status, 200);
      if (res.raw.Success) {
        assertSuccess(res, 'ALL + SrcVersion');
        const list = await d.call('ListOTAJobByDevice', {
          ProductKey: ctx.productKey, DeviceName: ctx.devices[1].deviceName, FirmwareId: ctx.firmwareId, CurrentPage: 1, PageSize: 10,
        });
        assert.ok(!list.raw.Data.SimpleOTAJobInfo.some((j) => j.JobId === res.raw.Data.JobId), 'no task for devices outside the version filter');
      } else {
        assertBusinessError(res, 'iot.ota.NoDeviceToUpgrade', 'ALL + SrcVersion matching no device');
      }
      const bad = await d.call('CreateOTAStaticUpgradeJob', {
        FirmwareId: ctx.firmwareId,
        ProductKey: ctx.productKey,
        TargetSelection: 'SPECIFIC',
        TargetDeviceName: [ctx.lateDevice.deviceName],
        SrcVersion: ['1.0.0'],
      });
      assertBusinessError(bad, /^iot\./, 'SrcVersion with SPECIFIC');
    });
  });
}

test('SDK call with IotInstanceId set to the account instance', async () => {
  const client = makeDriver('v3', server, account).client;
  const ctx = created.v3;
  assert.ok(ctx && ctx.productKey, 'needs the v3 flow data');
  const r = await client.queryProduct(new Iot.QueryProductRequest({ productKey: ctx.productKey, iotInstanceId: account.IotInstanceId }));
  assert.equal(r.statusCode, 200);
  assert.equal(r.body.success, true);
  assert.equal(r.body.data.productKey, ctx.productKey);
  const list = await client.listOTAJobByDevice(new Iot.ListOTAJobByDeviceRequest({
    productKey: ctx.productKey, deviceName: ctx.devices[1].deviceName, firmwareId: ctx.firmwareId,
    currentPage: 1, pageSize: 10, iotInstanceId: account.IotInstanceId,
  }));
  assert.equal(list.body.success, true);
  assert.equal(list.body.total, 1);
  assert.equal(list.body.data.simpleOTAJobInfo[0].jobId, ctx.jobAll.jobId);
});

function canonical(node) {
  return {
    name: node.name,
    text: node.children.length ? '' : node.text,
    children: node.children.map(canonical).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)),
  };
}

// The XML tree a JSON value should turn into: an array held by key K becomes
// repeated <K> elements inside the parent.
function jsonToNodes(name, value) {
  if (Array.isArray(value)) return value.flatMap((v) => jsonToNodes(name, v));
  if (value && typeof value === 'object') {
    const kids = Object.entries(value).flatMap(([k, v]) => jsonToNodes(k, v));
    return [{ name, text: '', children: kids.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)) }];
  }
  return [{ name, text: String(value), children: [] }];
}

test('V1 GET with Format=XML mirrors the JSON reply', async (t) => {
  const ctx = created.v3;
  assert.ok(ctx && ctx.productKey, 'needs the v3 flow data');
  const params = { ProductKey: ctx.productKey, DeviceName: ctx.devices[0].deviceName, FirmwareId: ctx.firmwareId, CurrentPage: 1, PageSize: 10 };

  await t.test('list with a tagged job', async () => {
    const json = await v1Request(server, account, 'ListOTAJobByDevice', params, { format: 'JSON' });
    assert.equal(json.status, 200);
    const xml = await v1Request(server, account, 'ListOTAJobByDevice', params, { format: 'XML' });
    assert.equal(xml.status, 200);
    assert.equal(headerOf(xml.headers, 'content-type'), 'text/xml;charset=utf-8');
    assert.ok(xml.text.startsWith('<?xml version="1.0" encoding="UTF-8"?>'), `XML declaration, got ${xml.text.slice(0, 60)}`);
    const doc = parseXml(xml.text);
    assert.equal(doc.root.name, 'ListOTAJobByDeviceResponse');
    const rid = textOf(doc.root, 'RequestId');
    assert.match(rid, UUID_RE);
    assert.equal(headerOf(xml.headers, 'x-acs-request-id'), rid);
    assert.equal(textOf(doc.root, 'Success'), 'true');
    const data = child(doc.root, 'Data');
    const jobs = children(data, 'SimpleOTAJobInfo');
    assert.ok(jobs.length >= 1);
    const tagged = jobs.find((j) => textOf(j, 'JobId') === ctx.jobSpecific.jobId);
    assert.ok(tagged, 'tagged job present in XML');
    const tags = children(child(tagged, 'Tags'), 'OtaTagDTO');
    assert.deepEqual(tags.map((n) => [textOf(n, 'Key'), textOf(n, 'Value')]), [['env', 'prod'], ['k2', 'v 2+x/y=z']]);
    // Same content as JSON, apart from the RequestId.
    const expected = jsonToNodes('ListOTAJobByDeviceResponse', { ...json.json, RequestId: rid })[0];
    assert.deepEqual(canonical(doc.root), canonical(expected));
  });

  await t.test('empty list renders as <Data/>', async () => {
    const xml = await v1Request(server, account, 'ListOTAJobByDevice', { ...params, DeviceName: ctx.lateDevice.deviceName }, { format: 'XML' });
    assert.equal(xml.status, 200);
    assert.equal(headerOf(xml.headers, 'content-type'), 'text/xml;charset=utf-8');
    assert.ok(xml.text.includes('<Data/>'), `expected <Data/>, got ${xml.text}`);
    const doc = parseXml(xml.text);
    assert.equal(textOf(doc.root, 'Total'), '0');
    assert.equal(textOf(doc.root, 'PageCount'), '0');
    assert.equal(child(doc.root, 'Data').children.length, 0);
  });

  await t.test('lower-case format=xml is honoured too', async () => {
    const xml = await v1Request(server, account, 'QueryProduct', { ProductKey: ctx.productKey }, { format: 'xml' });
    assert.equal(xml.status, 200);
    assert.equal(headerOf(xml.headers, 'content-type'), 'text/xml;charset=utf-8');
    const doc = parseXml(xml.text);
    assert.equal(doc.root.name, 'QueryProductResponse');
    assert.equal(textOf(child(doc.root, 'Data'), 'ProductKey'), ctx.productKey);
  });

  await t.test('pop-core asked for XML receives XML it cannot parse', async () => {
    const pop = makeDriver('pop', server, account).client;
    await assert.rejects(pop.request('QueryProduct', { ProductKey: ctx.productKey, Format: 'XML' }), (err) => {
      assert.equal(err.name, 'SyntaxError', `pop-core JSON-parses every reply; got ${err && err.name}: ${err && err.message}`);
      return true;
    });
  });
});
