#include "domain/services.hpp"
#include "domain/testing/services_fixture.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <set>

namespace otad::domain {
namespace {

using testing::kNow;

class CatalogTest : public testing::ServicesFixture {
  protected:
    Scope MakeTenant(const std::string& name) {
        auto account = services_->CreateAccount(name);
        EXPECT_TRUE(account.ok());
        auto scope = services_->ResolveScope(account->account.id, "");
        EXPECT_TRUE(scope.ok());
        return *scope;
    }
    std::string MakeProduct(const std::string& name, const Scope* scope = nullptr) {
        CreateProductCommand cmd;
        cmd.product_name = name;
        auto p = services_->CreateProduct(scope ? *scope : scope_, cmd);
        EXPECT_TRUE(p.ok());
        clock_.Advance(1);
        return p.ok() ? p->product_key : std::string{};
    }
    Device MakeDevice(const std::string& pk, const std::string& dn) {
        auto d = services_->RegisterDevice(scope_, {pk, dn, ""});
        EXPECT_TRUE(d.ok());
        clock_.Advance(1);
        return d.ok() ? *d : Device{};
    }
    Result<Group> MakeGroup(const std::string& name, const std::string& parent = "") {
        CreateGroupCommand cmd;
        cmd.group_name = name;
        cmd.super_group_id = parent;
        auto g = services_->CreateGroup(scope_, cmd);
        clock_.Advance(1);
        return g;
    }
    Result<Group> MakeDynamicGroup(const std::string& name, const std::string& expression) {
        CreateGroupCommand cmd;
        cmd.group_name = name;
        cmd.group_type = GroupType::kDynamic;
        cmd.dynamic_expression = expression;
        auto g = services_->CreateGroup(scope_, cmd);
        clock_.Advance(1);
        return g;
    }
    // Marks a device as connected (what device reports will do).
    void SetStatus(const Device& device, const std::string& status) {
        Device d = device;
        d.status = status;
        d.active_ms = kNow;
        ASSERT_TRUE(store_->Write([&](WriteTx& tx) { return tx.UpdateDevice(scope_, d); }).ok());
    }
    template <typename T>
    static ErrorCode CodeOf(const Result<T>& r) {
        return r.ok() ? ErrorCode::kInternal : r.error().code;
    }
    static ErrorCode CodeOf(const Status& s) {
        return s.ok() ? ErrorCode::kInternal : s.error().code;
    }
};

TEST_F(CatalogTest, ProductListPagesOldestFirstWithDeviceCounts) {
    const std::string p1 = MakeProduct("prod_one");
    const std::string p2 = MakeProduct("prod_two");
    const std::string p3 = MakeProduct("prod_three");
    MakeDevice(p2, "dev-01");
    MakeDevice(p2, "dev-02");
    MakeDevice(p3, "dev-01");

    auto first = services_->ListProducts(scope_, 1, 2);
    ASSERT_TRUE(first.ok());
    EXPECT_EQ(first->total, 3);
    ASSERT_EQ(first->items.size(), 2u);
    EXPECT_EQ(first->items[0].product.product_key, p1);
    EXPECT_EQ(first->items[0].device_count, 0);
    EXPECT_EQ(first->items[1].product.product_key, p2);
    EXPECT_EQ(first->items[1].device_count, 2);
    auto second = services_->ListProducts(scope_, 2, 2);
    ASSERT_TRUE(second.ok());
    ASSERT_EQ(second->items.size(), 1u);
    EXPECT_EQ(second->items[0].product.product_key, p3);
    EXPECT_EQ(second->items[0].device_count, 1);
    auto past = services_->ListProducts(scope_, 9, 2);
    ASSERT_TRUE(past.ok());
    EXPECT_TRUE(past->items.empty());
    EXPECT_EQ(past->total, 3);

    EXPECT_EQ(CodeOf(services_->ListProducts(scope_, 1, 201)), ErrorCode::kInvalidPageParams);
    EXPECT_EQ(CodeOf(services_->ListProducts(scope_, 0, 10)), ErrorCode::kInvalidPageParams);
    EXPECT_EQ(CodeOf(services_->ListProducts(scope_, 1, 0)), ErrorCode::kInvalidPageParams);
    EXPECT_TRUE(services_->ListProducts(scope_, 1, 200).ok());
}

TEST_F(CatalogTest, UpdateProductRenamesAndKeepsOmittedDescription) {
    const std::string pk = MakeProduct("prod_one");
    MakeProduct("prod_two");
    ASSERT_TRUE(services_->UpdateProduct(scope_, {pk, "prod_renamed", "new text"}).ok());
    auto p = services_->QueryProduct(scope_, pk);
    ASSERT_TRUE(p.ok());
    EXPECT_EQ(p->product.product_name, "prod_renamed");
    EXPECT_EQ(p->product.description, "new text");

    // Description absent: unchanged; the same name again is not a collision with itself.
    ASSERT_TRUE(services_->UpdateProduct(scope_, {pk, "prod_renamed", std::nullopt}).ok());
    p = services_->QueryProduct(scope_, pk);
    ASSERT_TRUE(p.ok());
    EXPECT_EQ(p->product.description, "new text");
    ASSERT_TRUE(services_->UpdateProduct(scope_, {pk, "prod_renamed", ""}).ok());
    EXPECT_EQ(services_->QueryProduct(scope_, pk)->product.description, "");

    EXPECT_EQ(CodeOf(services_->UpdateProduct(scope_, {pk, "prod_two", std::nullopt})),
              ErrorCode::kProductNameExists);
    EXPECT_EQ(CodeOf(services_->UpdateProduct(scope_, {pk, "ab", std::nullopt})),
              ErrorCode::kInvalidProductName);
    EXPECT_EQ(CodeOf(services_->UpdateProduct(scope_, {pk, "", std::nullopt})),
              ErrorCode::kNullProductName);
    EXPECT_EQ(CodeOf(services_->UpdateProduct(scope_, {pk, "prod_x", std::string(101, 'd')})),
              ErrorCode::kLongProductDesc);
    EXPECT_EQ(CodeOf(services_->UpdateProduct(scope_, {"a1missing00", "prod_x", std::nullopt})),
              ErrorCode::kProductNotFound);
}

TEST_F(CatalogTest, DeleteProductWaitsForItsDevices) {
    const std::string pk = MakeProduct("prod_one");
    const Device d = MakeDevice(pk, "dev-01");
    CreateModuleCommand module;
    module.product_key = pk;
    module.module_name = "mcu";
    ASSERT_TRUE(services_->CreateModule(scope_, module).ok());

    EXPECT_EQ(CodeOf(services_->DeleteProduct(scope_, pk)), ErrorCode::kProductHasDevices);
    ASSERT_TRUE(services_->DeleteDevice(scope_, {d.iot_id, "", ""}).ok());
    ASSERT_TRUE(services_->DeleteProduct(scope_, pk).ok());
    EXPECT_EQ(CodeOf(services_->QueryProduct(scope_, pk)), ErrorCode::kProductNotFound);
    EXPECT_EQ(CodeOf(services_->ListModules(scope_, pk)), ErrorCode::kProductNotFound);
    EXPECT_EQ(CodeOf(services_->DeleteProduct(scope_, pk)), ErrorCode::kProductNotFound);
    // The name is free again.
    MakeProduct("prod_one");
}

TEST_F(CatalogTest, QueryDevicesPagesOneProduct) {
    const std::string pk = MakeProduct("prod_one");
    const std::string other = MakeProduct("prod_two");
    for (int i = 0; i < 5; ++i) {
        MakeDevice(pk, "dev-0" + std::to_string(i));
    }
    MakeDevice(other, "dev-99");
    auto page = services_->QueryDevices(scope_, pk, 2, 2);
    ASSERT_TRUE(page.ok());
    EXPECT_EQ(page->total, 5);
    ASSERT_EQ(page->items.size(), 2u);
    EXPECT_EQ(page->items[0].device_name, "dev-02");
    EXPECT_EQ(page->items[1].device_name, "dev-03");
    EXPECT_EQ(page->items[0].product_key, pk);
    EXPECT_EQ(CodeOf(services_->QueryDevices(scope_, pk, 1, 51)), ErrorCode::kInvalidPageParams);
    EXPECT_TRUE(services_->QueryDevices(scope_, pk, 1, 50).ok());
    EXPECT_EQ(CodeOf(services_->QueryDevices(scope_, "a1missing00", 1, 10)),
              ErrorCode::kProductNotFound);
}

TEST_F(CatalogTest, DeleteDeviceCancelsItsUnfinishedTasks) {
    const std::string pk = MakeProduct("prod_one");
    const Device d1 = MakeDevice(pk, "dev-01");
    const Device d2 = MakeDevice(pk, "dev-02");
    CreateFirmwareCommand fw;
    fw.firmware_name = "fw1";
    fw.dest_version = "2.0.0";
    fw.product_key = pk;
    fw.firmware_url = "https://files.example.com/fw.bin";
    fw.need_to_verify = false;
    auto firmware = services_->CreateFirmware(scope_, fw);
    ASSERT_TRUE(firmware.ok());
    CreateStaticJobCommand cmd;
    cmd.firmware_id = firmware->firmware_id;
    cmd.product_key = pk;
    cmd.target_selection = "ALL";
    auto job = services_->CreateStaticJob(scope_, cmd);
    ASSERT_TRUE(job.ok());

    ASSERT_TRUE(services_->DeleteDevice(scope_, {"", pk, "dev-01"}).ok());
    EXPECT_EQ(CodeOf(services_->QueryDeviceDetail(scope_, {d1.iot_id, "", ""})),
              ErrorCode::kDeviceNotFound);
    std::vector<Task> tasks;
    JobStatus status = JobStatus::kPlanned;
    auto read_back = [&] {
        return store_->Read([&](ReadTx& tx) -> Status {
            OTA_ASSIGN_OR_RETURN(auto page,
                                 tx.ListTasksByJob(scope_, job->job_id, std::nullopt, 0, 10));
            tasks = std::move(page.items);
            OTA_ASSIGN_OR_RETURN(auto j, tx.FindJob(scope_, job->job_id));
            if (!j.has_value()) {
                return MakeError(ErrorCode::kJobNotFound);
            }
            status = j.value().job_status;
            return Ok();
        });
    };
    ASSERT_TRUE(read_back().ok());
    ASSERT_EQ(tasks.size(), 2u);
    for (const Task& t : tasks) {
        if (t.iot_id == d1.iot_id) {
            EXPECT_EQ(t.status, TaskStatus::kCanceled);
            EXPECT_EQ(t.task_desc, "device deleted");
        } else {
            EXPECT_EQ(t.status, TaskStatus::kQueued);
        }
    }
    EXPECT_EQ(status, JobStatus::kInProgress);

    // The last open task goes with the last device: the batch has nothing left to do.
    ASSERT_TRUE(services_->DeleteDevice(scope_, {d2.iot_id, "", ""}).ok());
    ASSERT_TRUE(read_back().ok());
    EXPECT_EQ(status, JobStatus::kCompleted);

    EXPECT_EQ(CodeOf(services_->DeleteDevice(scope_, {d2.iot_id, "", ""})),
              ErrorCode::kDeviceNotFound);
    EXPECT_EQ(CodeOf(services_->DeleteDevice(scope_, {"", "a1missing00", "dev-01"})),
              ErrorCode::kProductNotFound);
    EXPECT_EQ(CodeOf(services_->DeleteDevice(scope_, {"", pk, "dev-01"})),
              ErrorCode::kDeviceNotFound);
}

TEST_F(CatalogTest, BatchRegistrationCreatesDevicesAtOnce) {
    const std::string pk = MakeProduct("prod_one");
    EXPECT_EQ(CodeOf(services_->BatchRegisterDevice(scope_, pk, 0)),
              ErrorCode::kInvalidFormattedParameter);
    EXPECT_EQ(CodeOf(services_->BatchRegisterDevice(scope_, pk, 1001)),
              ErrorCode::kInvalidFormattedParameter);
    EXPECT_EQ(CodeOf(services_->BatchRegisterDevice(scope_, "a1missing00", 3)),
              ErrorCode::kProductNotFound);

    auto apply = services_->BatchRegisterDevice(scope_, pk, 25);
    ASSERT_TRUE(apply.ok());
    auto second = services_->BatchRegisterDevice(scope_, pk, 1);
    ASSERT_TRUE(second.ok());
    EXPECT_GT(*second, *apply);

    auto r = services_->QueryBatchRegistration(scope_, pk, *apply);
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->status, "CREATE_SUCCESS");
    EXPECT_EQ(r->count, 25);
    ASSERT_EQ(r->valid_names.size(), 25u);
    EXPECT_TRUE(r->invalid_names.empty());
    std::set<std::string> names(r->valid_names.begin(), r->valid_names.end());
    EXPECT_EQ(names.size(), 25u);
    for (const std::string& name : r->valid_names) {
        EXPECT_EQ(name.size(), 20u);
        auto d = services_->QueryDeviceDetail(scope_, {"", pk, name});
        ASSERT_TRUE(d.ok()) << name;
        EXPECT_EQ(d->device.status, "UNACTIVE");
        EXPECT_EQ(d->device.device_secret.size(), 32u);
    }
    EXPECT_EQ(services_->QueryProduct(scope_, pk)->device_count, 26);

