'use strict';
// Batch options as devices see them, with the real Node device SDK: NeedConfirm
// then ConfirmOTATask, NeedPush=false and the firmware/get pull, a dynamic batch
// that enrolls a device when it reports a matching version, a device that was
// offline when its batch started, and a storm of malformed and foreign messages
// from one device while the others update.
//
// Skipped, with the reason, when OTAD_BIN, OTAD_PLUGIN or mosquitto is missing.

const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');

const {
  deviceSkipReason, startDeviceStack, call, createProduct, registerDevices, uploadFirmware, staticJob, dynamicJob,
  taskOf, waitTask, queryJob, waitJob, deviceDetail, waitDeviceSeen, taskCounts, connectDevice, download,
} = require('../lib/devices');
const { rawRequest } = require('../lib/http');

const skip = deviceSkipReason();

let stack;
let d;
let productKey;
let fw;
const open = [];

before(async () => {
  if (skip) return;
  stack = await startDeviceStack();
  d = stack.driver;
  productKey = await createProduct(d);
  fw = await uploadFirmware(d, productKey, { destVersion: '2.0.0' });
});

after(async () => {
  for (const dev of open) await dev.close().catch(() => {});
  if (stack) await stack.stop();
});

async function connect(triple, version = '1.0.0') {
  const dev = await connectDevice(stack, triple);
  open.push(dev);
  if (version) await dev.reportVersion(version);
  await waitDeviceSeen(d, triple, version ? { version } : {});
  return dev;
}

async function onlineDevice(version = '1.0.0', pk = productKey) {
  const [triple] = await registerDevices(d, pk, 1);
  return connect(triple, version);
}

function specific(dev, extra = {}, pkg = fw) {
  return staticJob(d, pkg, { TargetSelection: 'SPECIFIC', TargetDeviceName: [dev.deviceName], ...extra });
}

// The device does what a device SDK app does after a push or get_reply: fetch,
// report progress, report the new version.
async function install(dev, data, pkg = fw) {
  await dev.reportProgress(0);
  const got = await download(data.url);
  assert.equal(got.status, 200);
  assert.ok(got.body.equals(pkg.bytes), 'downloaded file is the package');
  await dev.reportProgress(100);
  await dev.reportVersion(data.version);
}

// ---------------------------------------------------------------------------

test('NeedConfirm: nothing reaches the device until ConfirmOTATask', { skip }, async () => {
  const dev = await onlineDevice();
  const jobId = await specific(dev, { NeedConfirm: true });
  const waiting = await waitTask(d, jobId, dev.deviceName, 'CONFIRM');
  assert.equal((await queryJob(d, jobId)).NeedConfirm, true);
  // A task waiting for confirmation is not offered even when the device asks.
  const reply = await dev.pull();
  assert.equal(reply.json.code, 200);
  assert.deepEqual(reply.json.data, {}, 'empty data while the task waits for confirmation');
  await dev.barrier();
  assert.equal(dev.received(dev.upgradeTopic).length, 0, 'no push before confirmation');
  assert.equal((await taskOf(d, jobId, dev.deviceName)).TaskStatus, 'CONFIRM');

  await call(d, 'ConfirmOTATask', { TaskId: [waiting.TaskId] });
  const push = (await dev.waitPush(1)).json;
  assert.equal(push.data.version, '2.0.0');
  await waitTask(d, jobId, dev.deviceName, 'NOTIFIED');
  await install(dev, push.data);
  await waitTask(d, jobId, dev.deviceName, 'SUCCEEDED');
  await waitJob(d, jobId, 'COMPLETED');
});

