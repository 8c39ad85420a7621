'use strict';
// The device side of the compatibility suite: a throwaway Mosquitto broker that
// carries otad's plugin, an otad connected to it, real Node device-SDK clients
// (alibabacloud-iot-device-sdk), the simulator otad-devsim, and polling
// with deadlines.
//
// Environment:
//   OTAD_BIN       otad (required by every server test)
//   OTAD_PLUGIN    absolute path of otad's Mosquitto plugin (.so)
//   MOSQUITTO_BIN  the broker executable (default: `mosquitto` from PATH or /usr/sbin)
//   OTADEVSIM_BIN  otad-devsim, for the large rollouts
// Without them the device tests skip with a reason instead of failing.

const assert = require('node:assert/strict');
const { spawn } = require('node:child_process');
const crypto = require('node:crypto');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const { startServer, storeDatabase, dropStore } = require('./server');
const { freePort, portAccepts, exitOf } = require('./processes');
const { makeDriver } = require('./clients');
const { assertSuccess, uniqueName } = require('./checks');
const { md5Hex, sha256Hex, formFields, postObject, httpExchange } = require('./upload');

// ---------------------------------------------------------------------------
// What is available
// ---------------------------------------------------------------------------

function executable(p) {
  try {
    fs.accessSync(p, fs.constants.X_OK);
    return fs.statSync(p).isFile();
  } catch {
    return false;
  }
}

function findMosquitto() {
  if (process.env.MOSQUITTO_BIN) return executable(process.env.MOSQUITTO_BIN) ? process.env.MOSQUITTO_BIN : null;
  const dirs = (process.env.PATH || '').split(':').concat(['/usr/sbin', '/usr/local/sbin', '/sbin']);
  for (const d of dirs) {
    if (!d) continue;
    const p = path.join(d, 'mosquitto');
    if (executable(p)) return p;
  }
  return null;
}

// Why the broker-backed tests cannot run here, or false when they can.
function deviceSkipReason() {
  const bin = process.env.OTAD_BIN;
  if (!bin) return 'OTAD_BIN is not set';
  if (!executable(bin)) return `OTAD_BIN="${bin}" is not an executable file`;
  const plugin = process.env.OTAD_PLUGIN;
  if (!plugin) return 'OTAD_PLUGIN (otad\'s Mosquitto plugin, an absolute path to the .so) is not set';
  if (!path.isAbsolute(plugin) || !fs.existsSync(plugin)) return `OTAD_PLUGIN="${plugin}" is not an existing absolute path`;
  if (!findMosquitto()) return 'the mosquitto broker is not installed (or MOSQUITTO_BIN is wrong)';
  return false;
}

// The same, for tests that also need the device simulator.
function devsimSkipReason() {
  const base = deviceSkipReason();
  if (base) return base;
  const bin = process.env.OTADEVSIM_BIN;
  if (!bin) return 'OTADEVSIM_BIN (the otad-devsim executable) is not set';
  if (!executable(bin)) return `OTADEVSIM_BIN="${bin}" is not an executable file`;
  return false;
}

