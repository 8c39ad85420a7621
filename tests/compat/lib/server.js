'use strict';
// Start and stop otad instances and manage their accounts through the CLI.
//
// Storage backend: otad's embedded SQLite in the data directory (the default), or
// PostgreSQL when OTAD_TEST_POSTGRES holds the conninfo URI of a running server
// (`postgresql://USER@HOST:PORT/DB`). In PostgreSQL mode every data directory gets a
// schema of its own, named after the directory's path, and every otad command that
// opens the store gets `--database <URI with search_path set to that schema>`: servers
// never share records, and a server restarted on the same data directory finds its
// records again. The data directory still holds the files and the other local state.

const { spawn, execFile } = require('node:child_process');
const crypto = require('node:crypto');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const { clusterSize, startNginx } = require('./cluster');
const { freePort, exitOf } = require('./processes');

function otadBin() {
  const bin = process.env.OTAD_BIN;
  if (!bin) {
    throw new Error('OTAD_BIN is not set: export OTAD_BIN=/absolute/path/to/otad before running the compatibility tests');
  }
  if (!path.isAbsolute(bin)) throw new Error(`OTAD_BIN must be an absolute path, got "${bin}"`);
  try {
    fs.accessSync(bin, fs.constants.X_OK);
  } catch {
    throw new Error(`OTAD_BIN="${bin}" does not exist or is not executable`);
  }
  return bin;
}

// Child environment without any inherited Alibaba Cloud credentials, so that
// a server only bootstraps an account when a test asks for it, and without an
// inherited OTAD_DATABASE, so that the backend is only the one chosen here.
function cleanEnv(extra = {}) {
  const env = { ...process.env };
  delete env.ALIBABA_CLOUD_ACCESS_KEY_ID;
  delete env.ALIBABA_CLOUD_ACCESS_KEY_SECRET;
  delete env.ALIBABA_CLOUD_SECURITY_TOKEN;
  delete env.OTAD_DATABASE;
  return { ...env, ...extra };
}

// ---------------------------------------------------------------------------
// Storage backend
// ---------------------------------------------------------------------------

// The conninfo URI of the PostgreSQL server to test against, or null for SQLite.
function postgresBase() {
  const base = process.env.OTAD_TEST_POSTGRES;
  if (!base) return null;
  if (!/^postgres(ql)?:\/\//.test(base)) {
    throw new Error(`OTAD_TEST_POSTGRES must be a conninfo URI postgresql://USER@HOST:PORT/DB, got "${base}"`);
  }
  if (base.includes('#')) throw new Error(`OTAD_TEST_POSTGRES must not carry a fragment: "${base}"`);
  return base;
}

// 'sqlite' or 'postgres': the store every otad of this run uses.
function backendName() {
  return postgresBase() ? 'postgres' : 'sqlite';
}

let backendLogged = false;
function logBackendOnce() {
  if (backendLogged) return;
  backendLogged = true;
  const where = backendName() === 'postgres'
    ? `postgres (${process.env.OTAD_TEST_POSTGRES}, one schema per data directory)`
    : 'sqlite (otad.db in each data directory)';
  process.stderr.write(`otad compat: storage backend ${where}\n`);
}

// The PostgreSQL schema of a data directory: stable for the directory's path, so a
// restart on the same directory finds the same records.
function schemaFor(dataDir) {
  return `t_${crypto.createHash('sha1').update(path.resolve(dataDir)).digest('hex').slice(0, 20)}`;
}

// `base` with `-csearch_path=<schema>` added to its `options` parameter (appended to an
// existing one, or as a new parameter). libpq decodes %XX in URI parameters but not '+',
// so the value is written by hand rather than through URLSearchParams.
function withSearchPath(base, schema) {
  const opt = `-csearch_path%3D${schema}`;
  const q = base.indexOf('?');
  if (q < 0) return `${base}?options=${opt}`;
  let merged = false;
  const params = base.slice(q + 1).split('&').filter(Boolean).map((p) => {
    if (!p.startsWith('options=')) return p;
    merged = true;
    return p === 'options=' ? `options=${opt}` : `${p}%20${opt}`;
  });
  if (!merged) params.push(`options=${opt}`);
  return `${base.slice(0, q)}?${params.join('&')}`;
}

// Runs SQL on the PostgreSQL server of OTAD_TEST_POSTGRES (outside any test schema);
// resolves to psql's stdout.
function psql(sql, { timeout = 30000 } = {}) {
  const base = postgresBase();
  if (!base) throw new Error('psql() needs OTAD_TEST_POSTGRES');
  return new Promise((resolve, reject) => {
    execFile('psql', ['-X', '-v', 'ON_ERROR_STOP=1', '-qAt', base, '-c', sql], { timeout }, (err, stdout, stderr) => {
      if (err) {
        err.message = `psql failed on OTAD_TEST_POSTGRES (${base}): ${sql}\n${err.message}\nstderr: ${stderr}`;
        reject(err);
      } else {
        resolve(stdout);
      }
    });
  });
}