test('NeedPush=false: the device pulls with thing.ota.firmware.get', { skip }, async (t) => {
  const dev = await onlineDevice();
  const jobId = await specific(dev, { NeedPush: false });
  assert.equal((await queryJob(d, jobId)).NeedPush, false);
  assert.equal((await taskOf(d, jobId, dev.deviceName)).TaskStatus, 'QUEUED');
  let reply;

  await t.test('get_reply carries the package and the request id', async () => {
    reply = await dev.pull({ id: '4242' });
    assert.equal(reply.json.id, '4242', 'the reply echoes the request id');
    assert.equal(reply.json.code, 200);
    const data = reply.json.data;
    assert.equal(data.version, '2.0.0');
    assert.equal(data.size, fw.bytes.length);
    assert.equal(data.md5, fw.md5);
    assert.equal(data.sign, fw.md5);
    assert.equal(data.signMethod, 'Md5');
    assert.ok(data.url.startsWith(`${stack.filesBase}/fw/`));
    assert.ok(!('module' in data));
    await waitTask(d, jobId, dev.deviceName, 'NOTIFIED');
    await dev.barrier();
    assert.equal(dev.received(dev.upgradeTopic).length, 0, 'NeedPush=false: never pushed');
  });

  await t.test('the Link SDK 4.x form of the request (numeric id, empty params) works too', async () => {
    const from = dev.messages.length;
    await dev.publish(dev.getTopic, '{"id":2, "params":{}}');
    const again = await dev.waitMessage((m) => m.topic === dev.getReplyTopic, { from });
    assert.equal(String(again.json.id), '2');
    assert.equal(again.json.data.version, '2.0.0');
  });

  await t.test('the pulled package installs to SUCCEEDED', async () => {
    await install(dev, reply.json.data);
    await waitTask(d, jobId, dev.deviceName, 'SUCCEEDED');
    const none = await dev.pull();
    assert.deepEqual(none.json.data, {}, 'nothing pending after success');
  });
});

test('dynamic batch: a device that later reports a matching version is enrolled and updated', { skip }, async () => {
  const pk = await createProduct(d);
  const pkg = await uploadFirmware(d, pk, { destVersion: '3.0.0' });
  const jobId = await dynamicJob(d, pkg, { SrcVersion: ['1.5.0'] });
  const dev = await onlineDevice('1.0.0', pk);
  assert.equal((await taskCounts(d, jobId)).QUEUED, 0);
  assert.equal(await taskOf(d, jobId, dev.deviceName), undefined, 'version 1.0.0 does not qualify');

  await dev.reportVersion('1.5.0');
  const push = (await dev.waitPush(1)).json;
  assert.equal(push.data.version, '3.0.0');
  const task = await waitTask(d, jobId, dev.deviceName, 'NOTIFIED');
  assert.equal(task.SrcVersion, '1.5.0');
  await install(dev, push.data, pkg);
  await waitTask(d, jobId, dev.deviceName, 'SUCCEEDED');
  assert.equal((await queryJob(d, jobId)).JobStatus, 'IN_PROGRESS', 'a dynamic batch keeps running');
  await call(d, 'CancelOTAStrategyByJob', { JobId: jobId });
});

test('a device offline when the batch starts gets its push when it connects', { skip }, async () => {
  const [triple] = await registerDevices(d, productKey, 1);
  const jobId = await staticJob(d, fw, { TargetSelection: 'SPECIFIC', TargetDeviceName: [triple.deviceName] });
  assert.equal((await taskOf(d, jobId, triple.deviceName)).TaskStatus, 'QUEUED');
  const dev = await connectDevice(stack, triple);
  open.push(dev);
  // No SUBSCRIBE and no report needed: the login alone brings the push.
  const push = (await dev.waitPush(1)).json;
  assert.equal(push.data.version, '2.0.0');
  await waitTask(d, jobId, triple.deviceName, 'NOTIFIED');
  await install(dev, push.data);
  await waitTask(d, jobId, triple.deviceName, 'SUCCEEDED');

  // After a disconnect the device shows OFFLINE.
  await dev.close();
  await waitDeviceSeen(d, triple, { status: 'OFFLINE' });
});

