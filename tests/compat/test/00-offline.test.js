'use strict';
// Checks that need no otad binary: the reference signer against published test
// vectors, the XML reader, and what the SDK clients put on the wire when pointed
// at a throwaway local recorder.

const test = require('node:test');
const assert = require('node:assert/strict');
const http = require('node:http');

const { signV1, stringToSign, v3Signature, formDecode, buildSignedParams, encodeForm } = require('../lib/sign');
const { parseXml, child, children, textOf } = require('../lib/xml');
const { makeDriver } = require('../lib/clients');

const AK = 'LTAItestAccessKeyId01';
const SECRET = 'testAccessKeySecret01';
const COMMON = {
  AccessKeyId: AK,
  SignatureMethod: 'HMAC-SHA1',
  SignatureVersion: '1.0',
  SignatureNonce: 'e2c1a0f4b7d94c3e8a1f5b6c7d8e9f00',
  Timestamp: '2024-05-20T08:30:00Z',
  Version: '2018-01-20',
};
const PUB = {
  Action: 'Pub',
  DeviceName: 'device-01',
  IotInstanceId: 'iot-cn-fake01',
  MessageContent: 'aGVsbG8gd29ybGQ=',
  ProductKey: 'a1FakeProdKey',
  Qos: '0',
  TopicFullName: '/a1FakeProdKey/device-01/user/get',
  'UserProp.1.Key': 'trace id',
  'UserProp.1.Value': "x*y~z!(1)'",
};

test('V1 signer reproduces the published vectors', async (t) => {
  const nodeV2Pub = { ...COMMON, ...PUB, Format: 'json' };
  await t.test('Node v2 Pub, POST', () => {
    assert.equal(signV1('POST', nodeV2Pub, SECRET), 'Ojg0D8w19E+3LF3PfOiFjmzSBDM=');
    assert.ok(stringToSign('POST', nodeV2Pub).includes('UserProp.1.Key%3Dtrace%2520id%26UserProp.1.Value%3Dx%252Ay~z%2521%25281%2529%2527'));
  });
  await t.test('same parameters, GET: the method is signed', () => {
    assert.equal(signV1('GET', nodeV2Pub, SECRET), '8sKDDao+k9aDGfDi95YsosShrv4=');
  });
  await t.test('Signature itself is excluded from the signed set', () => {
    assert.equal(signV1('POST', { ...nodeV2Pub, Signature: 'whatever' }, SECRET), 'Ojg0D8w19E+3LF3PfOiFjmzSBDM=');
  });
  await t.test('pop-core Pub, everything in the body', () => {
    assert.equal(signV1('POST', { ...COMMON, ...PUB, Format: 'JSON' }, SECRET), 'ZEf1G1WliYlzVeMcU7px08a6Aek=');
  });
  await t.test('Go/CLI style Pub with RegionId and empty SignatureType', () => {
    assert.equal(signV1('POST', { ...COMMON, ...PUB, Format: 'JSON', RegionId: 'cn-shanghai', SignatureType: '' }, SECRET), 'vHd35dXPkQiO3nOVNmkoCoD1RZQ=');
  });
  const qdd = { ...COMMON, Action: 'QueryDeviceDetail', ProductKey: 'a1FakeProdKey', DeviceName: 'device-01' };
  await t.test('pop-core QueryDeviceDetail, GET', () => {
    assert.equal(signV1('GET', { ...qdd, Format: 'JSON' }, SECRET), 'NnJpRuAgwQespMDwSIstoTOG3xw=');
  });
  await t.test('Node v2 QueryDeviceDetail, POST without body', () => {
    assert.equal(signV1('POST', { ...qdd, Format: 'json' }, SECRET), 'r9/x8WnfwvC9lHJ8lOGn3xKqTzE=');
  });
  await t.test('Node v2 QueryDeviceDetail with a UTF-8 device name', () => {
    const p = { ...qdd, Format: 'json', DeviceName: '温度计 01' };
    assert.equal(signV1('POST', p, SECRET), 'A3X68rSh7sDr3WNXgFLZGAazS8U=');
    assert.ok(stringToSign('POST', p).includes('DeviceName%3D%25E6%25B8%25A9%25E5%25BA%25A6%25E8%25AE%25A1%252001'));
  });
  await t.test('Node v2 QueryDeviceDetail with an STS token', () => {
    assert.equal(signV1('POST', { ...qdd, Format: 'json', SecurityToken: 'FakeStsToken/+=' }, SECRET), 'vis8ZE+eHFwzlQ/2Dg40EXBgGnw=');
  });
  await t.test('Node v2 CreateOTAStaticUpgradeJob with repeat lists', () => {
    const p = {
      ...COMMON, Format: 'json', Action: 'CreateOTAStaticUpgradeJob', FirmwareId: 'fw-001', ProductKey: 'a1FakeProdKey',
      TargetSelection: 'SPECIFIC', 'TargetDeviceName.1': 'device-01', 'TargetDeviceName.2': 'device-02',
      'Tag.1.Key': 'env', 'Tag.1.Value': 'prod', 'Tag.2.Key': 'k2', 'Tag.2.Value': 'v 2',
    };
    assert.equal(signV1('POST', p, SECRET), 'X/1+5emBWSPPaP4d2hrllGrrRxE=');
  });
});