    EXPECT_EQ(CodeOf(services_->QueryBatchRegistration(scope_, pk, *second + 1000)),
              ErrorCode::kApplyNotFound);
    const std::string other = MakeProduct("prod_two");
    EXPECT_EQ(CodeOf(services_->QueryBatchRegistration(scope_, other, *apply)),
              ErrorCode::kApplyNotFound);
    EXPECT_EQ(CodeOf(services_->QueryBatchRegistration(scope_, "a1missing00", *apply)),
              ErrorCode::kProductNotFound);
}

TEST_F(CatalogTest, BatchRegistrationRespectsTheDeviceQuota) {
    ServiceLimits limits;
    limits.max_devices_per_product = 5;
    Services small(*store_, clock_, limits);
    const std::string pk = MakeProduct("prod_one");
    MakeDevice(pk, "dev-01");
    EXPECT_EQ(CodeOf(small.BatchRegisterDevice(scope_, pk, 5)), ErrorCode::kDeviceQuotaExceeded);
    EXPECT_TRUE(small.BatchRegisterDevice(scope_, pk, 4).ok());
    EXPECT_EQ(services_->QueryProduct(scope_, pk)->device_count, 5);
}

TEST_F(CatalogTest, GroupNamesAndDescriptions) {
    EXPECT_TRUE(MakeGroup("grp1").ok());
    EXPECT_TRUE(MakeGroup("group_with_30_characters_abcde").ok());
    EXPECT_EQ(CodeOf(MakeGroup("grp")), ErrorCode::kInvalidGroupName);
    EXPECT_EQ(CodeOf(MakeGroup("group_with_31_characters_abcdef")), ErrorCode::kInvalidGroupName);
    EXPECT_EQ(CodeOf(MakeGroup("bad-name")), ErrorCode::kInvalidGroupName);
    EXPECT_EQ(CodeOf(MakeGroup("")), ErrorCode::kInvalidGroupName);
    // CJK characters count two: 15 of them fill the 30 allowed, 2 of them are 4.
    EXPECT_TRUE(MakeGroup("\u5206\u7ec4").ok());
    std::string fifteen;
    for (int i = 0; i < 15; ++i) {
        fifteen += "\u7ec4";
    }
    EXPECT_TRUE(MakeGroup(fifteen).ok());
    EXPECT_EQ(CodeOf(MakeGroup(fifteen + "a")), ErrorCode::kInvalidGroupName);
    EXPECT_EQ(CodeOf(MakeGroup("grp1")), ErrorCode::kGroupNameExists);

    CreateGroupCommand cmd;
    cmd.group_name = "grp_desc";
    cmd.group_desc = std::string(101, 'x');
    EXPECT_EQ(CodeOf(services_->CreateGroup(scope_, cmd)), ErrorCode::kLongGroupDesc);
    cmd.group_desc = std::string(100, 'x');
    auto g = services_->CreateGroup(scope_, cmd);
    ASSERT_TRUE(g.ok());
    EXPECT_EQ(g->group_desc, cmd.group_desc);
    EXPECT_EQ(g->created_ms, clock_.NowMs());
    EXPECT_EQ(g->group_id.size(), 26u);
    cmd.group_name = "grp_expr";
    cmd.group_desc.clear();
    cmd.dynamic_expression = "product_key = \"x\"";
    EXPECT_EQ(CodeOf(services_->CreateGroup(scope_, cmd)), ErrorCode::kInvalidFormattedParameter);
}

TEST_F(CatalogTest, AtMostAThousandGroupsPerInstance) {
    for (int i = 0; i < 1000; ++i) {
        ASSERT_TRUE(MakeGroup("grp_" + std::to_string(i)).ok()) << i;
    }
    EXPECT_EQ(CodeOf(MakeGroup("grp_1000")), ErrorCode::kGroupQuotaExceeded);
    const Scope b = MakeTenant("tenant-b");
    CreateGroupCommand cmd;
    cmd.group_name = "grp_1000";
    EXPECT_TRUE(services_->CreateGroup(b, cmd).ok());  // the quota is per instance
}

TEST_F(CatalogTest, SubGroupsNestUnderExistingStaticGroups) {
    auto root = MakeGroup("root_group");
    ASSERT_TRUE(root.ok());
    auto child = MakeGroup("child_group", root->group_id);
    ASSERT_TRUE(child.ok());
    EXPECT_EQ(child->super_group_id, root->group_id);
    auto grandchild = MakeGroup("grandchild", child->group_id);
    ASSERT_TRUE(grandchild.ok());
    EXPECT_EQ(CodeOf(MakeGroup("too_deep", grandchild->group_id)),
              ErrorCode::kInvalidFormattedParameter);
    EXPECT_EQ(CodeOf(MakeGroup("orphan", "nosuchgroup0000000000010200")),
              ErrorCode::kGroupNotFound);
    auto dynamic = MakeDynamicGroup("dyn_group", "status = \"ONLINE\"");
    ASSERT_TRUE(dynamic.ok());
    EXPECT_EQ(CodeOf(MakeGroup("under_dynamic", dynamic->group_id)),
              ErrorCode::kInvalidFormattedParameter);

    EXPECT_EQ(CodeOf(services_->DeleteGroup(scope_, root->group_id)), ErrorCode::kSubGroupNotNull);
    EXPECT_EQ(CodeOf(services_->DeleteGroup(scope_, child->group_id)), ErrorCode::kSubGroupNotNull);
    ASSERT_TRUE(services_->DeleteGroup(scope_, grandchild->group_id).ok());
    ASSERT_TRUE(services_->DeleteGroup(scope_, child->group_id).ok());
    ASSERT_TRUE(services_->DeleteGroup(scope_, root->group_id).ok());
    EXPECT_EQ(CodeOf(services_->DeleteGroup(scope_, root->group_id)), ErrorCode::kGroupNotFound);
    EXPECT_EQ(CodeOf(services_->QueryGroup(scope_, root->group_id)), ErrorCode::kGroupNotFound);
    // A deleted group's name can be used again.
    EXPECT_TRUE(MakeGroup("root_group").ok());
}

TEST_F(CatalogTest, AddingDevicesToAStaticGroupCountsEachOutcome) {
    const std::string pk = MakeProduct("prod_one");
    const Device d1 = MakeDevice(pk, "dev-01");
    const Device d2 = MakeDevice(pk, "dev-02");
    auto group = MakeGroup("grp_main");
    ASSERT_TRUE(group.ok());

    std::vector<DeviceRef> refs = {
        {"", pk, "dev-01"}, {"", pk, "dev-02"}, {"", pk, "dev-77"}, {"", "a1missing00", "dev-01"}};
    auto r = services_->AddDevicesToGroup(scope_, group->group_id, refs);
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->valid_device_count, 2);
    EXPECT_EQ(r->success_added_device_count, 2);
    EXPECT_EQ(r->already_related_device_count, 0);
    EXPECT_EQ(r->exceed_ten_group_device_count, 0);

