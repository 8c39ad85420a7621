'use strict';
// A byte-level TCP relay that records everything each client connection sends,
// so that a request produced by a real SDK can be replayed verbatim later.

const net = require('node:net');

async function startRecordingProxy(targetHost, targetPort) {
  const connections = [];
  const sockets = new Set();
  const server = net.createServer((client) => {
    const record = { chunks: [] };
    connections.push(record);
    const upstream = net.connect(targetPort, targetHost);
    sockets.add(client);
    sockets.add(upstream);
    client.on('data', (d) => record.chunks.push(Buffer.from(d)));
    client.pipe(upstream);
    upstream.pipe(client);
    const close = () => { client.destroy(); upstream.destroy(); };
    client.on('error', close);
    upstream.on('error', close);
    client.on('close', () => { upstream.end(); sockets.delete(client); });
    upstream.on('close', () => { client.end(); sockets.delete(upstream); });
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  return {
    host: '127.0.0.1',
    port,
    endpoint: `127.0.0.1:${port}`,
    url: `http://127.0.0.1:${port}`,
    connections,
    // Bytes the client sent on connection i.
    bytes(i = 0) { return Buffer.concat(connections[i].chunks); },
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

// Send raw bytes on a fresh connection and read exactly one HTTP response
// (Content-Length or chunked), then close the connection.
function sendRaw(host, port, bytes, timeoutMs = 10000) {
  return new Promise((resolve, reject) => {
    const sock = net.connect(port, host);
    let buf = Buffer.alloc(0);
    const timer = setTimeout(() => { sock.destroy(); reject(new Error('timeout waiting for the reply to raw bytes')); }, timeoutMs);
    const finish = (result) => { clearTimeout(timer); sock.destroy(); resolve(result); };
    sock.on('error', (e) => { clearTimeout(timer); reject(e); });
    sock.on('connect', () => sock.write(bytes));
    const tryParse = (ended) => {
      const headEnd = buf.indexOf('\r\n\r\n');
      if (headEnd < 0) return ended ? reject(new Error('connection closed before the response head')) : undefined;
      const head = buf.subarray(0, headEnd).toString('latin1').split('\r\n');
      const m = /^HTTP\/1\.[01] (\d{3})/.exec(head[0]);
      if (!m) return reject(new Error(`bad status line ${head[0]}`));
      const headers = {};
      for (const line of head.slice(1)) {
        const i = line.indexOf(':');
        headers[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim();
      }
      const rest = buf.subarray(headEnd + 4);
      let body;
      if (headers['content-length'] !== undefined) {
        const n = Number(headers['content-length']);
        if (rest.length < n) return ended ? reject(new Error('short body')) : undefined;
        body = rest.subarray(0, n);
      } else if (/chunked/i.test(headers['transfer-encoding'] || '')) {
        const parts = [];
        let off = 0;
        for (;;) {
          const le = rest.indexOf('\r\n', off);
          if (le < 0) return ended ? reject(new Error('truncated chunked body')) : undefined;
          const size = parseInt(rest.subarray(off, le).toString('latin1'), 16);
          if (size === 0) break;
          if (rest.length < le + 2 + size + 2) return ended ? reject(new Error('truncated chunk')) : undefined;
          parts.push(rest.subarray(le + 2, le + 2 + size));
          off = le + 2 + size + 2;
        }
        body = Buffer.concat(parts);
      } else if (ended) {
        body = rest;
      } else {
        return undefined;
      }
      const text = body.toString('utf8');
      let json;
      try { json = JSON.parse(text); } catch { json = undefined; }
      finish({ status: Number(m[1]), headers, text, json });
      return undefined;
    };
    sock.on('data', (d) => { buf = Buffer.concat([buf, d]); tryParse(false); });
    sock.on('end', () => tryParse(true));
  });
}

module.exports = { startRecordingProxy, sendRaw };
