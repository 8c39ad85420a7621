'use strict';
// Loopback ports and child processes: what the server, cluster and device helpers share.

const fs = require('node:fs');
const net = require('node:net');

// The lowest port of the kernel's ephemeral range: the local ends of outgoing connections and
// of servers that bind port 0 come from it, so a port chosen there may be taken by the time a
// server binds it although nothing listened on it.
function ephemeralLow() {
  try {
    const low = Number(fs.readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]);
    if (Number.isInteger(low) && low > 11024) return low;
  } catch { /* not Linux: the usual default */ }
  return 32768;
}

function canListen(port) {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.once('error', () => resolve(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
  });
}

// A TCP port on 127.0.0.1 that could be listened on a moment ago, below the ephemeral range.
async function freePort() {
  const low = ephemeralLow();
  for (let i = 0; i < 200; i++) {
    const port = 10000 + Math.floor(Math.random() * (low - 10000));
    if (await canListen(port)) return port;
  }
  throw new Error('no free loopback port below the ephemeral range');
}

// Whether something accepts TCP connections on 127.0.0.1:`port` now.
function portAccepts(port) {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    s.once('connect', () => { s.destroy(); resolve(true); });
    s.once('error', () => resolve(false));
  });
}

// Resolves to { code, signal } once `child` has exited (at once if it already has).
function exitOf(child) {
  if (child.exitCode !== null || child.signalCode !== null) {
    return Promise.resolve({ code: child.exitCode, signal: child.signalCode });
  }
  return new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
}

module.exports = { freePort, portAccepts, exitOf };
