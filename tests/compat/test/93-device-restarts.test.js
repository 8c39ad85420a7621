'use strict';
// Restarts seen by one real SDK device at a time: a device that logs in while
// otad is down gets its push once otad is back; a device whose broker restarts
// is offered its unfinished task again when it reconnects; a device that does
// not come back after a broker restart is shown offline; each login is offered
// a pending update once, however many nodes otad runs; a report sent while
// otad is down.
//
// Skipped, with the reason, when OTAD_BIN, OTAD_PLUGIN or mosquitto is missing.

const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');

const {
  deviceSkipReason, startDeviceStack, createProduct, registerDevices, uploadFirmware, staticJob,
  taskOf, waitTask, waitDeviceSeen, connectDevice, download, sleep,
} = require('../lib/devices');
const { singleNodeOnly } = require('../lib/cluster');

const skip = deviceSkipReason();

let stack;
let productKey;
let fw;
const open = [];

before(async () => {
  if (skip) return;
  stack = await startDeviceStack();
  productKey = await createProduct(stack.driver);
  fw = await uploadFirmware(stack.driver, productKey, { destVersion: '2.0.0' });
});

after(async () => {
  for (const dev of open) await dev.close().catch(() => {});
  if (stack) await stack.stop();
});

// The driver changes with every otad restart (new API port).
const d = () => stack.driver;

async function device({ connect = true } = {}) {
  const [triple] = await registerDevices(d(), productKey, 1);
  if (!connect) return triple;
  const dev = await connectDevice(stack, triple);
  open.push(dev);
  await dev.reportVersion('1.0.0');
  await waitDeviceSeen(d(), triple, { version: '1.0.0' });
  return dev;
}

function specific(name) {
  return staticJob(d(), fw, { TargetSelection: 'SPECIFIC', TargetDeviceName: [name] });
}

test('a device that logs in while otad is down gets its push when otad is back', { skip }, async () => {
  const triple = await device({ connect: false });
  const jobId = await specific(triple.deviceName);
  await stack.killOtad();
  // The broker checks the login against otad's database on its own.
  const dev = await connectDevice(stack, triple);
  open.push(dev);
  await stack.startOtad();
  const push = (await dev.waitPush(1)).json;
  assert.equal(push.data.version, '2.0.0');
  await waitTask(d(), jobId, triple.deviceName, 'NOTIFIED');
  await dev.reportProgress(0);
  const got = await download(push.data.url);
  assert.ok(got.body.equals(fw.bytes), 'the URL pushed by the restarted otad works');
  await dev.reportVersion('2.0.0');
  await waitTask(d(), jobId, triple.deviceName, 'SUCCEEDED');
});

test('after a broker restart the reconnecting device is offered its IN_PROGRESS task again', { skip }, async () => {
  const dev = await device();
  const jobId = await specific(dev.deviceName);
  await dev.waitPush(1);
  await dev.reportProgress(40);
  await waitTask(d(), jobId, dev.deviceName, (t) => t.TaskStatus === 'IN_PROGRESS' && t.Progress === '40.00');
  const connects = dev.connects;
  await stack.restartBroker('SIGKILL');
  // The SDK reconnects by itself; the new login brings the same package again.
  const again = (await dev.waitPush(2, 20000)).json;
  assert.ok(dev.connects > connects, 'the SDK reconnected');
  assert.equal(again.data.version, '2.0.0');
  assert.equal(again.data.md5, fw.md5);
  const t = await taskOf(d(), jobId, dev.deviceName);
  assert.equal(t.TaskStatus, 'IN_PROGRESS', `the re-offer leaves the task where it was: ${JSON.stringify(t)}`);
  assert.equal(t.Progress, '40.00');
  await dev.reportProgress(100);
  await dev.reportVersion('2.0.0');
  await waitTask(d(), jobId, dev.deviceName, 'SUCCEEDED');
});

test('a device that does not come back after a broker restart is shown OFFLINE', { skip }, async () => {
  const stays = await device();
  const leaves = await device();
  const before = stack.otadConnections();
  await stack.broker.kill('SIGKILL');
  // Gone for good while the broker is down: nothing will ever say it disconnected.
  await leaves.close();
  await stack.broker.start();
  await stack.waitOtadConnected(before + 1, 40000);
  await waitDeviceSeen(d(), leaves, { status: 'OFFLINE', timeoutMs: 20000 });
  await waitDeviceSeen(d(), stays, { status: 'ONLINE', timeoutMs: 20000 });
});

test('each login is offered a pending update once', { skip }, async () => {
  const dev = await device();
  const jobId = await specific(dev.deviceName);
  await dev.waitPush(1);
  await waitTask(d(), jobId, dev.deviceName, 'NOTIFIED');
  // A new login of the device (the task is still unacknowledged): one offer again.
  await dev.close();
  const again = await connectDevice(stack, dev);
  open.push(again);
  await again.waitPush(1);
  // Time for a second copy to arrive, were one sent (several nodes each answering the login).
  await sleep(1500);
  await again.barrier();
  assert.equal(dev.received(dev.upgradeTopic).length, 1, 'one push for the first login');
  assert.equal(again.received(again.upgradeTopic).length, 1, 'one push for the second login');
});

// otad keeps a persistent session at the broker under a client id stored in its data
// directory, so what a device reports while otad is down waits for it. Nodes of a cluster keep
// no session (a dead node must not hold device reports): there an offer left unanswered is made
// again instead (mqtt.reoffer_after_s), which 95-cluster covers.
test('a QoS 1 version report sent while otad is down is applied once otad is back',
  { skip: skip || singleNodeOnly('reports sent while every node is down wait in a persistent session') }, async () => {
  const dev = await device();
  const jobId = await specific(dev.deviceName);
  await dev.waitPush(1);
  await dev.reportProgress(50);
  await waitTask(d(), jobId, dev.deviceName, 'IN_PROGRESS');
  await stack.killOtad();
  await dev.reportVersion('2.0.0'); // acknowledged by the broker, QoS 1
  await stack.startOtad();
  await waitTask(d(), jobId, dev.deviceName, 'SUCCEEDED', 8000);
});