test('V3 reference verifier reproduces the published vectors', async (t) => {
  await t.test('Pub with a form body', () => {
    const signedHeaders = 'content-type;host;x-acs-action;x-acs-content-sha256;x-acs-credentials-provider;x-acs-date;x-acs-signature-nonce;x-acs-version';
    const r = v3Signature({
      method: 'POST',
      target: "/?DeviceName=device-01&IotInstanceId=iot-cn-fake01&ProductKey=a1FakeProdKey&Qos=0&TopicFullName=%2Fa1FakeProdKey%2Fdevice-01%2Fuser%2Fget&UserProp.1.Key=trace%20id&UserProp.1.Value=x*y~z!(1)%27",
      headers: {
        host: '127.0.0.1:18080',
        'x-acs-version': '2018-01-20',
        'x-acs-action': 'Pub',
        'x-acs-date': '2024-05-20T08:30:00Z',
        'x-acs-signature-nonce': 'e2c1a0f4b7d94c3e8a1f5b6c7d8e9f00',
        'content-type': 'application/x-www-form-urlencoded',
        'x-acs-content-sha256': '6f8fa19ad9d28b5de468addb599cdd298a11d7c16a086fc752636406773ccd2b',
        'x-acs-credentials-provider': 'static_ak',
      },
      body: Buffer.from('MessageContent=aGVsbG8gd29ybGQ%3D'),
      secret: SECRET,
      signedHeaders,
    });
    assert.equal(r.payloadHash, '6f8fa19ad9d28b5de468addb599cdd298a11d7c16a086fc752636406773ccd2b');
    assert.equal(r.signature, '76e8083158f1de369973810751c9b1141b10cceceb581981a97a6c20daad72c2');
  });
  await t.test('QueryDeviceDetail without a body', () => {
    const r = v3Signature({
      method: 'POST',
      target: '/?DeviceName=device-01&ProductKey=a1FakeProdKey',
      headers: {
        host: '127.0.0.1:18080',
        'x-acs-version': '2018-01-20',
        'x-acs-action': 'QueryDeviceDetail',
        'x-acs-date': '2024-05-20T08:30:00Z',
        'x-acs-signature-nonce': 'e2c1a0f4b7d94c3e8a1f5b6c7d8e9f00',
        'x-acs-content-sha256': 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
        'x-acs-credentials-provider': 'static_ak',
      },
      body: Buffer.alloc(0),
      secret: SECRET,
      signedHeaders: 'host;x-acs-action;x-acs-content-sha256;x-acs-credentials-provider;x-acs-date;x-acs-signature-nonce;x-acs-version',
    });
    assert.equal(r.signature, '697846d6293a8acfa1df9b2855cf0e4ab56cf1bdb71dbe3682a3047f18e35242');
  });
});

test('XML reader', () => {
  const doc = parseXml('<?xml version="1.0" encoding="UTF-8"?><R><A>1 &amp; 2</A><Data/><L><I><K>x</K></I><I><K>y</K></I></L></R>');
  assert.equal(doc.declaration, '<?xml version="1.0" encoding="UTF-8"?>');
  assert.equal(doc.root.name, 'R');
  assert.equal(textOf(doc.root, 'A'), '1 & 2');
  assert.equal(child(doc.root, 'Data').children.length, 0);
  assert.deepEqual(children(child(doc.root, 'L'), 'I').map((n) => textOf(n, 'K')), ['x', 'y']);
  assert.throws(() => parseXml('<R><A></R>'));
  assert.throws(() => parseXml('<R/><S/>'));
});

// A local recorder that answers every request with a minimal success body.
async function startRecorder() {
  const requests = [];
  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      requests.push({ method: req.method, url: req.url, headers: req.headers, body: Buffer.concat(chunks) });
      const body = JSON.stringify({ RequestId: '3F5C1E7B-2A4D-4C8E-9B1F-0D6A7E8C9B10', Success: true, Data: { JobId: 'j1', UtcCreate: '2024-05-20T08:30:00.000Z' } });
      res.writeHead(200, { 'content-type': 'application/json;charset=utf-8', 'x-acs-request-id': '3F5C1E7B-2A4D-4C8E-9B1F-0D6A7E8C9B10' });
      res.end(body);
    });
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address();
  return {
    requests,
    server: { url: `http://127.0.0.1:${port}`, endpoint: `127.0.0.1:${port}` },
    close: () => new Promise((r) => { server.closeAllConnections(); server.close(r); }),
  };
}

function decodeParams(text) {
  const out = {};
  if (!text) return out;
  for (const item of text.split('&')) {
    const i = item.indexOf('=');
    if (i < 0) out[formDecode(item)] = '';
    else out[formDecode(item.slice(0, i))] = formDecode(item.slice(i + 1));
  }
  return out;
}