    // Again, with one device named twice.
    refs = {{"", pk, "dev-01"}, {"", pk, "dev-01"}};
    r = services_->AddDevicesToGroup(scope_, group->group_id, refs);
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->valid_device_count, 2);
    EXPECT_EQ(r->success_added_device_count, 0);
    EXPECT_EQ(r->already_related_device_count, 2);

    // dev-01 joins nine more groups (ten in all); the eleventh is refused for it only.
    for (int i = 0; i < 9; ++i) {
        auto g = MakeGroup("grp_more_" + std::to_string(i));
        ASSERT_TRUE(g.ok());
        ASSERT_EQ(services_->AddDevicesToGroup(scope_, g->group_id, {{"", pk, "dev-01"}})
                      ->success_added_device_count,
                  1);
    }
    auto last = MakeGroup("grp_eleventh");
    ASSERT_TRUE(last.ok());
    r = services_->AddDevicesToGroup(
        scope_, last->group_id, {{"", pk, "dev-01"}, {"", pk, "dev-02"}});
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->valid_device_count, 2);
    EXPECT_EQ(r->success_added_device_count, 1);
    EXPECT_EQ(r->exceed_ten_group_device_count, 1);

    SetStatus(d1, "ONLINE");
    SetStatus(d2, "OFFLINE");
    auto detail = services_->QueryGroup(scope_, group->group_id);
    ASSERT_TRUE(detail.ok());
    EXPECT_EQ(detail->group.group_name, "grp_main");
    EXPECT_EQ(detail->device_count, 2);
    EXPECT_EQ(detail->device_online, 1);
    EXPECT_EQ(detail->device_active, 2);

    EXPECT_EQ(CodeOf(services_->AddDevicesToGroup(scope_, "nosuchgroup0000000000010200", refs)),
              ErrorCode::kGroupNotFound);
    EXPECT_EQ(CodeOf(services_->AddDevicesToGroup(scope_, group->group_id, {})),
              ErrorCode::kMissingParameter);
    std::vector<DeviceRef> many(1001, DeviceRef{"", pk, "dev-01"});
    EXPECT_EQ(CodeOf(services_->AddDevicesToGroup(scope_, group->group_id, many)),
              ErrorCode::kInvalidFormattedParameter);
    auto dynamic = MakeDynamicGroup("dyn_group", "product_key = \"" + pk + "\"");
    ASSERT_TRUE(dynamic.ok());
    EXPECT_EQ(CodeOf(services_->AddDevicesToGroup(scope_, dynamic->group_id, refs)),
              ErrorCode::kInvalidFormattedParameter);

    // Deleting a device ends its memberships.
    ASSERT_TRUE(services_->DeleteDevice(scope_, {d2.iot_id, "", ""}).ok());
    EXPECT_EQ(services_->QueryGroup(scope_, group->group_id)->device_count, 1);
}

