'use strict';
// Plain HTTP helpers: send a request built by hand and read the full reply.

const http = require('node:http');
const { buildSignedParams, encodeForm } = require('./sign');

function rawRequest(baseUrl, { method = 'GET', path = '/', headers = {}, body } = {}) {
  const url = new URL(path, baseUrl);
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method, headers, agent: false }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let json;
        try { json = JSON.parse(text); } catch { json = undefined; }
        resolve({ status: res.statusCode, headers: res.headers, text, json });
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.setTimeout(15000, () => req.destroy(new Error(`timeout: ${method} ${url}`)));
    if (body !== undefined) req.write(body);
    req.end();
  });
}

// Send a V1-signed request built with our own signer.
// opts: method (GET|POST), format, timestamp, nonce, version, securityToken, extra,
//       accessKeyId/accessKeySecret (override the account's).
async function v1Request(server, account, action, params, opts = {}) {
  const signed = buildSignedParams(action, params, {
    accessKeyId: account.AccessKeyId,
    accessKeySecret: account.AccessKeySecret,
    ...opts,
  });
  const encoded = encodeForm(signed.params);
  let res;
  if (signed.method === 'POST') {
    res = await rawRequest(server.url, {
      method: 'POST',
      path: '/',
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'content-length': Buffer.byteLength(encoded) },
      body: encoded,
    });
  } else {
    res = await rawRequest(server.url, { method: 'GET', path: `/?${encoded}` });
  }
  res.sent = signed.params;
  return res;
}

module.exports = { rawRequest, v1Request };
