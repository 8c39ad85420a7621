'use strict';
// Files end to end: GenerateOTAUploadURL and GenerateDeviceNameListURL forms,
// OSS PostObject uploads to the form's Host, CreateOTAFirmware on uploaded files
// (single- and multi-file, declared size/sign checked against the upload),
// QueryOTAFirmware, device downloads by signed URL with ranges, static batches
// from a device-list file, and another tenant's file URLs answering like
// nonexistent ones.

const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');

const { startServer } = require('../lib/server');
const { Iot, makeDriver, FLAVOURS } = require('../lib/clients');
const {
  assertSuccess, assertBusinessError, assertTypes, assertRecent, randomLike, normalizeReply,
} = require('../lib/checks');
const { createProduct, registerDevice, createFirmware, NO_THROTTLING } = require('../lib/fixtures');
const { assertNoKey, queryJob, tasksOf } = require('../lib/ota');
const {
  md5Hex, sha256Hex, patternBytes, formFields, postObject, httpExchange, ossError, deviceUrlSigner,
} = require('../lib/upload');

const MAX_FIRMWARE_BYTES = 1048576000;
const MAX_DEVICE_LIST_BYTES = 5 * 1024 * 1024;
const FORM_TTL_MS = 60 * 1000;
const KEY_RE = (suffix) => new RegExp(`^ota/[A-Za-z0-9]{20}/[A-Za-z0-9]{16}\\.${suffix.replace(/\./g, '\\.')}$`);
const FIRMWARE_SUFFIXES = ['bin', 'dav', 'apk', 'tar', 'gz', 'tar.gz', 'zip', 'gzip', 'tar.xz', 'pack'];

let server;
let account;
let other;

before(async () => {
  server = await startServer({ config: NO_THROTTLING });
  account = await server.createAccount('uploads');
  other = await server.createAccount('uploads-other');
});

after(async () => {
  if (server) await server.stop();
});

const isSdk = (d) => d.name === 'v3' || d.name === 'v2';

function decodePolicy(policy) {
  assert.match(policy, /^[A-Za-z0-9+/]+={0,2}$/, 'Policy is Base64');
  return JSON.parse(Buffer.from(policy, 'base64').toString('utf8'));
}

// The form of either action: exactly the fields of the SDK's Data model, all
// strings, and a policy that pins the key and the size range.
function checkForm(res, { DataModel, BodyModel, urlField, accessField, suffix, maxBytes, ttlMs = FORM_TTL_MS, host = server.url }, where) {
  assertSuccess(res, where);
  assertTypes(res.raw, BodyModel, where);
  const data = res.raw.Data;
  assert.deepEqual(Object.keys(data).sort(), Object.values(DataModel.names()).sort(),
    `${where}: Data carries exactly the fields of ${DataModel.name}`);
  for (const [k, v] of Object.entries(data)) assert.equal(typeof v, 'string', `${where}: Data.${k} is a string`);
  assert.equal(data.Host, host, `${where}: Host is the upload base`);
  assert.match(data.Key, KEY_RE(suffix), `${where}: Key`);
  assert.equal(data[urlField], `${data.Host}/${data.Key}`, `${where}: ${urlField} = Host/Key`);
  assert.equal(data.ObjectStorage, 'OSS');
  assert.match(data[accessField], /^OTAD[0-9A-F]{20}$/, `${where}: ${accessField} is otad's public form id`);
  assert.notEqual(data[accessField], account.AccessKeyId, `${where}: the form never carries the caller's AccessKey`);
  assertRecent(data.UtcCreate, `${where}: UtcCreate`);
  const policy = decodePolicy(data.Policy);
  assert.deepEqual(Object.keys(policy).sort(), ['conditions', 'expiration']);
  assert.equal(Date.parse(policy.expiration) - Date.parse(data.UtcCreate), ttlMs, `${where}: the form expires ${ttlMs} ms after UtcCreate`);
  assert.deepEqual(policy.conditions, [['content-length-range', 0, maxBytes], ['eq', '$key', data.Key]], `${where}: policy conditions`);
  assert.equal(Buffer.from(data.Signature, 'base64').length, 20, `${where}: Signature is a Base64 HMAC-SHA1`);
  return data;
}

async function firmwareForm(d, suffix, where = 'GenerateOTAUploadURL') {
  const params = suffix === undefined ? {} : { FileSuffix: suffix };
  const res = await d.call('GenerateOTAUploadURL', params);
  const data = checkForm(res, {
    DataModel: Iot.GenerateOTAUploadURLResponseBodyData, BodyModel: Iot.GenerateOTAUploadURLResponseBody,
    urlField: 'FirmwareUrl', accessField: 'OSSAccessKeyId', suffix: suffix || 'bin', maxBytes: MAX_FIRMWARE_BYTES,
  }, where);
  assertNoKey(data, 'AccessKeyId', where);
  if (isSdk(d)) {
    const m = res.model.body.data;
    assert.equal(m.firmwareUrl, data.FirmwareUrl);
    assert.equal(m.host, data.Host);
    assert.equal(m.key, data.Key);
    assert.equal(m.OSSAccessKeyId, data.OSSAccessKeyId);
    assert.equal(m.policy, data.Policy);
    assert.equal(m.signature, data.Signature);
    assert.equal(m.objectStorage, 'OSS');
    assert.equal(m.utcCreate, data.UtcCreate);
  }
  return data;
}

async function deviceListForm(d, where = 'GenerateDeviceNameListURL') {
  const res = await d.call('GenerateDeviceNameListURL', {});
  const data = checkForm(res, {
    DataModel: Iot.GenerateDeviceNameListURLResponseBodyData, BodyModel: Iot.GenerateDeviceNameListURLResponseBody,
    urlField: 'FileUrl', accessField: 'AccessKeyId', suffix: 'csv', maxBytes: MAX_DEVICE_LIST_BYTES,
  }, where);
  assertNoKey(data, 'OSSAccessKeyId', where);
  if (isSdk(d)) {
    const m = res.model.body.data;
    assert.equal(m.fileUrl, data.FileUrl);
    assert.equal(m.accessKeyId, data.AccessKeyId);
    assert.equal(m.key, data.Key);
  }
  return data;
}