// Schemas this process has set up, by name: a promise that settles once it exists.
const schemas = new Map();

// Makes sure the schema of `dataDir` exists before an otad opens it. The first time this
// process meets a data directory that is still empty, a schema of that name left over from
// an earlier run (a reused cluster and a reused temporary path) is dropped first, so a
// fresh data directory always starts on an empty store.
function ensureSchema(dataDir) {
  const schema = schemaFor(dataDir);
  if (!schemas.has(schema)) {
    let fresh = false;
    try { fresh = fs.readdirSync(dataDir).length === 0; } catch { fresh = true; }
    const sql = fresh
      ? `DROP SCHEMA IF EXISTS "${schema}" CASCADE; CREATE SCHEMA "${schema}"`
      : `CREATE SCHEMA IF NOT EXISTS "${schema}"`;
    const made = psql(sql);
    made.catch(() => schemas.delete(schema));
    schemas.set(schema, made);
  }
  return schemas.get(schema).then(() => schema);
}

// What otad's `--database` / the plugin's `plugin_opt_database` get for `dataDir`: the
// SQLite file in it, or the PostgreSQL URI of its schema (created here if needed).
async function storeDatabase(dataDir) {
  const base = postgresBase();
  if (!base) return path.join(dataDir, 'otad.db');
  return withSearchPath(base, await ensureSchema(dataDir));
}

// The arguments that point an otad command at the store of `dataDir`: none for SQLite
// (otad's default is the data directory), `--database URI` for PostgreSQL.
async function storeArgs(dataDir) {
  logBackendOnce();
  if (!postgresBase()) return [];
  return ['--database', await storeDatabase(dataDir)];
}

