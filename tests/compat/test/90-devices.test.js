'use strict';
// Devices end to end with the real Node device SDK (alibabacloud-iot-device-sdk)
// through Mosquitto and otad's plugin: logins, per-device topic isolation, a
// static batch from push to SUCCEEDED (download with Range included), device
// failures with and without automatic retry, the batch timeout, and a task
// cancelled while the device is working on it.
//
// Skipped, with the reason, when OTAD_BIN, OTAD_PLUGIN or mosquitto is missing.

const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');

const {
  deviceSkipReason, startDeviceStack, call, createProduct, registerDevices, uploadFirmware, staticJob,
  taskOf, waitTask, queryJob, waitJob, deviceDetail, waitDeviceSeen, taskCounts, connectDevice, tryLogin,
  download,
} = require('../lib/devices');
const { assertRecent, assertUtc } = require('../lib/checks');

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
  fw = await uploadFirmware(d, productKey, { destVersion: '2.0.0', size: 40 * 1024 + 7 });
});

after(async () => {
  for (const dev of open) await dev.close().catch(() => {});
  if (stack) await stack.stop();
});

// A device registered, connected with the SDK and reporting `version`, once otad
// has recorded both the login and the version.
async function onlineDevice(version = '1.0.0', pk = productKey) {
  const [triple] = await registerDevices(d, pk, 1);
  const dev = await connectDevice(stack, triple);
  open.push(dev);
  if (version) {
    await dev.reportVersion(version);
    await waitDeviceSeen(d, triple, { version });
  } else {
    await waitDeviceSeen(d, triple);
  }
  return dev;
}

function specific(dev, extra = {}) {
  return staticJob(d, fw, { TargetSelection: 'SPECIFIC', TargetDeviceName: [dev.deviceName], ...extra });
}

// Waits for the device's `n`-th push and checks it is this package.
async function pushOf(dev, n = 1) {
  const m = await dev.waitPush(n);
  assert.ok(m.json, `push is JSON: ${m.text}`);
  assert.equal(m.json.data.version, fw.destVersion, 'pushed version');
  return m.json;
}

// ---------------------------------------------------------------------------
// The batch timeout: TimeoutInMinutes is at least one minute and otad has no
// shorter setting, so this starts first and is checked by the last test of the
// file, letting the minute pass while the other tests run.
// ---------------------------------------------------------------------------

const slow = {};

test('timeout (start): a device reports progress and then stays silent', { skip }, async () => {
  const dev = await onlineDevice();
  // A retry policy too: a timeout must not be retried automatically.
  slow.jobId = await specific(dev, { TimeoutInMinutes: 1, RetryInterval: 0, RetryCount: 1 });
  slow.dev = dev;
  await pushOf(dev);
  await dev.reportProgress(10);
  const t = await waitTask(d, slow.jobId, dev.deviceName, (x) => x.TaskStatus === 'IN_PROGRESS' && x.Progress === '10.00');
  slow.startedAt = Date.now();
  assert.equal(t.Timeout, '1', 'Timeout is the batch timeout in minutes, as a string');
});

// ---------------------------------------------------------------------------
// Logins
// ---------------------------------------------------------------------------

test('login with the device SDK', { skip }, async (t) => {
  const [good, other] = await registerDevices(d, productKey, 2);

  await t.test('the right DeviceSecret is accepted and otad records the device online', async () => {
    const dev = await connectDevice(stack, good);
    open.push(dev);
    const seen = await waitDeviceSeen(d, good);
    assert.equal(seen.Status, 'ONLINE');
    assert.equal(seen.IpAddress, '127.0.0.1');
    assertRecent(seen.UtcOnline, 'UtcOnline');
    await dev.close();
    await waitDeviceSeen(d, good, { status: 'OFFLINE' });
  });

  await t.test('a wrong DeviceSecret is refused', async () => {
    const wrong = { ...good, deviceSecret: good.deviceSecret.replace(/^./, (c) => (c === 'a' ? 'b' : 'a')) };
    const r = await tryLogin(stack, wrong);
    assert.equal(r.accepted, false, 'login with a wrong secret must be refused');
    assert.ok([4, 5].includes(r.error.code), `CONNACK refusal 4 or 5, got ${r.error.code} (${r.error.message})`);
  });

  await t.test('another device\'s secret, an unknown device and an unknown product are refused', async () => {
    for (const triple of [
      { ...good, deviceSecret: other.deviceSecret },
      { ...good, deviceName: `${good.deviceName}x` },
      { ...good, productKey: `${productKey.slice(0, -1)}${productKey.endsWith('a') ? 'b' : 'a'}` },
    ]) {
      const r = await tryLogin(stack, triple);
      assert.equal(r.accepted, false, `login as ${JSON.stringify(triple)} must be refused`);
    }
    assert.equal((await deviceDetail(d, productKey, other.deviceName)).Status, 'UNACTIVE', 'never logged in');
  });
});