test('SDK clients put the expected request on the wire and our signer agrees with theirs', async (t) => {
  const rec = await startRecorder();
  t.after(() => rec.close());
  const account = { AccessKeyId: AK, AccessKeySecret: SECRET };
  const params = {
    FirmwareId: 'fw-001',
    ProductKey: 'a1FakeProdKey',
    TargetSelection: 'SPECIFIC',
    TargetDeviceName: ['device-01', 'device-02'],
    Tag: [{ Key: 'env', Value: 'prod' }, { Key: 'k2', Value: "v 2*!'()~" }],
    ScheduleTime: 1900000000000,
    NeedPush: false,
  };
  const expectBusiness = {
    FirmwareId: 'fw-001', ProductKey: 'a1FakeProdKey', TargetSelection: 'SPECIFIC',
    'TargetDeviceName.1': 'device-01', 'TargetDeviceName.2': 'device-02',
    'Tag.1.Key': 'env', 'Tag.1.Value': 'prod', 'Tag.2.Key': 'k2', 'Tag.2.Value': "v 2*!'()~",
    ScheduleTime: '1900000000000', NeedPush: 'false',
  };

  await t.test('IoT SDK default (V3)', async () => {
    const d = makeDriver('v3', rec.server, account);
    const r = await d.call('CreateOTAStaticUpgradeJob', params);
    assert.equal(r.model.body.data.jobId, 'j1');
    const req = rec.requests.at(-1);
    assert.equal(req.method, 'POST');
    assert.equal(req.headers['x-acs-action'], 'CreateOTAStaticUpgradeJob');
    assert.equal(req.headers['x-acs-version'], '2018-01-20');
    const m = /^ACS3-HMAC-SHA256 Credential=([^,]+),SignedHeaders=([^,]+),Signature=([0-9a-f]{64})$/.exec(req.headers.authorization);
    assert.ok(m, `Authorization: ${req.headers.authorization}`);
    assert.equal(m[1], AK);
    const query = decodeParams(req.url.split('?')[1]);
    assert.deepEqual(query, expectBusiness);
    const mine = v3Signature({ method: req.method, target: req.url, headers: req.headers, body: req.body, secret: SECRET, signedHeaders: m[2] });
    assert.equal(mine.payloadHash, req.headers['x-acs-content-sha256']);
    assert.equal(mine.signature, m[3]);
  });

  const checkV1 = (req, expectedMethod, formatValue) => {
    assert.equal(req.method, expectedMethod);
    const merged = { ...decodeParams(req.url.split('?')[1]), ...decodeParams(req.body.toString()) };
    assert.equal(merged.Action, 'CreateOTAStaticUpgradeJob');
    assert.equal(merged.Format, formatValue);
    for (const [k, v] of Object.entries(expectBusiness)) assert.equal(merged[k], v, k);
    assert.equal(signV1(req.method, merged, SECRET), merged.Signature, 'reference signer agrees with the client');
    return merged;
  };

  await t.test('IoT SDK with signatureAlgorithm v2 (V1)', async () => {
    const d = makeDriver('v2', rec.server, account);
    await d.call('CreateOTAStaticUpgradeJob', params);
    checkV1(rec.requests.at(-1), 'POST', 'json');
  });
  await t.test('pop-core GET', async () => {
    const d = makeDriver('pop', rec.server, account);
    const r = await d.call('CreateOTAStaticUpgradeJob', params);
    assert.equal(r.raw.Data.JobId, 'j1');
    const req = rec.requests.at(-1);
    assert.equal(req.body.length, 0);
    checkV1(req, 'GET', 'JSON');
  });
  await t.test('pop-core POST', async () => {
    const d = makeDriver('popPost', rec.server, account);
    await d.call('CreateOTAStaticUpgradeJob', params);
    const req = rec.requests.at(-1);
    assert.equal(req.url, '/');
    checkV1(req, 'POST', 'JSON');
  });
  await t.test('reference V1 client (GET and POST)', async () => {
    await makeDriver('raw', rec.server, account).call('CreateOTAStaticUpgradeJob', params);
    checkV1(rec.requests.at(-1), 'GET', 'JSON');
    await makeDriver('rawPost', rec.server, account).call('CreateOTAStaticUpgradeJob', params);
    checkV1(rec.requests.at(-1), 'POST', 'JSON');
  });
  await t.test('reference V1 request with a fixed timestamp and nonce', () => {
    const s = buildSignedParams('QueryDeviceDetail', { ProductKey: 'a1FakeProdKey', DeviceName: 'device-01' }, {
      accessKeyId: AK, accessKeySecret: SECRET, method: 'GET', format: 'JSON',
      timestamp: '2024-05-20T08:30:00Z', nonce: 'e2c1a0f4b7d94c3e8a1f5b6c7d8e9f00',
    });
    assert.equal(s.params.Signature, 'NnJpRuAgwQespMDwSIstoTOG3xw=');
    assert.ok(encodeForm(s.params).includes('Signature=NnJpRuAgwQespMDwSIstoTOG3xw%3D'));
  });
});