function assertEtag(reply, bytes, where) {
  assert.equal(reply.headers.etag, `"${md5Hex(bytes).toUpperCase()}"`, `${where}: ETag is the upper-case MD5`);
  assert.match(String(reply.headers['x-oss-request-id']), /^[0-9A-F]{24}$/, `${where}: x-oss-request-id`);
}

// An OSS XML error from the upload or download endpoint.
function assertOssError(reply, status, code, where) {
  assert.equal(reply.status, status, `${where}: HTTP status (body: ${reply.text})`);
  assert.match(String(reply.headers['content-type']), /^application\/xml/, `${where}: content-type`);
  const e = ossError(reply.text);
  assert.equal(e.code, code, `${where}: OSS error code (body: ${reply.text})`);
  assert.ok(e.message && e.message.length > 0, `${where}: Message`);
  assert.equal(e.requestId, reply.headers['x-oss-request-id'], `${where}: RequestId matches x-oss-request-id`);
  return e;
}

// Upload `bytes` through a fresh firmware form; expects the default 204.
async function uploadFirmware(d, bytes, suffix) {
  const data = await firmwareForm(d, suffix);
  const reply = await postObject(data.Host, formFields(data), bytes);
  assert.equal(reply.status, 204, `PostObject: ${reply.text}`);
  assertEtag(reply, bytes, 'PostObject');
  return { data, bytes, url: data.FirmwareUrl, md5: md5Hex(bytes), sha256: sha256Hex(bytes) };
}

async function queryFirmware(d, firmwareId, where = 'QueryOTAFirmware') {
  const res = await d.call('QueryOTAFirmware', { FirmwareId: firmwareId });
  assertSuccess(res, where);
  assertTypes(res.raw, Iot.QueryOTAFirmwareResponseBody, where);
  return res;
}

function firmwareParams(productKey, extra) {
  return { FirmwareName: `fw_${randomLike('abcdef12')}`, DestVersion: '5.0.0', ProductKey: productKey, NeedToVerify: false, ...extra };
}

// pop-core sends repeated objects flattened by hand; the SDK takes the list.
function multiFilesParams(d, files) {
  if (isSdk(d)) return { MultiFiles: files };
  const out = {};
  files.forEach((f, i) => {
    for (const [k, v] of Object.entries(f)) out[`MultiFiles.${i + 1}.${k}`] = v;
  });
  return out;
}

// ---------------------------------------------------------------------------
// GenerateOTAUploadURL -> PostObject -> CreateOTAFirmware -> QueryOTAFirmware
// ---------------------------------------------------------------------------

FLAVOURS.forEach((flavour, idx) => {
  test(`uploaded single-file package via ${flavour}`, async (t) => {
    const d = makeDriver(flavour, server, account);
    const { productKey } = await createProduct(d);
    const bytes = patternBytes(4096 + idx, idx);
    let data;
    let firmwareId;

    await t.test('GenerateOTAUploadURL: the SDK model fields, a policy pinning key and size', async () => {
      data = await firmwareForm(d);
    });

    await t.test('PostObject to Host answers 204 with the MD5 ETag', async () => {
      const reply = await postObject(data.Host, formFields(data), bytes);
      assert.equal(reply.status, 204, reply.text);
      assert.equal(reply.body.length, 0, '204 has no body');
      assertEtag(reply, bytes, 'PostObject');
    });

    await t.test('CreateOTAFirmware with the FirmwareUrl, its MD5 and size', async () => {
      const res = await d.call('CreateOTAFirmware', firmwareParams(productKey, {
        FirmwareUrl: data.FirmwareUrl, FirmwareSign: md5Hex(bytes), FirmwareSize: bytes.length, SignMethod: 'MD5',
      }));
      assertSuccess(res, 'CreateOTAFirmware');
      assertTypes(res.raw, Iot.CreateOTAFirmwareResponseBody, 'CreateOTAFirmware');
      firmwareId = res.raw.Data.FirmwareId;
      assert.equal(typeof firmwareId, 'string');
      if (isSdk(d)) assert.equal(res.model.body.data.firmwareId, firmwareId);
    });

    await t.test('QueryOTAFirmware: FirmwareUrl, size and sign of the upload', async () => {
      const res = await queryFirmware(d, firmwareId);
      const info = res.raw.FirmwareInfo;
      assert.equal(info.FirmwareUrl, data.FirmwareUrl);
      assert.equal(info.FirmwareSize, bytes.length);
      assert.equal(info.FirmwareSign, md5Hex(bytes));
      assert.equal(info.SignMethod, 'MD5');
      assertNoKey(info, 'MultiFiles', 'single-file package');
      if (isSdk(d)) {
        const m = res.model.body.firmwareInfo;
        assert.equal(m.firmwareUrl, data.FirmwareUrl);
        assert.equal(m.firmwareSize, bytes.length);
        assert.equal(m.firmwareSign, md5Hex(bytes));
      }
    });

    await t.test('the file is in use: a second upload to its form is refused', async () => {
      const reply = await postObject(data.Host, formFields(data), patternBytes(100, 99));
      assertOssError(reply, 403, 'AccessDenied', 're-upload after CreateOTAFirmware');
      const info = (await queryFirmware(d, firmwareId)).raw.FirmwareInfo;
      assert.equal(info.FirmwareSign, md5Hex(bytes), 'the package keeps its file');
    });
  });
});

