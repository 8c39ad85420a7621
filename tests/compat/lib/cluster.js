'use strict';
// Cluster mode of the compatibility suite: with OTAD_TEST_CLUSTER=N (N >= 2), every "server"
// a test starts is N otad nodes on one PostgreSQL schema, sharing Redis (OTAD_TEST_REDIS), one
// files directory and, for device tests, one broker through a shared subscription, behind an
// nginx that spreads requests over the nodes. Tests then talk to nginx exactly as they talk to
// a single otad. This file holds what only the cluster needs: the choice of mode and nginx.

const { spawn } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const { portAccepts, exitOf } = require('./processes');

// Number of nodes per server: 1 (a plain otad) unless OTAD_TEST_CLUSTER says more.
function clusterSize() {
  const raw = process.env.OTAD_TEST_CLUSTER;
  if (!raw) return 1;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > 8) {
    throw new Error(`OTAD_TEST_CLUSTER must be a node count from 1 to 8, got "${raw}"`);
  }
  if (n > 1 && !process.env.OTAD_TEST_POSTGRES) {
    throw new Error('OTAD_TEST_CLUSTER needs OTAD_TEST_POSTGRES: the nodes share one PostgreSQL database');
  }
  if (n > 1 && !process.env.OTAD_TEST_REDIS) {
    throw new Error('OTAD_TEST_CLUSTER needs OTAD_TEST_REDIS: the nodes share throttling and nonces through Redis');
  }
  return n;
}

function inCluster() {
  return clusterSize() > 1;
}

// Why a test that needs one otad process (it reads one process's log, or relies on the
// persistent broker session only a single node keeps) does not run in cluster mode; false
// otherwise. Tests pass this as `skip`.
function singleNodeOnly(why) {
  return inCluster() ? `single-node behaviour: ${why}` : false;
}

function findNginx() {
  for (const p of ['/usr/sbin/nginx', '/usr/bin/nginx']) {
    if (fs.existsSync(p)) return p;
  }
  return 'nginx';
}

// nginx in front of the nodes: one listener per upstream group ({listen, servers}), HTTP/1.1
// keep-alive to the nodes, the client's Host passed through unchanged (signatures cover it),
// request bodies streamed (uploads), and a request that could not reach a node (connection
// refused: the node is down) tried on the next one. A request a node has received is never
// sent to another: nginx does not repeat non-idempotent requests.
async function startNginx(dir, groups) {
  fs.mkdirSync(dir, { recursive: true });
  const temp = path.join(dir, 'tmp');
  fs.mkdirSync(temp, { recursive: true });
  const upstreams = groups.map((g, i) => [
    `  upstream group${i} {`,
    ...g.servers.map((s) => `    server ${s} max_fails=0;`),
    '    keepalive 16;',
    '  }',
  ].join('\n'));
  const servers = groups.map((g, i) => [
    '  server {',
    `    listen 127.0.0.1:${g.listen};`,
    '    location / {',
    `      proxy_pass http://group${i};`,
    '      proxy_http_version 1.1;',
    '      proxy_set_header Connection "";',
    '      proxy_set_header Host $http_host;',
    '      proxy_set_header X-Forwarded-For $remote_addr;',
    '      proxy_request_buffering off;',
    '      proxy_buffering off;',
    '      proxy_next_upstream error timeout;',
    '      proxy_connect_timeout 2s;',
    '      proxy_read_timeout 120s;',
    '      proxy_send_timeout 120s;',
    '    }',
    '  }',
  ].join('\n'));
  const lines = [
    'daemon off;',
    'worker_processes 1;',
    `pid ${path.join(dir, 'nginx.pid')};`,
    `error_log ${path.join(dir, 'error.log')} warn;`,
  ];
  if (typeof process.getuid === 'function' && process.getuid() === 0) lines.push('user root;');
  lines.push(
    'events { worker_connections 1024; }',
    'http {',
    '  access_log off;',
    '  client_max_body_size 0;',
    `  client_body_temp_path ${path.join(temp, 'body')};`,
    `  proxy_temp_path ${path.join(temp, 'proxy')};`,
    `  fastcgi_temp_path ${path.join(temp, 'fastcgi')};`,
    `  uwsgi_temp_path ${path.join(temp, 'uwsgi')};`,
    `  scgi_temp_path ${path.join(temp, 'scgi')};`,
    ...upstreams,
    ...servers,
    '}',
  );
  const conf = path.join(dir, 'nginx.conf');
  fs.writeFileSync(conf, `${lines.join('\n')}\n`);
  const child = spawn(findNginx(), ['-p', dir, '-c', conf], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d) => { stderr += d.toString(); });
  const log = () => {
    let text = stderr;
    try { text += fs.readFileSync(path.join(dir, 'error.log'), 'utf8'); } catch { /* not yet */ }
    return text.slice(-5000);
  };
  const deadline = Date.now() + 10000;
  for (const g of groups) {
    for (;;) {
      if (child.exitCode !== null || child.signalCode !== null) {
        throw new Error(`nginx exited (code ${child.exitCode}, signal ${child.signalCode}):\n${log()}`);
      }
      if (await portAccepts(g.listen)) break;
      if (Date.now() > deadline) {
        child.kill('SIGKILL');
        throw new Error(`nginx did not listen on ${g.listen} within 10 s:\n${log()}`);
      }
      await new Promise((r) => setTimeout(r, 20));
    }
  }
  return {
    child,
    log,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = exitOf(child);
      child.kill('SIGQUIT');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    },
  };
}

module.exports = { clusterSize, inCluster, singleNodeOnly, startNginx };
