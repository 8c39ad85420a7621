'use strict';
// A success the server has answered is durable: otad killed with SIGKILL right after the
// last answer keeps everything on restart. Runs on either backend: with SQLite the answer
// must wait for the commit to otad.db, with PostgreSQL for the commit on the server (the
// PostgreSQL server itself is not killed; its own crash safety is not what this tests).

const { test, after } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const { startServer, createAccount, removeDataDir } = require('../lib/server');
const { makeDriver } = require('../lib/clients');
const { assertSuccess } = require('../lib/checks');
const { setupCatalog, createStaticJob, NO_THROTTLING } = require('../lib/fixtures');

const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'otad-compat-kill-'));
after(() => removeDataDir(dataDir));

async function kill9(server) {
  await server.kill('SIGKILL');
}

test('kill -9 right after the answers loses nothing', async () => {
  let account;
  let catalog;
  const jobs = [];
  {
    const server = await startServer({ dataDir, config: NO_THROTTLING });
    account = await createAccount(dataDir, 'durable');
    const d = makeDriver('v3', server, account);
    catalog = await setupCatalog(d, { devices: 3 });
    for (let i = 0; i < 3; i++) {
      const job = await createStaticJob(d, {
        ProductKey: catalog.productKey,
        FirmwareId: catalog.firmwareId,
        TargetSelection: 'ALL',
        OverwriteMode: 2,
        Tag: [{ Key: 'round', Value: String(i) }],
      });
      jobs.push(job.jobId);
    }
    await kill9(server);
    await server.stop().catch(() => {});
  }
  const server = await startServer({ dataDir, config: NO_THROTTLING });
  try {
    const d = makeDriver('v2', server, account);
    assertSuccess(await d.call('QueryProduct', { ProductKey: catalog.productKey }), 'product');
    for (const dev of catalog.devices) {
      const res = await d.call('ListOTAJobByDevice', {
        ProductKey: catalog.productKey,
        DeviceName: dev.deviceName,
        FirmwareId: catalog.firmwareId,
        CurrentPage: 1,
        PageSize: 10,
      });
      assertSuccess(res, 'ListOTAJobByDevice after restart');
      assert.equal(res.raw.Total, jobs.length);
      const ids = res.raw.Data.SimpleOTAJobInfo.map((j) => j.JobId).sort();
      assert.deepEqual(ids, [...jobs].sort());
    }
  } finally {
    await server.stop();
  }
});