test('PostObject reply variants: success_action_status, fetch with FormData, replacing an unused upload', async (t) => {
  const d = makeDriver('v3', server, account);
  const { productKey } = await createProduct(d);

  await t.test('success_action_status 200: empty 200', async () => {
    const data = await firmwareForm(d);
    const bytes = patternBytes(777, 1);
    const reply = await postObject(data.Host, formFields(data, { success_action_status: '200' }), bytes);
    assert.equal(reply.status, 200, reply.text);
    assert.equal(reply.body.length, 0);
    assertEtag(reply, bytes, '200');
  });

  await t.test('success_action_status 201: PostResponse XML with Location = FirmwareUrl', async () => {
    const data = await firmwareForm(d);
    const bytes = patternBytes(778, 2);
    const reply = await postObject(data.Host, formFields(data, { success_action_status: '201' }), bytes);
    assert.equal(reply.status, 201, reply.text);
    assertEtag(reply, bytes, '201');
    assert.match(String(reply.headers['content-type']), /^application\/xml/);
    assert.equal(reply.headers.location, data.FirmwareUrl);
    assert.match(reply.text, /<PostResponse>/);
    assert.ok(reply.text.includes(`<Location>${data.FirmwareUrl}</Location>`), reply.text);
    assert.ok(reply.text.includes(`<Key>${data.Key}</Key>`), reply.text);
    assert.ok(reply.text.includes(`<ETag>&quot;${md5Hex(bytes).toUpperCase()}&quot;</ETag>`), reply.text);
  });

  await t.test('an unrecognised success_action_status falls back to 204', async () => {
    const data = await firmwareForm(d);
    const reply = await postObject(data.Host, formFields(data, { success_action_status: '299' }), patternBytes(10));
    assert.equal(reply.status, 204, reply.text);
  });

  await t.test('fetch + FormData (capitalised Signature field, file appended last)', async () => {
    const data = await firmwareForm(d);
    const bytes = patternBytes(2048, 3);
    const form = new FormData();
    form.append('key', data.Key);
    form.append('policy', data.Policy);
    form.append('OSSAccessKeyId', data.OSSAccessKeyId);
    form.append('Signature', data.Signature);
    form.append('success_action_status', '200');
    form.append('file', new Blob([bytes]), 'firmware.bin');
    const reply = await fetch(`${data.Host}/`, { method: 'POST', body: form });
    const body = Buffer.from(await reply.arrayBuffer());
    assert.equal(reply.status, 200, body.toString());
    assert.equal(reply.headers.get('etag'), `"${md5Hex(bytes).toUpperCase()}"`);
    // Without FirmwareSign and FirmwareSize the package takes both from the upload.
    const res = await d.call('CreateOTAFirmware', firmwareParams(productKey, { FirmwareUrl: data.FirmwareUrl }));
    assertSuccess(res, 'CreateOTAFirmware without size or sign');
    const info = (await queryFirmware(d, res.raw.Data.FirmwareId)).raw.FirmwareInfo;
    assert.equal(info.FirmwareSize, bytes.length);
    assert.equal(info.FirmwareSign, md5Hex(bytes));
  });

  await t.test('a second upload before any package uses the file replaces the first', async () => {
    const data = await firmwareForm(d);
    const first = patternBytes(500, 4);
    const second = patternBytes(600, 5);
    assert.equal((await postObject(data.Host, formFields(data), first)).status, 204);
    assert.equal((await postObject(data.Host, formFields(data), second)).status, 204);
    const stale = await d.call('CreateOTAFirmware', firmwareParams(productKey, {
      FirmwareUrl: data.FirmwareUrl, FirmwareSign: md5Hex(first), FirmwareSize: first.length,
    }));
    assertBusinessError(stale, 'iot.ota.FirmwareFileNotMatch', 'the replaced content');
    const res = await d.call('CreateOTAFirmware', firmwareParams(productKey, {
      FirmwareUrl: data.FirmwareUrl, FirmwareSign: md5Hex(second), FirmwareSize: second.length,
    }));
    assertSuccess(res, 'the replacing content');
  });
});

// ---------------------------------------------------------------------------
// CreateOTAFirmware against the upload: declared size and sign, missing files
// ---------------------------------------------------------------------------

for (const flavour of ['v3', 'pop']) {
  test(`CreateOTAFirmware checks an uploaded file via ${flavour}`, async (t) => {
    const d = makeDriver(flavour, server, account);
    const { productKey } = await createProduct(d);
    const up = await uploadFirmware(d, patternBytes(3333, 11));

    await t.test('a wrong FirmwareSign is iot.ota.FirmwareFileNotMatch', async () => {
      const res = await d.call('CreateOTAFirmware', firmwareParams(productKey, {
        FirmwareUrl: up.url, FirmwareSign: md5Hex(Buffer.from('something else')), FirmwareSize: up.bytes.length,
      }));
      assertBusinessError(res, 'iot.ota.FirmwareFileNotMatch', 'wrong sign');
      assert.match(res.raw.ErrorMessage, /sign/i);
    });

    await t.test('a wrong FirmwareSize is iot.ota.FirmwareFileNotMatch naming both sizes', async () => {
      const res = await d.call('CreateOTAFirmware', firmwareParams(productKey, {
        FirmwareUrl: up.url, FirmwareSign: up.md5, FirmwareSize: up.bytes.length + 1,
      }));
      assertBusinessError(res, 'iot.ota.FirmwareFileNotMatch', 'wrong size');
      assert.ok(res.raw.ErrorMessage.includes(String(up.bytes.length + 1)), res.raw.ErrorMessage);
      assert.ok(res.raw.ErrorMessage.includes(String(up.bytes.length)), res.raw.ErrorMessage);
    });

    await t.test('a SHA-256 sign under SignMethod MD5 is a format error', async () => {
      const res = await d.call('CreateOTAFirmware', firmwareParams(productKey, {
        FirmwareUrl: up.url, FirmwareSign: up.sha256, SignMethod: 'MD5',
      }));
      assertBusinessError(res, 'iot.common.InvalidFormattedParameter', 'digest of the wrong length');
    });

    await t.test('a form never uploaded to is iot.ota.FileNotExist', async () => {
      const empty = await firmwareForm(d);
      const res = await d.call('CreateOTAFirmware', firmwareParams(productKey, { FirmwareUrl: empty.FirmwareUrl }));
      assertBusinessError(res, 'iot.ota.FileNotExist', 'not uploaded');
      const made = await d.call('CreateOTAFirmware', firmwareParams(productKey, {
        FirmwareUrl: `${server.url}/ota/${randomLike(empty.Key.slice(4))}`,
      }));
      assertBusinessError(made, 'iot.ota.FileNotExist', 'a key otad never issued');
    });

    await t.test('failed attempts leave the file usable; upper-case MD5 is accepted and stored lower-case', async () => {
      const res = await d.call('CreateOTAFirmware', firmwareParams(productKey, {
        FirmwareUrl: up.url, FirmwareSign: up.md5.toUpperCase(), FirmwareSize: up.bytes.length,
      }));
      assertSuccess(res, 'CreateOTAFirmware');
      const info = (await queryFirmware(d, res.raw.Data.FirmwareId)).raw.FirmwareInfo;
      assert.equal(info.FirmwareSign, up.md5);
      assert.equal(info.FirmwareSize, up.bytes.length);
    });

    await t.test('SignMethod SHA256: the sign is the file\'s SHA-256', async () => {
      const sha = await uploadFirmware(d, patternBytes(1234, 12));
      const wrong = await d.call('CreateOTAFirmware', firmwareParams(productKey, {
        FirmwareUrl: sha.url, SignMethod: 'SHA256', FirmwareSign: sha256Hex(Buffer.from('x')),
      }));
      assertBusinessError(wrong, 'iot.ota.FirmwareFileNotMatch', 'wrong SHA-256');
      const res = await d.call('CreateOTAFirmware', firmwareParams(productKey, {
        FirmwareUrl: sha.url, SignMethod: 'SHA256', FirmwareSign: sha.sha256, FirmwareSize: sha.bytes.length,
      }));
      assertSuccess(res, 'CreateOTAFirmware SHA256');
      const info = (await queryFirmware(d, res.raw.Data.FirmwareId)).raw.FirmwareInfo;
      assert.equal(info.SignMethod, 'SHA256');
      assert.equal(info.FirmwareSign, sha.sha256);
    });
  });
}

