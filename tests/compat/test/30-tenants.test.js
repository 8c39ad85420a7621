'use strict';
// Two accounts on one server: neither can see, list or use the other's products,
// devices, packages, jobs or instance, and "someone else's" answers exactly like
// "does not exist".

const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');

const { startServer } = require('../lib/server');
const { makeDriver } = require('../lib/clients');
const { assertSuccess, assertBusinessError, randomLike, normalizeReply } = require('../lib/checks');
const { setupCatalog, createStaticJob, registerDevice, createProduct, FIRMWARE_URL_BASE, NO_THROTTLING } = require('../lib/fixtures');

let server;
let A;
let B;
let a; // drivers
let b;
let catA;
let catB;
let jobA;

before(async () => {
  server = await startServer({ config: NO_THROTTLING });
  A = await server.createAccount('tenantA');
  B = await server.createAccount('tenantB');
  a = makeDriver('v3', server, A);
  b = makeDriver('v3', server, B);
  catA = await setupCatalog(a, { devices: 2 });
  catB = await setupCatalog(b, { devices: 1 });
  jobA = await createStaticJob(a, {
    FirmwareId: catA.firmwareId, ProductKey: catA.productKey, TargetSelection: 'SPECIFIC', TargetDeviceName: [catA.devices[0].deviceName],
  });
});

after(async () => {
  if (server) await server.stop();
});

test('accounts are distinct', () => {
  assert.notEqual(A.AccessKeyId, B.AccessKeyId);
  assert.notEqual(A.IotInstanceId, B.IotInstanceId);
});

// Call `action` as B twice - once with A's identifiers, once with random ones of
// the same shape - and require identical replies apart from RequestId and the
// echoed identifiers themselves.
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

for (const flavour of ['v3', 'pop']) {
  test(`B cannot see A's resources (${flavour})`, async (t) => {
    const drv = makeDriver(flavour, server, B);
    await t.test('QueryProduct', () => sameAsNonexistent(drv, 'QueryProduct',
      (x) => ({ ProductKey: x.pk }), { pk: catA.productKey }, 'iot.prod.NotExistedProduct', 'QueryProduct'));
    await t.test('QueryDeviceDetail by name', () => sameAsNonexistent(drv, 'QueryDeviceDetail',
      (x) => ({ ProductKey: x.pk, DeviceName: x.dn }), { pk: catA.productKey, dn: catA.devices[0].deviceName },
      /^iot\.(device\.NotExistedDevice|prod\.NotExistedProduct)$/, 'QueryDeviceDetail'));
    await t.test('QueryDeviceDetail by IotId', () => sameAsNonexistent(drv, 'QueryDeviceDetail',
      (x) => ({ IotId: x.iotId }), { iotId: catA.devices[0].iotId }, 'iot.device.NotExistedDevice', 'QueryDeviceDetail by IotId'));
    await t.test('QueryOTAFirmware', () => sameAsNonexistent(drv, 'QueryOTAFirmware',
      (x) => ({ FirmwareId: x.fw }), { fw: catA.firmwareId }, 'iot.ota.FirmwareNotExist', 'QueryOTAFirmware'));
    await t.test('ListOTAJobByDevice with all of A\'s ids', () => sameAsNonexistent(drv, 'ListOTAJobByDevice',
      (x) => ({ ProductKey: x.pk, DeviceName: x.dn, FirmwareId: x.fw, CurrentPage: 1, PageSize: 10 }),
      { pk: catA.productKey, dn: catA.devices[0].deviceName, fw: catA.firmwareId },
      /^iot\.(prod\.NotExistedProduct|device\.NotExistedDevice|ota\.FirmwareNotExist)$/, 'ListOTAJobByDevice'));
    await t.test('ListOTAJobByDevice with B\'s device and A\'s firmware', () => sameAsNonexistent(drv, 'ListOTAJobByDevice',
      (x) => ({ ProductKey: catB.productKey, DeviceName: catB.devices[0].deviceName, FirmwareId: x.fw, CurrentPage: 1, PageSize: 10 }),
      { fw: catA.firmwareId }, 'iot.ota.FirmwareNotExist', 'ListOTAJobByDevice (foreign firmware)'));
    await t.test('RegisterDevice under A\'s product', () => sameAsNonexistent(drv, 'RegisterDevice',
      (x) => ({ ProductKey: x.pk, DeviceName: 'intruder-device' }), { pk: catA.productKey }, 'iot.prod.NotExistedProduct', 'RegisterDevice'));
    await t.test('CreateOTAFirmware for A\'s product', () => sameAsNonexistent(drv, 'CreateOTAFirmware',
      (x) => ({ ProductKey: x.pk, FirmwareName: `intruder_${flavour}_${x.pk}`, DestVersion: '9.9.9', FirmwareUrl: `${FIRMWARE_URL_BASE}/x.bin`, NeedToVerify: false }),
      { pk: catA.productKey }, 'iot.prod.NotExistedProduct', 'CreateOTAFirmware'));
    await t.test('CreateOTAStaticUpgradeJob with A\'s package and product', () => sameAsNonexistent(drv, 'CreateOTAStaticUpgradeJob',
      (x) => ({ FirmwareId: x.fw, ProductKey: x.pk, TargetSelection: 'ALL' }), { fw: catA.firmwareId, pk: catA.productKey },
      /^iot\.(prod\.NotExistedProduct|ota\.FirmwareNotExist)$/, 'CreateOTAStaticUpgradeJob'));
    await t.test('CreateOTAStaticUpgradeJob with A\'s package on B\'s product', () => sameAsNonexistent(drv, 'CreateOTAStaticUpgradeJob',
      (x) => ({ FirmwareId: x.fw, ProductKey: catB.productKey, TargetSelection: 'ALL' }), { fw: catA.firmwareId },
      'iot.ota.FirmwareNotExist', 'CreateOTAStaticUpgradeJob (foreign firmware)'));
    await t.test('A\'s instance id', () => sameAsNonexistent(drv, 'QueryProduct',
      (x) => ({ ProductKey: catB.productKey, IotInstanceId: x.inst }), { inst: A.IotInstanceId }, 'iot.system.InstanceNotFound', 'IotInstanceId of A'));
  });
}