test('a storm of malformed and foreign messages from one device leaves the others\' updates intact', { skip }, async () => {
  const pk = await createProduct(d);
  const pkg = await uploadFirmware(d, pk, { destVersion: '2.0.0' });
  const triples = await registerDevices(d, pk, 4);
  const [evil, ...good] = await Promise.all(triples.map((x) => connect(x)));
  const jobId = await staticJob(d, pkg, { TargetSelection: 'ALL', Tag: [{ Key: 'k', Value: 'v' }] });

  const own = (kind) => evil.topic(kind);
  const v = good[0];
  const w = good[1];
  const x = good[2];
  const bigId = '9'.repeat(400);
  const storm = [
    // Not JSON, or JSON of the wrong shape, on the device's own uplinks.
    [own('inform'), 'not json at all'],
    [own('inform'), ''],
    [own('inform'), '{'],
    [own('inform'), '[]'],
    [own('inform'), 'null'],
    [own('inform'), '"a string"'],
    [own('inform'), crypto.randomBytes(300)],
    [own('inform'), '{"id":"1"}'],
    [own('inform'), '{"id":"1","params":"x"}'],
    [own('inform'), '{"id":"1","params":{"version":123}}'],
    [own('inform'), '{"id":"1","params":{"version":""}}'],
    [own('inform'), '{"id":"1","params":{"version":["2.0.0"]}}'],
    [own('inform'), `{"id":${bigId},"params":{"version":{"a":1}}}`],
    [own('inform'), `{"id":"1","params":${'['.repeat(5000)}${']'.repeat(5000)}}`],
    [own('progress'), '{"id":"1","params":{"step":"abc","desc":""}}'],
    [own('progress'), '{"id":"1","params":{"step":"101"}}'],
    [own('progress'), '{"id":"1","params":{"step":"-5"}}'],
    [own('progress'), '{"id":"1","params":{"step":1e999}}'],
    [own('progress'), '{"id":"1","params":{"step":true}}'],
    [own('progress'), '{"id":"1","params":{"step":[1]}}'],
    [own('progress'), '{"id":"1","params":{"step":"5","desc":{"x":1}}}'],
    [own('progress'), `{"id":"1","params":{"step":"5","desc":"${'d'.repeat(70 * 1024)}"}}`],
    [own('progress'), `{"id":${bigId},"params":{}}`],
    [evil.getTopic, `{"id":${bigId}${bigId},"params":{"module":{"x":1}}}`],
    [evil.getTopic, '{"id":"1","params":{"module":7}}'],
    [own('request'), '{"id":"1","params":[]}'],
    // Someone else's topics: they would update, fail, redirect or hide the others.
    [v.topic('inform'), JSON.stringify({ id: '1', params: { version: '2.0.0' } })],
    [w.topic('progress'), JSON.stringify({ id: '1', params: { step: '-1', desc: 'forged' } })],
    [`/as/mqtt/status/${pk}/${x.deviceName}`, ''],
    [`/as/mqtt/status/${pk}/${x.deviceName}`, JSON.stringify({ status: 'offline', productKey: pk, deviceName: x.deviceName })],
    [v.upgradeTopic, JSON.stringify({ code: '1000', message: 'success', id: 1, data: { size: 1, version: '6.6.6', url: 'http://127.0.0.1:9/evil.bin', md5: '0'.repeat(32), sign: '0'.repeat(32), signMethod: 'Md5' } })],
    [v.getTopic, '{"id":"1","params":{}}'],
    [`/sys/${pk}/${w.deviceName}/thing/ota/firmware/get_reply`, '{"id":"1","code":200,"data":{}}'],
    ['/ota/device/inform/nosuchproduct/nosuchdevice', '{"id":"1","params":{"version":"1"}}'],
    ['/some/other/topic', 'hello'],
  ];
  const fire = async () => {
    for (let round = 0; round < 3; round++) {
      await Promise.all(storm.map(([topic, body]) => evil.publish(topic, body)));
    }
  };

  // The storm runs while the well-behaved devices take their update.
  const updates = good.map(async (dev) => {
    const push = (await dev.waitPush(1)).json;
    assert.equal(push.data.version, '2.0.0');
    assert.ok(push.data.url.startsWith(`${stack.filesBase}/fw/`), 'the genuine push');
    await install(dev, push.data, pkg);
  });
  await Promise.all([fire(), ...updates]);
  for (const dev of good) {
    const t = await waitTask(d, jobId, dev.deviceName, 'SUCCEEDED');
    assert.equal(t.TaskDesc || '', '', `${dev.deviceName}: no forged failure`);
    assert.equal((await deviceDetail(d, pk, dev.deviceName)).FirmwareVersion, '2.0.0');
    await dev.barrier();
    const pushes = dev.received(dev.upgradeTopic);
    assert.equal(pushes.length, 1, `${dev.deviceName} received exactly the genuine push`);
    assert.equal(pushes[0].json.data.version, '2.0.0');
    assert.equal(dev.received(dev.getReplyTopic).length, 0, `${dev.deviceName}: no forged get_reply`);
  }
  assert.equal((await deviceDetail(d, pk, x.deviceName)).Status, 'ONLINE', 'forged presence ignored');

  // otad is alive and the noisy device itself can still update.
  const health = await rawRequest(stack.server.url, { path: '/healthz' });
  assert.equal(health.status, 200);
  const push = (await evil.waitPush(1)).json;
  await install(evil, push.data, pkg);
  await waitTask(d, jobId, evil.deviceName, 'SUCCEEDED');
  await waitJob(d, jobId, 'COMPLETED');
  assert.deepEqual(await taskCounts(d, jobId), { CONFIRM: 0, QUEUED: 0, NOTIFIED: 0, IN_PROGRESS: 0, SUCCEEDED: 4, FAILED: 0, CANCELED: 0 });
});