test('FileSuffix variants', async (t) => {
  const d = makeDriver('v3', server, account);
  const pop = makeDriver('pop', server, account);
  const { productKey } = await createProduct(d);

  await t.test('every accepted suffix names the object; the default is bin', async () => {
    for (const suffix of FIRMWARE_SUFFIXES) {
      const data = await firmwareForm(d, suffix, `FileSuffix ${suffix}`);
      assert.ok(data.FirmwareUrl.endsWith(`.${suffix}`), data.FirmwareUrl);
    }
    await firmwareForm(d, undefined, 'no FileSuffix');
    await firmwareForm(pop, 'zip', 'FileSuffix zip via pop');
  });

  await t.test('a tar.gz upload becomes a package', async () => {
    const up = await uploadFirmware(d, patternBytes(900, 21), 'tar.gz');
    assert.match(up.data.Key, /\.tar\.gz$/);
    const res = await d.call('CreateOTAFirmware', firmwareParams(productKey, {
      FirmwareUrl: up.url, FirmwareSign: up.md5, FirmwareSize: up.bytes.length,
    }));
    assertSuccess(res, 'CreateOTAFirmware tar.gz');
    assert.equal((await queryFirmware(d, res.raw.Data.FirmwareId)).raw.FirmwareInfo.FirmwareUrl, up.url);
  });

  await t.test('other suffixes are iot.common.InvalidFormattedParameter', async () => {
    for (const suffix of ['exe', 'csv', 'BIN', '.bin', 'bin/../x']) {
      assertBusinessError(await d.call('GenerateOTAUploadURL', { FileSuffix: suffix }),
        'iot.common.InvalidFormattedParameter', `FileSuffix ${suffix}`);
    }
    assertBusinessError(await pop.call('GenerateOTAUploadURL', { FileSuffix: 'exe' }),
      'iot.common.InvalidFormattedParameter', 'FileSuffix exe via pop');
  });
});

// ---------------------------------------------------------------------------
// The upload endpoint refuses forms otad did not issue
// ---------------------------------------------------------------------------

test('upload endpoint refuses forged and incomplete forms', async (t) => {
  const d = makeDriver('v3', server, account);
  const { productKey } = await createProduct(d);
  const bytes = patternBytes(256, 31);
  const data = await firmwareForm(d);
  const otherForm = await firmwareForm(d);

  const refusedThenAbsent = async (reply, status, code, where) => {
    assertOssError(reply, status, code, where);
    // Nothing was stored under the key.
    const res = await d.call('CreateOTAFirmware', firmwareParams(productKey, { FirmwareUrl: data.FirmwareUrl }));
    assertBusinessError(res, 'iot.ota.FileNotExist', `${where}: nothing stored`);
  };

  await t.test('a tampered signature: 403 SignatureDoesNotMatch', async () => {
    const sig = Buffer.from(data.Signature, 'base64');
    sig[0] ^= 0x01;
    const reply = await postObject(data.Host, formFields(data, { signature: sig.toString('base64') }), bytes);
    await refusedThenAbsent(reply, 403, 'SignatureDoesNotMatch', 'tampered signature');
  });

  await t.test('a forged policy (larger size, later expiry) under the issued signature: 403 SignatureDoesNotMatch', async () => {
    const policy = decodePolicy(data.Policy);
    policy.expiration = new Date(Date.now() + 365 * 24 * 3600 * 1000).toISOString();
    policy.conditions[0][2] = 2 * MAX_FIRMWARE_BYTES;
    const forged = Buffer.from(JSON.stringify(policy)).toString('base64');
    const reply = await postObject(data.Host, formFields(data, { policy: forged }), bytes);
    await refusedThenAbsent(reply, 403, 'SignatureDoesNotMatch', 'forged policy');
  });

  await t.test('another form\'s policy and signature for this key: 403 AccessDenied', async () => {
    const fields = formFields(data, { policy: otherForm.Policy, signature: otherForm.Signature });
    const reply = await postObject(data.Host, fields, bytes);
    await refusedThenAbsent(reply, 403, 'AccessDenied', 'policy of another key');
  });

  await t.test('an unknown OSSAccessKeyId (even the caller\'s own AccessKeyId): 403 InvalidAccessKeyId', async () => {
    for (const id of [account.AccessKeyId, `OTAD${'0'.repeat(20)}`]) {
      const reply = await postObject(data.Host, formFields(data, { OSSAccessKeyId: id }), bytes);
      await refusedThenAbsent(reply, 403, 'InvalidAccessKeyId', `OSSAccessKeyId ${id}`);
    }
  });

  await t.test('an anonymous form (no policy, id or signature): 403 AccessDenied', async () => {
    const reply = await postObject(data.Host, { key: data.Key }, bytes);
    await refusedThenAbsent(reply, 403, 'AccessDenied', 'anonymous');
  });

  await t.test('no file part or no key: 400 InvalidArgument', async () => {
    await refusedThenAbsent(await postObject(data.Host, formFields(data), null), 400, 'InvalidArgument', 'no file');
    await refusedThenAbsent(await postObject(data.Host, formFields(data, { key: undefined }), bytes), 400, 'InvalidArgument', 'no key');
  });

  await t.test('a key otad never issued: 403 AccessDenied', async () => {
    const reply = await postObject(data.Host, formFields(data, { key: `ota/${randomLike(data.Key.slice(4))}` }), bytes);
    assertOssError(reply, 403, 'AccessDenied', 'unknown key');
  });

  await t.test('the genuine form still works afterwards', async () => {
    const reply = await postObject(data.Host, formFields(data), bytes);
    assert.equal(reply.status, 204, reply.text);
  });
});

