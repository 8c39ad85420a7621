'use strict';
// Several otad nodes behind nginx, on one PostgreSQL database, one Redis and one Mosquitto
// (cluster mode of the suite: OTAD_TEST_CLUSTER=N, see lib/cluster.js):
//   - the per-account rate limit holds for the whole cluster, not per node;
//   - one node killed with SIGKILL in the middle of a 1,000-device rollout: the rollout
//     completes through the other nodes, every device with exactly one SUCCEEDED task;
//   - PostgreSQL restarted in the middle of a rollout: the API answers 503 while it is down,
//     and the nodes go on by themselves once it is back (no otad restart), losing no report;
//   - the node that follows device presence killed with SIGKILL: another takes over when its
//     lease ends, and presence is right again, logins and disconnections made meanwhile too.
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
  devsimSkipReason, deviceSkipReason, startDeviceStack, staticJob, startDevsim, waitFor, sleep,
  createProduct, registerDevices, connectDevice, waitDeviceSeen,
} = require('../lib/devices');
const {
  fleet, succeededCount, expectAllSucceededOnce, onlineArgs, stopOnline,
} = require('../lib/rollout');
const { exitOf } = require('../lib/processes');

const clusterSkip = inCluster() ? false : 'cluster mode only (OTAD_TEST_CLUSTER=N with N >= 2)';
const deviceSkip = clusterSkip || devsimSkipReason();
const sdkSkip = clusterSkip || deviceSkipReason();
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
  await sleep(300); // access lines reach stderr within 100 ms of the request
  const served = perNode(server, 'ListOTAJobByDevice').map((v, i) => v - before[i]);
  assert.ok(served.every((v) => v > 0), `nginx spreads the burst over every node: ${served}`);
  // 10 a second for the account: the burst, in `elapsed` ms, may get 10 plus what refills
  // meanwhile; per-node limits would have let up to 10 through on each node.
  const allowed = 10 + Math.ceil((elapsed / 1000) * 10);
  assert.ok(ok >= 10, `at least the burst of 10 passes (got ${ok})`);
  assert.ok(ok <= allowed, `at most ${allowed} of ${n} pass in ${elapsed} ms across ${server.nodes.length} nodes (got ${ok}; served ${served})`);
});

// Offers unanswered for 3 s are made again: a push or a report that died with a node.
const REOFFER = { mqtt: { reoffer_after_s: 3 } };

test('one node killed with SIGKILL mid-rollout: 1,000 devices still end SUCCEEDED exactly once', { skip: deviceSkip }, async () => {
  const DEVICES = 1000;
  const stack = await startDeviceStack({ config: REOFFER });
  cleanups.push(() => stack.stop());
  const f = await fleet(stack, DEVICES, { size: 16 * 1024, parallel: 32 });
  const jobId = await staticJob(stack.driver, f.fw, { TargetSelection: 'ALL' });
  const sim = startDevsim(stack, f.devices, onlineArgs(['--reconnect-ms', '500', '--connect-rate', '200', '--threads', '2']));
  cleanups.push(() => sim.stop());
  const before = await waitFor('a fifth of the devices to succeed', async () => {
    const n = await succeededCount(stack.driver, jobId);
    return n >= DEVICES / 5 ? n : false;
  }, { timeoutMs: 120000, intervalMs: 100 });
  assert.ok(before < DEVICES, `the kill must land mid-rollout (${before} of ${DEVICES} already done)`);
  // The last node: never the one that created the schema, so nothing depends on it.
  const victim = stack.server.nodes[stack.server.nodes.length - 1];
  victim.child.kill('SIGKILL');
  await exitOf(victim.child);
  await expectAllSucceededOnce(stack, f, jobId, 180000);
  await stopOnline(sim, DEVICES);
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
  const f = await fleet(stack, DEVICES, { size: 16 * 1024, parallel: 32 });
  const jobId = await staticJob(stack.driver, f.fw, { TargetSelection: 'ALL' });
  const sim = startDevsim(stack, f.devices, onlineArgs(['--reconnect-ms', '500', '--connect-rate', '100']));
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
  await stopOnline(sim, DEVICES);
});

const FOLLOWS = 'this node follows device presence';

test('the node that follows presence killed: another takes over and presence is right again', { skip: sdkSkip }, async () => {
  const stack = await startDeviceStack();
  const devices = [];
  cleanups.push(async () => {
    for (const dev of devices) await dev.close().catch(() => {});
    await stack.stop();
  });
  const followers = () => stack.server.nodes.filter((n) => n.child.exitCode === null && n.child.signalCode === null && n.stderr.includes(FOLLOWS));
  const [follower] = await waitFor('a node to follow presence', () => {
    const f = followers();
    return f.length > 0 ? f : false;
  }, { timeoutMs: 10000 });
  assert.equal(followers().length, 1, 'exactly one node follows presence');
  const pk = await createProduct(stack.driver);
  const [stays, leaves, arrives] = await registerDevices(stack.driver, pk, 3);
  for (const t of [stays, leaves]) {
    const dev = await connectDevice(stack, t);
    devices.push(dev);
    await waitDeviceSeen(stack.driver, t, { status: 'ONLINE' });
  }

  follower.child.kill('SIGKILL');
  await exitOf(follower.child);
  // While no node follows presence: one device leaves, another logs in.
  await devices[1].close();
  devices.push(await connectDevice(stack, arrives));

  // Another node takes the lease once the dead node's term ends (15 s), resets presence and
  // learns from the broker's retained presence who is connected.
  await waitFor('another node to follow presence', () => followers().length === 1, { timeoutMs: 40000, intervalMs: 200 });
  await waitDeviceSeen(stack.driver, leaves, { status: 'OFFLINE', timeoutMs: 20000 });
  await waitDeviceSeen(stack.driver, arrives, { status: 'ONLINE', timeoutMs: 20000 });
  await waitDeviceSeen(stack.driver, stays, { status: 'ONLINE', timeoutMs: 20000 });
  // And it follows what happens from then on.
  await devices[0].close();
  await waitDeviceSeen(stack.driver, stays, { status: 'OFFLINE', timeoutMs: 20000 });
});