TEST_F(CatalogTest, GroupListFiltersAndPages) {
    auto a = MakeGroup("alpha_group");
    auto b = MakeGroup("beta_group", a->group_id);
    auto c = MakeGroup("gamma_team");
    auto d = MakeDynamicGroup("delta_group", "device_name like \"x%\"");
    ASSERT_TRUE(a.ok() && b.ok() && c.ok() && d.ok());

    auto all = services_->ListGroups(scope_, {});
    ASSERT_TRUE(all.ok());
    EXPECT_EQ(all->total, 4);
    ASSERT_EQ(all->items.size(), 4u);
    EXPECT_EQ(all->items[0].group_id, a->group_id);
    EXPECT_EQ(all->items[3].group_id, d->group_id);

    GroupListQuery q;
    q.name_fragment = "_group";
    auto named = services_->ListGroups(scope_, q);
    ASSERT_TRUE(named.ok());
    EXPECT_EQ(named->total, 3);

    q = {};
    q.super_group_id = a->group_id;
    auto children = services_->ListGroups(scope_, q);
    ASSERT_TRUE(children.ok());
    ASSERT_EQ(children->items.size(), 1u);
    EXPECT_EQ(children->items[0].group_id, b->group_id);

    q = {};
    q.types = {GroupType::kDynamic};
    auto dynamic = services_->ListGroups(scope_, q);
    ASSERT_TRUE(dynamic.ok());
    ASSERT_EQ(dynamic->items.size(), 1u);
    EXPECT_EQ(dynamic->items[0].dynamic_expression, "device_name like \"x%\"");

    q = {};
    q.current_page = 2;
    q.page_size = 3;
    auto page = services_->ListGroups(scope_, q);
    ASSERT_TRUE(page.ok());
    EXPECT_EQ(page->total, 4);
    ASSERT_EQ(page->items.size(), 1u);
    q.page_size = 201;
    EXPECT_EQ(CodeOf(services_->ListGroups(scope_, q)), ErrorCode::kInvalidPageParams);
}