test('form validity and size limit follow the files configuration', async (t) => {
  const ttlS = 2;
  const maxBytes = 1024;
  const small = await startServer({ config: { ...NO_THROTTLING, files: { form_ttl_s: ttlS, max_upload_bytes: maxBytes } } });
  try {
    const acct = await small.createAccount('uploads-small');
    const d = makeDriver('v3', small, acct);

    await t.test('the policy carries the configured limits; larger files are 400 EntityTooLarge', async () => {
      const res = await d.call('GenerateOTAUploadURL', { FileSuffix: 'bin' });
      const data = checkForm(res, {
        DataModel: Iot.GenerateOTAUploadURLResponseBodyData, BodyModel: Iot.GenerateOTAUploadURLResponseBody,
        urlField: 'FirmwareUrl', accessField: 'OSSAccessKeyId', suffix: 'bin', maxBytes, ttlMs: ttlS * 1000, host: small.url,
      }, 'GenerateOTAUploadURL (small server)');
      assertOssError(await postObject(data.Host, formFields(data), patternBytes(maxBytes + 1)), 400, 'EntityTooLarge', 'one byte over');
      const ok = await postObject(data.Host, formFields(data), patternBytes(maxBytes));
      assert.equal(ok.status, 204, `exactly the limit: ${ok.text}`);
    });

    await t.test('an expired form: 403 AccessDenied', async () => {
      const res = await d.call('GenerateOTAUploadURL', {});
      assertSuccess(res, 'GenerateOTAUploadURL');
      const data = res.raw.Data;
      await new Promise((r) => setTimeout(r, ttlS * 1000 + 700));
      const e = assertOssError(await postObject(data.Host, formFields(data), patternBytes(16)), 403, 'AccessDenied', 'expired form');
      assert.match(e.message, /expired/i);
    });
  } finally {
    await small.stop();
  }
});

// ---------------------------------------------------------------------------
// Device downloads of an uploaded package
// ---------------------------------------------------------------------------

test('device download of an uploaded package: signed URL, ranges, identity encoding', async (t) => {
  const d = makeDriver('v3', server, account);
  const { productKey } = await createProduct(d);
  const bytes = patternBytes(3000, 41);
  const up = await uploadFirmware(d, bytes);
  const created = await d.call('CreateOTAFirmware', firmwareParams(productKey, {
    FirmwareUrl: up.url, FirmwareSign: up.md5, FirmwareSize: bytes.length,
  }));
  assertSuccess(created, 'CreateOTAFirmware');
  const info = (await queryFirmware(d, created.raw.Data.FirmwareId)).raw.FirmwareInfo;
  assert.equal(info.FirmwareUrl, up.url, 'QueryOTAFirmware gives the object URL');
  const signer = deviceUrlSigner(server.dataDir);
  const url = signer.url(server.url, `${up.sha256}/app.bin`);
  assert.ok(url.length < 255, `device URLs stay under 255 bytes (${url.length})`);
  const get = (u, headers = {}, method = 'GET') => httpExchange(u, { method, headers });
  const noChunksNoEncoding = (r, where) => {
    assert.equal(r.headers['transfer-encoding'], undefined, `${where}: no Transfer-Encoding`);
    assert.equal(r.headers['content-encoding'], undefined, `${where}: no Content-Encoding`);
  };

  await t.test('whole file: 200, Content-Length, identical MD5, even with Accept-Encoding gzip', async () => {
    const r = await get(url, { 'accept-encoding': 'gzip, deflate' });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.headers['content-length'], String(bytes.length));
    assert.equal(r.headers['accept-ranges'], 'bytes');
    noChunksNoEncoding(r, 'whole');
    assert.equal(md5Hex(r.body), info.FirmwareSign);
    assert.ok(r.body.equals(bytes));
  });

  await t.test('Range bytes=0-9: 206 with exactly those bytes', async () => {
    const r = await get(url, { range: 'bytes=0-9', 'accept-encoding': 'gzip' });
    assert.equal(r.status, 206, r.text);
    assert.equal(r.headers['content-range'], `bytes 0-9/${bytes.length}`);
    assert.equal(r.headers['content-length'], '10');
    noChunksNoEncoding(r, 'bytes=0-9');
    assert.ok(r.body.equals(bytes.subarray(0, 10)));
  });

  await t.test('Range bytes=10-: 206 with the rest; both parts make the file', async () => {
    const head = (await get(url, { range: 'bytes=0-9' })).body;
    const r = await get(url, { range: 'bytes=10-' });
    assert.equal(r.status, 206, r.text);
    assert.equal(r.headers['content-range'], `bytes 10-${bytes.length - 1}/${bytes.length}`);
    assert.equal(r.headers['content-length'], String(bytes.length - 10));
    noChunksNoEncoding(r, 'bytes=10-');
    assert.equal(md5Hex(Buffer.concat([head, r.body])), up.md5);
  });

  await t.test('suffix range, range past the end, several ranges', async () => {
    const tail = await get(url, { range: 'bytes=-16' });
    assert.equal(tail.status, 206);
    assert.equal(tail.headers['content-range'], `bytes ${bytes.length - 16}-${bytes.length - 1}/${bytes.length}`);
    assert.ok(tail.body.equals(bytes.subarray(bytes.length - 16)));
    const clipped = await get(url, { range: `bytes=2990-${bytes.length + 100}` });
    assert.equal(clipped.status, 206);
    assert.ok(clipped.body.equals(bytes.subarray(2990)));
    const beyond = await get(url, { range: `bytes=${bytes.length}-` });
    assert.equal(beyond.status, 416);
    assert.equal(beyond.headers['content-range'], `bytes */${bytes.length}`);
    const several = await get(url, { range: 'bytes=0-1,5-6' });
    assert.equal(several.status, 200, 'several ranges: the whole file');
    assert.ok(several.body.equals(bytes));
  });

  await t.test('HEAD: the headers without the body', async () => {
    const r = await get(url, {}, 'HEAD');
    assert.equal(r.status, 200);
    assert.equal(r.headers['content-length'], String(bytes.length));
    assert.equal(r.body.length, 0);
  });

  await t.test('the object-key form of the URL serves the same bytes', async () => {
    const r = await get(signer.url(server.url, up.data.Key));
    assert.equal(r.status, 200, r.text);
    assert.ok(r.body.equals(bytes));
  });

  await t.test('a tampered signature, path or expiry is 403, with or without Range', async () => {
    const u = new URL(url);
    const s = u.searchParams.get('s');
    const flipped = new URL(url);
    flipped.searchParams.set('s', s.slice(0, -1) + (s.endsWith('0') ? '1' : '0'));
    for (const headers of [{}, { range: 'bytes=0-9' }]) {
      assertOssError(await get(flipped.toString(), headers), 403, 'SignatureDoesNotMatch', `tampered s ${JSON.stringify(headers)}`);
    }
    const renamed = url.replace('/app.bin?', '/other.bin?');
    assertOssError(await get(renamed), 403, 'SignatureDoesNotMatch', 'renamed file');
    const later = new URL(url);
    later.searchParams.set('e', String(Number(later.searchParams.get('e')) + 1));
    assertOssError(await get(later.toString()), 403, 'SignatureDoesNotMatch', 'extended expiry');
    const bare = `${u.origin}${u.pathname}`;
    assertOssError(await get(bare), 403, 'SignatureDoesNotMatch', 'no signature');
  });

  await t.test('an expired URL is 403 AccessDenied; an unknown file is 404 NoSuchKey', async () => {
    const expired = signer.url(server.url, `${up.sha256}/app.bin`, Math.floor(Date.now() / 1000) - 10);
    assertOssError(await get(expired), 403, 'AccessDenied', 'expired');
    const unknown = signer.url(server.url, `${sha256Hex(Buffer.from('never uploaded'))}/x.bin`);
    assertOssError(await get(unknown), 404, 'NoSuchKey', 'unknown blob');
  });
});

