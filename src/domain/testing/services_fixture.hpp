#pragma once

#include "domain/services.hpp"
#include "storage/sqlite/sqlite_store.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <memory>
#include <string>
#include <unistd.h>

namespace otad::domain::testing {

/// 2024-05-20T08:30:00Z, the clock every domain test starts at.
constexpr int64_t kNow = 1'716'193'800'000;

/// A fresh SQLite store in a temporary directory, Services on a manual clock, and one
/// account whose default instance is `scope_`.
class ServicesFixture : public ::testing::Test {
  protected:
    void SetUp() override {
        dir_ = std::filesystem::temp_directory_path() /
               ("otad-domain-" + std::to_string(::getpid()) + "-" +
                ::testing::UnitTest::GetInstance()->current_test_info()->test_suite_name() + "-" +
                ::testing::UnitTest::GetInstance()->current_test_info()->name());
        std::filesystem::remove_all(dir_);
        std::filesystem::create_directories(dir_);
        storage::sqlite::SqliteOptions options;
        options.path = (dir_ / "otad.db").string();
        options.synchronous_full = false;
        auto store = storage::sqlite::OpenSqliteStore(options);
        ASSERT_TRUE(store.ok());
        store_ = std::move(store).value();
        services_ = std::make_unique<Services>(*store_, clock_);
        auto account = services_->CreateAccount("tenant-a");
        ASSERT_TRUE(account.ok());
        auto scope = services_->ResolveScope(account->account.id, "");
        ASSERT_TRUE(scope.ok());
        scope_ = *scope;
    }
    void TearDown() override {
        services_.reset();
        store_.reset();
        std::filesystem::remove_all(dir_);
    }

    std::string MakeProduct(const std::string& name) {
        CreateProductCommand cmd;
        cmd.product_name = name;
        auto p = services_->CreateProduct(scope_, cmd);
        EXPECT_TRUE(p.ok());
        return p.ok() ? p->product_key : std::string{};
    }
    Device MakeDevice(const std::string& pk, const std::string& dn) {
        auto d = services_->RegisterDevice(scope_, {pk, dn, ""});
        EXPECT_TRUE(d.ok());
        return d.ok() ? *d : Device{};
    }
    std::string MakeFirmware(const std::string& pk,
                             const std::string& name,
                             bool verify = false,
                             const std::string& dest = "2.0.0") {
        CreateFirmwareCommand cmd;
        cmd.firmware_name = name;
        cmd.dest_version = dest;
        cmd.product_key = pk;
        cmd.firmware_url = "https://files.example.com/fw.bin";
        cmd.need_to_verify = verify;
        auto f = services_->CreateFirmware(scope_, cmd);
        EXPECT_TRUE(f.ok());
        return f.ok() ? f->firmware_id : std::string{};
    }
    /// The one task of a device in a job.
    Task TaskOf(const std::string& job_id, const std::string& device_name) {
        TaskListQuery q;
        q.job_id = job_id;
        q.device_names = {device_name};
        auto r = services_->ListTasksByJob(scope_, q);
        EXPECT_TRUE(r.ok());
        EXPECT_EQ(r.ok() ? r->items.size() : 0u, 1u);
        return r.ok() && !r->items.empty() ? r->items[0].task : Task{};
    }
    Job JobOf(const std::string& job_id) {
        auto r = services_->QueryJob(scope_, job_id);
        EXPECT_TRUE(r.ok());
        return r.ok() ? r->job : Job{};
    }

    std::filesystem::path dir_;
    ManualClock clock_{kNow};
    std::unique_ptr<Store> store_;
    std::unique_ptr<Services> services_;
    Scope scope_;
};

}  // namespace otad::domain::testing