// Drops the PostgreSQL schema of a data directory that is gone for good (nothing for
// SQLite, whose file went with the directory). Every otad on it must have exited. A
// failure is reported as a warning: the throwaway cluster goes away anyway.
async function dropStore(dataDir) {
  if (!postgresBase()) return;
  const schema = schemaFor(dataDir);
  const made = schemas.get(schema);
  schemas.delete(schema);
  if (!made) return;
  try {
    await made.catch(() => {});
    await psql(`SET lock_timeout = '20s'; DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  } catch (e) {
    process.emitWarning(`could not drop the PostgreSQL schema ${schema} of ${dataDir}: ${e.message}`);
  }
}

// Removes a data directory a test made for itself (with `startServer({dataDir})`) and, in
// PostgreSQL mode, the records that belonged to it.
async function removeDataDir(dataDir) {
  fs.rmSync(dataDir, { recursive: true, force: true });
  await dropStore(dataDir);
}

// Where the records of `dataDir` are, to check that otad really uses the backend of this
// run: for SQLite the bytes of otad.db and of its WAL; for PostgreSQL every row of every
// table in the directory's schema (as XML, through psql, so pg_dump's version does not
// matter). Either way a string that otad stored shows up in `text`.
async function storeSnapshot(dataDir) {
  const sqliteFiles = ['otad.db', 'otad.db-wal'].filter((f) => fs.existsSync(path.join(dataDir, f)));
  if (!postgresBase()) {
    const text = sqliteFiles.map((f) => fs.readFileSync(path.join(dataDir, f)).toString('latin1')).join('\n');
    return { backend: 'sqlite', sqliteFiles, text };
  }
  const schema = await ensureSchema(dataDir);
  const inSchema = `FROM information_schema.tables WHERE table_schema = '${schema}' AND table_type = 'BASE TABLE'`;
  const tables = (await psql(`SELECT table_name ${inSchema} ORDER BY 1`)).split('\n').filter(Boolean);
  const text = await psql(
    `SELECT query_to_xml(format('SELECT * FROM %I.%I', table_schema, table_name), true, false, '') ${inSchema}`,
  );
  return { backend: 'postgres', schema, tables, sqliteFiles, text };
}

const running = new Set();
process.on('exit', () => {
  for (const child of running) {
    try { child.kill('SIGKILL'); } catch { /* already gone */ }
  }
});

// Spawns one `otad serve` and resolves once it prints its listening line.
async function spawnNode(args, env, startTimeoutMs = 15000) {
  const child = spawn(otadBin(), args, { env: cleanEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
  running.add(child);
  // brokerConnections counts otad's "connected to MQTT broker" lines over the whole run
  // (the kept stderr is only a tail).
  const node = { child, stderr: '', stdout: '', url: null, brokerConnections: 0 };
  const marker = 'connected to MQTT broker ';
  let carry = '';
  child.stderr.on('data', (d) => {
    const text = d.toString();
    const scan = carry + text;
    node.brokerConnections += scan.split(marker).length - 1;
    carry = scan.slice(-(marker.length - 1));
    node.stderr += text;
    if (node.stderr.length > 200000) node.stderr = node.stderr.slice(-100000);
  });
  node.url = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      reject(new Error(`otad did not print its listening line within ${startTimeoutMs} ms\nstdout: ${node.stdout}\nstderr: ${node.stderr}`));
    }, startTimeoutMs);
    child.stdout.on('data', (d) => {
      node.stdout += d.toString();
      const nl = node.stdout.indexOf('\n');
      if (nl >= 0) {
        const line = node.stdout.slice(0, nl).replace(/\r$/, '');
        const m = /^listening on (http:\/\/([^:/\s]+):(\d+))$/.exec(line);
        clearTimeout(timer);
        if (m) resolve(m[1]);
        else reject(new Error(`unexpected first stdout line from otad: ${JSON.stringify(line)}`));
      }
    });
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`otad exited early (code ${code}, signal ${signal})\nstdout: ${node.stdout}\nstderr: ${node.stderr}`));
    });
    child.on('error', (e) => { clearTimeout(timer); reject(e); });
  }).catch((e) => {
    child.kill('SIGKILL');
    running.delete(child);
    throw e;
  });
  return node;
}

// SIGTERM, then SIGKILL after 10 s; resolves to the exit, or null when it had to be killed.
async function terminate(child) {
  const done = exitOf(child);
  child.kill('SIGTERM');
  let timer;
  const timeout = new Promise((resolve) => { timer = setTimeout(() => resolve(null), 10000); });
  const result = await Promise.race([done, timeout]);
  clearTimeout(timer);
  if (result === null) {
    child.kill('SIGKILL');
    await done;
  }
  return result;
}

// The `listen` and URL fields a node gets in cluster mode. Every URL otad hands out (download
// and upload URLs) names nginx, never a node; a fixed files port of the test belongs to nginx.
async function clusterConfig(cfg, nginxApi, filesNginx) {
  const files = { ...(cfg.files || {}) };
  if (filesNginx) {
    files.listen = `127.0.0.1:${await freePort()}`;
    if (!files.base_url) files.base_url = `http://127.0.0.1:${filesNginx}`;
  } else if (!files.base_url) {
    files.base_url = nginxApi;
  }
  if (!files.upload_base_url) files.upload_base_url = filesNginx ? `http://127.0.0.1:${filesNginx}` : nginxApi;
  return files;
}

// Options:
//   config:  object written as the JSON config file (listen/data are filled in)
//   env:     extra environment variables for the server process
//   dataDir: an existing data directory to reuse (kept on stop)
//   startTimeoutMs
// In cluster mode (OTAD_TEST_CLUSTER=N) the server is N nodes behind nginx; see cluster.js.
async function startServer(options = {}) {
  otadBin();
  const nodes = clusterSize();
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'otad-compat-'));
  const dataDir = options.dataDir || path.join(root, 'data');
  if (!options.dataDir) fs.mkdirSync(dataDir);
  let database;
  try {
    database = await storeArgs(dataDir);
  } catch (e) {
    fs.rmSync(root, { recursive: true, force: true });
    throw e;
  }
  const started = [];
  let nginx = null;
  let url;
  try {
    if (nodes === 1) {
      const args = ['serve', '--listen', '127.0.0.1:0', '--data', dataDir, ...database];
      if (options.config) {
        const cfgPath = path.join(root, 'otad.json');
        const cfg = { listen: '127.0.0.1:0', data: dataDir, log_level: 'info', ...options.config };
        fs.writeFileSync(cfgPath, JSON.stringify(cfg, null, 2));
        args.push('--config', cfgPath);
      }
      started.push(await spawnNode(args, options.env, options.startTimeoutMs));
      url = started[0].url;
    } else {
      const cfg = options.config || {};
      const apiPort = await freePort();
      const nginxApi = `http://127.0.0.1:${apiPort}`;
      const fixedFiles = cfg.files && cfg.files.listen ? Number(cfg.files.listen.split(':').pop()) : 0;
      const schema = schemaFor(dataDir);
      const configs = [];
      for (let i = 0; i < nodes; i++) {
        // Each node has a data directory of its own (node id, broker client id, upload
        // spool); all of them share the files directory of the server's data directory.
        const nodeDir = path.join(dataDir, `node-${i + 1}`);
        fs.mkdirSync(nodeDir, { recursive: true });
        const node = {
          log_level: 'info',
          ...cfg,
          listen: '127.0.0.1:0',
          data: nodeDir,
          files: { ...(await clusterConfig(cfg, nginxApi, fixedFiles)), dir: path.join(dataDir, 'files') },
          redis: { url: process.env.OTAD_TEST_REDIS, key_prefix: `otad:${schema}:`, ...(cfg.redis || {}) },
        };
        if (cfg.mqtt) node.mqtt = { shared_group: 'otad', ...cfg.mqtt };
        const cfgPath = path.join(root, `otad-${i + 1}.json`);
        fs.writeFileSync(cfgPath, JSON.stringify(node, null, 2));
        configs.push({ cfgPath, nodeDir, files: node.files });
      }
      const spawnOne = (c) => spawnNode(['serve', '--listen', '127.0.0.1:0', '--data', c.nodeDir, ...database,
        '--config', c.cfgPath], options.env, options.startTimeoutMs);
      // The first node creates the schema and the files directory; the others join it.
      started.push(await spawnOne(configs[0]));
      started.push(...await Promise.all(configs.slice(1).map(spawnOne)));
      const hostPort = (u) => new URL(u).host;
      const groups = [{ listen: apiPort, servers: started.map((n) => hostPort(n.url)) }];
      if (fixedFiles) {
        groups.push({ listen: fixedFiles, servers: configs.map((c) => c.files.listen) });
      }
      nginx = await startNginx(path.join(root, 'nginx'), groups);
      url = nginxApi;
    }
  } catch (e) {
    for (const n of started) { n.child.kill('SIGKILL'); running.delete(n.child); }
    if (nginx) await nginx.stop();
    fs.rmSync(root, { recursive: true, force: true });
    throw e;
  }
  const u = new URL(url);
  const server = {
    url,
    host: u.hostname,
    port: Number(u.port),
    endpoint: `${u.hostname}:${u.port}`, // host[:port] form the Node IoT SDK wants
    dataDir,
    root,
    nodes: started,
    // The first (or only) otad process.
    child: started[0].child,
    // Every node's log, one after the other.
    get stderr() {
      return started.length === 1 ? started[0].stderr
        : started.map((n, i) => `--- node ${i + 1} ---\n${n.stderr}`).join('\n');
    },
    get stdout() { return started.map((n) => n.stdout).join(''); },
    // Kills every otad process of the server with `signal` and waits until they are gone.
    async kill(signal = 'SIGKILL') {
      await Promise.all(started.map((n) => {
        const done = exitOf(n.child);
        n.child.kill(signal);
        return done;
      }));
    },
    // Stops otad and removes its scratch directory. A data directory this function made
    // goes too, with its PostgreSQL schema; one passed in as options.dataDir is kept.
    async stop() {
      if (nginx) await nginx.stop();
      const results = await Promise.all(started.map((n) => terminate(n.child)));
      for (const n of started) running.delete(n.child);
      fs.rmSync(root, { recursive: true, force: true });
      if (!options.dataDir) await dropStore(dataDir);
      if (results.some((r) => r === null)) throw new Error('otad did not stop within 10 s of SIGTERM');
      server.exit = results[0];
      return server.exit;
    },
    createAccount: (name) => createAccount(dataDir, name),
    listAccounts: () => listAccounts(dataDir),
  };
  return server;
}

