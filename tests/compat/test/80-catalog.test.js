'use strict';
// Products and devices beyond creation: QueryProductList, UpdateProduct,
// DeleteProduct, QueryDevice, DeleteDevice, BatchRegisterDevice and
// QueryBatchRegisterDeviceStatus - shapes checked against the SDK models, the
// documented rules, and another tenant's ids behaving like nonexistent ones.

const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');

const { startServer } = require('../lib/server');
const { Iot, makeDriver, FLAVOURS } = require('../lib/clients');
const {
  assertSuccess, assertBusinessError, assertTypes, assertRecent, expectGateway, randomLike, normalizeReply, uniqueName,
} = require('../lib/checks');
const { createProduct, registerDevice, createFirmware, createStaticJob, NO_THROTTLING } = require('../lib/fixtures');
const { v1Request } = require('../lib/http');
const { parseXml, child, children, textOf } = require('../lib/xml');

let server;
let account;
let other;

before(async () => {
  server = await startServer({ config: NO_THROTTLING });
  account = await server.createAccount('catalog');
  other = await server.createAccount('catalog-other');
});

after(async () => {
  if (server) await server.stop();
});

const GMT8_RE = /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/;

function gmtPlus8(utc) {
  return new Date(Date.parse(utc) + 8 * 3600 * 1000).toISOString().slice(0, 19).replace('T', ' ');
}