// ---------------------------------------------------------------------------
// Polling with deadlines
// ---------------------------------------------------------------------------

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// Calls `probe` until it returns something truthy and returns that; fails after
// `timeoutMs` with `what` and the last value seen (or the last error thrown).
async function waitFor(what, probe, { timeoutMs = 10000, intervalMs = 50 } = {}) {
  const deadline = Date.now() + timeoutMs;
  let last;
  let lastError;
  for (;;) {
    try {
      last = await probe();
      lastError = undefined;
      if (last) return last;
    } catch (e) {
      lastError = e;
    }
    if (Date.now() >= deadline) {
      const detail = lastError ? `last error: ${lastError.stack || lastError}` : `last value: ${JSON.stringify(last)}`;
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}; ${detail}${serverSide()}`);
    }
    await sleep(intervalMs);
  }
}

// Stacks currently running: a timeout shows what their servers logged last.
const activeStacks = new Set();

function serverSide() {
  let out = '';
  for (const st of activeStacks) out += `\n${st.diagnostics()}`;
  return out;
}

// Every child this module starts; killed when the test process exits.
const children = new Set();
process.on('exit', () => {
  for (const c of children) {
    try { c.kill('SIGKILL'); } catch { /* already gone */ }
  }
});

// ---------------------------------------------------------------------------
// Mosquitto with otad's plugin
// ---------------------------------------------------------------------------

// A broker on 127.0.0.1:`port`, plugin options pointing at otad's database: the
// SQLite file in otad's data directory, or in PostgreSQL mode the same conninfo URI
// (with the data directory's search_path) that otad gets.
// Restarting keeps the port, so otad and the devices find it again.
class Broker {
  constructor({ dir, port, database, username, password }) {
    this.dir = dir;
    this.port = port;
    this.database = database;
    this.username = username;
    this.password = password;
    this.confPath = path.join(dir, 'mosquitto.conf');
    this.logPath = path.join(dir, 'mosquitto.log');
    this.child = null;
    this.starts = 0;
  }

  writeConf() {
    const lines = [
      `listener ${this.port} 127.0.0.1`,
      'allow_anonymous false',
      'per_listener_settings false',
      'persistence false',
      'queue_qos0_messages true',
      'max_queued_messages 100000',
      'log_dest stderr',
      'log_type error',
      'log_type warning',
      'log_type notice',
      'log_type information',
      `plugin ${process.env.OTAD_PLUGIN}`,
      `plugin_opt_database ${this.database}`,
      `plugin_opt_server_username ${this.username}`,
      `plugin_opt_server_password ${this.password}`,
    ];
    // Started as root, Mosquitto would switch to its own user, which cannot read
    // a database in this directory.
    if (typeof process.getuid === 'function' && process.getuid() === 0) lines.push('user root');
    fs.writeFileSync(this.confPath, `${lines.join('\n')}\n`, { mode: 0o600 });
  }

  async start() {
    this.writeConf();
    const log = fs.openSync(this.logPath, 'a');
    const child = spawn(findMosquitto(), ['-c', this.confPath], { stdio: ['ignore', log, log] });
    fs.closeSync(log);
    children.add(child);
    child.once('exit', () => children.delete(child));
    this.child = child;
    this.starts += 1;
    await waitFor(`mosquitto to accept connections on port ${this.port}`, async () => {
      if (child.exitCode !== null || child.signalCode !== null) {
        throw new Error(`mosquitto exited (code ${child.exitCode}, signal ${child.signalCode}):\n${this.log()}`);
      }
      return portAccepts(this.port);
    }, { timeoutMs: 10000, intervalMs: 25 });
  }

  log() {
    try { return fs.readFileSync(this.logPath, 'utf8').slice(-20000); } catch { return ''; }
  }

  async kill(signal = 'SIGKILL') {
    const c = this.child;
    if (!c) return;
    c.kill(signal);
    await exitOf(c);
    this.child = null;
  }

  async restart(signal = 'SIGKILL') {
    await this.kill(signal);
    await this.start();
  }

  async stop() {
    const c = this.child;
    if (!c) return;
    c.kill('SIGTERM');
    const timer = setTimeout(() => c.kill('SIGKILL'), 5000);
    await exitOf(c);
    clearTimeout(timer);
    this.child = null;
  }
}

// ---------------------------------------------------------------------------
// The stack: broker + otad + an account and a management client
// ---------------------------------------------------------------------------

const BROKER_USER = 'otad-server';

// Starts a broker and an otad connected to it, sharing one data directory.
// The firmware listener gets a fixed port so that download URLs stay valid
// across otad restarts (a real deployment keeps its ports too).
async function startDeviceStack({ config = {} } = {}) {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'otad-devices-'));
  const dataDir = path.join(root, 'data');
  fs.mkdirSync(dataDir);
  const password = crypto.randomBytes(18).toString('hex');
  const passwordFile = path.join(root, 'broker-password');
  fs.writeFileSync(passwordFile, `${password}\n`, { mode: 0o600 });
  let database;
  try {
    database = await storeDatabase(dataDir);
  } catch (e) {
    fs.rmSync(root, { recursive: true, force: true });
    throw e;
  }
  const broker = new Broker({
    dir: root, port: await freePort(), database, username: BROKER_USER, password,
  });
  try {
    await broker.start();
  } catch (e) {
    await broker.stop();
    fs.rmSync(root, { recursive: true, force: true });
    await dropStore(dataDir);
    throw e;
  }
  const filesPort = await freePort();

  const stack = {
    root, dataDir, broker, filesPort, server: null, account: null, driver: null, otadStarts: 0,
    get brokerUrl() { return `mqtt://127.0.0.1:${broker.port}`; },
    get brokerAddress() { return `127.0.0.1:${broker.port}`; },
    // Download URLs carry this host:port. Real device SDKs cannot take a port in
    // the URL (they would serve firmware on 80/443); Node and otad-devsim can, so
    // the tests fetch the URLs as pushed.
    get filesBase() { return `http://127.0.0.1:${filesPort}`; },

    async startOtad() {
      const server = await startServer({
        dataDir,
        config: {
          throttling: { enabled: false },
          // Uploads go to the firmware listener too: package URLs start with the
          // upload base, and otad recognises its own files by that prefix, so it
          // must not change when otad restarts on another API port.
          files: { listen: `127.0.0.1:${filesPort}`, upload_base_url: `http://127.0.0.1:${filesPort}` },
          ...config,
          mqtt: {
            host: '127.0.0.1', port: broker.port, username: BROKER_USER, password_file: passwordFile, ...(config.mqtt || {}),
          },
        },
      });
      stack.server = server;
      stack.otadStarts += 1;
      await stack.waitOtadConnected(1);
      if (stack.account) stack.driver = makeDriver('v3', server, stack.account);
      return server;
    },

    // otad logs one line per broker connection; wait until every node of the server has
    // logged its n-th.
    async waitOtadConnected(n = 1, timeoutMs = 15000) {
      const server = stack.server;
      await waitFor(`otad to connect to the broker (${n} time(s))`, () => {
        for (const node of server.nodes) {
          if (node.child.exitCode !== null || node.child.signalCode !== null) {
            throw new Error(`otad exited:\n${node.stderr.slice(-5000)}`);
          }
        }
        return stack.otadConnections() >= n;
      }, { timeoutMs, intervalMs: 25 });
    },

    // Broker connections made so far by the node that made the fewest.
    otadConnections() {
      return Math.min(...stack.server.nodes.map((node) => node.brokerConnections));
    },

    // SIGKILL: no drain, no goodbye to the broker.
    async killOtad() {
      const server = stack.server;
      await server.kill('SIGKILL');
      stack.lastStderr = server.stderr;
      await server.stop(); // removes only the server's own scratch directory
    },

    async restartOtad() {
      await stack.killOtad();
      return stack.startOtad();
    },

    async restartBroker(signal = 'SIGKILL') {
      const before = stack.otadConnections();
      await broker.restart(signal);
      // otad reconnects by itself (with a backoff that starts at one second).
      await stack.waitOtadConnected(before + 1, 40000);
    },

    async stop() {
      activeStacks.delete(stack);
      if (stack.server) {
        try { await stack.server.stop(); } catch { /* reported elsewhere */ }
      }
      await broker.stop();
      fs.rmSync(root, { recursive: true, force: true });
      await dropStore(dataDir); // after otad and the broker let go of it
    },

    // Whatever helps explain a failure.
    diagnostics() {
      const nodes = stack.server ? stack.server.nodes : [];
      // Without the access log lines, which would crowd out the rest.
      const tail = (text) => text.split('\n').filter((l) => !l.includes(' INFO access ')).join('\n').slice(-3000);
      const logs = nodes.map((n, i) => `--- otad${nodes.length > 1 ? ` node ${i + 1}` : ''} stderr (tail, no access lines) ---\n${tail(n.stderr)}\n`);
      return logs.join('') +
        `--- mosquitto log (tail) ---\n${broker.log().slice(-2000)}`;
    },
  };

  activeStacks.add(stack);
  try {
    await stack.startOtad();
    stack.account = await stack.server.createAccount('devices');
    stack.driver = makeDriver('v3', stack.server, stack.account);
  } catch (e) {
    await stack.stop();
    throw e;
  }
  return stack;
}