// ---------------------------------------------------------------------------
// One device cannot act for another
// ---------------------------------------------------------------------------

test('topic isolation between devices', { skip }, async (t) => {
  const a = await onlineDevice();
  const b = await onlineDevice();
  const jobId = await specific(b);
  await pushOf(b);
  await waitTask(d, jobId, b.deviceName, 'NOTIFIED');

  await t.test('publishing on another device\'s topics has no effect on it', async () => {
    await a.publish(b.topic('inform'), { id: '1', params: { version: fw.destVersion } });
    await a.publish(b.topic('progress'), { id: '2', params: { step: '-1', desc: 'forged by another device' } });
    await a.publish(b.getTopic, { id: '3', version: '1.0', params: {}, method: 'thing.ota.firmware.get' });
    await a.publish(`/as/mqtt/status/${productKey}/${b.deviceName}`, '');
    // The victim's own report afterwards shows that otad has processed its
    // stream past the forged messages.
    await b.reportProgress(20);
    const task = await waitTask(d, jobId, b.deviceName, (x) => x.Progress === '20.00');
    assert.equal(task.TaskStatus, 'IN_PROGRESS', `forged reports must not change the task: ${JSON.stringify(task)}`);
    assert.equal(task.TaskDesc || '', '', 'no forged failure text');
    const detail = await deviceDetail(d, productKey, b.deviceName);
    assert.equal(detail.FirmwareVersion, '1.0.0', 'a forged version report must not be recorded');
    assert.equal(detail.Status, 'ONLINE', 'a forged presence message must not take the device offline');
    await b.barrier();
    assert.equal(b.received(b.getReplyTopic).length, 0, 'no get_reply for a pull the device never made');
    assert.equal(b.received(b.upgradeTopic).length, 1, 'exactly the one genuine push');
  });

  await t.test('subscribing to another device\'s downlinks is refused and delivers nothing', async () => {
    const filters = [b.upgradeTopic, `/ota/device/upgrade/${productKey}/+`, '/ota/device/upgrade/#', `/sys/${productKey}/${b.deviceName}/thing/ota/firmware/get_reply`, '#'];
    for (const f of filters) {
      const granted = await a.subscribe(f);
      assert.equal(granted[0].qos, 128, `SUBSCRIBE to ${f} must be refused (0x80), got ${JSON.stringify(granted)}`);
    }
    // A fresh push to b: b receives it, a does not.
    const c = await onlineDevice();
    const from = b.messages.length;
    const job2 = await specific(c);
    await pushOf(c);
    await waitTask(d, job2, c.deviceName, 'NOTIFIED');
    await a.barrier();
    const leaked = a.received((m) => m.topic.startsWith('/ota/device/upgrade/') || m.topic.endsWith('/get_reply'));
    assert.deepEqual(leaked.map((m) => m.topic), [], 'another device\'s downlinks must never reach this one');
    assert.equal(b.messages.slice(from).filter((m) => m.topic === c.upgradeTopic).length, 0);
  });
});

// ---------------------------------------------------------------------------
// A static batch from push to SUCCEEDED
// ---------------------------------------------------------------------------