for (const flavour of FLAVOURS) {
  test(`products: list, update, delete via ${flavour}`, async (t) => {
    const d = makeDriver(flavour, server, account);
    const sdk = flavour === 'v3' || flavour === 'v2';
    const p1 = await createProduct(d, { Description: 'first product' });
    const p2 = await createProduct(d, { NodeType: 1, AliyunCommodityCode: 'iothub_senior', DataFormat: 0 });
    await registerDevice(d, p2.productKey);
    await registerDevice(d, p2.productKey);

    await t.test('QueryProductList: paging inside Data, ProductInfo array', async () => {
      const res = await d.call('QueryProductList', { CurrentPage: 1, PageSize: 200 });
      assertSuccess(res, 'QueryProductList');
      assertTypes(res.raw, Iot.QueryProductListResponseBody, 'QueryProductList');
      const data = res.raw.Data;
      for (const k of ['CurrentPage', 'PageSize', 'PageCount', 'Total']) {
        assert.equal(typeof data[k], 'number', `Data.${k} is a number`);
        assert.ok(!(k in res.raw), `${k} is not at the top level`);
      }
      assert.equal(data.CurrentPage, 1);
      assert.equal(data.PageSize, 200);
      assert.equal(data.PageCount, Math.ceil(data.Total / 200));
      assert.ok(Array.isArray(data.List.ProductInfo), 'Data.List.ProductInfo is an array');
      assert.equal(data.List.ProductInfo.length, data.Total);
      const created = data.List.ProductInfo.map((p) => p.GmtCreate);
      assert.deepEqual(created, [...created].sort((x, y) => x - y), 'oldest product first');
      const one = data.List.ProductInfo.find((p) => p.ProductKey === p1.productKey);
      assert.equal(one.ProductName, p1.productName);
      assert.equal(one.Description, 'first product');
      assert.equal(one.NodeType, 0);
      assert.equal(one.DataFormat, 1);
      assert.equal(one.AuthType, 'secret');
      assert.equal(one.DeviceCount, 0);
      assert.equal(typeof one.GmtCreate, 'number');
      assert.ok(Math.abs(one.GmtCreate - Date.now()) < 5 * 60 * 1000);
      const two = data.List.ProductInfo.find((p) => p.ProductKey === p2.productKey);
      assert.equal(two.NodeType, 1);
      assert.equal(two.DataFormat, 0);
      assert.equal(two.DeviceCount, 2);
      if (sdk) {
        assert.equal(res.model.body.data.total, data.Total);
        assert.equal(res.model.body.data.list.productInfo.length, data.Total);
      }
    });

    await t.test('QueryProductList: one per page, past the end, bad sizes', async () => {
      const res = await d.call('QueryProductList', { CurrentPage: 2, PageSize: 1 });
      assertSuccess(res, 'page 2');
      assert.equal(res.raw.Data.List.ProductInfo.length, 1);
      assert.equal(res.raw.Data.PageCount, res.raw.Data.Total);
      const past = await d.call('QueryProductList', { CurrentPage: 1000, PageSize: 10 });
      assertSuccess(past, 'past the end');
      assert.deepEqual(past.raw.Data.List.ProductInfo, []);
      assertBusinessError(await d.call('QueryProductList', { CurrentPage: 1, PageSize: 201 }),
        'iot.common.InvalidPageParams', 'PageSize 201');
      assertBusinessError(await d.call('QueryProductList', { CurrentPage: 0, PageSize: 10 }),
        'iot.common.InvalidPageParams', 'CurrentPage 0');
      await expectGateway(d.call('QueryProductList', { PageSize: 10 }), 'MissingCurrentPage', 400, 'no CurrentPage');
    });

    await t.test('UpdateProduct', async () => {
      const name = uniqueName('renamed_');
      assertSuccess(await d.call('UpdateProduct', { ProductKey: p1.productKey, ProductName: name, Description: 'changed' }), 'UpdateProduct');
      let q = await d.call('QueryProduct', { ProductKey: p1.productKey });
      assert.equal(q.raw.Data.ProductName, name);
      assert.equal(q.raw.Data.Description, 'changed');
      // Without Description the old one stays.
      assertSuccess(await d.call('UpdateProduct', { ProductKey: p1.productKey, ProductName: name }), 'UpdateProduct again');
      q = await d.call('QueryProduct', { ProductKey: p1.productKey });
      assert.equal(q.raw.Data.Description, 'changed');
      assertBusinessError(await d.call('UpdateProduct', { ProductKey: p1.productKey, ProductName: p2.productName }),
        'iot.prod.AlreadyExistedProductName', 'name of another product');
      assertBusinessError(await d.call('UpdateProduct', { ProductKey: p1.productKey, ProductName: 'x!' }),
        'iot.prod.InvalidFormattedProductName', 'bad name');
      assertBusinessError(await d.call('UpdateProduct', { ProductKey: p1.productKey, ProductName: name, Description: 'd'.repeat(101) }),
        'iot.prod.LongProductDesc', 'long description');
      assertBusinessError(await d.call('UpdateProduct', { ProductKey: randomLike(p1.productKey), ProductName: name }),
        'iot.prod.NotExistedProduct', 'unknown product');
      await expectGateway(d.call('UpdateProduct', { ProductKey: p1.productKey }), 'MissingProductName', 400, 'no ProductName');
    });

    await t.test('DeleteProduct', async () => {
      assertBusinessError(await d.call('DeleteProduct', { ProductKey: p2.productKey }),
        'iot.prod.ProductHasDevices', 'product with devices');
      const del = await d.call('DeleteProduct', { ProductKey: p1.productKey });
      assertSuccess(del, 'DeleteProduct');
      assertTypes(del.raw, Iot.DeleteProductResponseBody, 'DeleteProduct');
      assertBusinessError(await d.call('QueryProduct', { ProductKey: p1.productKey }), 'iot.prod.NotExistedProduct', 'deleted product');
      assertBusinessError(await d.call('DeleteProduct', { ProductKey: p1.productKey }), 'iot.prod.NotExistedProduct', 'deleted twice');
      await expectGateway(d.call('DeleteProduct', {}), 'MissingProductKey', 400, 'no ProductKey');
    });
  });

  test(`devices: query, delete, batch registration via ${flavour}`, async (t) => {
    const d = makeDriver(flavour, server, account);
    const sdk = flavour === 'v3' || flavour === 'v2';
    const p = await createProduct(d);
    const devs = [];
    for (let i = 0; i < 3; i++) devs.push(await registerDevice(d, p.productKey, i === 0 ? { Nickname: 'nick_first' } : {}));

    await t.test('QueryDevice: Page (not CurrentPage) and DeviceInfo', async () => {
      const res = await d.call('QueryDevice', { ProductKey: p.productKey });
      assertSuccess(res, 'QueryDevice');
      assertTypes(res.raw, Iot.QueryDeviceResponseBody, 'QueryDevice');
      const r = res.raw;
      assert.equal(r.Page, 1, 'default page');
      assert.equal(r.PageSize, 10, 'default page size');
      assert.equal(r.Total, 3);
      assert.equal(r.PageCount, 1);
      assert.ok(!('CurrentPage' in r), 'QueryDevice says Page, not CurrentPage');
      assert.ok(Array.isArray(r.Data.DeviceInfo));
      assert.deepEqual(r.Data.DeviceInfo.map((x) => x.DeviceName).sort(), devs.map((x) => x.deviceName).sort());
      const created = r.Data.DeviceInfo.map((x) => Date.parse(x.UtcCreate));
      assert.deepEqual(created, [...created].sort((x, y) => x - y), 'oldest first');
      r.Data.DeviceInfo.sort((x, y) => devs.findIndex((v) => v.iotId === x.IotId) - devs.findIndex((v) => v.iotId === y.IotId));
      const first = r.Data.DeviceInfo[0];
      assert.equal(first.IotId, devs[0].iotId);
      assert.equal(first.DeviceId, devs[0].iotId, 'DeviceId repeats IotId');
      assert.equal(first.ProductKey, p.productKey);
      assert.equal(first.DeviceSecret, devs[0].deviceSecret);
      assert.equal(first.DeviceStatus, 'UNACTIVE');
      assert.equal(first.DeviceType, '');
      assert.equal(first.Nickname, 'nick_first');
      assertRecent(first.UtcCreate, 'UtcCreate');
      assertRecent(first.UtcModified, 'UtcModified');
      assert.match(first.GmtCreate, GMT8_RE);
      assert.equal(first.GmtCreate, gmtPlus8(first.UtcCreate), 'GmtCreate is UTC+8 wall-clock time');
      assert.equal(first.GmtModified, gmtPlus8(first.UtcModified));
      if (sdk) {
        assert.equal(res.model.body.page, 1);
        assert.equal(res.model.body.data.deviceInfo[0].iotId, devs[0].iotId);
      }
    });

    await t.test('QueryDevice: pages and limits', async () => {
      const res = await d.call('QueryDevice', { ProductKey: p.productKey, CurrentPage: 2, PageSize: 2, NextToken: 'ignored' });
      assertSuccess(res, 'page 2');
      assert.equal(res.raw.Page, 2);
      assert.equal(res.raw.PageCount, 2);
      assert.equal(res.raw.Data.DeviceInfo.length, 1);
      const past = await d.call('QueryDevice', { ProductKey: p.productKey, CurrentPage: 5, PageSize: 2 });
      assertSuccess(past, 'past the end');
      assert.deepEqual(past.raw.Data.DeviceInfo, []);
      assertBusinessError(await d.call('QueryDevice', { ProductKey: p.productKey, PageSize: 51 }),
        'iot.common.InvalidPageParams', 'PageSize 51');
      assertSuccess(await d.call('QueryDevice', { ProductKey: p.productKey, PageSize: 50 }), 'PageSize 50');
      assertBusinessError(await d.call('QueryDevice', { ProductKey: randomLike(p.productKey) }),
        'iot.prod.NotExistedProduct', 'unknown product');
      await expectGateway(d.call('QueryDevice', {}), 'MissingProductKey', 400, 'no ProductKey');
    });

    await t.test('DeleteDevice cancels its unfinished tasks', async () => {
      const fw = await createFirmware(d, p.productKey);
      const job = await createStaticJob(d, {
        FirmwareId: fw.firmwareId, ProductKey: p.productKey, TargetSelection: 'SPECIFIC', TargetDeviceName: [devs[1].deviceName],
      });
      const del = await d.call('DeleteDevice', { ProductKey: p.productKey, DeviceName: devs[1].deviceName });
      assertSuccess(del, 'DeleteDevice by name');
      assertTypes(del.raw, Iot.DeleteDeviceResponseBody, 'DeleteDevice');
      assertBusinessError(await d.call('QueryDeviceDetail', { IotId: devs[1].iotId }), 'iot.device.NotExistedDevice', 'deleted device');
      const tasks = await d.call('ListOTATaskByJob', { JobId: job.jobId, CurrentPage: 1, PageSize: 10 });
      assertSuccess(tasks, 'ListOTATaskByJob');
      const items = tasks.raw.Data.SimpleOTATaskInfo;
      assert.equal(items.length, 1);
      assert.equal(items[0].TaskStatus, 'CANCELED');
      assert.equal(items[0].TaskDesc, 'device deleted');
      assertSuccess(await d.call('DeleteDevice', { IotId: devs[2].iotId }), 'DeleteDevice by IotId');
      assertBusinessError(await d.call('DeleteDevice', { IotId: devs[2].iotId }), 'iot.device.NotExistedDevice', 'deleted twice');
      const left = await d.call('QueryDevice', { ProductKey: p.productKey });
      assert.deepEqual(left.raw.Data.DeviceInfo.map((x) => x.DeviceName), [devs[0].deviceName]);
      await expectGateway(d.call('DeleteDevice', { ProductKey: p.productKey }), 'MissingDeviceName', 400, 'no DeviceName');
    });

    await t.test('BatchRegisterDevice and QueryBatchRegisterDeviceStatus', async () => {
      const res = await d.call('BatchRegisterDevice', { ProductKey: p.productKey, Count: 5 });
      assertSuccess(res, 'BatchRegisterDevice');
      assertTypes(res.raw, Iot.BatchRegisterDeviceResponseBody, 'BatchRegisterDevice');
      const applyId = res.raw.Data.ApplyId;
      assert.equal(typeof applyId, 'number', 'ApplyId is a JSON number');
      if (sdk) assert.equal(res.model.body.data.applyId, applyId);

      const st = await d.call('QueryBatchRegisterDeviceStatus', { ProductKey: p.productKey, ApplyId: applyId });
      assertSuccess(st, 'QueryBatchRegisterDeviceStatus');
      assertTypes(st.raw, Iot.QueryBatchRegisterDeviceStatusResponseBody, 'QueryBatchRegisterDeviceStatus');
      assert.equal(st.raw.Data.Status, 'CREATE_SUCCESS');
      const names = st.raw.Data.ValidList.Name;
      assert.ok(Array.isArray(names));
      assert.equal(names.length, 5);
      assert.equal(new Set(names).size, 5);
      assert.deepEqual(st.raw.Data.InvalidList.Name, []);
      const detail = await d.call('QueryDeviceDetail', { ProductKey: p.productKey, DeviceName: names[0] });
      assertSuccess(detail, 'a registered device');
      if (sdk) assert.deepEqual(st.model.body.data.validList.name, names);

      const one = await d.call('BatchRegisterDevice', { ProductKey: p.productKey, Count: 1 });
      assert.ok(one.raw.Data.ApplyId > applyId, 'apply ids grow');
      assertBusinessError(await d.call('QueryBatchRegisterDeviceStatus', { ProductKey: p.productKey, ApplyId: one.raw.Data.ApplyId + 1000 }),
        'iot.device.DeviceApplyIsNotFound', 'unknown ApplyId');
      assertBusinessError(await d.call('BatchRegisterDevice', { ProductKey: p.productKey, Count: 1001 }),
        'iot.common.InvalidFormattedParameter', 'Count 1001');
      assertBusinessError(await d.call('BatchRegisterDevice', { ProductKey: p.productKey, Count: 0 }),
        'iot.common.InvalidFormattedParameter', 'Count 0');
      assertBusinessError(await d.call('BatchRegisterDevice', { ProductKey: randomLike(p.productKey), Count: 1 }),
        'iot.prod.NotExistedProduct', 'unknown product');
      await expectGateway(d.call('BatchRegisterDevice', { ProductKey: p.productKey }), 'MissingCount', 400, 'no Count');
      await expectGateway(d.call('QueryBatchRegisterDeviceStatus', { ProductKey: p.productKey }), 'MissingApplyId', 400, 'no ApplyId');
      const q = await d.call('QueryProduct', { ProductKey: p.productKey });
      assert.equal(q.raw.Data.DeviceCount, 7);
    });
  });
}