// ---------------------------------------------------------------------------
// Catalog through the management SDK
// ---------------------------------------------------------------------------

async function call(d, action, params, where = action) {
  const res = await d.call(action, params);
  assertSuccess(res, where);
  return res.raw;
}

async function createProduct(d) {
  const name = uniqueName('dev_prod_');
  const raw = await call(d, 'CreateProduct', { ProductName: name, NodeType: 0 });
  return raw.ProductKey || raw.Data.ProductKey;
}

// `count` devices (or the given names), registered a few at a time.
async function registerDevices(d, productKey, countOrNames, { prefix = 'dev', parallel = 8 } = {}) {
  const names = Array.isArray(countOrNames)
    ? countOrNames
    : Array.from({ length: countOrNames }, (_, i) => `${prefix}${String(i).padStart(4, '0')}-${crypto.randomBytes(3).toString('hex')}`);
  const out = new Array(names.length);
  let next = 0;
  async function worker() {
    while (next < names.length) {
      const i = next++;
      const raw = await call(d, 'RegisterDevice', { ProductKey: productKey, DeviceName: names[i] });
      out[i] = { productKey, deviceName: names[i], deviceSecret: raw.Data.DeviceSecret, iotId: raw.Data.IotId };
    }
  }
  await Promise.all(Array.from({ length: Math.min(parallel, names.length) }, worker));
  return out;
}

