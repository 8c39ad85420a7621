'use strict';
// OTA modules (CreateOTAModule, UpdateOTAModule, DeleteOTAModule,
// ListOTAModuleByProduct, ListOTAModuleVersionsByDevice) and device groups
// (CreateDeviceGroup, CreateDeviceDynamicGroup, BatchAddDeviceGroupRelations,
// QueryDeviceGroupList, QueryDeviceGroupInfo, DeleteDeviceGroup).

const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');

const { startServer } = require('../lib/server');
const { Iot, makeDriver, FLAVOURS } = require('../lib/clients');
const {
  assertSuccess, assertBusinessError, assertTypes, assertRecent, expectGateway, randomLike, normalizeReply, uniqueName,
} = require('../lib/checks');
const { createProduct, registerDevice, NO_THROTTLING } = require('../lib/fixtures');
const { v1Request } = require('../lib/http');
const { parseXml, child, children, textOf } = require('../lib/xml');

let server;
let account;
let other;

before(async () => {
  server = await startServer({ config: NO_THROTTLING });
  account = await server.createAccount('modules');
  other = await server.createAccount('modules-other');
});

after(async () => {
  if (server) await server.stop();
});

const GMT_MINUTE_RE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}Z$/;

function groupName(prefix) {
  return uniqueName(prefix).replace(/-/g, '_');
}

