'use strict';
// Client factories and a small uniform "driver" layer so that one scenario can be
// run through every client flavour:
//   v3   - @alicloud/iot20180120 with the default ACS3-HMAC-SHA256 signature
//   v2   - the same client with signatureAlgorithm 'v2' (HMAC-SHA1 V1 signature)
//   pop  - @alicloud/pop-core, default GET
//   popPost - @alicloud/pop-core with {method:'POST'} (everything in the form body)
//   raw  - our own V1 signer over plain HTTP (GET)
//
// driver.call(action, params) takes PascalCase parameters (as on the wire) and
// resolves to { raw, model, status, headers, clientThrew } for HTTP 2xx replies
// (including business errors with Success:false). For 4xx/5xx replies it rejects
// with a GatewayError { code, statusCode, body, headers, original }.

const Iot = require('@alicloud/iot20180120');
const { Config } = require('@alicloud/openapi-client');
const RPCClient = require('@alicloud/pop-core').RPCClient;
const { v1Request } = require('./http');

const IotClient = Iot.default;

class GatewayError extends Error {
  constructor({ code, statusCode, body, headers, original }) {
    super(`${code} (HTTP ${statusCode}): ${body && body.Message}`);
    this.code = code;
    this.statusCode = statusCode;
    this.body = body;
    this.headers = headers;
    this.original = original;
  }
}

function iotConfig(server, account, opts = {}) {
  const cfg = {
    accessKeyId: opts.accessKeyId || account.AccessKeyId,
    accessKeySecret: opts.accessKeySecret || account.AccessKeySecret,
    endpoint: server.endpoint,
    protocol: 'http',
    regionId: 'cn-shanghai',
    readTimeout: 15000,
    connectTimeout: 5000,
  };
  if (opts.signatureAlgorithm) cfg.signatureAlgorithm = opts.signatureAlgorithm;
  if (opts.securityToken) cfg.securityToken = opts.securityToken;
  return new Config(cfg);
}

function iotClient(server, account, opts = {}) {
  return new IotClient(iotConfig(server, account, opts));
}

function popClient(server, account, opts = {}) {
  const cfg = {
    accessKeyId: opts.accessKeyId || account.AccessKeyId,
    accessKeySecret: opts.accessKeySecret || account.AccessKeySecret,
    endpoint: server.url,
    apiVersion: opts.apiVersion || '2018-01-20',
    opts: { timeout: 15000 },
  };
  if (opts.securityToken) cfg.securityToken = opts.securityToken;
  return new RPCClient(cfg, true); // verbose: returns [json, entry]
}

// Build an SDK request model from a PascalCase parameter object, using the
// model's own name/type tables (nested models for lists of objects).
function toModel(ModelClass, params) {
  const names = ModelClass.names();
  const types = ModelClass.types();
  const byWire = {};
  for (const [prop, wire] of Object.entries(names)) byWire[wire] = prop;
  const map = {};
  for (const [wire, value] of Object.entries(params || {})) {
    const prop = byWire[wire];
    if (!prop) throw new Error(`${ModelClass.name} has no field for parameter ${wire}`);
    const type = types[prop];
    if (type && type.type === 'array' && typeof type.itemType === 'function') {
      map[prop] = value.map((v) => toModel(type.itemType, v));
    } else if (typeof type === 'function') {
      map[prop] = toModel(type, value);
    } else {
      map[prop] = value;
    }
  }
  return new ModelClass(map);
}

function lowerFirst(s) {
  return s[0].toLowerCase() + s.slice(1);
}

function sdkDriver(server, account, opts = {}) {
  const client = iotClient(server, account, opts);
  const name = opts.signatureAlgorithm === 'v2' ? 'v2' : 'v3';
  return {
    name,
    client,
    async call(action, params) {
      const RequestClass = Iot[`${action}Request`];
      if (!RequestClass) throw new Error(`the IoT SDK has no ${action}Request model`);
      const req = toModel(RequestClass, params);
      // Observe the raw (un-cast) reply of this one call.
      let captured;
      const view = Object.create(client);
      view.callApi = async (...args) => {
        const r = await client.callApi.apply(view, args);
        captured = { body: JSON.parse(JSON.stringify(r.body)), headers: r.headers, statusCode: r.statusCode };
        return r;
      };
      let model;
      try {
        model = await view[lowerFirst(action)](req);
      } catch (err) {
        if (err && err.statusCode) {
          throw new GatewayError({ code: err.code, statusCode: err.statusCode, body: err.data, headers: undefined, original: err });
        }
        if (captured) {
          // The SDK received a 2xx reply but could not cast it to its model.
          err.message = `SDK could not cast the ${action} reply: ${err.message}\nraw: ${JSON.stringify(captured.body)}`;
        }
        throw err;
      }
      return { raw: captured.body, model, status: captured.statusCode, headers: captured.headers, clientThrew: false };
    },
  };
}

function popDriver(server, account, opts = {}) {
  const client = popClient(server, account, opts);
  const method = opts.method || 'GET';
  return {
    name: method === 'POST' ? 'popPost' : 'pop',
    client,
    async call(action, params) {
      try {
        const [json, entry] = await client.request(action, params, method === 'POST' ? { method: 'POST' } : {});
        // json-bigint builds null-prototype objects; normalise to plain JSON values.
        return { raw: JSON.parse(JSON.stringify(json)), model: null, status: entry.response.statusCode, headers: entry.response.headers, clientThrew: false };
      } catch (err) {
        if (err && err.entry && err.data) {
          const status = err.entry.response.statusCode;
          if (status >= 400) {
            throw new GatewayError({ code: err.code, statusCode: status, body: err.data, headers: err.entry.response.headers, original: err });
          }
          // pop-core throws on any non-success Code even with HTTP 200.
          return { raw: JSON.parse(JSON.stringify(err.data)), model: null, status, headers: err.entry.response.headers, clientThrew: true };
        }
        throw err;
      }
    },
  };
}

function rawDriver(server, account, opts = {}) {
  return {
    name: opts.method === 'POST' ? 'rawPost' : 'raw',
    async call(action, params) {
      const res = await v1Request(server, account, action, params, { format: 'JSON', ...opts });
      if (res.json === undefined) throw new Error(`non-JSON reply (HTTP ${res.status}): ${res.text.slice(0, 300)}`);
      if (res.status >= 400) {
        throw new GatewayError({ code: res.json.Code, statusCode: res.status, body: res.json, headers: res.headers });
      }
      return { raw: res.json, model: null, status: res.status, headers: res.headers, clientThrew: false };
    },
  };
}

const FLAVOURS = ['v3', 'v2', 'pop', 'popPost'];

function makeDriver(flavour, server, account, opts = {}) {
  switch (flavour) {
    case 'v3': return sdkDriver(server, account, opts);
    case 'v2': return sdkDriver(server, account, { ...opts, signatureAlgorithm: 'v2' });
    case 'pop': return popDriver(server, account, opts);
    case 'popPost': return popDriver(server, account, { ...opts, method: 'POST' });
    case 'raw': return rawDriver(server, account, opts);
    case 'rawPost': return rawDriver(server, account, { ...opts, method: 'POST' });
    default: throw new Error(`unknown client flavour ${flavour}`);
  }
}

module.exports = { Iot, Config, RPCClient, GatewayError, iotConfig, iotClient, popClient, toModel, sdkDriver, popDriver, rawDriver, makeDriver, FLAVOURS };