// ---------------------------------------------------------------------------
// Multi-file packages from uploaded files
// ---------------------------------------------------------------------------

for (const flavour of ['v3', 'pop']) {
  test(`multi-file package from two uploads via ${flavour}`, async (t) => {
    const d = makeDriver(flavour, server, account);
    const { productKey } = await createProduct(d);
    const a = await uploadFirmware(d, patternBytes(1500, 51));
    const b = await uploadFirmware(d, patternBytes(2500, 52), 'tar.gz');
    let firmwareId;

    await t.test('a wrong FileMd5 or Size of one file is iot.ota.FirmwareFileNotMatch', async () => {
      const badMd5 = await d.call('CreateOTAFirmware', firmwareParams(productKey, multiFilesParams(d, [
        { Name: 'app', Url: a.url, Size: a.bytes.length, FileMd5: a.md5 },
        { Name: 'res', Url: b.url, FileMd5: a.md5 },
      ])));
      assertBusinessError(badMd5, 'iot.ota.FirmwareFileNotMatch', 'wrong FileMd5');
      const badSize = await d.call('CreateOTAFirmware', firmwareParams(productKey, multiFilesParams(d, [
        { Name: 'app', Url: a.url, Size: a.bytes.length + 7 },
        { Name: 'res', Url: b.url },
      ])));
      assertBusinessError(badSize, 'iot.ota.FirmwareFileNotMatch', 'wrong Size');
    });

    await t.test('a file never uploaded is iot.ota.FileNotExist', async () => {
      const empty = await firmwareForm(d);
      const res = await d.call('CreateOTAFirmware', firmwareParams(productKey, multiFilesParams(d, [
        { Name: 'app', Url: a.url },
        { Name: 'res', Url: empty.FirmwareUrl },
      ])));
      assertBusinessError(res, 'iot.ota.FileNotExist', 'second file missing');
    });

    await t.test('FirmwareUrl together with MultiFiles is refused', async () => {
      const res = await d.call('CreateOTAFirmware', firmwareParams(productKey, {
        FirmwareUrl: a.url, ...multiFilesParams(d, [{ Name: 'res', Url: b.url }]),
      }));
      assertBusinessError(res, 'iot.common.InvalidFormattedParameter', 'FirmwareUrl + MultiFiles');
    });

    await t.test('CreateOTAFirmware with MultiFiles.N.*', async () => {
      const res = await d.call('CreateOTAFirmware', firmwareParams(productKey, multiFilesParams(d, [
        { Name: 'app', Url: a.url, Size: a.bytes.length, FileMd5: a.md5, SignValue: a.md5 },
        { Name: 'res', Url: b.url },
      ])));
      assertSuccess(res, 'CreateOTAFirmware MultiFiles');
      firmwareId = res.raw.Data.FirmwareId;
    });

    await t.test('QueryOTAFirmware: MultiFiles is a bare array with what the uploads hold', async () => {
      const res = await queryFirmware(d, firmwareId);
      const info = res.raw.FirmwareInfo;
      for (const k of ['FirmwareUrl', 'FirmwareSign', 'FirmwareSize']) assertNoKey(info, k, 'multi-file package');
      assert.ok(Array.isArray(info.MultiFiles), `MultiFiles is an array, got ${JSON.stringify(info.MultiFiles)}`);
      assert.deepEqual(info.MultiFiles, [
        { Name: 'app', Url: a.url, Size: a.bytes.length, FileMd5: a.md5, SignValue: a.md5 },
        { Name: 'res', Url: b.url, Size: b.bytes.length, FileMd5: b.md5, SignValue: b.md5 },
      ]);
      if (isSdk(d)) {
        const files = res.model.body.firmwareInfo.multiFiles;
        assert.equal(files.length, 2);
        assert.equal(files[1].size, b.bytes.length);
        assert.equal(files[1].fileMd5, b.md5);
        assert.equal(files[1].url, b.url);
      }
    });
  });
}