// Bytes that differ at most positions, seeded so that each package is distinct.
function firmwareBytes(n, seed) {
  const out = Buffer.alloc(n);
  let x = (seed * 2654435761) >>> 0;
  for (let i = 0; i < n; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    out[i] = x >>> 24;
  }
  return out;
}

let firmwareSeed = 1;

// Uploads a real file through GenerateOTAUploadURL + PostObject and registers a
// package for it. Returns the package id and what the device should receive.
async function uploadFirmware(d, productKey, { destVersion = '2.0.0', size = 48 * 1024, extra = {} } = {}) {
  const bytes = firmwareBytes(size, firmwareSeed++);
  const form = (await call(d, 'GenerateOTAUploadURL', { FileSuffix: 'bin' })).Data;
  const reply = await postObject(form.Host, formFields(form), bytes);
  assert.equal(reply.status, 204, `PostObject of the firmware file: ${reply.text}`);
  const raw = await call(d, 'CreateOTAFirmware', {
    FirmwareName: uniqueName('fw_'),
    DestVersion: destVersion,
    ProductKey: productKey,
    FirmwareUrl: form.FirmwareUrl,
    FirmwareSize: bytes.length,
    FirmwareSign: md5Hex(bytes),
    SignMethod: 'MD5',
    NeedToVerify: false,
    ...extra,
  });
  return { firmwareId: raw.Data.FirmwareId, bytes, md5: md5Hex(bytes), sha256: sha256Hex(bytes), destVersion, productKey };
}

async function staticJob(d, fw, params) {
  const raw = await call(d, 'CreateOTAStaticUpgradeJob', {
    FirmwareId: fw.firmwareId, ProductKey: fw.productKey, ...params,
  });
  return raw.Data.JobId;
}

async function dynamicJob(d, fw, params) {
  const raw = await call(d, 'CreateOTADynamicUpgradeJob', {
    FirmwareId: fw.firmwareId, ProductKey: fw.productKey, ...params,
  });
  return raw.Data.JobId;
}

// Every task of a batch, all pages.
async function allTasks(d, jobId, extra = {}) {
  const items = [];
  for (let page = 1; ; page++) {
    const raw = await call(d, 'ListOTATaskByJob', { JobId: jobId, CurrentPage: page, PageSize: 100, ...extra });
    items.push(...raw.Data.SimpleOTATaskInfo);
    if (page >= raw.PageCount || raw.Data.SimpleOTATaskInfo.length === 0) return { items, total: raw.Total };
  }
}

// One device's task in a batch (DeviceNames filter), or undefined.
async function taskOf(d, jobId, deviceName) {
  const raw = await call(d, 'ListOTATaskByJob', { JobId: jobId, DeviceNames: [deviceName] });
  return raw.Data.SimpleOTATaskInfo.find((t) => t.DeviceName === deviceName);
}

// Waits until the device's task satisfies `want` (a status string or a predicate).
async function waitTask(d, jobId, deviceName, want, timeoutMs = 10000) {
  const ok = typeof want === 'function' ? want : (t) => t.TaskStatus === want;
  return waitFor(`task of ${deviceName} in ${jobId} to be ${typeof want === 'function' ? 'as expected' : want}`, async () => {
    const t = await taskOf(d, jobId, deviceName);
    return t && ok(t) ? t : false;
  }, { timeoutMs });
}

async function queryJob(d, jobId) {
  return (await call(d, 'QueryOTAJob', { JobId: jobId })).Data;
}

async function waitJob(d, jobId, status, timeoutMs = 10000) {
  return waitFor(`job ${jobId} to be ${status}`, async () => {
    const j = await queryJob(d, jobId);
    return j.JobStatus === status ? j : false;
  }, { timeoutMs });
}

async function deviceDetail(d, productKey, deviceName) {
  return (await call(d, 'QueryDeviceDetail', { ProductKey: productKey, DeviceName: deviceName })).Data;
}

// Waits until otad has seen the device's login (Status ONLINE) and, optionally,
// its version report.
async function waitDeviceSeen(d, dev, { version, status = 'ONLINE', timeoutMs = 10000 } = {}) {
  return waitFor(`otad to see ${dev.deviceName} ${status}${version ? ` at ${version}` : ''}`, async () => {
    const x = await deviceDetail(d, dev.productKey, dev.deviceName);
    return x.Status === status && (!version || x.FirmwareVersion === version) ? x : false;
  }, { timeoutMs });
}

