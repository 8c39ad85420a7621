'use strict';
// Error families as every client sees them: missing parameters (gateway, HTTP 400)
// and unknown resources (business errors on HTTP 200).

const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');

const { startServer } = require('../lib/server');
const { Iot, makeDriver, FLAVOURS } = require('../lib/clients');
const { expectGateway, assertBusinessError, assertGatewayBody, randomLike, headerOf } = require('../lib/checks');
const { setupCatalog, FIRMWARE_URL_BASE, NO_THROTTLING } = require('../lib/fixtures');
const { v1Request } = require('../lib/http');
const { parseXml, textOf } = require('../lib/xml');

let server;
let account;
let cat;

before(async () => {
  server = await startServer({ config: NO_THROTTLING });
  account = await server.createAccount('errors');
  cat = await setupCatalog(makeDriver('v3', server, account), { devices: 1 });
});

after(async () => {
  if (server) await server.stop();
});

function missingCases() {
  const dn = cat.devices[0].deviceName;
  const list = { ProductKey: cat.productKey, DeviceName: dn, FirmwareId: cat.firmwareId, CurrentPage: 1, PageSize: 10 };
  const without = (obj, key) => Object.fromEntries(Object.entries(obj).filter(([k]) => k !== key));
  const fw = { FirmwareName: 'fw_missing_case', DestVersion: '1.2.3', ProductKey: cat.productKey, FirmwareUrl: `${FIRMWARE_URL_BASE}/m.bin`, NeedToVerify: false };
  const job = { FirmwareId: cat.firmwareId, ProductKey: cat.productKey, TargetSelection: 'ALL' };
  return [
    ['ListOTAJobByDevice', without(list, 'FirmwareId'), 'FirmwareId'],
    ['ListOTAJobByDevice', without(list, 'ProductKey'), 'ProductKey'],
    ['ListOTAJobByDevice', without(list, 'DeviceName'), 'DeviceName'],
    ['ListOTAJobByDevice', without(list, 'CurrentPage'), 'CurrentPage'],
    ['ListOTAJobByDevice', without(list, 'PageSize'), 'PageSize'],
    ['QueryProduct', {}, 'ProductKey'],
    ['CreateProduct', { NodeType: 0 }, 'ProductName'],
    ['CreateProduct', { ProductName: 'missing_nodetype' }, 'NodeType'],
    ['RegisterDevice', { DeviceName: 'no-product-dev' }, 'ProductKey'],
    ['QueryOTAFirmware', {}, 'FirmwareId'],
    ['CreateOTAFirmware', without(fw, 'FirmwareName'), 'FirmwareName'],
    ['CreateOTAFirmware', without(fw, 'DestVersion'), 'DestVersion'],
    ['CreateOTAStaticUpgradeJob', without(job, 'FirmwareId'), 'FirmwareId'],
    ['CreateOTAStaticUpgradeJob', without(job, 'ProductKey'), 'ProductKey'],
    ['CreateOTAStaticUpgradeJob', without(job, 'TargetSelection'), 'TargetSelection'],
  ];
}

for (const flavour of [...FLAVOURS, 'raw']) {
  test(`missing required parameters via ${flavour}`, async () => {
    const d = makeDriver(flavour, server, account);
    for (const [action, params, name] of missingCases()) {
      const err = await expectGateway(d.call(action, params), `Missing${name}`, 400, `${flavour} ${action} without ${name}`);
      assert.equal(err.body.Message, `${name} is mandatory for this action.`, `${action} Message`);
    }
  });
}

test('the Node SDK surfaces MissingFirmwareId as a thrown error with statusCode 400', async () => {
  for (const signatureAlgorithm of [undefined, 'v2']) {
    const client = makeDriver(signatureAlgorithm ? 'v2' : 'v3', server, account).client;
    await assert.rejects(client.listOTAJobByDevice(new Iot.ListOTAJobByDeviceRequest({
      productKey: cat.productKey, deviceName: cat.devices[0].deviceName, currentPage: 1, pageSize: 10,
    })), (err) => {
      assert.equal(err.code, 'MissingFirmwareId');
      assert.equal(err.statusCode, 400);
      assert.equal(err.data.Message, 'FirmwareId is mandatory for this action.');
      assert.match(err.message, /MissingFirmwareId/);
      return true;
    });
  }
});

