#include "domain/services.hpp"
#include "domain/testing/services_fixture.hpp"

#include <gtest/gtest.h>

#include <filesystem>

namespace otad::domain {
namespace {

using testing::kNow;

class ModuleTest : public testing::ServicesFixture {
  protected:
    void SetUp() override {
        testing::ServicesFixture::SetUp();
        CreateProductCommand cmd;
        cmd.product_name = "prod_one";
        auto p = services_->CreateProduct(scope_, cmd);
        ASSERT_TRUE(p.ok());
        pk_ = p->product_key;
        product_created_ms_ = p->created_ms;
        clock_.Advance(60'000);
    }

    Status Create(const std::string& name,
                  const std::string& alias = "",
                  const std::string& desc = "",
                  const Scope* scope = nullptr) {
        auto st = services_->CreateModule(scope ? *scope : scope_, {pk_, name, alias, desc});
        clock_.Advance(1);
        return st;
    }
    static ErrorCode CodeOf(const Status& s) {
        return s.ok() ? ErrorCode::kInternal : s.error().code;
    }
    template <typename T>
    static ErrorCode CodeOf(const Result<T>& r) {
        return r.ok() ? ErrorCode::kInternal : r.error().code;
    }

    std::string pk_;
    int64_t product_created_ms_ = 0;
};

TEST_F(ModuleTest, NamesFollowTheRules) {
    EXPECT_TRUE(Create("scanner", "Barcode_scanner", "the scanner").ok());
    EXPECT_TRUE(Create("a").ok());
    EXPECT_TRUE(Create(std::string(64, 'm')).ok());
    EXPECT_TRUE(Create("mcu-v1.2_x").ok());
    EXPECT_EQ(CodeOf(Create(std::string(65, 'm'))), ErrorCode::kInvalidModuleName);
    EXPECT_EQ(CodeOf(Create("bad name")), ErrorCode::kInvalidModuleName);
    EXPECT_EQ(CodeOf(Create("m\xc3\xa9")), ErrorCode::kInvalidModuleName);
    EXPECT_EQ(CodeOf(Create("")), ErrorCode::kInvalidModuleName);
    // Unique ignoring letter case; `default` is always taken.
    EXPECT_EQ(CodeOf(Create("Scanner")), ErrorCode::kModuleNameExists);
    EXPECT_EQ(CodeOf(Create("default")), ErrorCode::kModuleNameExists);
    EXPECT_EQ(CodeOf(Create("DEFAULT")), ErrorCode::kModuleNameExists);
    // Alias and description.
    EXPECT_TRUE(Create("cjk", "\u626b\u7801\u6a21\u5757").ok());
    EXPECT_EQ(CodeOf(Create("alias_bad", "with space")), ErrorCode::kInvalidFormattedParameter);
    EXPECT_EQ(CodeOf(Create("alias_long", std::string(65, 'a'))),
              ErrorCode::kInvalidFormattedParameter);
    EXPECT_EQ(CodeOf(Create("desc_long", "", std::string(101, 'd'))),
              ErrorCode::kInvalidFormattedParameter);
    EXPECT_TRUE(Create("desc_full", "", std::string(100, 'd')).ok());
    EXPECT_EQ(CodeOf(services_->CreateModule(scope_, {"a1missing00", "mcu", "", ""})),
              ErrorCode::kProductNotFound);
}

TEST_F(ModuleTest, AtMostTenCustomModulesPerProduct) {
    for (int i = 0; i < 10; ++i) {
        ASSERT_TRUE(Create("m" + std::to_string(i)).ok()) << i;
    }
    EXPECT_EQ(CodeOf(Create("m10")), ErrorCode::kModuleQuotaExceeded);
    // A name that exists is reported as such even at the quota.
    EXPECT_EQ(CodeOf(Create("M3")), ErrorCode::kModuleNameExists);
    ASSERT_TRUE(services_->DeleteModule(scope_, pk_, "m0").ok());
    EXPECT_TRUE(Create("m10").ok());
}

TEST_F(ModuleTest, ListStartsWithTheDefaultModule) {
    ASSERT_TRUE(Create("scanner", "Barcode_scanner", "the scanner").ok());
    const int64_t scanner_created = clock_.NowMs() - 1;
    ASSERT_TRUE(Create("Wifi").ok());
    auto list = services_->ListModules(scope_, pk_);
    ASSERT_TRUE(list.ok());
    ASSERT_EQ(list->size(), 3u);
    EXPECT_EQ((*list)[0].module_name, "default");
    EXPECT_EQ((*list)[0].product_key, pk_);
    EXPECT_EQ((*list)[0].created_ms, product_created_ms_);
    EXPECT_EQ((*list)[1].module_name, "scanner");
    EXPECT_EQ((*list)[1].alias_name, "Barcode_scanner");
    EXPECT_EQ((*list)[1].desc, "the scanner");
    EXPECT_EQ((*list)[1].created_ms, scanner_created);
    EXPECT_EQ((*list)[1].modified_ms, scanner_created);
    EXPECT_EQ((*list)[2].module_name, "Wifi");
    EXPECT_EQ(CodeOf(services_->ListModules(scope_, "a1missing00")), ErrorCode::kProductNotFound);
}

TEST_F(ModuleTest, UpdateChangesAliasAndDescriptionOnly) {
    ASSERT_TRUE(Create("scanner", "Barcode_scanner", "the scanner").ok());
    clock_.Advance(5000);
    ASSERT_TRUE(services_->UpdateModule(scope_, {pk_, "SCANNER", "Scanner2", std::nullopt}).ok());
    auto list = services_->ListModules(scope_, pk_);
    ASSERT_TRUE(list.ok());
    ASSERT_EQ(list->size(), 2u);
    EXPECT_EQ((*list)[1].module_name, "scanner");  // the name never changes, not even its case
    EXPECT_EQ((*list)[1].alias_name, "Scanner2");
    EXPECT_EQ((*list)[1].desc, "the scanner");
    EXPECT_EQ((*list)[1].modified_ms, clock_.NowMs());
    EXPECT_LT((*list)[1].created_ms, (*list)[1].modified_ms);
    ASSERT_TRUE(services_->UpdateModule(scope_, {pk_, "scanner", std::nullopt, ""}).ok());
    EXPECT_EQ(services_->ListModules(scope_, pk_)->at(1).desc, "");
    EXPECT_EQ(services_->ListModules(scope_, pk_)->at(1).alias_name, "Scanner2");

    EXPECT_EQ(CodeOf(services_->UpdateModule(scope_, {pk_, "default", "x", std::nullopt})),
              ErrorCode::kInvalidModuleName);
    EXPECT_EQ(CodeOf(services_->UpdateModule(scope_, {pk_, "nosuch", "x", std::nullopt})),
              ErrorCode::kModuleNotFound);
    EXPECT_EQ(CodeOf(services_->UpdateModule(scope_, {pk_, "scanner", "a b", std::nullopt})),
              ErrorCode::kInvalidFormattedParameter);
    EXPECT_EQ(CodeOf(services_->UpdateModule(
                  scope_, {pk_, "scanner", std::nullopt, std::string(101, 'd')})),
              ErrorCode::kInvalidFormattedParameter);
    EXPECT_EQ(
        CodeOf(services_->UpdateModule(scope_, {"a1missing00", "scanner", "x", std::nullopt})),
        ErrorCode::kProductNotFound);
}

TEST_F(ModuleTest, DeleteRefusesTheDefaultModuleAndModulesWithPackages) {
    ASSERT_TRUE(Create("scanner").ok());
    EXPECT_EQ(CodeOf(services_->DeleteModule(scope_, pk_, "default")),
              ErrorCode::kInvalidModuleName);
    EXPECT_EQ(CodeOf(services_->DeleteModule(scope_, pk_, "nosuch")), ErrorCode::kModuleNotFound);
    EXPECT_EQ(CodeOf(services_->DeleteModule(scope_, "a1missing00", "scanner")),
              ErrorCode::kProductNotFound);

    // A package of the module, written directly.
    Firmware f;
    f.firmware_id = "fwModuleTest0000000000030100";
    f.firmware_name = "fw_scanner";
    f.product_key = pk_;
    f.module_name = "scanner";
    f.dest_version = "1.0.1";
    f.firmware_url = "https://files.example.com/scanner.bin";
    f.need_to_verify = false;
    f.status = FirmwareStatus::kNoVerificationNeeded;
    f.created_ms = clock_.NowMs();
    f.modified_ms = f.created_ms;
    ASSERT_TRUE(store_->Write([&](WriteTx& tx) { return tx.InsertFirmware(scope_, f); }).ok());
    EXPECT_EQ(CodeOf(services_->DeleteModule(scope_, pk_, "Scanner")),
              ErrorCode::kModuleHasFirmware);
    ASSERT_TRUE(
        store_->Write([&](WriteTx& tx) { return tx.DeleteFirmware(scope_, f.firmware_id); }).ok());
    ASSERT_TRUE(services_->DeleteModule(scope_, pk_, "Scanner").ok());
    EXPECT_EQ(services_->ListModules(scope_, pk_)->size(), 1u);
    EXPECT_EQ(CodeOf(services_->DeleteModule(scope_, pk_, "scanner")), ErrorCode::kModuleNotFound);
}

TEST_F(ModuleTest, ModuleVersionsOfADevice) {
    auto d = services_->RegisterDevice(scope_, {pk_, "dev-01", ""});
    ASSERT_TRUE(d.ok());
    auto empty = services_->ListModuleVersions(scope_, {d->iot_id, "", ""}, 1, 10);
    ASSERT_TRUE(empty.ok());
    EXPECT_EQ(empty->total, 0);
    EXPECT_TRUE(empty->items.empty());

    for (const char* module : {"wifi", "default", "scanner"}) {
        ModuleVersion v;
        v.iot_id = d->iot_id;
        v.product_key = pk_;
        v.device_name = "dev-01";
        v.module_name = module;
        v.version = std::string("1.0-") + module;
        v.modified_ms = clock_.NowMs();
        ASSERT_TRUE(
            store_->Write([&](WriteTx& tx) { return tx.UpsertModuleVersion(scope_, v); }).ok());
    }
    auto page = services_->ListModuleVersions(scope_, {"", pk_, "dev-01"}, 1, 2);
    ASSERT_TRUE(page.ok());
    EXPECT_EQ(page->total, 3);
    ASSERT_EQ(page->items.size(), 2u);
    EXPECT_EQ(page->items[0].module_name, "default");
    EXPECT_EQ(page->items[0].version, "1.0-default");
    EXPECT_EQ(page->items[0].device_name, "dev-01");
    EXPECT_EQ(page->items[0].iot_id, d->iot_id);
    EXPECT_EQ(page->items[1].module_name, "scanner");
    auto rest = services_->ListModuleVersions(scope_, {d->iot_id, "", ""}, 2, 2);
    ASSERT_TRUE(rest.ok());
    ASSERT_EQ(rest->items.size(), 1u);
    EXPECT_EQ(rest->items[0].module_name, "wifi");

    EXPECT_EQ(CodeOf(services_->ListModuleVersions(scope_, {d->iot_id, "", ""}, 1, 201)),
              ErrorCode::kInvalidPageParams);
    EXPECT_EQ(CodeOf(services_->ListModuleVersions(scope_, {d->iot_id, "", ""}, 0, 10)),
              ErrorCode::kInvalidPageParams);
    EXPECT_EQ(CodeOf(services_->ListModuleVersions(scope_, {"", pk_, "dev-99"}, 1, 10)),
              ErrorCode::kDeviceNotFound);
    EXPECT_EQ(CodeOf(services_->ListModuleVersions(scope_, {"", "a1missing00", "dev-01"}, 1, 10)),
              ErrorCode::kProductNotFound);
}

TEST_F(ModuleTest, TenantsDoNotSeeEachOthersModules) {
    ASSERT_TRUE(Create("scanner").ok());
    auto d = services_->RegisterDevice(scope_, {pk_, "dev-01", ""});
    ASSERT_TRUE(d.ok());
    auto account = services_->CreateAccount("tenant-b");
    ASSERT_TRUE(account.ok());
    auto b = services_->ResolveScope(account->account.id, "");
    ASSERT_TRUE(b.ok());
    EXPECT_EQ(CodeOf(services_->CreateModule(*b, {pk_, "other", "", ""})),
              ErrorCode::kProductNotFound);
    EXPECT_EQ(CodeOf(services_->UpdateModule(*b, {pk_, "scanner", "x", std::nullopt})),
              ErrorCode::kProductNotFound);
    EXPECT_EQ(CodeOf(services_->DeleteModule(*b, pk_, "scanner")), ErrorCode::kProductNotFound);
    EXPECT_EQ(CodeOf(services_->ListModules(*b, pk_)), ErrorCode::kProductNotFound);
    EXPECT_EQ(CodeOf(services_->ListModuleVersions(*b, {d->iot_id, "", ""}, 1, 10)),
              ErrorCode::kDeviceNotFound);
    EXPECT_EQ(services_->ListModules(scope_, pk_)->size(), 2u);
}

}  // namespace
}  // namespace otad::domain