test('B may reuse A\'s product name and device names in its own product', async () => {
  const p = await createProduct(b, { ProductName: catA.productName });
  assert.notEqual(p.productKey, catA.productKey);
  const dev = await registerDevice(b, p.productKey, { DeviceName: catA.devices[0].deviceName });
  assert.notEqual(dev.iotId, catA.devices[0].iotId);
});

test('A\'s data is untouched by B\'s attempts', async () => {
  const prod = await a.call('QueryProduct', { ProductKey: catA.productKey });
  assertSuccess(prod, 'A QueryProduct');
  assert.equal(prod.raw.Data.DeviceCount, 2, 'no device was added to A\'s product');
  const dev = await a.call('QueryDeviceDetail', { ProductKey: catA.productKey, DeviceName: 'intruder-device' });
  assertBusinessError(dev, 'iot.device.NotExistedDevice', 'intruder device');
  const list = await a.call('ListOTAJobByDevice', {
    ProductKey: catA.productKey, DeviceName: catA.devices[0].deviceName, FirmwareId: catA.firmwareId, CurrentPage: 1, PageSize: 10,
  });
  assertSuccess(list, 'A ListOTAJobByDevice');
  assert.deepEqual(list.raw.Data.SimpleOTAJobInfo.map((j) => j.JobId), [jobA.jobId], 'only A\'s own job');
});

test('unknown IotInstanceId', async () => {
  for (const flavour of ['v3', 'v2', 'pop', 'popPost']) {
    const drv = makeDriver(flavour, server, A);
    const res = await drv.call('QueryProduct', { ProductKey: catA.productKey, IotInstanceId: 'iot-cn-doesnotexist01' });
    assertBusinessError(res, 'iot.system.InstanceNotFound', `${flavour} unknown instance`);
    const ok = await drv.call('QueryProduct', { ProductKey: catA.productKey, IotInstanceId: A.IotInstanceId });
    assertSuccess(ok, `${flavour} own instance`);
  }
});
