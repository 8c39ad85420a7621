'use strict';
// Shared pieces of the file suites: OSS PostObject uploads to the form otad hands out,
// binary GETs of device download URLs, and a signer for those URLs.
//
// No API exposes a device download URL yet (devices do not connect), so the
// tests sign one the way decision 0011 describes, with the server secret kept
// in the data directory: download key = HMAC-SHA256(secret, label), signature =
// the first 32 hex digits of HMAC-SHA256(download key, "<path ref>\n<expiry>").

const crypto = require('node:crypto');
const fs = require('node:fs');
const http = require('node:http');
const path = require('node:path');

const md5Hex = (buf) => crypto.createHash('md5').update(buf).digest('hex');
const sha256Hex = (buf) => crypto.createHash('sha256').update(buf).digest('hex');

// Bytes that differ at most positions, so any misplaced range shows.
function patternBytes(n, seed = 7) {
  const out = Buffer.alloc(n);
  for (let i = 0; i < n; i++) out[i] = (i * 131 + seed + Math.floor(i / 251)) & 0xff;
  return out;
}

// The PostObject fields of a GenerateOTAUploadURL / GenerateDeviceNameListURL reply.
function formFields(data, extra = {}) {
  return {
    key: data.Key,
    policy: data.Policy,
    OSSAccessKeyId: data.OSSAccessKeyId || data.AccessKeyId,
    signature: data.Signature,
    ...extra,
  };
}

// A multipart/form-data body built by hand: the fields in the given order, then
// the file part (unless `file` is null).
function multipartBody(fields, file, { fileName = 'firmware.bin', fileType = 'application/octet-stream' } = {}) {
  const boundary = `----otadcompat${crypto.randomBytes(12).toString('hex')}`;
  const parts = [];
  for (const [name, value] of Object.entries(fields)) {
    if (value === undefined) continue;
    parts.push(Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`));
  }
  if (file !== null && file !== undefined) {
    parts.push(Buffer.from(
      `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="${fileName}"\r\nContent-Type: ${fileType}\r\n\r\n`,
    ));
    parts.push(Buffer.from(file));
    parts.push(Buffer.from('\r\n'));
  }
  parts.push(Buffer.from(`--${boundary}--\r\n`));
  return { body: Buffer.concat(parts), contentType: `multipart/form-data; boundary=${boundary}` };
}

// One HTTP exchange with the whole reply body as a Buffer.
function httpExchange(url, { method = 'GET', headers = {}, body } = {}) {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const req = http.request(u, { method, headers, agent: false }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => {
        const buf = Buffer.concat(chunks);
        resolve({ status: res.statusCode, headers: res.headers, body: buf, text: buf.toString('utf8') });
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.setTimeout(30000, () => req.destroy(new Error(`timeout: ${method} ${url}`)));
    if (body !== undefined) req.write(body);
    req.end();
  });
}

// POST a hand-built form to `host` (the form's Host, which is the bucket root).
async function postObject(host, fields, file, opts = {}) {
  const { body, contentType } = multipartBody(fields, file, opts);
  return httpExchange(`${host}/`, {
    method: 'POST',
    headers: { 'content-type': contentType, 'content-length': body.length },
    body,
  });
}

// The <Code> and <Message> of an OSS XML error body.
function ossError(text) {
  const pick = (tag) => {
    const m = new RegExp(`<${tag}>([^<]*)</${tag}>`).exec(text);
    return m ? m[1] : undefined;
  };
  return { code: pick('Code'), message: pick('Message'), requestId: pick('RequestId') };
}

// The secret is local state of the data directory with either storage backend (only
// records move to PostgreSQL), so this reads the file in both modes.
function deviceUrlSigner(dataDir) {
  const secretPath = path.join(dataDir, 'files', 'secret');
  let secret;
  try {
    secret = fs.readFileSync(secretPath);
  } catch (e) {
    throw new Error(`cannot sign device URLs: the download secret files/secret is not in the data directory (${e.code || e.message})`);
  }
  const key = crypto.createHmac('sha256', secret).update('otad/download-signing').digest();
  const sign = (ref, expires) => crypto.createHmac('sha256', key).update(`${ref}\n${expires}`).digest('hex').slice(0, 32);
  return {
    sign,
    // `ref` is "<sha256>/<name>", "<sha256>" or an object key "ota/...".
    url(base, ref, expiresSec = Math.floor(Date.now() / 1000) + 3600) {
      return `${base}/fw/${ref}?e=${expiresSec}&s=${sign(ref, String(expiresSec))}`;
    },
  };
}

module.exports = {
  md5Hex, sha256Hex, patternBytes, formFields, multipartBody, httpExchange, postObject, ossError, deviceUrlSigner,
};