test('multi-file package with SignMethod SHA256 takes each SignValue from the upload', async () => {
  const d = makeDriver('v3', server, account);
  const { productKey } = await createProduct(d);
  const a = await uploadFirmware(d, patternBytes(700, 61));
  const b = await uploadFirmware(d, patternBytes(800, 62));
  const res = await d.call('CreateOTAFirmware', firmwareParams(productKey, {
    SignMethod: 'SHA256',
    MultiFiles: [{ Name: 'one', Url: a.url, SignValue: a.sha256 }, { Name: 'two', Url: b.url }],
  }));
  assertSuccess(res, 'CreateOTAFirmware SHA256 MultiFiles');
  const info = (await queryFirmware(d, res.raw.Data.FirmwareId)).raw.FirmwareInfo;
  assert.equal(info.SignMethod, 'SHA256');
  assert.deepEqual(info.MultiFiles.map((f) => [f.Name, f.Size, f.FileMd5, f.SignValue]), [
    ['one', a.bytes.length, a.md5, a.sha256],
    ['two', b.bytes.length, b.md5, b.sha256],
  ]);
});

// ---------------------------------------------------------------------------
// GenerateDeviceNameListURL and static batches from a device-list file
// ---------------------------------------------------------------------------

async function uploadDeviceList(d, text, extra = {}) {
  const data = await deviceListForm(d);
  const reply = await postObject(data.Host, formFields(data, extra), Buffer.from(text, 'utf8'), { fileName: 'devices.csv', fileType: 'text/csv' });
  return { data, reply, url: data.FileUrl };
}

for (const flavour of ['v3', 'pop']) {
  test(`SPECIFIC batch from a device-list file via ${flavour}`, async (t) => {
    const d = makeDriver(flavour, server, account);
    const { productKey } = await createProduct(d);
    const devices = [];
    for (let i = 0; i < 4; i++) devices.push((await registerDevice(d, productKey)).deviceName);
    const fw = await createFirmware(d, productKey, { DestVersion: '6.0.0', NeedToVerify: false });
    const batch = (extra) => ({ ProductKey: productKey, FirmwareId: fw.firmwareId, TargetSelection: 'SPECIFIC', ...extra });
    let list;

    await t.test('GenerateDeviceNameListURL: the SDK model fields (AccessKeyId, .csv key, 5 MB policy)', async () => {
      const fwForm = await firmwareForm(d);
      const data = await deviceListForm(d);
      assert.equal(data.AccessKeyId, fwForm.OSSAccessKeyId, 'both forms carry the same public id');
    });

    await t.test('upload a CSV: BOM, CRLF, commas, quotes, blank lines and unknown names', async () => {
      const text = `\uFEFF${devices[0]}\r\n${devices[1]},ghost-${randomLike('abc123')}\n\n  "${devices[2]}"  \nghost-${randomLike('xyz789')}\n`;
      list = await uploadDeviceList(d, text, { success_action_status: '201' });
      assert.equal(list.reply.status, 201, list.reply.text);
      assert.equal(list.reply.headers.location, list.url);
    });

    await t.test('CreateOTAStaticUpgradeJob with DnListFileUrl: tasks for the listed existing devices only', async () => {
      const res = await d.call('CreateOTAStaticUpgradeJob', batch({ DnListFileUrl: list.url }));
      assertSuccess(res, 'CreateOTAStaticUpgradeJob DnListFileUrl');
      assertTypes(res.raw, Iot.CreateOTAStaticUpgradeJobResponseBody, 'CreateOTAStaticUpgradeJob');
      const jobId = res.raw.Data.JobId;
      const job = await queryJob(d, jobId);
      assert.equal(job.TargetSelection, 'SPECIFIC');
      const { items } = await tasksOf(d, jobId);
      assert.deepEqual(items.map((x) => x.DeviceName).sort(), [devices[0], devices[1], devices[2]].sort(),
        'the three listed devices that exist; unknown names are left out');
    });

    // Short names (held inside the string object) once slipped through the
    // de-duplication and broke a unique constraint; a name listed twice gives one task.
    await t.test('a name listed twice gets one task', async () => {
      const twice = await uploadDeviceList(d, `${devices[3]}\n${devices[3]}\n`);
      assert.equal(twice.reply.status, 204);
      const res = await d.call('CreateOTAStaticUpgradeJob', batch({ DnListFileUrl: twice.url }));
      assertSuccess(res, 'CreateOTAStaticUpgradeJob with a duplicate name');
      const { items } = await tasksOf(d, res.raw.Data.JobId);
      assert.deepEqual(items.map((x) => x.DeviceName), [devices[3]]);
    });

    await t.test('a file that names no existing device: iot.ota.NoDeviceToUpgrade', async () => {
      const ghosts = await uploadDeviceList(d, `ghost-${randomLike('aaa111')}\nghost-${randomLike('bbb222')}\n`);
      assert.equal(ghosts.reply.status, 204);
      assertBusinessError(await d.call('CreateOTAStaticUpgradeJob', batch({ DnListFileUrl: ghosts.url })), 'iot.ota.NoDeviceToUpgrade', 'only unknown names');
    });

    await t.test('a file with no names at all: iot.common.InvalidFormattedParameter', async () => {
      const blank = await uploadDeviceList(d, '\r\n\n , \n');
      assert.equal(blank.reply.status, 204);
      assertBusinessError(await d.call('CreateOTAStaticUpgradeJob', batch({ DnListFileUrl: blank.url })), 'iot.common.InvalidFormattedParameter', 'empty list');
    });

    await t.test('wrong kinds of URL are iot.ota.FileNotExist', async () => {
      const fwFile = await uploadFirmware(d, patternBytes(64, 71));
      assertBusinessError(await d.call('CreateOTAStaticUpgradeJob', batch({ DnListFileUrl: fwFile.url })), 'iot.ota.FileNotExist', 'a firmware URL as DnListFileUrl');
      const unused = await deviceListForm(d);
      assertBusinessError(await d.call('CreateOTAStaticUpgradeJob', batch({ DnListFileUrl: unused.FileUrl })), 'iot.ota.FileNotExist', 'a list never uploaded');
      assertBusinessError(await d.call('CreateOTAStaticUpgradeJob', batch({ DnListFileUrl: 'http://127.0.0.1:9/devices.csv' })), 'iot.ota.FileNotExist', 'a URL outside otad');
      const listAsFirmware = await uploadDeviceList(d, `${devices[3]}\n`);
      assertBusinessError(await d.call('CreateOTAFirmware', firmwareParams(productKey, { FirmwareUrl: listAsFirmware.url })), 'iot.ota.FileNotExist', 'a device list as FirmwareUrl');
    });

    await t.test('DnListFileUrl only with SPECIFIC and not with TargetDeviceName', async () => {
      const again = await uploadDeviceList(d, `${devices[3]}\n`);
      const both = isSdk(d)
        ? batch({ DnListFileUrl: again.url, TargetDeviceName: [devices[3]] })
        : batch({ DnListFileUrl: again.url, 'TargetDeviceName.1': devices[3] });
      assertBusinessError(await d.call('CreateOTAStaticUpgradeJob', both), 'iot.common.InvalidFormattedParameter', 'both');
      assertBusinessError(await d.call('CreateOTAStaticUpgradeJob', batch({ TargetSelection: 'ALL', DnListFileUrl: again.url })),
        'iot.common.InvalidFormattedParameter', 'ALL + DnListFileUrl');
    });
  });
}