for (const flavour of FLAVOURS) {
  test(`OTA modules via ${flavour}`, async (t) => {
    const d = makeDriver(flavour, server, account);
    const sdk = flavour === 'v3' || flavour === 'v2';
    const p = await createProduct(d);
    const pk = p.productKey;

    await t.test('a new product lists only the default module, as a bare array', async () => {
      const res = await d.call('ListOTAModuleByProduct', { ProductKey: pk });
      assertSuccess(res, 'ListOTAModuleByProduct');
      assertTypes(res.raw, Iot.ListOTAModuleByProductResponseBody, 'ListOTAModuleByProduct');
      assert.ok(Array.isArray(res.raw.Data), 'Data is a bare array');
      assert.equal(res.raw.Data.length, 1);
      assert.equal(res.raw.Data[0].ModuleName, 'default');
      assert.equal(res.raw.Data[0].ProductKey, pk);
      assert.match(res.raw.Data[0].GmtCreate, GMT_MINUTE_RE);
      if (sdk) assert.equal(res.model.body.data[0].moduleName, 'default');
    });

    await t.test('CreateOTAModule', async () => {
      const res = await d.call('CreateOTAModule', { ProductKey: pk, ModuleName: 'barcodeScanner', AliasName: 'Barcode_scanner', Desc: 'the scanner' });
      assertSuccess(res, 'CreateOTAModule');
      assertTypes(res.raw, Iot.CreateOTAModuleResponseBody, 'CreateOTAModule');
      assertSuccess(await d.call('CreateOTAModule', { ProductKey: pk, ModuleName: 'wifi.fw-2' }), 'module without alias');
      assertBusinessError(await d.call('CreateOTAModule', { ProductKey: pk, ModuleName: 'BARCODESCANNER' }),
        'iot.ota.ModuleNameExisted', 'same name in another case');
      assertBusinessError(await d.call('CreateOTAModule', { ProductKey: pk, ModuleName: 'default' }),
        'iot.ota.ModuleNameExisted', 'default is taken');
      assertBusinessError(await d.call('CreateOTAModule', { ProductKey: pk, ModuleName: 'bad name' }),
        'iot.ota.InvalidModuleName', 'space in name');
      assertBusinessError(await d.call('CreateOTAModule', { ProductKey: pk, ModuleName: 'm'.repeat(65) }),
        'iot.ota.InvalidModuleName', '65 characters');
      assertBusinessError(await d.call('CreateOTAModule', { ProductKey: pk, ModuleName: 'descy', Desc: 'd'.repeat(101) }),
        'iot.common.InvalidFormattedParameter', 'long Desc');
      assertBusinessError(await d.call('CreateOTAModule', { ProductKey: pk, ModuleName: 'aliasy', AliasName: 'a b' }),
        'iot.common.InvalidFormattedParameter', 'bad AliasName');
      assertBusinessError(await d.call('CreateOTAModule', { ProductKey: randomLike(pk), ModuleName: 'mcu' }),
        'iot.prod.NotExistedProduct', 'unknown product');
      await expectGateway(d.call('CreateOTAModule', { ProductKey: pk }), 'MissingModuleName', 400, 'no ModuleName');
    });

    await t.test('ListOTAModuleByProduct after creation', async () => {
      const res = await d.call('ListOTAModuleByProduct', { ProductKey: pk });
      assertSuccess(res, 'ListOTAModuleByProduct');
      assertTypes(res.raw, Iot.ListOTAModuleByProductResponseBody, 'ListOTAModuleByProduct');
      assert.deepEqual(res.raw.Data.map((m) => m.ModuleName), ['default', 'barcodeScanner', 'wifi.fw-2']);
      const m = res.raw.Data[1];
      assert.equal(m.AliasName, 'Barcode_scanner');
      assert.equal(m.Desc, 'the scanner');
      assert.equal(m.ProductKey, pk);
      assert.match(m.GmtCreate, GMT_MINUTE_RE);
      assert.match(m.GmtModified, GMT_MINUTE_RE);
      assert.ok(Math.abs(Date.parse(m.GmtCreate) - Date.now()) < 5 * 60 * 1000, 'GmtCreate close to now');
      if (sdk) assert.equal(res.model.body.data[1].aliasName, 'Barcode_scanner');
      await expectGateway(d.call('ListOTAModuleByProduct', {}), 'MissingProductKey', 400, 'no ProductKey');
    });

    await t.test('UpdateOTAModule changes alias and description only', async () => {
      assertSuccess(await d.call('UpdateOTAModule', { ProductKey: pk, ModuleName: 'BarcodeScanner', AliasName: 'Scanner_2' }), 'UpdateOTAModule');
      let list = await d.call('ListOTAModuleByProduct', { ProductKey: pk });
      assert.equal(list.raw.Data[1].ModuleName, 'barcodeScanner');
      assert.equal(list.raw.Data[1].AliasName, 'Scanner_2');
      assert.equal(list.raw.Data[1].Desc, 'the scanner', 'absent Desc is kept');
      assertSuccess(await d.call('UpdateOTAModule', { ProductKey: pk, ModuleName: 'barcodeScanner', Desc: 'new text' }), 'UpdateOTAModule Desc');
      list = await d.call('ListOTAModuleByProduct', { ProductKey: pk });
      assert.equal(list.raw.Data[1].Desc, 'new text');
      assert.equal(list.raw.Data[1].AliasName, 'Scanner_2');
      assertBusinessError(await d.call('UpdateOTAModule', { ProductKey: pk, ModuleName: 'default', AliasName: 'x' }),
        'iot.ota.InvalidModuleName', 'default module');
      assertBusinessError(await d.call('UpdateOTAModule', { ProductKey: pk, ModuleName: 'nosuch', AliasName: 'x' }),
        'iot.ota.ModuleNotExist', 'unknown module');
    });

    await t.test('module quota and deletion', async () => {
      for (let i = 0; i < 8; i++) {
        assertSuccess(await d.call('CreateOTAModule', { ProductKey: pk, ModuleName: `m${i}` }), `module ${i}`);
      }
      assertBusinessError(await d.call('CreateOTAModule', { ProductKey: pk, ModuleName: 'eleventh' }),
        'iot.ota.ModuleCountExceedMax', 'eleventh custom module');
      assertBusinessError(await d.call('DeleteOTAModule', { ProductKey: pk, ModuleName: 'default' }),
        'iot.ota.InvalidModuleName', 'delete default');
      const del = await d.call('DeleteOTAModule', { ProductKey: pk, ModuleName: 'm0' });
      assertSuccess(del, 'DeleteOTAModule');
      assertTypes(del.raw, Iot.DeleteOTAModuleResponseBody, 'DeleteOTAModule');
      assertBusinessError(await d.call('DeleteOTAModule', { ProductKey: pk, ModuleName: 'm0' }),
        'iot.ota.ModuleNotExist', 'deleted twice');
      assertSuccess(await d.call('CreateOTAModule', { ProductKey: pk, ModuleName: 'eleventh' }), 'room again');
      const list = await d.call('ListOTAModuleByProduct', { ProductKey: pk });
      assert.equal(list.raw.Data.length, 11, 'default plus ten');
    });

    await t.test('ListOTAModuleVersionsByDevice', async () => {
      const dev = await registerDevice(d, pk);
      const res = await d.call('ListOTAModuleVersionsByDevice', { ProductKey: pk, DeviceName: dev.deviceName, CurrentPage: 1, PageSize: 10 });
      assertSuccess(res, 'ListOTAModuleVersionsByDevice');
      assertTypes(res.raw, Iot.ListOTAModuleVersionsByDeviceResponseBody, 'ListOTAModuleVersionsByDevice');
      for (const k of ['CurrentPage', 'PageSize', 'PageCount', 'Total']) assert.equal(typeof res.raw[k], 'number', `${k} at the top level`);
      assert.equal(res.raw.Total, 0, 'nothing reported yet');
      assert.equal(res.raw.PageCount, 0);
      assert.deepEqual(res.raw.Data.SimpleOTAModuleInfo, [], 'an empty array in its wrapper');
      const byId = await d.call('ListOTAModuleVersionsByDevice', { IotId: dev.iotId, CurrentPage: 1, PageSize: 200 });
      assertSuccess(byId, 'by IotId');
      assertBusinessError(await d.call('ListOTAModuleVersionsByDevice', { IotId: dev.iotId, CurrentPage: 1, PageSize: 201 }),
        'iot.common.InvalidPageParams', 'PageSize 201');
      assertBusinessError(await d.call('ListOTAModuleVersionsByDevice', { IotId: randomLike(dev.iotId), CurrentPage: 1, PageSize: 10 }),
        'iot.device.NotExistedDevice', 'unknown device');
      await expectGateway(d.call('ListOTAModuleVersionsByDevice', { IotId: dev.iotId, CurrentPage: 1 }), 'MissingPageSize', 400, 'no PageSize');
      await expectGateway(d.call('ListOTAModuleVersionsByDevice', { ProductKey: pk, CurrentPage: 1, PageSize: 10 }), 'MissingDeviceName', 400, 'no DeviceName');
    });
  });

  test(`device groups via ${flavour}`, async (t) => {
    const d = makeDriver(flavour, server, account);
    const sdk = flavour === 'v3' || flavour === 'v2';
    const p = await createProduct(d);
    const devs = [];
    for (let i = 0; i < 3; i++) devs.push(await registerDevice(d, p.productKey, { DeviceName: uniqueName(`light-${i}-`) }));
    const ctx = {};

    await t.test('CreateDeviceGroup with and without a parent', async () => {
      const name = groupName('grp_');
      const res = await d.call('CreateDeviceGroup', { GroupName: name, GroupDesc: 'main group' });
      assertSuccess(res, 'CreateDeviceGroup');
      assertTypes(res.raw, Iot.CreateDeviceGroupResponseBody, 'CreateDeviceGroup');
      assert.equal(res.raw.Data.GroupName, name);
      assert.equal(res.raw.Data.GroupDesc, 'main group');
      assert.equal(typeof res.raw.Data.GroupId, 'string');
      assert.ok(res.raw.Data.GroupId.length > 0);
      assertRecent(res.raw.Data.UtcCreate, 'UtcCreate');
      if (sdk) assert.equal(res.model.body.data.groupId, res.raw.Data.GroupId);
      ctx.root = res.raw.Data.GroupId;
      ctx.rootName = name;
      const sub = await d.call('CreateDeviceGroup', { GroupName: groupName('sub_'), SuperGroupId: ctx.root });
      assertSuccess(sub, 'sub-group');
      ctx.sub = sub.raw.Data.GroupId;

      assertBusinessError(await d.call('CreateDeviceGroup', { GroupName: name }), 'iot.group.GroupNameExisted', 'same name');
      assertBusinessError(await d.call('CreateDeviceGroup', { GroupName: 'ab' }), 'iot.group.InvalidGroupName', 'too short');
      assertBusinessError(await d.call('CreateDeviceGroup', { GroupName: 'bad-name' }), 'iot.group.InvalidGroupName', 'hyphen');
      assertBusinessError(await d.call('CreateDeviceGroup', { GroupName: groupName('g_'), GroupDesc: 'x'.repeat(101) }),
        'iot.group.LongGroupDescError', 'long description');
      assertBusinessError(await d.call('CreateDeviceGroup', { GroupName: groupName('g_'), SuperGroupId: randomLike(ctx.root) }),
        'iot.group.NotExistedGroup', 'unknown parent');
      await expectGateway(d.call('CreateDeviceGroup', {}), 'MissingGroupName', 400, 'no GroupName');
    });

    await t.test('CreateDeviceDynamicGroup', async () => {
      const expr = `product_key = "${p.productKey}" and device_name like "light-%"`;
      const res = await d.call('CreateDeviceDynamicGroup', { GroupName: groupName('dyn_'), DynamicGroupExpression: expr, GroupDesc: 'lights' });
      assertSuccess(res, 'CreateDeviceDynamicGroup');
      assertTypes(res.raw, Iot.CreateDeviceDynamicGroupResponseBody, 'CreateDeviceDynamicGroup');
      assert.equal(res.raw.Data.DynamicGroupExpression, expr);
      assertRecent(res.raw.Data.UtcCreate, 'UtcCreate');
      ctx.dynamic = res.raw.Data.GroupId;
      ctx.expr = expr;
      assertBusinessError(await d.call('CreateDeviceDynamicGroup', { GroupName: groupName('dyn_'), DynamicGroupExpression: 'whatever you like' }),
        'iot.common.InvalidFormattedParameter', 'rule outside the grammar');
      await expectGateway(d.call('CreateDeviceDynamicGroup', { GroupName: groupName('dyn_') }), 'MissingDynamicGroupExpression', 400, 'no rule');
    });

    await t.test('BatchAddDeviceGroupRelations', async () => {
      const res = await d.call('BatchAddDeviceGroupRelations', {
        GroupId: ctx.root,
        Device: [
          { ProductKey: p.productKey, DeviceName: devs[0].deviceName },
          { ProductKey: p.productKey, DeviceName: devs[1].deviceName },
          { ProductKey: p.productKey, DeviceName: 'no-such-device' },
        ],
      });
      assertSuccess(res, 'BatchAddDeviceGroupRelations');
      assertTypes(res.raw, Iot.BatchAddDeviceGroupRelationsResponseBody, 'BatchAddDeviceGroupRelations');
      assert.equal(res.raw.ValidDeviceCount, 2);
      assert.equal(res.raw.SuccessAddedDeviceCount, 2);
      assert.equal(res.raw.AlreadyRelatedGroupDeviceCount, 0);
      assert.equal(res.raw.ExceedTenGroupDeviceCount, 0);
      if (sdk) assert.equal(res.model.body.successAddedDeviceCount, 2);
      const again = await d.call('BatchAddDeviceGroupRelations', {
        GroupId: ctx.root, Device: [{ ProductKey: p.productKey, DeviceName: devs[0].deviceName }],
      });
      assert.equal(again.raw.AlreadyRelatedGroupDeviceCount, 1);
      assert.equal(again.raw.SuccessAddedDeviceCount, 0);
      assertBusinessError(await d.call('BatchAddDeviceGroupRelations', {
        GroupId: ctx.dynamic, Device: [{ ProductKey: p.productKey, DeviceName: devs[0].deviceName }],
      }), 'iot.common.InvalidFormattedParameter', 'dynamic group');
      assertBusinessError(await d.call('BatchAddDeviceGroupRelations', {
        GroupId: randomLike(ctx.root), Device: [{ ProductKey: p.productKey, DeviceName: devs[0].deviceName }],
      }), 'iot.group.NotExistedGroup', 'unknown group');
    });

    await t.test('ten groups per device', async () => {
      const extra = [];
      for (let i = 0; i < 10; i++) {
        const g = await d.call('CreateDeviceGroup', { GroupName: groupName(`many${i}_`) });
        assertSuccess(g, `group ${i}`);
        extra.push(g.raw.Data.GroupId);
      }
      // devs[0] is already in one group: nine more fit, the tenth is refused.
      let last;
      for (const id of extra) {
        last = await d.call('BatchAddDeviceGroupRelations', { GroupId: id, Device: [{ ProductKey: p.productKey, DeviceName: devs[0].deviceName }] });
        assertSuccess(last, 'add');
      }
      assert.equal(last.raw.ExceedTenGroupDeviceCount, 1);
      assert.equal(last.raw.SuccessAddedDeviceCount, 0);
      assert.equal(last.raw.ValidDeviceCount, 1);
      ctx.extra = extra;
    });

    await t.test('QueryDeviceGroupInfo', async () => {
      const res = await d.call('QueryDeviceGroupInfo', { GroupId: ctx.root });
      assertSuccess(res, 'QueryDeviceGroupInfo');
      assertTypes(res.raw, Iot.QueryDeviceGroupInfoResponseBody, 'QueryDeviceGroupInfo');
      const g = res.raw.Data;
      assert.equal(g.GroupId, ctx.root);
      assert.equal(g.GroupName, ctx.rootName);
      assert.equal(g.GroupDesc, 'main group');
      assert.equal(g.DeviceCount, 2);
      assert.equal(g.DeviceOnline, 0);
      assert.equal(g.DeviceActive, 0);
      assert.ok(!('DynamicGroupExpression' in g), 'static groups have no rule');
      assertRecent(g.UtcCreate, 'UtcCreate');
      const dyn = await d.call('QueryDeviceGroupInfo', { GroupId: ctx.dynamic, GroupType: 'LINK_PLATFORM_DYNAMIC' });
      assertSuccess(dyn, 'dynamic QueryDeviceGroupInfo');
      assert.equal(dyn.raw.Data.DynamicGroupExpression, ctx.expr);
      assert.equal(dyn.raw.Data.DeviceCount, 3, 'every light of the product satisfies the rule');
      if (sdk) assert.equal(dyn.model.body.data.deviceCount, 3);
      assertBusinessError(await d.call('QueryDeviceGroupInfo', { GroupId: randomLike(ctx.root) }), 'iot.group.NotExistedGroup', 'unknown group');
      await expectGateway(d.call('QueryDeviceGroupInfo', {}), 'MissingGroupId', 400, 'no GroupId');
    });

    await t.test('QueryDeviceGroupList', async () => {
      const res = await d.call('QueryDeviceGroupList', { CurrentPage: 1, PageSize: 200 });
      assertSuccess(res, 'QueryDeviceGroupList');
      assertTypes(res.raw, Iot.QueryDeviceGroupListResponseBody, 'QueryDeviceGroupList');
      for (const k of ['CurrentPage', 'PageSize', 'PageCount', 'Total']) assert.equal(typeof res.raw[k], 'number', `${k} at the top level`);
      assert.ok(Array.isArray(res.raw.Data.GroupInfo));
      const mine = res.raw.Data.GroupInfo.find((x) => x.GroupId === ctx.root);
      assert.ok(mine, 'the root group is listed');
      assert.equal(mine.GroupType, 'LINK_PLATFORM');
      assertRecent(mine.UtcCreate, 'UtcCreate');
      const dyn = res.raw.Data.GroupInfo.find((x) => x.GroupId === ctx.dynamic);
      assert.equal(dyn.GroupType, 'LINK_PLATFORM_DYNAMIC');

      const byName = await d.call('QueryDeviceGroupList', { GroupName: ctx.rootName.slice(2, 10) });
      assertSuccess(byName, 'fuzzy name');
      assert.deepEqual(byName.raw.Data.GroupInfo.map((x) => x.GroupId), [ctx.root]);
      assert.equal(byName.raw.CurrentPage, 1, 'default page');
      assert.equal(byName.raw.PageSize, 10, 'default size');
      const children = await d.call('QueryDeviceGroupList', { SuperGroupId: ctx.root });
      assert.deepEqual(children.raw.Data.GroupInfo.map((x) => x.GroupId), [ctx.sub]);
      const dynOnly = await d.call('QueryDeviceGroupList', { GroupTypes: ['LINK_PLATFORM_DYNAMIC'], PageSize: 200 });
      assertSuccess(dynOnly, 'GroupTypes');
      assert.ok(dynOnly.raw.Data.GroupInfo.every((x) => x.GroupType === 'LINK_PLATFORM_DYNAMIC'));
      assert.ok(dynOnly.raw.Data.GroupInfo.some((x) => x.GroupId === ctx.dynamic));
      const paged = await d.call('QueryDeviceGroupList', { CurrentPage: 2, PageSize: 1 });
      assert.equal(paged.raw.Data.GroupInfo.length, 1);
      assert.equal(paged.raw.PageCount, paged.raw.Total);
      assertBusinessError(await d.call('QueryDeviceGroupList', { PageSize: 201 }), 'iot.common.InvalidPageParams', 'PageSize 201');
      assertBusinessError(await d.call('QueryDeviceGroupList', { GroupTypes: ['SOMETHING'] }), 'iot.common.InvalidFormattedParameter', 'bad GroupTypes');
    });

    await t.test('DeleteDeviceGroup', async () => {
      assertBusinessError(await d.call('DeleteDeviceGroup', { GroupId: ctx.root }), 'iot.group.SubGroupNotNull', 'group with a sub-group');
      const del = await d.call('DeleteDeviceGroup', { GroupId: ctx.sub });
      assertSuccess(del, 'DeleteDeviceGroup');
      assertTypes(del.raw, Iot.DeleteDeviceGroupResponseBody, 'DeleteDeviceGroup');
      assertSuccess(await d.call('DeleteDeviceGroup', { GroupId: ctx.root }), 'then the parent');
      for (const id of [...ctx.extra, ctx.dynamic]) assertSuccess(await d.call('DeleteDeviceGroup', { GroupId: id }), 'cleanup');
      assertBusinessError(await d.call('DeleteDeviceGroup', { GroupId: ctx.root }), 'iot.group.NotExistedGroup', 'deleted twice');
      assertBusinessError(await d.call('QueryDeviceGroupInfo', { GroupId: ctx.root }), 'iot.group.NotExistedGroup', 'deleted group');
    });
  });
}

