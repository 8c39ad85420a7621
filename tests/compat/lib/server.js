'use strict';
// Start and stop otad instances and manage their accounts through the CLI.

const { spawn, execFile } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

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
// a server only bootstraps an account when a test asks for it.
function cleanEnv(extra = {}) {
  const env = { ...process.env };
  delete env.ALIBABA_CLOUD_ACCESS_KEY_ID;
  delete env.ALIBABA_CLOUD_ACCESS_KEY_SECRET;
  delete env.ALIBABA_CLOUD_SECURITY_TOKEN;
  return { ...env, ...extra };
}

const running = new Set();
process.on('exit', () => {
  for (const child of running) {
    try { child.kill('SIGKILL'); } catch { /* already gone */ }
  }
});

// Options:
//   config:  object written as the JSON config file (listen/data are filled in)
//   env:     extra environment variables for the server process
//   startTimeoutMs
async function startServer(options = {}) {
  const bin = otadBin();
  // options.dataDir reuses an existing data directory (kept on stop).
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'otad-compat-'));
  const dataDir = options.dataDir || path.join(root, 'data');
  if (!options.dataDir) fs.mkdirSync(dataDir);
  const args = ['serve', '--listen', '127.0.0.1:0', '--data', dataDir];
  if (options.config) {
    const cfgPath = path.join(root, 'otad.json');
    const cfg = { listen: '127.0.0.1:0', data: dataDir, log_level: 'info', ...options.config };
    fs.writeFileSync(cfgPath, JSON.stringify(cfg, null, 2));
    args.push('--config', cfgPath);
  }
  const child = spawn(bin, args, { env: cleanEnv(options.env), stdio: ['ignore', 'pipe', 'pipe'] });
  running.add(child);
  let stderr = '';
  let stdout = '';
  child.stderr.on('data', (d) => {
    stderr += d.toString();
    if (stderr.length > 200000) stderr = stderr.slice(-100000);
  });

  const url = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      reject(new Error(`otad did not print its listening line within ${options.startTimeoutMs || 15000} ms\nstdout: ${stdout}\nstderr: ${stderr}`));
    }, options.startTimeoutMs || 15000);
    child.stdout.on('data', (d) => {
      stdout += d.toString();
      const nl = stdout.indexOf('\n');
      if (nl >= 0) {
        const line = stdout.slice(0, nl).replace(/\r$/, '');
        const m = /^listening on (http:\/\/([^:/\s]+):(\d+))$/.exec(line);
        clearTimeout(timer);
        if (m) resolve(m[1]);
        else reject(new Error(`unexpected first stdout line from otad: ${JSON.stringify(line)}`));
      }
    });
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`otad exited early (code ${code}, signal ${signal})\nstdout: ${stdout}\nstderr: ${stderr}`));
    });
    child.on('error', (e) => { clearTimeout(timer); reject(e); });
  });
  const u = new URL(url);
  const server = {
    url,
    host: u.hostname,
    port: Number(u.port),
    endpoint: `${u.hostname}:${u.port}`, // host[:port] form the Node IoT SDK wants
    dataDir,
    root,
    child,
    get stderr() { return stderr; },
    get stdout() { return stdout; },
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
        child.kill('SIGTERM');
        let timer;
        const timeout = new Promise((resolve) => { timer = setTimeout(() => resolve(null), 10000); });
        const result = await Promise.race([exited, timeout]);
        clearTimeout(timer);
        if (result === null) {
          child.kill('SIGKILL');
          await exited;
          running.delete(child);
          fs.rmSync(root, { recursive: true, force: true });
          throw new Error('otad did not stop within 10 s of SIGTERM');
        }
        server.exit = result;
      }
      running.delete(child);
      fs.rmSync(root, { recursive: true, force: true });
      return server.exit;
    },
    createAccount: (name) => createAccount(dataDir, name),
    listAccounts: () => listAccounts(dataDir),
  };
  return server;
}

function runCli(args, env) {
  const bin = otadBin();
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

module.exports = { otadBin, startServer, createAccount, listAccounts, runCli };