test('a device list over 5 MB is 400 EntityTooLarge', async () => {
  const d = makeDriver('v3', server, account);
  const data = await deviceListForm(d);
  const big = Buffer.alloc(MAX_DEVICE_LIST_BYTES + 1, 'a');
  const reply = await postObject(data.Host, formFields(data), big, { fileName: 'devices.csv' });
  assertOssError(reply, 400, 'EntityTooLarge', 'device list');
});

// ---------------------------------------------------------------------------
// Tenant isolation
// ---------------------------------------------------------------------------

// A URL under otad's upload base with a key of the same shape that was never issued.
function ghostUrl(url) {
  const base = `${server.url}/ota/`;
  assert.ok(url.startsWith(base), url);
  return base + randomLike(url.slice(base.length));
}

// The other tenant's call with the owner's URL and with a ghost URL must answer the same.
async function sameAsGhost(drv, action, build, url, code, where) {
  const ghost = ghostUrl(url);
  const real = await drv.call(action, build(url));
  const fake = await drv.call(action, build(ghost));
  assertBusinessError(real, code, `${where} with the other tenant's URL`);
  assertBusinessError(fake, code, `${where} with a URL never issued`);
  assert.deepEqual(normalizeReply(real.status, real.raw, [[url, '<URL>']]), normalizeReply(fake.status, fake.raw, [[ghost, '<URL>']]),
    `${where}: another tenant's file must answer exactly like a nonexistent one`);
}

for (const flavour of ['v3', 'pop']) {
  test(`another tenant cannot use uploaded files via ${flavour}`, async (t) => {
    const owner = makeDriver('v3', server, account);
    const stranger = makeDriver(flavour, server, other);
    const mine = await createProduct(owner);
    const myDevice = (await registerDevice(owner, mine.productKey)).deviceName;
    const myFw = await createFirmware(owner, mine.productKey, { NeedToVerify: false });
    const unused = await uploadFirmware(owner, patternBytes(321, 81));
    const used = await uploadFirmware(owner, patternBytes(322, 82));
    assertSuccess(await owner.call('CreateOTAFirmware', firmwareParams(mine.productKey, { FirmwareUrl: used.url })), 'owner uses a file');
    const list = await uploadDeviceList(owner, `${myDevice}\n`);
    assert.equal(list.reply.status, 204);

    const theirs = await createProduct(stranger);
    const theirDevice = (await registerDevice(stranger, theirs.productKey)).deviceName;
    const theirFw = await createFirmware(stranger, theirs.productKey, { NeedToVerify: false });
    assert.ok(theirDevice);

    await t.test('FirmwareUrl of an unused and of a used upload', async () => {
      const build = (url) => firmwareParams(theirs.productKey, { FirmwareUrl: url });
      await sameAsGhost(stranger, 'CreateOTAFirmware', build, unused.url, 'iot.ota.FileNotExist', 'unused upload');
      await sameAsGhost(stranger, 'CreateOTAFirmware', build, used.url, 'iot.ota.FileNotExist', 'used upload');
      const multi = (url) => firmwareParams(theirs.productKey, multiFilesParams(stranger, [{ Name: 'a', Url: url }]));
      await sameAsGhost(stranger, 'CreateOTAFirmware', multi, unused.url, 'iot.ota.FileNotExist', 'MultiFiles.1.Url');
    });

    await t.test('DnListFileUrl', async () => {
      const build = (url) => ({ ProductKey: theirs.productKey, FirmwareId: theirFw.firmwareId, TargetSelection: 'SPECIFIC', DnListFileUrl: url });
      await sameAsGhost(stranger, 'CreateOTAStaticUpgradeJob', build, list.url, 'iot.ota.FileNotExist', 'device list');
    });

    await t.test('the owner can still use both files', async () => {
      assertSuccess(await owner.call('CreateOTAFirmware', firmwareParams(mine.productKey, {
        FirmwareUrl: unused.url, FirmwareSign: unused.md5, FirmwareSize: unused.bytes.length,
      })), 'owner CreateOTAFirmware');
      const res = await owner.call('CreateOTAStaticUpgradeJob', {
        ProductKey: mine.productKey, FirmwareId: myFw.firmwareId, TargetSelection: 'SPECIFIC', DnListFileUrl: list.url,
      });
      assertSuccess(res, 'owner CreateOTAStaticUpgradeJob');
      const { items } = await tasksOf(owner, res.raw.Data.JobId);
      assert.deepEqual(items.map((x) => x.DeviceName), [myDevice]);
    });
  });
}