test('XML shapes: bare module array, group list', async () => {
  const d = makeDriver('v3', server, account);
  const p = await createProduct(d);
  await d.call('CreateOTAModule', { ProductKey: p.productKey, ModuleName: 'mcu', AliasName: 'MCU' });
  let xml = await v1Request(server, account, 'ListOTAModuleByProduct', { ProductKey: p.productKey }, { format: 'XML' });
  assert.equal(xml.status, 200);
  let doc = parseXml(xml.text);
  assert.equal(doc.root.name, 'ListOTAModuleByProductResponse');
  const modules = children(doc.root, 'Data');
  assert.deepEqual(modules.map((m) => textOf(m, 'ModuleName')), ['default', 'mcu'], 'one <Data> element per module');

  const g = await d.call('CreateDeviceGroup', { GroupName: groupName('xml_') });
  xml = await v1Request(server, account, 'QueryDeviceGroupList', { CurrentPage: 1, PageSize: 200 }, { format: 'XML' });
  doc = parseXml(xml.text);
  const infos = children(child(doc.root, 'Data'), 'GroupInfo');
  assert.ok(infos.some((n) => textOf(n, 'GroupId') === g.raw.Data.GroupId));
});

async function sameAsNonexistent(drv, action, build, ids, expectedCode, where) {
  const fake = Object.fromEntries(Object.entries(ids).map(([k, v]) => [k, randomLike(v)]));
  const real = await drv.call(action, build(ids));
  const ghost = await drv.call(action, build(fake));
  assertBusinessError(real, expectedCode, `${where} with the other tenant's ids`);
  assertBusinessError(ghost, expectedCode, `${where} with nonexistent ids`);
  const subsReal = Object.entries(ids).map(([k, v]) => [v, `<${k}>`]);
  const subsGhost = Object.entries(ids).map(([k, v]) => [fake[k], `<${k}>`]);
  assert.deepEqual(normalizeReply(real.status, real.raw, subsReal), normalizeReply(ghost.status, ghost.raw, subsGhost),
    `${where}: another tenant's resource must answer exactly like a nonexistent one`);
}