test('XML shapes of QueryProductList, QueryDevice and QueryBatchRegisterDeviceStatus', async () => {
  const d = makeDriver('v3', server, account);
  const p = await createProduct(d);
  const dev = await registerDevice(d, p.productKey);
  const reg = await d.call('BatchRegisterDevice', { ProductKey: p.productKey, Count: 2 });

  let xml = await v1Request(server, account, 'QueryProductList', { CurrentPage: 1, PageSize: 200 }, { format: 'XML' });
  assert.equal(xml.status, 200);
  let doc = parseXml(xml.text);
  assert.equal(doc.root.name, 'QueryProductListResponse');
  const data = child(doc.root, 'Data');
  assert.equal(textOf(data, 'CurrentPage'), '1');
  const infos = children(child(data, 'List'), 'ProductInfo');
  assert.ok(infos.some((n) => textOf(n, 'ProductKey') === p.productKey));

  xml = await v1Request(server, account, 'QueryDevice', { ProductKey: p.productKey }, { format: 'XML' });
  doc = parseXml(xml.text);
  assert.equal(textOf(doc.root, 'Page'), '1');
  const devices = children(child(doc.root, 'Data'), 'DeviceInfo');
  assert.equal(devices.length, 3);
  assert.ok(devices.some((n) => textOf(n, 'IotId') === dev.iotId));

  xml = await v1Request(server, account, 'QueryBatchRegisterDeviceStatus', { ProductKey: p.productKey, ApplyId: reg.raw.Data.ApplyId }, { format: 'XML' });
  doc = parseXml(xml.text);
  const st = child(doc.root, 'Data');
  assert.equal(textOf(st, 'Status'), 'CREATE_SUCCESS');
  assert.equal(children(child(st, 'ValidList'), 'Name').length, 2);
});

