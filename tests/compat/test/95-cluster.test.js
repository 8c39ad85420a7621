'use strict';
// Several otad nodes behind nginx, on one PostgreSQL database, one Redis and one Mosquitto
// (cluster mode of the suite: OTAD_TEST_CLUSTER=N, see lib/cluster.js):
//   - the per-account rate limit holds for the whole cluster, not per node;
//   - one node killed with SIGKILL in the middle of a 1,000-device rollout: the rollout
//     completes through the other nodes, every device with exactly one SUCCEEDED task;
//   - PostgreSQL restarted in the middle of a rollout: the API answers 503 while it is down,
//     and the nodes go on by themselves once it is back (no otad restart), losing no report.
//
// Skipped outside cluster mode, and without otad-devsim, Mosquitto or the plugin.

const { test, after } = require('node:test');
const assert = require('node:assert/strict');
const { execFile } = require('node:child_process');
const path = require('node:path');

const { startServer } = require('../lib/server');
const { inCluster } = require('../lib/cluster');
const { makeDriver } = require('../lib/clients');
const { setupCatalog } = require('../lib/fixtures');
const { v1Request } = require('../lib/http');
const {
  devsimSkipReason, startDeviceStack, call, createProduct, registerDevices, uploadFirmware, staticJob,
  allTasks, waitJob, taskCounts, startDevsim, waitFor, sleep,
} = require('../lib/devices');

const clusterSkip = inCluster() ? false : 'cluster mode only (OTAD_TEST_CLUSTER=N with N >= 2)';
const deviceSkip = clusterSkip || devsimSkipReason();
const pgSkip = deviceSkip || (process.env.OTAD_TEST_POSTGRES_DIR
  ? false : 'needs OTAD_TEST_POSTGRES_DIR (the directory scripts/postgres.sh started the server in)');

const cleanups = [];
after(async () => {
  for (const c of cleanups.reverse()) await c().catch(() => {});
});

// How many requests each node logged for `action` (its access log lines).
function perNode(server, action) {
  return server.nodes.map((n) => n.stderr.split(`action=${action} `).length - 1);
}

test('the rate limit of an account holds across the nodes', { skip: clusterSkip }, async () => {
  const server = await startServer({ config: { throttling: { enabled: true } } });
  cleanups.push(() => server.stop());
  const account = await server.createAccount('cluster-throttle');
  const cat = await setupCatalog(makeDriver('v3', server, account), { devices: 1 });
  await sleep(1100);
  const params = {
    ProductKey: cat.productKey, DeviceName: cat.devices[0].deviceName, FirmwareId: cat.firmwareId, CurrentPage: 1, PageSize: 10,
  };
  const before = perNode(server, 'ListOTAJobByDevice');
  const n = 20 * server.nodes.length;
  const started = Date.now();
  const replies = await Promise.all(Array.from({ length: n }, () => v1Request(server, account, 'ListOTAJobByDevice', params)));
  const elapsed = Date.now() - started;
  const ok = replies.filter((r) => r.status === 200 && r.json && r.json.Success === true).length;
  const throttled = replies.filter((r) => r.json && r.json.Code === 'Throttling.User').length;
  assert.equal(ok + throttled, n, 'every reply is a success or Throttling.User');
  const served = perNode(server, 'ListOTAJobByDevice').map((v, i) => v - before[i]);
  assert.ok(served.every((v) => v > 0), `nginx spreads the burst over every node: ${served}`);
  // 10 a second for the account: the burst, in `elapsed` ms, may get 10 plus what refills
  // meanwhile; per-node limits would have let up to 10 through on each node.
  const allowed = 10 + Math.ceil((elapsed / 1000) * 10);
  assert.ok(ok >= 10, `at least the burst of 10 passes (got ${ok})`);
  assert.ok(ok <= allowed, `at most ${allowed} of ${n} pass in ${elapsed} ms across ${server.nodes.length} nodes (got ${ok}; served ${served})`);
});

// A product with `n` devices at 1.0.0 and a 2.0.0 package for it.
async function fleet(stack, n) {
  const d = stack.driver;
  const productKey = await createProduct(d);
  const devices = (await registerDevices(d, productKey, n, { parallel: 32 })).map((x) => ({ ...x, version: '1.0.0' }));
  const fw = await uploadFirmware(d, productKey, { destVersion: '2.0.0', size: 16 * 1024 });
  return { productKey, devices, fw };
}

async function succeededCount(d, jobId) {
  const raw = await call(d, 'ListOTATaskByJob', { JobId: jobId, TaskStatus: 'SUCCEEDED', CurrentPage: 1, PageSize: 1 });
  return raw.Total;
}

// Every device has exactly one task in the batch and it SUCCEEDED; the batch is COMPLETED.
async function expectAllSucceededOnce(stack, f, jobId, timeoutMs) {
  const d = stack.driver;
  try {
    await waitFor(`all ${f.devices.length} tasks of ${jobId} to be SUCCEEDED`,
      async () => (await succeededCount(d, jobId)) === f.devices.length, { timeoutMs, intervalMs: 500 });
  } catch (e) {
    const { items } = await allTasks(d, jobId);
    const rest = items.filter((t) => t.TaskStatus !== 'SUCCEEDED')
      .map((t) => `${t.DeviceName} ${t.TaskStatus} ${t.Progress} ${t.TaskDesc || ''}`);
    e.message = `${rest.length} task(s) not SUCCEEDED:\n  ${rest.slice(0, 20).join('\n  ')}\n${e.message}\n${stack.diagnostics()}`;
    throw e;
  }
  const { items, total } = await allTasks(d, jobId);
  assert.equal(total, f.devices.length, 'one task per device');
  const names = new Set(items.map((t) => t.DeviceName));
  assert.equal(names.size, f.devices.length, 'no device has two tasks');
  for (const dev of f.devices) assert.ok(names.has(dev.deviceName), `${dev.deviceName} has a task`);
  assert.deepEqual(await taskCounts(d, jobId), {
    CONFIRM: 0, QUEUED: 0, NOTIFIED: 0, IN_PROGRESS: 0, SUCCEEDED: f.devices.length, FAILED: 0, CANCELED: 0,
  });
  await waitJob(d, jobId, 'COMPLETED');
}

