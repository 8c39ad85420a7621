'use strict';
// Loopback ports and child processes: what the server, cluster and device helpers share.

const net = require('node:net');

// A TCP port on 127.0.0.1 that nothing listened on a moment ago.
async function freePort() {
  const srv = net.createServer();
  await new Promise((resolve, reject) => {
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', resolve);
  });
  const { port } = srv.address();
  await new Promise((resolve) => srv.close(resolve));
  return port;
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
