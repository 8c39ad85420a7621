'use strict';
// Rollouts over a hundred simulated devices (otad-devsim, imitating Link SDK
// 4.x, iotkit 3.x and the Node SDK in turn): a plain static batch, one during
// which otad is killed with SIGKILL and restarted on the same data directory,
// and one during which Mosquitto is killed and restarted. Each ends with every
// device SUCCEEDED in exactly one task.
//
// Skipped, with the reason, when OTAD_BIN, OTAD_PLUGIN, mosquitto or
// OTADEVSIM_BIN is missing.

const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');

const {
  devsimSkipReason, startDeviceStack, call, createProduct, registerDevices, uploadFirmware, staticJob,
  allTasks, waitJob, taskCounts, startDevsim, waitFor,
} = require('../lib/devices');
const { inCluster } = require('../lib/cluster');

const skip = devsimSkipReason();
const DEVICES = 100;

let stack;
const sims = [];

before(async () => {
  if (skip) return;
  // A cluster's nodes keep no broker session: reports sent while every node is down are lost,
  // and the unanswered offer is made again after mqtt.reoffer_after_s, short here.
  stack = await startDeviceStack({ config: inCluster() ? { mqtt: { reoffer_after_s: 3 } } : {} });
});

after(async () => {
  for (const s of sims) await s.stop().catch(() => {});
  if (stack) await stack.stop();
});

// A product with `n` devices at 1.0.0 and a 2.0.0 package for it.
async function fleet(n, size = 24 * 1024) {
  const d = stack.driver;
  const productKey = await createProduct(d);
  const devices = (await registerDevices(d, productKey, n, { parallel: 16 })).map((x) => ({ ...x, version: '1.0.0' }));
  const fw = await uploadFirmware(d, productKey, { destVersion: '2.0.0', size });
  return { productKey, devices, fw };
}

async function succeededCount(jobId) {
  const raw = await call(stack.driver, 'ListOTATaskByJob', { JobId: jobId, TaskStatus: 'SUCCEEDED', CurrentPage: 1, PageSize: 1 });
  return raw.Total;
}

// Every device has exactly one task in the batch, and it SUCCEEDED; the batch
// is COMPLETED; each device holds exactly this one batch of the package.
async function expectAllSucceededOnce(f, jobId, timeoutMs) {
  const d = stack.driver;
  try {
    await waitFor(`all ${f.devices.length} tasks of ${jobId} to be SUCCEEDED`, async () => (await succeededCount(jobId)) === f.devices.length,
      { timeoutMs, intervalMs: 250 });
  } catch (e) {
    // Say which tasks are missing and where they stand.
    const { items } = await allTasks(d, jobId);
    const rest = items.filter((t) => t.TaskStatus !== 'SUCCEEDED')
      .map((t) => `${t.DeviceName} ${t.TaskStatus} ${t.Progress} ${t.TaskDesc || ''}`);
    e.message = `${rest.length} task(s) not SUCCEEDED:\n  ${rest.slice(0, 20).join('\n  ')}\n${e.message}`;
    throw e;
  }
  const { items, total } = await allTasks(d, jobId);
  assert.equal(total, f.devices.length, 'one task per device');
  const byDevice = new Map();
  for (const t of items) {
    assert.ok(!byDevice.has(t.DeviceName), `${t.DeviceName} has more than one task`);
    byDevice.set(t.DeviceName, t);
  }
  for (const dev of f.devices) {
    const t = byDevice.get(dev.deviceName);
    assert.ok(t, `${dev.deviceName} has a task`);
    assert.equal(t.TaskStatus, 'SUCCEEDED', `${dev.deviceName}: ${JSON.stringify(t)}`);
    assert.equal(t.Progress, '100.00');
  }
  assert.deepEqual(await taskCounts(d, jobId), {
    CONFIRM: 0, QUEUED: 0, NOTIFIED: 0, IN_PROGRESS: 0, SUCCEEDED: f.devices.length, FAILED: 0, CANCELED: 0,
  });
  await waitJob(d, jobId, 'COMPLETED');
  // A sample of devices: the package's batches that include the device.
  for (const dev of f.devices.filter((_, i) => i % 10 === 0)) {
    const raw = await call(d, 'ListOTAJobByDevice', {
      ProductKey: f.productKey, DeviceName: dev.deviceName, FirmwareId: f.fw.firmwareId, CurrentPage: 1, PageSize: 10,
    });
    assert.deepEqual(raw.Data.SimpleOTAJobInfo.map((j) => j.JobId), [jobId], `${dev.deviceName}: exactly this batch`);
    const unfinished = await call(d, 'ListOTAUnfinishedTaskByDevice', { ProductKey: f.productKey, DeviceName: dev.deviceName });
    assert.deepEqual(unfinished.Data.SimpleOTATaskInfo, [], `${dev.deviceName}: nothing left unfinished`);
  }
}