TEST_F(CatalogTest, DynamicGroupRulesAreCheckedAndEvaluated) {
    const std::string pk = MakeProduct("prod_one");
    const std::string other = MakeProduct("prod_two");
    const Device d1 = MakeDevice(pk, "light-01");
    MakeDevice(pk, "light-02");
    MakeDevice(pk, "fan-01");
    MakeDevice(other, "light-03");
    SetStatus(d1, "ONLINE");

    for (const char* bad : {"",
                            "product_key",
                            "product_key =",
                            "product_key = x",
                            "color = \"red\"",
                            "product_key = \"a\" or device_name = \"b\"",
                            "product_key = \"a\" and",
                            "device_name like \"unterminated"}) {
        EXPECT_EQ(CodeOf(MakeDynamicGroup("dyn_bad", bad)), ErrorCode::kInvalidFormattedParameter)
            << bad;
    }

    auto lights = MakeDynamicGroup("dyn_lights",
                                   "product_key = \"" + pk + "\" AND deviceName LIKE 'light-%'");
    ASSERT_TRUE(lights.ok());
    auto detail = services_->QueryGroup(scope_, lights->group_id);
    ASSERT_TRUE(detail.ok());
    EXPECT_EQ(detail->device_count, 2);
    EXPECT_EQ(detail->device_online, 1);
    EXPECT_EQ(detail->device_active, 1);
    EXPECT_EQ(detail->group.group_type, GroupType::kDynamic);

    // Without a product the rule spans every product of the tenant. '_' is an ordinary
    // character in patterns: only '%' is a wildcard.
    auto everywhere =
        MakeDynamicGroup("dyn_every", "device_name like \"%-0_\" and status != \"X\"");
    ASSERT_TRUE(everywhere.ok());
    EXPECT_EQ(services_->QueryGroup(scope_, everywhere->group_id)->device_count, 0);
    auto any_light = MakeDynamicGroup("dyn_any_light", "device_name like \"%light%\"");
    ASSERT_TRUE(any_light.ok());
    EXPECT_EQ(services_->QueryGroup(scope_, any_light->group_id)->device_count, 3);
    auto online = MakeDynamicGroup("dyn_online", "status = \"ONLINE\"");
    ASSERT_TRUE(online.ok());
    EXPECT_EQ(services_->QueryGroup(scope_, online->group_id)->device_count, 1);
}