test('another tenant\'s modules and groups are invisible', async (t) => {
  const a = makeDriver('v3', server, account);
  const b = makeDriver('v3', server, other);
  const p = await createProduct(a);
  const pk = p.productKey;
  const dev = await registerDevice(a, pk);
  await a.call('CreateOTAModule', { ProductKey: pk, ModuleName: 'mcu' });
  const g = await a.call('CreateDeviceGroup', { GroupName: groupName('priv_') });
  const gid = g.raw.Data.GroupId;
  const bp = await createProduct(b);
  const bdev = await registerDevice(b, bp.productKey);

  await t.test('modules', async () => {
    await sameAsNonexistent(b, 'CreateOTAModule', (x) => ({ ProductKey: x.pk, ModuleName: 'intruder' }), { pk }, 'iot.prod.NotExistedProduct', 'CreateOTAModule');
    await sameAsNonexistent(b, 'UpdateOTAModule', (x) => ({ ProductKey: x.pk, ModuleName: 'mcu', AliasName: 'x' }), { pk }, 'iot.prod.NotExistedProduct', 'UpdateOTAModule');
    await sameAsNonexistent(b, 'DeleteOTAModule', (x) => ({ ProductKey: x.pk, ModuleName: 'mcu' }), { pk }, 'iot.prod.NotExistedProduct', 'DeleteOTAModule');
    await sameAsNonexistent(b, 'ListOTAModuleByProduct', (x) => ({ ProductKey: x.pk }), { pk }, 'iot.prod.NotExistedProduct', 'ListOTAModuleByProduct');
    await sameAsNonexistent(b, 'ListOTAModuleVersionsByDevice', (x) => ({ IotId: x.iotId, CurrentPage: 1, PageSize: 10 }),
      { iotId: dev.iotId }, 'iot.device.NotExistedDevice', 'ListOTAModuleVersionsByDevice');
  });
  await t.test('groups', async () => {
    await sameAsNonexistent(b, 'QueryDeviceGroupInfo', (x) => ({ GroupId: x.gid }), { gid }, 'iot.group.NotExistedGroup', 'QueryDeviceGroupInfo');
    await sameAsNonexistent(b, 'DeleteDeviceGroup', (x) => ({ GroupId: x.gid }), { gid }, 'iot.group.NotExistedGroup', 'DeleteDeviceGroup');
    await sameAsNonexistent(b, 'CreateDeviceGroup', (x) => ({ GroupName: groupName('kid_'), SuperGroupId: x.gid }), { gid }, 'iot.group.NotExistedGroup', 'CreateDeviceGroup under A');
    await sameAsNonexistent(b, 'BatchAddDeviceGroupRelations',
      (x) => ({ GroupId: x.gid, Device: [{ ProductKey: bp.productKey, DeviceName: bdev.deviceName }] }), { gid }, 'iot.group.NotExistedGroup', 'BatchAddDeviceGroupRelations');
    const list = await b.call('QueryDeviceGroupList', { CurrentPage: 1, PageSize: 200 });
    assertSuccess(list, 'B QueryDeviceGroupList');
    assert.ok(!list.raw.Data.GroupInfo.some((x) => x.GroupId === gid));
    // B's own group cannot take A's device.
    const own = await b.call('CreateDeviceGroup', { GroupName: groupName('own_') });
    const add = await b.call('BatchAddDeviceGroupRelations', { GroupId: own.raw.Data.GroupId, Device: [{ ProductKey: pk, DeviceName: dev.deviceName }] });
    assertSuccess(add, 'B adds A\'s device');
    assert.equal(add.raw.ValidDeviceCount, 0);
  });
  await t.test('A is untouched', async () => {
    const info = await a.call('QueryDeviceGroupInfo', { GroupId: gid });
    assertSuccess(info, 'A QueryDeviceGroupInfo');
    assert.equal(info.raw.Data.DeviceCount, 0);
    const mods = await a.call('ListOTAModuleByProduct', { ProductKey: pk });
    assert.deepEqual(mods.raw.Data.map((m) => m.ModuleName), ['default', 'mcu']);
  });
});