// Devices stay online for the whole test (real devices do), so that an offer or a report lost
// with a dead node or database can be made again.
function devsimArgs(extra = []) {
  return ['--style', 'mix', '--duration', '600', '--progress-every', '50', '--log-level', 'warn',
    '--reconnect-ms', '500', ...extra];
}

async function stopDevsim(sim, devices) {
  const r = await sim.stop();
  assert.equal(r.code, 0, `otad-devsim exit code ${r.code}\n${r.stderr.slice(-3000)}`);
  assert.ok(r.summary.succeeded >= devices, `every device installed the package: ${JSON.stringify(r.summary)}`);
  return r.summary;
}

// Offers unanswered for 3 s are made again: a push or a report that died with a node.
const REOFFER = { mqtt: { reoffer_after_s: 3 } };

test('one node killed with SIGKILL mid-rollout: 1,000 devices still end SUCCEEDED exactly once', { skip: deviceSkip }, async () => {
  const DEVICES = 1000;
  const stack = await startDeviceStack({ config: REOFFER });
  cleanups.push(() => stack.stop());
  const f = await fleet(stack, DEVICES);
  const jobId = await staticJob(stack.driver, f.fw, { TargetSelection: 'ALL' });
  const sim = startDevsim(stack, f.devices, devsimArgs(['--connect-rate', '200', '--threads', '2']));
  cleanups.push(() => sim.stop());
  const before = await waitFor('a fifth of the devices to succeed', async () => {
    const n = await succeededCount(stack.driver, jobId);
    return n >= DEVICES / 5 ? n : false;
  }, { timeoutMs: 120000, intervalMs: 100 });
  assert.ok(before < DEVICES, `the kill must land mid-rollout (${before} of ${DEVICES} already done)`);
  // The last node: never the one that created the schema, so nothing depends on it.
  const victim = stack.server.nodes[stack.server.nodes.length - 1];
  victim.child.kill('SIGKILL');
  await new Promise((resolve) => {
    if (victim.child.exitCode !== null || victim.child.signalCode !== null) resolve();
    else victim.child.once('exit', resolve);
  });
  await expectAllSucceededOnce(stack, f, jobId, 180000);
  await stopDevsim(sim, DEVICES);
});

function postgresCtl(...args) {
  const script = path.resolve(__dirname, '..', '..', '..', 'scripts', 'postgres.sh');
  return new Promise((resolve, reject) => {
    execFile(script, args, { timeout: 60000 }, (err, stdout, stderr) => {
      if (err) {
        err.message += `\nstdout: ${stdout}\nstderr: ${stderr}`;
        reject(err);
      } else {
        resolve(stdout);
      }
    });
  });
}

test('PostgreSQL restarted mid-rollout: 503 while it is down, then the nodes go on by themselves', { skip: pgSkip }, async () => {
  const DEVICES = 300;
  const dir = process.env.OTAD_TEST_POSTGRES_DIR;
  const port = new URL(process.env.OTAD_TEST_POSTGRES).port;
  const stack = await startDeviceStack({ config: REOFFER });
  let pgDown = false;
  cleanups.push(async () => {
    if (pgDown) await postgresCtl('start', dir, port);
    await stack.stop();
  });
  const f = await fleet(stack, DEVICES);
  const jobId = await staticJob(stack.driver, f.fw, { TargetSelection: 'ALL' });
  const sim = startDevsim(stack, f.devices, devsimArgs(['--connect-rate', '100']));
  cleanups.push(() => sim.stop());
  await waitFor('some devices to succeed', async () => (await succeededCount(stack.driver, jobId)) >= 20,
    { timeoutMs: 60000, intervalMs: 100 });

  pgDown = true;
  await postgresCtl('stop', dir);
  // Every node answers, each with the gateway error of an unavailable service.
  const query = () => v1Request(stack.server, stack.account, 'QueryOTAJob', { JobId: jobId });
  for (let i = 0; i < stack.server.nodes.length * 2; i++) {
    const res = await query();
    assert.equal(res.status, 503, `HTTP status while the database is down: ${res.text}`);
    assert.equal(res.json && res.json.Code, 'ServiceUnavailable', res.text);
  }
  await sleep(2000);
  await postgresCtl('start', dir, port);
  pgDown = false;

  // No otad restart: the same processes answer again and finish the rollout.
  await waitFor('the API to answer again', async () => (await query()).status === 200,
    { timeoutMs: 30000, intervalMs: 250 });
  await expectAllSucceededOnce(stack, f, jobId, 120000);
  for (const n of stack.server.nodes) {
    assert.equal(n.child.exitCode, null, 'every node is still the process started before the outage');
  }
  await stopDevsim(sim, DEVICES);
});