test('pop-core surfaces MissingFirmwareId with its error conventions', async () => {
  const pop = makeDriver('pop', server, account).client;
  await assert.rejects(pop.request('ListOTAJobByDevice', { ProductKey: cat.productKey, DeviceName: cat.devices[0].deviceName, CurrentPage: 1, PageSize: 10 }), (err) => {
    assert.equal(err.code, 'MissingFirmwareId');
    assert.equal(err.name, 'MissingFirmwareIdError');
    assert.equal(err.entry.response.statusCode, 400);
    return true;
  });
});

test('raw gateway error: headers and body', async () => {
  const res = await v1Request(server, account, 'ListOTAJobByDevice', { ProductKey: cat.productKey, DeviceName: 'x', CurrentPage: 1, PageSize: 10 });
  assert.equal(res.status, 400);
  assert.match(String(headerOf(res.headers, 'content-type')), /^application\/json/i);
  assertGatewayBody(res.json, 'MissingFirmwareId', 'raw');
  assert.equal(headerOf(res.headers, 'x-acs-request-id'), res.json.RequestId);
});

test('gateway errors follow Format=XML', async () => {
  const res = await v1Request(server, account, 'ListOTAJobByDevice', { ProductKey: cat.productKey, DeviceName: 'x', CurrentPage: 1, PageSize: 10 }, { format: 'XML' });
  assert.equal(res.status, 400);
  assert.equal(headerOf(res.headers, 'content-type'), 'text/xml;charset=utf-8');
  const doc = parseXml(res.text);
  assert.equal(doc.root.name, 'Error');
  assert.equal(textOf(doc.root, 'Code'), 'MissingFirmwareId');
  assert.equal(textOf(doc.root, 'RequestId'), headerOf(res.headers, 'x-acs-request-id'));
});

for (const flavour of FLAVOURS) {
  test(`unknown resources via ${flavour}`, async () => {
    const d = makeDriver(flavour, server, account);
    const dn = cat.devices[0].deviceName;
    const cases = [
      ['QueryProduct', { ProductKey: randomLike(cat.productKey) }, 'iot.prod.NotExistedProduct'],
      ['RegisterDevice', { ProductKey: randomLike(cat.productKey), DeviceName: 'dev-unknown-prod' }, 'iot.prod.NotExistedProduct'],
      ['QueryDeviceDetail', { ProductKey: cat.productKey, DeviceName: 'no-such-device' }, 'iot.device.NotExistedDevice'],
      ['QueryDeviceDetail', { IotId: randomLike(cat.devices[0].iotId) }, 'iot.device.NotExistedDevice'],
      ['QueryOTAFirmware', { FirmwareId: randomLike(cat.firmwareId) }, 'iot.ota.FirmwareNotExist'],
      ['CreateOTAFirmware', { FirmwareName: `fw_unknown_${flavour}`, DestVersion: '1.0.0', ProductKey: randomLike(cat.productKey), FirmwareUrl: `${FIRMWARE_URL_BASE}/u.bin`, NeedToVerify: false }, 'iot.prod.NotExistedProduct'],
      ['CreateOTAStaticUpgradeJob', { FirmwareId: randomLike(cat.firmwareId), ProductKey: cat.productKey, TargetSelection: 'ALL' }, 'iot.ota.FirmwareNotExist'],
      ['ListOTAJobByDevice', { ProductKey: cat.productKey, DeviceName: 'no-such-device', FirmwareId: cat.firmwareId, CurrentPage: 1, PageSize: 10 }, 'iot.device.NotExistedDevice'],
      ['ListOTAJobByDevice', { ProductKey: cat.productKey, DeviceName: dn, FirmwareId: randomLike(cat.firmwareId), CurrentPage: 1, PageSize: 10 }, 'iot.ota.FirmwareNotExist'],
      ['ListOTAJobByDevice', { ProductKey: randomLike(cat.productKey), DeviceName: dn, FirmwareId: cat.firmwareId, CurrentPage: 1, PageSize: 10 }, /^iot\.(prod\.NotExistedProduct|device\.NotExistedDevice)$/],
    ];
    for (const [action, params, code] of cases) {
      const res = await d.call(action, params);
      assertBusinessError(res, code, `${flavour} ${action} ${JSON.stringify(params)}`);
      if (flavour === 'pop' || flavour === 'popPost') assert.equal(res.clientThrew, true, 'pop-core throws on a business Code');
      if (res.model) {
        assert.equal(res.model.body.success, false, 'the Node SDK returns business errors without throwing');
        assert.equal(res.model.body.code, res.raw.Code);
        assert.equal(res.model.body.errorMessage, res.raw.ErrorMessage);
      }
    }
  });
}