test('static batch: push, download, progress, new version, listings', { skip }, async (t) => {
  const dev = await onlineDevice('1.0.0');
  const tags = [{ Key: 'channel', Value: 'beta' }, { Key: 'note.x', Value: 'fixes camera blur' }];
  const jobId = await specific(dev, { Tag: tags });
  let push;

  await t.test('the push carries every field a device SDK reads', async () => {
    push = await pushOf(dev);
    assert.equal(push.code, '1000', 'code is the string "1000"');
    assert.equal(push.message, 'success');
    assert.ok(typeof push.id === 'number' || typeof push.id === 'string', `id: ${JSON.stringify(push.id)}`);
    const data = push.data;
    assert.equal(data.size, fw.bytes.length, 'size is the byte length, as a number');
    assert.equal(data.version, '2.0.0');
    assert.equal(typeof data.url, 'string');
    assert.ok(data.url.startsWith(`${stack.filesBase}/fw/`), `url ${data.url} is otad's signed download URL`);
    assert.ok(data.url.length < 255, 'URL shorter than 255 bytes (Link SDK 4.x limit)');
    assert.equal(data.md5, fw.md5, 'md5: lower-case hex MD5 of the file');
    assert.match(data.md5, /^[0-9a-f]{32}$/);
    assert.equal(data.sign, fw.md5, 'sign: the MD5 again for signMethod Md5');
    assert.equal(data.signMethod, 'Md5', 'signMethod spelled "Md5" exactly');
    assert.deepEqual(data.extData, { channel: 'beta', 'note.x': 'fixes camera blur' }, 'extData carries the batch tags');
    assert.ok(!('module' in data), 'no module for the default module');
    assert.ok(!('isDiff' in data), 'no isDiff for a full package');
    const task = await waitTask(d, jobId, dev.deviceName, 'NOTIFIED');
    assert.equal(task.Progress, '0.00');
  });

  await t.test('the device downloads the file, with a Range for the second half', async () => {
    const full = await download(push.data.url);
    assert.equal(full.status, 200);
    assert.equal(Number(full.headers['content-length']), fw.bytes.length);
    assert.ok(full.body.equals(fw.bytes), 'whole file as uploaded');
    await dev.reportProgress(0);
    await waitTask(d, jobId, dev.deviceName, (x) => x.TaskStatus === 'IN_PROGRESS' && x.Progress === '0.00');

    const half = Math.floor(fw.bytes.length / 2);
    const first = await download(push.data.url, `bytes=0-${half - 1}`);
    assert.equal(first.status, 206);
    assert.equal(first.headers['content-range'], `bytes 0-${half - 1}/${fw.bytes.length}`);
    await dev.reportProgress(50);
    await waitTask(d, jobId, dev.deviceName, (x) => x.Progress === '50.00');
    const second = await download(push.data.url, `bytes=${half}-`);
    assert.equal(second.status, 206, 'Range request answers 206');
    assert.equal(second.headers['content-range'], `bytes ${half}-${fw.bytes.length - 1}/${fw.bytes.length}`);
    assert.equal(Number(second.headers['content-length']), fw.bytes.length - half);
    assert.ok(Buffer.concat([first.body, second.body]).equals(fw.bytes), 'the two halves make the file');
  });

  await t.test('progress 100 alone is not success; the version report is', async () => {
    await dev.reportProgress(100);
    const at100 = await waitTask(d, jobId, dev.deviceName, (x) => x.Progress === '100.00');
    assert.equal(at100.TaskStatus, 'IN_PROGRESS');
    await dev.reportVersion('2.0.0');
    const done = await waitTask(d, jobId, dev.deviceName, 'SUCCEEDED');
    assert.equal(done.Progress, '100.00');
    assert.equal(done.SrcVersion, '1.0.0');
    assert.equal(done.DestVersion, '2.0.0');
    assert.equal((await deviceDetail(d, productKey, dev.deviceName)).FirmwareVersion, '2.0.0');
  });

  await t.test('ListOTAJobByDevice, QueryOTAJob and ListOTATaskByJob agree', async () => {
    const job = await waitJob(d, jobId, 'COMPLETED');
    assertUtc(job.UtcEndTime, 'UtcEndTime');
    assert.deepEqual(job.Tags, { OtaTagDTO: tags });
    const byDevice = await call(d, 'ListOTAJobByDevice', {
      ProductKey: productKey, DeviceName: dev.deviceName, FirmwareId: fw.firmwareId, CurrentPage: 1, PageSize: 10,
    });
    assert.equal(byDevice.Total, 1);
    const item = byDevice.Data.SimpleOTAJobInfo[0];
    assert.equal(item.JobId, jobId);
    assert.equal(item.JobStatus, 'COMPLETED');
    assert.equal(item.UtcEndTime, job.UtcEndTime);
    const counts = await taskCounts(d, jobId);
    assert.deepEqual(counts, { CONFIRM: 0, QUEUED: 0, NOTIFIED: 0, IN_PROGRESS: 0, SUCCEEDED: 1, FAILED: 0, CANCELED: 0 });
    const versions = await call(d, 'ListOTAModuleVersionsByDevice', { ProductKey: productKey, DeviceName: dev.deviceName, CurrentPage: 1, PageSize: 10 });
    const dflt = versions.Data.SimpleOTAModuleInfo.find((m) => m.ModuleName === 'default');
    assert.equal(dflt && dflt.ModuleVersion, '2.0.0', `module versions: ${JSON.stringify(versions.Data)}`);
  });
});