// Task counts per status, from the TaskStatus filter of ListOTATaskByJob.
async function taskCounts(d, jobId) {
  const out = {};
  for (const s of ['CONFIRM', 'QUEUED', 'NOTIFIED', 'IN_PROGRESS', 'SUCCEEDED', 'FAILED', 'CANCELED']) {
    const raw = await call(d, 'ListOTATaskByJob', { JobId: jobId, TaskStatus: s, CurrentPage: 1, PageSize: 1 });
    out[s] = raw.Total;
  }
  return out;
}

// ---------------------------------------------------------------------------
// Real Node device SDK
// ---------------------------------------------------------------------------

let iotSdk;
function deviceSdk() {
  if (!iotSdk) iotSdk = require('alibabacloud-iot-device-sdk');
  return iotSdk;
}

// One device connected with alibabacloud-iot-device-sdk. The SDK has no OTA
// functions, so OTA messages are raw publishes on the Alink topics, as the
// vendor's own samples do. Every message received is kept for inspection.
class SdkDevice {
  constructor(stack, triple, sdkOptions = {}) {
    this.stack = stack;
    this.productKey = triple.productKey;
    this.deviceName = triple.deviceName;
    this.deviceSecret = triple.deviceSecret;
    this.messages = [];
    this.errors = [];
    this.connects = 0;
    this.nextId = 1;
    this.device = deviceSdk().device({
      productKey: this.productKey,
      deviceName: this.deviceName,
      deviceSecret: this.deviceSecret,
      brokerUrl: stack.brokerUrl,
      ...sdkOptions,
    });
    // The SDK re-emits client events with the arguments packed into one array.
    this.device.on('error', (args) => this.errors.push(Array.isArray(args) ? args[0] : args));
    this.device.on('connect', () => { this.connects += 1; });
    this.device.on('message', (topic, payload) => {
      const text = Buffer.from(payload).toString('utf8');
      let json;
      try { json = JSON.parse(text); } catch { json = undefined; }
      this.messages.push({ topic, text, json, at: Date.now() });
    });
  }

  get mqtt() { return this.device._mqttClient; }
  topic(kind) { return `/ota/device/${kind}/${this.productKey}/${this.deviceName}`; }
  get upgradeTopic() { return this.topic('upgrade'); }
  get getTopic() { return `/sys/${this.productKey}/${this.deviceName}/thing/ota/firmware/get`; }
  get getReplyTopic() { return `${this.getTopic}_reply`; }

  async waitConnected(timeoutMs = 10000) {
    await waitFor(`${this.deviceName} to connect`, () => {
      if (this.errors.length) throw this.errors[this.errors.length - 1];
      return this.mqtt.connected;
    }, { timeoutMs, intervalMs: 20 });
  }

  // Publishes a JSON document (or raw text/bytes) and resolves once the broker
  // has acknowledged it (QoS 1 by default).
  publish(topic, body, { qos = 1 } = {}) {
    const payload = typeof body === 'string' || Buffer.isBuffer(body) ? body : JSON.stringify(body);
    return new Promise((resolve, reject) => {
      this.device.publish(topic, payload, { qos }, (err) => (err ? reject(err) : resolve()));
    });
  }

  id() { return String(this.nextId++); }

  reportVersion(version, module) {
    const params = module ? { version, module } : { version };
    return this.publish(this.topic('inform'), { id: this.id(), params });
  }

  reportProgress(step, desc = '', module) {
    const params = { step: String(step), desc };
    if (module) params.module = module;
    return this.publish(this.topic('progress'), { id: this.id(), params });
  }

  // thing.ota.firmware.get; resolves to the get_reply with the same id.
  async pull({ module, id = this.id(), timeoutMs = 10000 } = {}) {
    const params = module ? { module } : {};
    const from = this.messages.length;
    await this.publish(this.getTopic, { id, version: '1.0', params, method: 'thing.ota.firmware.get' });
    return this.waitMessage((m) => m.topic === this.getReplyTopic && m.json && String(m.json.id) === String(id), { timeoutMs, from });
  }

  subscribe(topic, qos = 1) {
    return new Promise((resolve, reject) => {
      this.device.subscribe(topic, { qos }, (err, granted) => (err ? reject(err) : resolve(granted)));
    });
  }

