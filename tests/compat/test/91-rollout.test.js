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
  devsimSkipReason, startDeviceStack, staticJob, startDevsim, waitFor,
} = require('../lib/devices');
const {
  fleet, succeededCount, expectAllSucceededOnce, onlineArgs, stopOnline,
} = require('../lib/rollout');
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
  const f = await fleet(stack, DEVICES);
  const jobId = await staticJob(stack.driver, f.fw, { TargetSelection: 'ALL' });
  const sim = startDevsim(stack, f.devices, simArgs());
  sims.push(sim);
  const summary = await finished(sim, 'plain rollout');
  assert.equal(summary.failed, 0, 'no download or digest failures');
  await expectAllSucceededOnce(stack, f, jobId, 20000);
});

// The devices of the two restart tests stay online until otad has recorded every update, as
// real devices do: a device that installs while otad or the broker is down reports its version
// on a connection otad may not be listening on yet; otad then learns of the device's new
// connection from its presence (or, on a cluster, of the unanswered offer) and offers the
// update again. A simulator exiting as soon as its devices hold the version would cut that
// short.
test(`otad killed with SIGKILL mid-rollout and restarted finishes the rollout (${DEVICES} devices)`, { skip }, async () => {
  const f = await fleet(stack, DEVICES);
  // A download cut by the kill fails on the device (as it would on a real one); the batch's
  // automatic retry, at once and at most twice, pushes it again.
  const jobId = await staticJob(stack.driver, f.fw, { TargetSelection: 'ALL', RetryInterval: 0, RetryCount: 2 });
  // Logins spread over a few seconds, so that the kill lands mid-rollout.
  const sim = startDevsim(stack, f.devices, onlineArgs(['--connect-rate', '25']));
  sims.push(sim);
  const before = await waitFor('some devices to succeed', async () => {
    const n = await succeededCount(stack.driver, jobId);
    return n >= 10 ? n : false;
  }, { timeoutMs: 30000, intervalMs: 50 });
  assert.ok(before < DEVICES, `the kill must land mid-rollout (${before} of ${DEVICES} already done)`);
  await stack.killOtad();
  await stack.startOtad();
  await expectAllSucceededOnce(stack, f, jobId, 60000);
  await stopOnline(sim, DEVICES);
});

test(`Mosquitto killed and restarted mid-rollout: the rollout still completes (${DEVICES} devices)`, { skip }, async () => {
  const f = await fleet(stack, DEVICES);
  const jobId = await staticJob(stack.driver, f.fw, { TargetSelection: 'ALL' });
  const sim = startDevsim(stack, f.devices, onlineArgs(['--connect-rate', '25', '--reconnect-ms', '500']));
  sims.push(sim);
  const before = await waitFor('some devices to succeed', async () => {
    const n = await succeededCount(stack.driver, jobId);
    return n >= 10 ? n : false;
  }, { timeoutMs: 30000, intervalMs: 50 });
  assert.ok(before < DEVICES, `the restart must land mid-rollout (${before} of ${DEVICES} already done)`);
  await stack.restartBroker('SIGKILL');
  await expectAllSucceededOnce(stack, f, jobId, 60000);
  const summary = await stopOnline(sim, DEVICES);
  assert.equal(summary.failed, 0, `no download or digest failures: ${JSON.stringify(summary)}`);
});