// ---------------------------------------------------------------------------
// Device failures
// ---------------------------------------------------------------------------

test('device failure', { skip }, async (t) => {
  await t.test('without a retry policy: FAILED with the device\'s text, batch COMPLETED', async () => {
    const dev = await onlineDevice();
    const jobId = await specific(dev);
    await pushOf(dev);
    await dev.reportProgress(0);
    await dev.reportProgress(-2, 'cannot fetch package: connection reset');
    const task = await waitTask(d, jobId, dev.deviceName, 'FAILED');
    assert.equal(task.TaskDesc, 'cannot fetch package: connection reset');
    await waitJob(d, jobId, 'COMPLETED');
  });

  await t.test('RetryInterval 10: FAILED with the text while the batch waits for the retry', async () => {
    const dev = await onlineDevice();
    const jobId = await specific(dev, { RetryInterval: 10, RetryCount: 1 });
    await pushOf(dev);
    await dev.reportProgress(-2, 'download failed: HTTP 500');
    const task = await waitTask(d, jobId, dev.deviceName, 'FAILED');
    assert.equal(task.TaskDesc, 'download failed: HTTP 500');
    // The retry is ten minutes away: the batch is not finished yet.
    assert.equal((await queryJob(d, jobId)).JobStatus, 'IN_PROGRESS', 'a batch with a pending retry stays IN_PROGRESS');
    assert.equal((await queryJob(d, jobId)).RetryInterval, 10);
  });

  await t.test('RetryInterval 0: the failed task is queued and pushed again at once', async () => {
    const dev = await onlineDevice();
    const jobId = await specific(dev, { RetryInterval: 0, RetryCount: 1 });
    await pushOf(dev, 1);
    await dev.reportProgress(-3, 'digest mismatch');
    const again = await pushOf(dev, 2);
    assert.equal(again.data.md5, fw.md5);
    await waitTask(d, jobId, dev.deviceName, (x) => x.TaskStatus === 'NOTIFIED');
    await dev.reportProgress(100);
    await dev.reportVersion('2.0.0');
    const task = await waitTask(d, jobId, dev.deviceName, 'SUCCEEDED');
    assert.equal(task.TaskDesc || '', '', 'a succeeded retry carries no failure text');
    await waitJob(d, jobId, 'COMPLETED');
  });
});

// ---------------------------------------------------------------------------
// Cancel while the device works on it
// ---------------------------------------------------------------------------

test('CancelOTATaskByJob on an IN_PROGRESS task; later reports do not revive it', { skip }, async () => {
  const dev = await onlineDevice();
  const jobId = await specific(dev);
  await pushOf(dev);
  await dev.reportProgress(30);
  await waitTask(d, jobId, dev.deviceName, (x) => x.TaskStatus === 'IN_PROGRESS' && x.Progress === '30.00');
  await call(d, 'CancelOTATaskByJob', { JobId: jobId, CancelInProgressTask: true });
  await waitTask(d, jobId, dev.deviceName, 'CANCELED');
  await dev.reportProgress(60);
  await dev.reportVersion('2.0.0');
  await waitDeviceSeen(d, dev, { version: '2.0.0' });
  const task = await taskOf(d, jobId, dev.deviceName);
  assert.equal(task.TaskStatus, 'CANCELED', `reports after the cancel must not revive the task: ${JSON.stringify(task)}`);
  await waitJob(d, jobId, 'COMPLETED');
});

// ---------------------------------------------------------------------------
// The timeout, checked last
// ---------------------------------------------------------------------------

test('timeout (end): TimeoutInMinutes 1 fails the silent task, without a retry', { skip }, async () => {
  assert.ok(slow.jobId, 'the timeout test must have started');
  const task = await waitTask(d, slow.jobId, slow.dev.deviceName, 'FAILED',
    Math.max(1000, slow.startedAt + 60000 + 20000 - Date.now()));
  const elapsed = Date.now() - slow.startedAt;
  assert.ok(elapsed >= 59000, `failed after ${elapsed} ms, before the minute was over`);
  assert.ok(task.TaskDesc && task.TaskDesc.length > 0, 'a timeout explains itself in TaskDesc');
  // Timeouts are not retried: the batch ends although it has a retry policy.
  await waitJob(d, slow.jobId, 'COMPLETED');
  await slow.dev.barrier();
  assert.equal(slow.dev.received(slow.dev.upgradeTopic).length, 1, 'no second push after a timeout');
});