// Runs an otad CLI command. A command given `--data DIR` (and no `--database`) opens the
// store of DIR: in PostgreSQL mode it gets that directory's `--database` too.
async function runCli(args, env) {
  const bin = otadBin();
  const at = args.indexOf('--data');
  if (at >= 0 && at + 1 < args.length && !args.includes('--database')) {
    args = [...args, ...await storeArgs(args[at + 1])];
  }
  return new Promise((resolve, reject) => {
    execFile(bin, args, { env: cleanEnv(env), timeout: 15000 }, (err, stdout, stderr) => {
      if (err) {
        err.message += `\nstdout: ${stdout}\nstderr: ${stderr}`;
        reject(err);
      } else {
        resolve({ stdout, stderr });
      }
    });
  });
}

function parseJsonOutput(stdout, what) {
  try {
    return JSON.parse(stdout.trim());
  } catch (e) {
    throw new Error(`${what} did not print JSON: ${JSON.stringify(stdout)}`);
  }
}

let accountSeq = 0;
async function createAccount(dataDir, name) {
  const accountName = name || `acct${process.pid}x${++accountSeq}`;
  const { stdout } = await runCli(['account', 'create', '--name', accountName, '--data', dataDir]);
  return parseJsonOutput(stdout, 'otad account create');
}

async function listAccounts(dataDir) {
  const { stdout } = await runCli(['account', 'list', '--data', dataDir]);
  return parseJsonOutput(stdout, 'otad account list');
}

module.exports = {
  otadBin,
  startServer,
  createAccount,
  listAccounts,
  runCli,
  backendName,
  schemaFor,
  withSearchPath,
  storeDatabase,
  storeArgs,
  storeSnapshot,
  dropStore,
  removeDataDir,
  psql,
};
