'use strict';
// Per-account, per-action rate limits with the documented defaults, and the
// configuration switches that relax them.

const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');

const { startServer } = require('../lib/server');
const { makeDriver } = require('../lib/clients');
const { assertSuccess, assertGatewayBody, headerOf } = require('../lib/checks');
const { setupCatalog } = require('../lib/fixtures');
const { v1Request } = require('../lib/http');

const BURST = 30;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

let server; // default limits
let A;
let B;
let catA;
let catB;

before(async () => {
  server = await startServer();
  A = await server.createAccount('throttleA');
  B = await server.createAccount('throttleB');
  catA = await setupCatalog(makeDriver('v3', server, A), { devices: 1 });
  catB = await setupCatalog(makeDriver('v3', server, B), { devices: 1 });
  await sleep(1100); // let the setup calls age out of any window
});

after(async () => {
  if (server) await server.stop();
});

function listParams(cat) {
  return { ProductKey: cat.productKey, DeviceName: cat.devices[0].deviceName, FirmwareId: cat.firmwareId, CurrentPage: 1, PageSize: 10 };
}

// Fire `n` signed requests at once with our own V1 client and sort the replies.
async function burst(srv, account, cat, n = BURST) {
  const started = Date.now();
  const replies = await Promise.all(Array.from({ length: n }, () => v1Request(srv, account, 'ListOTAJobByDevice', listParams(cat))));
  const elapsed = Date.now() - started;
  const ok = replies.filter((r) => r.status === 200 && r.json && r.json.Success === true);
  const throttled = replies.filter((r) => r.json && r.json.Code === 'Throttling.User');
  const other = replies.filter((r) => !ok.includes(r) && !throttled.includes(r));
  return { replies, ok, throttled, other, elapsed };
}

test('default limit of ListOTAJobByDevice (10/s) throttles a burst of 30', async (t) => {
  const r = await burst(server, A, catA);
  assert.deepEqual(r.other.map((x) => `${x.status} ${x.text}`), [], 'every reply is a success or Throttling.User');
  assert.ok(r.elapsed < 1000, `burst must fit in one second to be meaningful (took ${r.elapsed} ms)`);
  assert.ok(r.throttled.length >= 1, `at least one Throttling.User expected, got ${r.ok.length} successes`);
  assert.ok(r.ok.length >= 10, `at least 10 successes expected, got ${r.ok.length}`);
  assert.ok(r.ok.length <= 20, `the limit must actually bite (got ${r.ok.length} successes of ${BURST})`);
  for (const x of r.throttled) {
    assert.equal(x.status, 400);
    assertGatewayBody(x.json, 'Throttling.User', 'throttled');
    assert.equal(x.json.Message, 'Request was denied due to user flow control.');
    const after = headerOf(x.headers, 'x-acs-retry-after');
    assert.ok(after !== undefined, 'x-acs-retry-after header present');
    assert.match(String(after), /^\d+$/, 'x-acs-retry-after is integer milliseconds');
    assert.equal(headerOf(x.headers, 'x-acs-request-id'), x.json.RequestId);
  }

  await t.test('another account is not affected', async () => {
    const res = await makeDriver('v3', server, B).call('ListOTAJobByDevice', listParams(catB));
    assertSuccess(res, 'account B during A\'s throttling');
  });
  await t.test('another action of the same account is not affected', async () => {
    const res = await makeDriver('v3', server, A).call('QueryProduct', { ProductKey: catA.productKey });
    assertSuccess(res, 'QueryProduct during throttling of ListOTAJobByDevice');
  });
  await t.test('the account recovers after waiting', async () => {
    await sleep(1500);
    const res = await makeDriver('v3', server, A).call('ListOTAJobByDevice', listParams(catA));
    assertSuccess(res, 'after the window');
  });
});

test('the SDKs see Throttling.User as a 400 error', async () => {
  await sleep(1200);
  const d = makeDriver('v3', server, A);
  const outcomes = await Promise.allSettled(Array.from({ length: BURST }, () => d.call('ListOTAJobByDevice', listParams(catA))));
  const rejected = outcomes.filter((o) => o.status === 'rejected').map((o) => o.reason);
  const fulfilled = outcomes.filter((o) => o.status === 'fulfilled');
  assert.ok(fulfilled.length >= 10, `at least 10 successes, got ${fulfilled.length}`);
  assert.ok(rejected.length >= 1, 'at least one throttled call');
  for (const err of rejected) {
    assert.equal(err.code, 'Throttling.User', `unexpected error ${err.message}`);
    assert.equal(err.statusCode, 400);
    assert.equal(err.original.statusCode, 400, 'the SDK error itself carries statusCode 400');
  }
  await sleep(1200);
  const pop = makeDriver('pop', server, A).client;
  const popOutcomes = await Promise.allSettled(Array.from({ length: BURST }, () => pop.request('ListOTAJobByDevice', listParams(catA))));
  const popRejected = popOutcomes.filter((o) => o.status === 'rejected').map((o) => o.reason);
  assert.ok(popRejected.length >= 1, 'pop-core: at least one throttled call');
  for (const err of popRejected) {
    assert.equal(err.code, 'Throttling.User');
    assert.ok(headerOf(err.entry.response.headers, 'x-acs-retry-after') !== undefined, 'x-acs-retry-after visible to pop-core');
  }
});

test('configured limit 0 means unlimited for that action', async (t) => {
  const srv = await startServer({ config: { throttling: { enabled: true, actions: { ListOTAJobByDevice: 0 } } } });
  t.after(() => srv.stop());
  const acct = await srv.createAccount('unlimited');
  const cat = await setupCatalog(makeDriver('v3', srv, acct), { devices: 1 });
  const r = await burst(srv, acct, cat);
  assert.equal(r.ok.length, BURST, `all ${BURST} calls succeed: ${r.other.map((x) => x.text).concat(r.throttled.map((x) => x.text)).slice(0, 2)}`);
});

test('a raised limit lets the burst through; enabled:false turns throttling off', async (t) => {
  for (const config of [
    { throttling: { enabled: true, actions: { ListOTAJobByDevice: 1000 } } },
    { throttling: { enabled: false } },
  ]) {
    const srv = await startServer({ config });
    try {
      const acct = await srv.createAccount('relaxed');
      const cat = await setupCatalog(makeDriver('v3', srv, acct), { devices: 1 });
      const r = await burst(srv, acct, cat);
      assert.equal(r.ok.length, BURST, `${JSON.stringify(config)}: all calls succeed`);
    } finally {
      await srv.stop();
    }
  }
});

test('a configured low limit is enforced', async (t) => {
  const srv = await startServer({ config: { throttling: { enabled: true, actions: { QueryProduct: 2 } } } });
  t.after(() => srv.stop());
  const acct = await srv.createAccount('strict');
  const cat = await setupCatalog(makeDriver('v3', srv, acct), { devices: 1 });
  await sleep(1100);
  const replies = await Promise.all(Array.from({ length: 8 }, () => v1Request(srv, acct, 'QueryProduct', { ProductKey: cat.productKey })));
  const ok = replies.filter((x) => x.status === 200).length;
  const throttled = replies.filter((x) => x.json && x.json.Code === 'Throttling.User').length;
  assert.equal(ok + throttled, 8);
  assert.ok(ok >= 1 && ok <= 4, `about 2 of 8 succeed with a limit of 2/s, got ${ok}`);
});
