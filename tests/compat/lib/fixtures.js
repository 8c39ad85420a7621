'use strict';
// Small builders for the data most scenarios need: a product with devices and a
// firmware package, created through whichever driver is given.

const crypto = require('node:crypto');
const { assertSuccess, uniqueName } = require('./checks');

// Firmware files are never downloaded by the server; a loopback URL keeps any
// accidental fetch on this machine.
const FIRMWARE_URL_BASE = 'http://127.0.0.1:9/ota';

async function createProduct(driver, extra = {}) {
  const name = extra.ProductName || uniqueName('prod_');
  const res = await driver.call('CreateProduct', { ProductName: name, NodeType: 0, ...extra });
  assertSuccess(res, 'CreateProduct');
  return { productKey: res.raw.ProductKey || res.raw.Data.ProductKey, productName: name, res };
}

async function registerDevice(driver, productKey, extra = {}) {
  const deviceName = extra.DeviceName || uniqueName('dev-');
  const res = await driver.call('RegisterDevice', { ProductKey: productKey, DeviceName: deviceName, ...extra });
  assertSuccess(res, 'RegisterDevice');
  return { deviceName, iotId: res.raw.Data.IotId, deviceSecret: res.raw.Data.DeviceSecret, res };
}

async function createFirmware(driver, productKey, extra = {}) {
  const destVersion = extra.DestVersion || '2.0.0';
  const params = {
    FirmwareName: uniqueName('fw_'),
    DestVersion: destVersion,
    ProductKey: productKey,
    FirmwareUrl: `${FIRMWARE_URL_BASE}/app-${destVersion}.bin`,
    FirmwareSize: 1048576,
    FirmwareSign: crypto.createHash('md5').update(`firmware ${destVersion}`).digest('hex'),
    SignMethod: 'MD5',
    NeedToVerify: false,
    ...extra,
  };
  const res = await driver.call('CreateOTAFirmware', params);
  assertSuccess(res, 'CreateOTAFirmware');
  return { firmwareId: res.raw.Data.FirmwareId, params, res };
}

async function createStaticJob(driver, params) {
  const res = await driver.call('CreateOTAStaticUpgradeJob', params);
  assertSuccess(res, 'CreateOTAStaticUpgradeJob');
  return { jobId: res.raw.Data.JobId, utcCreate: res.raw.Data.UtcCreate, res };
}

// Product + n devices + one firmware package.
async function setupCatalog(driver, { devices = 1, firmware = {} } = {}) {
  const product = await createProduct(driver);
  const devs = [];
  for (let i = 0; i < devices; i++) devs.push(await registerDevice(driver, product.productKey));
  const fw = await createFirmware(driver, product.productKey, firmware);
  return { productKey: product.productKey, productName: product.productName, devices: devs, firmwareId: fw.firmwareId };
}

// Expected listing order: newest first, ties broken by JobId ascending.
function expectedOrder(jobs) {
  return [...jobs].sort((a, b) => {
    const ta = Date.parse(a.utcCreate);
    const tb = Date.parse(b.utcCreate);
    if (ta !== tb) return tb - ta;
    return a.jobId < b.jobId ? -1 : a.jobId > b.jobId ? 1 : 0;
  }).map((j) => j.jobId);
}

const NO_THROTTLING = { throttling: { enabled: false } };

module.exports = { FIRMWARE_URL_BASE, createProduct, registerDevice, createFirmware, createStaticJob, setupCatalog, expectedOrder, NO_THROTTLING };