TEST_F(CatalogTest, TenantsDoNotSeeEachOthersCatalog) {
    const std::string pk = MakeProduct("prod_one");
    const Device d = MakeDevice(pk, "dev-01");
    auto group = MakeGroup("grp_main");
    ASSERT_TRUE(group.ok());
    auto apply = services_->BatchRegisterDevice(scope_, pk, 2);
    ASSERT_TRUE(apply.ok());

    const Scope b = MakeTenant("tenant-b");
    EXPECT_EQ(services_->ListProducts(b, 1, 10)->total, 0);
    EXPECT_EQ(CodeOf(services_->QueryDevices(b, pk, 1, 10)), ErrorCode::kProductNotFound);
    EXPECT_EQ(CodeOf(services_->UpdateProduct(b, {pk, "prod_stolen", std::nullopt})),
              ErrorCode::kProductNotFound);
    EXPECT_EQ(CodeOf(services_->DeleteProduct(b, pk)), ErrorCode::kProductNotFound);
    EXPECT_EQ(CodeOf(services_->DeleteDevice(b, {d.iot_id, "", ""})), ErrorCode::kDeviceNotFound);
    EXPECT_EQ(CodeOf(services_->BatchRegisterDevice(b, pk, 1)), ErrorCode::kProductNotFound);
    EXPECT_EQ(CodeOf(services_->QueryBatchRegistration(b, pk, *apply)),
              ErrorCode::kProductNotFound);
    EXPECT_EQ(CodeOf(services_->QueryGroup(b, group->group_id)), ErrorCode::kGroupNotFound);
    EXPECT_EQ(CodeOf(services_->DeleteGroup(b, group->group_id)), ErrorCode::kGroupNotFound);
    EXPECT_EQ(CodeOf(services_->AddDevicesToGroup(b, group->group_id, {{"", pk, "dev-01"}})),
              ErrorCode::kGroupNotFound);
    EXPECT_EQ(services_->ListGroups(b, {})->total, 0);

    // B's own group cannot take A's devices or nest under A's group.
    CreateGroupCommand cmd;
    cmd.group_name = "grp_main";  // names are per tenant
    auto own = services_->CreateGroup(b, cmd);
    ASSERT_TRUE(own.ok());
    auto r = services_->AddDevicesToGroup(b, own->group_id, {{"", pk, "dev-01"}});
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->valid_device_count, 0);
    cmd.group_name = "grp_child";
    cmd.super_group_id = group->group_id;
    EXPECT_EQ(CodeOf(services_->CreateGroup(b, cmd)), ErrorCode::kGroupNotFound);

    // A's data is untouched.
    EXPECT_EQ(services_->QueryGroup(scope_, group->group_id)->device_count, 0);
    EXPECT_TRUE(services_->QueryDeviceDetail(scope_, {d.iot_id, "", ""}).ok());
}

}  // namespace
}  // namespace otad::domain