function simArgs(extra = []) {
  return ['--style', 'mix', '--until-version', '2.0.0', '--max-seconds', '120', '--progress-every', '25', '--log-level', 'warn', ...extra];
}

async function finished(sim, what) {
  const r = await sim.done;
  assert.equal(r.code, 0, `otad-devsim (${what}) exit code ${r.code}, summary ${JSON.stringify(r.summary)}\n${r.stderr.slice(-3000)}`);
  assert.equal(r.summary && r.summary.result, 'done', `otad-devsim summary: ${JSON.stringify(r.summary)}`);
  assert.equal(r.summary.at_target, DEVICES);
  return r.summary;
}

test(`static batch over ${DEVICES} simulated devices completes`, { skip }, async () => {
  const f = await fleet(DEVICES);
  const jobId = await staticJob(stack.driver, f.fw, { TargetSelection: 'ALL' });
  const sim = startDevsim(stack, f.devices, simArgs());
  sims.push(sim);
  const summary = await finished(sim, 'plain rollout');
  assert.equal(summary.failed, 0, 'no download or digest failures');
  await expectAllSucceededOnce(f, jobId, 20000);
});

// The devices of the two restart tests stay online until otad has recorded every update, as
// real devices do: a device that installs while otad or the broker is down reports its version
// on a connection otad may not be listening on yet; otad then learns of the device's new
// connection from its presence (or, on a cluster, of the unanswered offer) and offers the
// update again. A simulator exiting as soon as its devices hold the version would cut that
// short.
function onlineArgs(extra) {
  return ['--style', 'mix', '--duration', '150', '--progress-every', '25', '--log-level', 'warn', ...extra];
}

async function stopOnline(sim) {
  const r = await sim.stop();
  assert.equal(r.code, 0, `otad-devsim exit code ${r.code}\n${r.stderr.slice(-3000)}`);
  assert.ok(r.summary && r.summary.succeeded >= DEVICES, `every device installed the package: ${JSON.stringify(r.summary)}`);
  return r.summary;
}

test(`otad killed with SIGKILL mid-rollout and restarted finishes the rollout (${DEVICES} devices)`, { skip }, async () => {
  const f = await fleet(DEVICES);
  // A download cut by the kill fails on the device (as it would on a real one); the batch's
  // automatic retry, at once and at most twice, pushes it again.
  const jobId = await staticJob(stack.driver, f.fw, { TargetSelection: 'ALL', RetryInterval: 0, RetryCount: 2 });
  // Logins spread over a few seconds, so that the kill lands mid-rollout.
  const sim = startDevsim(stack, f.devices, onlineArgs(['--connect-rate', '25']));
  sims.push(sim);
  const before = await waitFor('some devices to succeed', async () => {
    const n = await succeededCount(jobId);
    return n >= 10 ? n : false;
  }, { timeoutMs: 30000, intervalMs: 50 });
  assert.ok(before < DEVICES, `the kill must land mid-rollout (${before} of ${DEVICES} already done)`);
  await stack.killOtad();
  await stack.startOtad();
  await expectAllSucceededOnce(f, jobId, 60000);
  await stopOnline(sim);
});

test(`Mosquitto killed and restarted mid-rollout: the rollout still completes (${DEVICES} devices)`, { skip }, async () => {
  const f = await fleet(DEVICES);
  const jobId = await staticJob(stack.driver, f.fw, { TargetSelection: 'ALL' });
  const sim = startDevsim(stack, f.devices, onlineArgs(['--connect-rate', '25', '--reconnect-ms', '500']));
  sims.push(sim);
  const before = await waitFor('some devices to succeed', async () => {
    const n = await succeededCount(jobId);
    return n >= 10 ? n : false;
  }, { timeoutMs: 30000, intervalMs: 50 });
  assert.ok(before < DEVICES, `the restart must land mid-rollout (${before} of ${DEVICES} already done)`);
  await stack.restartBroker('SIGKILL');
  await expectAllSucceededOnce(f, jobId, 60000);
  const summary = await stopOnline(sim);
  assert.equal(summary.failed, 0, `no download or digest failures: ${JSON.stringify(summary)}`);
});
