'use strict';
// Authentication and routing failures: wrong secret, unknown key, STS tokens,
// replayed nonces, skewed clocks, unknown actions and versions.

const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');

const { startServer } = require('../lib/server');
const { Iot, Config, makeDriver, iotClient } = require('../lib/clients');
const { expectGateway, assertSuccess, assertGatewayBody, headerOf } = require('../lib/checks');
const { setupCatalog, NO_THROTTLING } = require('../lib/fixtures');
const { v1Request, rawRequest } = require('../lib/http');
const { stringToSign, formatTimestamp, randomNonce, v3Signature } = require('../lib/sign');
const { startRecordingProxy, sendRaw } = require('../lib/proxy');
const { Params, OpenApiRequest } = require('@alicloud/openapi-client');

const SIG_PREFIX = 'Specified signature is not matched with our calculation. server string to sign is:';

let server;
let account;
let cat;

before(async () => {
  server = await startServer({ config: NO_THROTTLING });
  account = await server.createAccount('auth');
  cat = await setupCatalog(makeDriver('v3', server, account), { devices: 1 });
});

after(async () => {
  if (server) await server.stop();
});

const query = () => ({ ProductKey: cat.productKey });

test('wrong secret', async (t) => {
  const wrong = { ...account, AccessKeySecret: `${account.AccessKeySecret}x` };
  for (const flavour of ['v3', 'v2', 'pop', 'popPost']) {
    await t.test(flavour, async () => {
      const err = await expectGateway(makeDriver(flavour, server, wrong).call('QueryProduct', query()), 'SignatureDoesNotMatch', 400, flavour);
      if (flavour !== 'v3') assert.ok(err.body.Message.startsWith(SIG_PREFIX), `V1 Message: ${err.body.Message}`);
    });
  }
  await t.test('raw V1: the echoed string to sign is exactly the one we signed', async () => {
    for (const method of ['GET', 'POST']) {
      const res = await v1Request(server, account, 'QueryProduct', query(), { method, accessKeySecret: 'not-the-secret' });
      assert.equal(res.status, 400);
      assertGatewayBody(res.json, 'SignatureDoesNotMatch', `raw ${method}`);
      assert.equal(res.json.Message, SIG_PREFIX + stringToSign(method, res.sent));
    }
  });
  await t.test('raw V1: a tampered parameter after signing', async () => {
    const { buildSignedParams, encodeForm } = require('../lib/sign');
    const s = buildSignedParams('QueryProduct', query(), { accessKeyId: account.AccessKeyId, accessKeySecret: account.AccessKeySecret });
    s.params.ProductKey = `${s.params.ProductKey}X`;
    const res = await rawRequest(server.url, { path: `/?${encodeForm(s.params)}` });
    assert.equal(res.status, 400);
    assertGatewayBody(res.json, 'SignatureDoesNotMatch', 'tampered');
  });
});

test('unknown AccessKeyId', async () => {
  const ghost = { AccessKeyId: 'LTAI5tNoSuchKeyAtAll00', AccessKeySecret: 'whatever-secret' };
  for (const flavour of ['v3', 'v2', 'pop', 'popPost', 'raw']) {
    await expectGateway(makeDriver(flavour, server, ghost).call('QueryProduct', query()), 'InvalidAccessKeyId.NotFound', 404, flavour);
  }
});

test('STS security tokens are not supported', async () => {
  for (const flavour of ['v3', 'v2', 'pop']) {
    await expectGateway(makeDriver(flavour, server, account, { securityToken: 'FakeStsToken/+=' }).call('QueryProduct', query()),
      'InvalidSecurityToken.NotSupported', 400, flavour);
  }
  await expectGateway(makeDriver('raw', server, account, { securityToken: 'FakeStsToken/+=' }).call('QueryProduct', query()),
    'InvalidSecurityToken.NotSupported', 400, 'raw');
});

test('unknown Action', async () => {
  const raw = await v1Request(server, account, 'NoSuchAction', {});
  assert.equal(raw.status, 404);
  assertGatewayBody(raw.json, 'InvalidAction.NotFound', 'raw');
  await expectGateway(makeDriver('pop', server, account).call('NoSuchAction', {}), 'InvalidAction.NotFound', 404, 'pop');
  // The V3 path routes on the signed x-acs-action header.
  const client = iotClient(server, account);
  const params = new Params({
    action: 'NoSuchAction', version: '2018-01-20', protocol: 'HTTP', pathname: '/', method: 'POST',
    authType: 'AK', style: 'RPC', reqBodyType: 'formData', bodyType: 'json',
  });
  await assert.rejects(client.callApi(params, new OpenApiRequest({ query: {} }), {}), (err) => {
    assert.equal(err.code, 'InvalidAction.NotFound');
    assert.equal(err.statusCode, 404);
    return true;
  });
});

test('wrong Version', async () => {
  const raw = await v1Request(server, account, 'QueryProduct', query(), { version: '2017-04-20' });
  assert.equal(raw.status, 400);
  assertGatewayBody(raw.json, 'InvalidVersion', 'raw');
  await expectGateway(makeDriver('pop', server, account, { apiVersion: '2017-04-20' }).call('QueryProduct', query()), 'InvalidVersion', 400, 'pop');
  const client = iotClient(server, account);
  const params = new Params({
    action: 'QueryProduct', version: '2017-04-20', protocol: 'HTTP', pathname: '/', method: 'POST',
    authType: 'AK', style: 'RPC', reqBodyType: 'formData', bodyType: 'json',
  });
  await assert.rejects(client.callApi(params, new OpenApiRequest({ query: query() }), {}), (err) => {
    assert.equal(err.code, 'InvalidVersion');
    assert.equal(err.statusCode, 400);
    return true;
  });
});