// Another tenant's identifiers answer exactly like nonexistent ones.
async function sameAsNonexistent(drv, action, build, ids, expectedCode, where) {
  const fake = Object.fromEntries(Object.entries(ids).map(([k, v]) => [k, typeof v === 'number' ? v + 1_000_000 : randomLike(v)]));
  const real = await drv.call(action, build(ids));
  const ghost = await drv.call(action, build(fake));
  assertBusinessError(real, expectedCode, `${where} with the other tenant's ids`);
  assertBusinessError(ghost, expectedCode, `${where} with nonexistent ids`);
  const subsReal = Object.entries(ids).map(([k, v]) => [String(v), `<${k}>`]);
  const subsGhost = Object.entries(ids).map(([k, v]) => [String(fake[k]), `<${k}>`]);
  assert.deepEqual(normalizeReply(real.status, real.raw, subsReal), normalizeReply(ghost.status, ghost.raw, subsGhost),
    `${where}: another tenant's resource must answer exactly like a nonexistent one`);
}

test('another tenant\'s products and devices are invisible', async (t) => {
  const a = makeDriver('v3', server, account);
  const b = makeDriver('v3', server, other);
  const p = await createProduct(a);
  const dev = await registerDevice(a, p.productKey);
  const reg = await a.call('BatchRegisterDevice', { ProductKey: p.productKey, Count: 1 });
  const pk = p.productKey;

  await t.test('QueryProductList of B does not list A\'s product', async () => {
    const res = await b.call('QueryProductList', { CurrentPage: 1, PageSize: 200 });
    assertSuccess(res, 'B QueryProductList');
    assert.ok(!res.raw.Data.List.ProductInfo.some((x) => x.ProductKey === pk));
  });
  await t.test('UpdateProduct', () => sameAsNonexistent(b, 'UpdateProduct', (x) => ({ ProductKey: x.pk, ProductName: 'stolen_name' }),
    { pk }, 'iot.prod.NotExistedProduct', 'UpdateProduct'));
  await t.test('DeleteProduct', () => sameAsNonexistent(b, 'DeleteProduct', (x) => ({ ProductKey: x.pk }),
    { pk }, 'iot.prod.NotExistedProduct', 'DeleteProduct'));
  await t.test('QueryDevice', () => sameAsNonexistent(b, 'QueryDevice', (x) => ({ ProductKey: x.pk }),
    { pk }, 'iot.prod.NotExistedProduct', 'QueryDevice'));
  await t.test('DeleteDevice by IotId', () => sameAsNonexistent(b, 'DeleteDevice', (x) => ({ IotId: x.iotId }),
    { iotId: dev.iotId }, 'iot.device.NotExistedDevice', 'DeleteDevice'));
  await t.test('BatchRegisterDevice', () => sameAsNonexistent(b, 'BatchRegisterDevice', (x) => ({ ProductKey: x.pk, Count: 1 }),
    { pk }, 'iot.prod.NotExistedProduct', 'BatchRegisterDevice'));
  await t.test('QueryBatchRegisterDeviceStatus', () => sameAsNonexistent(b, 'QueryBatchRegisterDeviceStatus',
    (x) => ({ ProductKey: x.pk, ApplyId: reg.raw.Data.ApplyId }), { pk }, 'iot.prod.NotExistedProduct', 'QueryBatchRegisterDeviceStatus'));
  await t.test('A is untouched', async () => {
    const q = await a.call('QueryProduct', { ProductKey: pk });
    assertSuccess(q, 'A QueryProduct');
    assert.equal(q.raw.Data.DeviceCount, 2);
  });
});
