'use strict';
// Whole rollouts over simulated fleets: a fleet to update, and the check that a batch ended
// with every device updated exactly once. Shared by the rollout and cluster tests.

const assert = require('node:assert/strict');

const {
  call, createProduct, registerDevices, uploadFirmware, allTasks, waitJob, taskCounts, waitFor,
} = require('./devices');

// A product with `n` devices at 1.0.0 (as the devices will report) and a 2.0.0 package for it.
async function fleet(stack, n, { size = 24 * 1024, parallel = 16 } = {}) {
  const d = stack.driver;
  const productKey = await createProduct(d);
  const devices = (await registerDevices(d, productKey, n, { parallel })).map((x) => ({ ...x, version: '1.0.0' }));
  const fw = await uploadFirmware(d, productKey, { destVersion: '2.0.0', size });
  return { productKey, devices, fw };
}

async function succeededCount(d, jobId) {
  const raw = await call(d, 'ListOTATaskByJob', { JobId: jobId, TaskStatus: 'SUCCEEDED', CurrentPage: 1, PageSize: 1 });
  return raw.Total;
}

// Every device has exactly one task in the batch, and it SUCCEEDED; the batch is COMPLETED;
// each device of a sample holds exactly this one batch of the package and nothing unfinished.
async function expectAllSucceededOnce(stack, f, jobId, timeoutMs) {
  const d = stack.driver;
  try {
    await waitFor(`all ${f.devices.length} tasks of ${jobId} to be SUCCEEDED`,
      async () => (await succeededCount(d, jobId)) === f.devices.length, { timeoutMs, intervalMs: 250 });
  } catch (e) {
    // Say which tasks are missing, where they stand, and what the servers logged.
    const { items } = await allTasks(d, jobId);
    const rest = items.filter((t) => t.TaskStatus !== 'SUCCEEDED')
      .map((t) => `${t.DeviceName} ${t.TaskStatus} ${t.Progress} ${t.TaskDesc || ''}`);
    e.message = `${rest.length} task(s) not SUCCEEDED:\n  ${rest.slice(0, 20).join('\n  ')}\n${e.message}\n${stack.diagnostics()}`;
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

// otad-devsim arguments for devices that stay online until stopped, as real devices do, so
// that an offer or a report lost to a restart or a dead node can be made again.
function onlineArgs(extra = []) {
  return ['--style', 'mix', '--duration', '600', '--progress-every', '25', '--log-level', 'warn', ...extra];
}

// Stops such a simulator; it must exit cleanly with every one of `devices` updated.
async function stopOnline(sim, devices) {
  const r = await sim.stop();
  assert.equal(r.code, 0, `otad-devsim exit code ${r.code}\n${r.stderr.slice(-3000)}`);
  assert.ok(r.summary && r.summary.succeeded >= devices, `every device installed the package: ${JSON.stringify(r.summary)}`);
  return r.summary;
}

module.exports = { fleet, succeededCount, expectAllSucceededOnce, onlineArgs, stopOnline };