// A hand-built V3 request with a chosen x-acs-date.
async function v3Request(action, params, date, nonce = randomNonce()) {
  const q = Object.entries(params).map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join('&');
  const target = q ? `/?${q}` : '/';
  const headers = {
    host: server.endpoint,
    'x-acs-action': action,
    'x-acs-version': '2018-01-20',
    'x-acs-date': date,
    'x-acs-signature-nonce': nonce,
    'x-acs-content-sha256': crypto.createHash('sha256').update('').digest('hex'),
  };
  const signedHeaders = Object.keys(headers).sort().join(';');
  const { signature } = v3Signature({ method: 'POST', target, headers, body: Buffer.alloc(0), secret: account.AccessKeySecret, signedHeaders });
  headers.authorization = `ACS3-HMAC-SHA256 Credential=${account.AccessKeyId},SignedHeaders=${signedHeaders},Signature=${signature}`;
  headers['content-length'] = 0;
  return rawRequest(server.url, { method: 'POST', path: target, headers });
}

test('clock skew', async (t) => {
  const minutes = (m) => new Date(Date.now() + m * 60 * 1000);
  await t.test('V1: 20 minutes in the past or future is expired', async () => {
    for (const m of [-20, 20]) {
      const res = await v1Request(server, account, 'QueryProduct', query(), { timestamp: minutes(m) });
      assert.equal(res.status, 400, `skew ${m} min: ${res.text}`);
      assertGatewayBody(res.json, 'InvalidTimeStamp.Expired', `V1 skew ${m}`);
    }
  });
  await t.test('V1: 10 minutes off is still accepted', async () => {
    for (const m of [-10, 10]) {
      const res = await v1Request(server, account, 'QueryProduct', query(), { timestamp: minutes(m) });
      assert.equal(res.status, 200, `skew ${m} min: ${res.text}`);
      assert.equal(res.json.Success, true);
    }
  });
  await t.test('V3: our own V3 request is accepted with the current time', async () => {
    const res = await v3Request('QueryProduct', query(), formatTimestamp(new Date()));
    assert.equal(res.status, 200, res.text);
    assert.equal(res.json.Data.ProductKey, cat.productKey);
  });
  await t.test('V3: 20 minutes in the past is expired', async () => {
    const res = await v3Request('QueryProduct', query(), formatTimestamp(minutes(-20)));
    assert.equal(res.status, 400, res.text);
    assertGatewayBody(res.json, 'InvalidTimeStamp.Expired', 'V3 skew');
  });
});

test('replayed requests are refused', async (t) => {
  const capture = async (flavour) => {
    const proxy = await startRecordingProxy(server.host, server.port);
    try {
      const d = makeDriver(flavour, { url: proxy.url, endpoint: proxy.endpoint }, account);
      const first = await d.call('QueryProduct', query());
      assertSuccess(first, `${flavour} through the recording proxy`);
      assert.equal(proxy.connections.length, 1, 'one connection recorded');
      return proxy.bytes(0);
    } finally {
      await proxy.close();
    }
  };
  for (const flavour of ['v3', 'v2', 'pop', 'popPost']) {
    await t.test(flavour, async () => {
      const bytes = await capture(flavour);
      const again = await sendRaw(server.host, server.port, bytes);
      assert.equal(again.status, 400, `replayed ${flavour} request: ${again.text}`);
      assertGatewayBody(again.json, 'SignatureNonceUsed', `replayed ${flavour}`);
      assert.equal(headerOf(again.headers, 'x-acs-request-id'), again.json.RequestId);
    });
  }
  await t.test('raw V1: same nonce on a new, correctly signed request', async () => {
    const nonce = randomNonce();
    const first = await v1Request(server, account, 'QueryProduct', query(), { nonce });
    assert.equal(first.status, 200, first.text);
    const second = await v1Request(server, account, 'QueryProduct', query(), { nonce, method: 'POST' });
    assert.equal(second.status, 400, second.text);
    assertGatewayBody(second.json, 'SignatureNonceUsed', 'nonce reuse');
  });
  await t.test('a request with a bad signature does not burn its nonce', async () => {
    const nonce = randomNonce();
    const bad = await v1Request(server, account, 'QueryProduct', query(), { nonce, accessKeySecret: 'wrong' });
    assert.equal(bad.status, 400);
    assert.equal(bad.json.Code, 'SignatureDoesNotMatch');
    const good = await v1Request(server, account, 'QueryProduct', query(), { nonce });
    assert.equal(good.status, 200, good.text);
  });
});

test('the Node SDK sees auth failures as thrown errors with statusCode', async () => {
  const client = new Iot.default(new Config({
    accessKeyId: account.AccessKeyId, accessKeySecret: 'definitely-wrong', endpoint: server.endpoint, protocol: 'http',
  }));
  await assert.rejects(client.queryProduct(new Iot.QueryProductRequest({ productKey: cat.productKey })), (err) => {
    assert.equal(err.code, 'SignatureDoesNotMatch');
    assert.equal(err.statusCode, 400);
    assert.match(err.data.RequestId, /^[0-9A-F-]{36}$/);
    return true;
  });
});
