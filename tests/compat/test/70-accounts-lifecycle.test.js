'use strict';
// Account management through the CLI, the credential bootstrap from the
// environment, the startup line, graceful shutdown and persistence, and that the
// records live in the storage backend of the run (SQLite or PostgreSQL).

const { test, after } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const crypto = require('node:crypto');

const {
  startServer, createAccount, listAccounts, backendName, storeSnapshot, removeDataDir,
} = require('../lib/server');
const { makeDriver } = require('../lib/clients');
const { assertSuccess } = require('../lib/checks');
const { createProduct } = require('../lib/fixtures');

const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'otad-compat-persist-'));
after(() => removeDataDir(dataDir));

const envKey = `LTAI5t${crypto.randomBytes(8).toString('hex')}`;
const envSecret = crypto.randomBytes(15).toString('base64url');
const ENV = { ALIBABA_CLOUD_ACCESS_KEY_ID: envKey, ALIBABA_CLOUD_ACCESS_KEY_SECRET: envSecret };

let productKey;
let created;

test('first start: listening line, env bootstrap account, CLI accounts', async (t) => {
  const server = await startServer({ dataDir, env: ENV, config: { throttling: { enabled: false } } });
  try {
    await t.test('the listening line is the only thing on stdout', () => {
      for (const node of server.nodes) {
        assert.match(node.stdout, /^listening on http:\/\/127\.0\.0\.1:\d+\n$/);
      }
      assert.ok(server.port > 0);
    });

    await t.test('the environment credentials work', async () => {
      const d = makeDriver('v3', server, { AccessKeyId: envKey, AccessKeySecret: envSecret });
      const p = await createProduct(d);
      productKey = p.productKey;
      const pop = makeDriver('pop', server, { AccessKeyId: envKey, AccessKeySecret: envSecret });
      assertSuccess(await pop.call('QueryProduct', { ProductKey: productKey }), 'pop-core with env credentials');
    });

    await t.test('account create prints the new credentials', async () => {
      created = await createAccount(dataDir, 'cli-made');
      for (const k of ['AccessKeyId', 'AccessKeySecret', 'IotInstanceId', 'Name']) assert.ok(k in created, `${k} printed`);
      assert.equal(created.Name, 'cli-made');
      for (const k of ['AccessKeyId', 'AccessKeySecret', 'IotInstanceId']) {
        assert.equal(typeof created[k], 'string');
        assert.ok(created[k].length > 0, `${k} not empty`);
      }
      // Usable immediately by the running server.
      const d = makeDriver('v2', server, created);
      const p = await createProduct(d);
      assert.notEqual(p.productKey, productKey);
    });

    await t.test('account list shows accounts without secrets', async () => {
      const list = await listAccounts(dataDir);
      assert.ok(Array.isArray(list));
      const env = list.filter((a) => a.AccessKeyId === envKey);
      assert.equal(env.length, 1, 'the bootstrap account is listed once');
      const mine = list.find((a) => a.AccessKeyId === created.AccessKeyId);
      assert.ok(mine, 'the CLI-made account is listed');
      assert.deepEqual(mine, { Name: 'cli-made', AccessKeyId: created.AccessKeyId, IotInstanceId: created.IotInstanceId, Enabled: true });
      for (const a of list) {
        assert.deepEqual(Object.keys(a).sort(), ['AccessKeyId', 'Enabled', 'IotInstanceId', 'Name']);
        assert.equal(typeof a.Enabled, 'boolean');
      }
      const text = JSON.stringify(list);
      assert.ok(!text.includes(envSecret) && !text.includes(created.AccessKeySecret), 'no secret appears in the listing');
    });

    // Otherwise a PostgreSQL run could pass on a server that quietly kept using SQLite,
    // or on one that ignored the search_path and shared its tables with the others.
    await t.test(`the records are in the ${backendName()} store of this data directory`, async () => {
      const store = await storeSnapshot(dataDir);
      if (store.backend === 'sqlite') {
        assert.ok(store.sqliteFiles.includes('otad.db'), 'otad.db is in the data directory');
      } else {
        assert.deepEqual(store.sqliteFiles, [], 'no SQLite database in the data directory');
        assert.ok(store.tables.length > 0, `otad made its tables in schema ${store.schema}`);
      }
      assert.ok(store.text.includes(created.AccessKeyId), 'the CLI-made account is stored there');
      assert.ok(store.text.includes(envKey), 'the bootstrap account is stored there');
    });
  } finally {
    const exit = await server.stop();
    assert.deepEqual(exit, { code: 0, signal: null }, 'SIGTERM stops otad cleanly with exit status 0');
  }
});

test('restart on the same data: data and accounts persist, no duplicate bootstrap', async () => {
  assert.ok(productKey, 'needs the first start');
  const server = await startServer({ dataDir, env: ENV, config: { throttling: { enabled: false } } });
  try {
    const d = makeDriver('v3', server, { AccessKeyId: envKey, AccessKeySecret: envSecret });
    const res = await d.call('QueryProduct', { ProductKey: productKey });
    assertSuccess(res, 'product survives a restart');
    assert.equal(res.raw.Data.ProductKey, productKey);
    const again = makeDriver('pop', server, created);
    const p = await createProduct(again);
    assert.ok(p.productKey);
    const list = await listAccounts(dataDir);
    assert.equal(list.filter((a) => a.AccessKeyId === envKey).length, 1, 'the env account is not created twice');
  } finally {
    await server.stop();
  }
});

test('without OTAD_BIN the suite says so', () => {
  const { execFileSync } = require('node:child_process');
  const out = execFileSync(process.execPath, ['-e', "try{require('./lib/server').otadBin()}catch(e){process.stdout.write(e.message)}"], {
    cwd: path.join(__dirname, '..'), env: { ...process.env, OTAD_BIN: '' },
  }).toString();
  assert.match(out, /OTAD_BIN is not set/);
});