  received(filter) {
    return this.messages.filter((m) => (typeof filter === 'string' ? m.topic === filter : filter(m)));
  }

  // The first message from index `from` on that satisfies `match`.
  async waitMessage(match, { timeoutMs = 10000, from = 0 } = {}) {
    const pred = typeof match === 'string' ? (m) => m.topic === match : match;
    return waitFor(`${this.deviceName} to receive a matching message`, () => this.messages.slice(from).find(pred), { timeoutMs, intervalMs: 20 });
  }

  // The n-th push (1-based) on the device's upgrade topic.
  async waitPush(n = 1, timeoutMs = 10000) {
    return waitFor(`${this.deviceName} to receive upgrade push #${n}`, () => {
      const pushes = this.received(this.upgradeTopic);
      return pushes.length >= n ? pushes[n - 1] : false;
    }, { timeoutMs, intervalMs: 20 });
  }

  // A round trip on this device's own connection: once the SUBACK is back,
  // anything the broker had routed to this device earlier is in `messages`.
  async barrier() {
    await this.subscribe(`/sys/${this.productKey}/${this.deviceName}/thing/barrier/${this.nextId++}`);
  }

  // Idempotent; the mqtt client does not call back when it is already closed.
  close() {
    if (!this.closing) {
      this.closing = new Promise((resolve) => {
        const timer = setTimeout(resolve, 2000);
        this.device.end(true, () => { clearTimeout(timer); resolve(); });
      });
    }
    return this.closing;
  }
}

async function connectDevice(stack, triple, opts = {}) {
  const dev = new SdkDevice(stack, triple, opts);
  try {
    await dev.waitConnected(opts.timeoutMs);
  } catch (e) {
    await dev.close();
    throw e;
  }
  return dev;
}

// Connects with the given secret and reports how the broker answered: the
// CONNACK refusal as the mqtt client saw it, or null when it was accepted.
async function tryLogin(stack, triple, timeoutMs = 10000) {
  const dev = new SdkDevice(stack, triple);
  try {
    const outcome = await waitFor(`an answer to the login of ${triple.deviceName}`, () => {
      if (dev.mqtt.connected) return { accepted: true };
      if (dev.errors.length) return { accepted: false, error: dev.errors[0] };
      return false;
    }, { timeoutMs, intervalMs: 20 });
    return outcome;
  } finally {
    await dev.close();
  }
}

// Downloads a URL from a push the way a device does (plain HTTP, optional Range).
function download(url, range) {
  return httpExchange(url, { headers: range ? { range } : {} });
}

// ---------------------------------------------------------------------------
// otad-devsim
// ---------------------------------------------------------------------------

// Starts otad-devsim over `devices` ({productKey, deviceName, deviceSecret,
// version?}) against the stack's broker. Resolves `done` with the exit code, the
// JSON summary it prints on stdout and its stderr.
function startDevsim(stack, devices, args = []) {
  const csv = devices.map((x) => [x.productKey, x.deviceName, x.deviceSecret].concat(x.version ? [x.version] : []).join(',')).join('\n');
  const file = path.join(stack.root, `devices-${crypto.randomBytes(4).toString('hex')}.csv`);
  fs.writeFileSync(file, `${csv}\n`);
  const child = spawn(process.env.OTADEVSIM_BIN,
    ['--devices', file, '--broker', stack.brokerAddress, '--stats-interval', '1', ...args],
    { stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (b) => { stdout += b; });
  child.stderr.on('data', (b) => {
    stderr += b;
    if (stderr.length > 400000) stderr = stderr.slice(-200000);
  });
  const done = new Promise((resolve) => {
    child.once('exit', (code, signal) => {
      children.delete(child);
      let summary;
      const line = stdout.trim().split('\n').filter(Boolean).pop();
      try { summary = JSON.parse(line); } catch { summary = undefined; }
      resolve({ code, signal, summary, stdout, stderr });
    });
  });
  return {
    child,
    done,
    get stderr() { return stderr; },
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGINT');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      const r = await done;
      clearTimeout(timer);
      return r;
    },
  };
}

module.exports = {
  deviceSkipReason, devsimSkipReason, waitFor, sleep, freePort, Broker, startDeviceStack,
  call, createProduct, registerDevices, uploadFirmware, firmwareBytes, staticJob, dynamicJob,
  allTasks, taskOf, waitTask, queryJob, waitJob, deviceDetail, waitDeviceSeen, taskCounts,
  SdkDevice, connectDevice, tryLogin, download, startDevsim,
};
