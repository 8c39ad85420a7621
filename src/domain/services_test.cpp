#include "domain/services.hpp"

#include "domain/testing/services_fixture.hpp"

#include <gtest/gtest.h>

#include <filesystem>

namespace otad::domain {
namespace {

using testing::kNow;

class ServicesTest : public testing::ServicesFixture {
  protected:
    Result<Job> Static(const std::string& fw,
                       const std::string& pk,
                       std::vector<std::string> names,
                       int64_t overwrite = 1) {
        CreateStaticJobCommand cmd;
        cmd.firmware_id = fw;
        cmd.product_key = pk;
        cmd.target_selection = names.empty() ? "ALL" : "SPECIFIC";
        cmd.target_device_names = std::move(names);
        cmd.policy.overwrite_mode = overwrite;
        return services_->CreateStaticJob(scope_, cmd);
    }
};

TEST_F(ServicesTest, ProductNamesAreUniquePerInstance) {
    MakeProduct("thermo");
    CreateProductCommand cmd;
    cmd.product_name = "thermo";
    auto again = services_->CreateProduct(scope_, cmd);
    ASSERT_FALSE(again.ok());
    EXPECT_EQ(again.error().code, ErrorCode::kProductNameExists);
    cmd.node_type = 3;
    cmd.product_name = "other";
    EXPECT_EQ(services_->CreateProduct(scope_, cmd).error().code, ErrorCode::kInvalidNodeType);
}

TEST_F(ServicesTest, DevicesNeedTheirProduct) {
    auto d = services_->RegisterDevice(scope_, {"a1missing00", "dev-01", ""});
    ASSERT_FALSE(d.ok());
    EXPECT_EQ(d.error().code, ErrorCode::kProductNotFound);
    const std::string pk = MakeProduct("thermo");
    MakeDevice(pk, "dev-01");
    auto dup = services_->RegisterDevice(scope_, {pk, "dev-01", ""});
    ASSERT_FALSE(dup.ok());
    EXPECT_EQ(dup.error().code, ErrorCode::kDeviceNameExists);
    auto random = services_->RegisterDevice(scope_, {pk, "", ""});
    ASSERT_TRUE(random.ok());
    EXPECT_EQ(random->device_name.size(), 20u);
    auto detail = services_->QueryDeviceDetail(scope_, {"", pk, "dev-01"});
    ASSERT_TRUE(detail.ok());
    EXPECT_EQ(detail->product_name, "thermo");
    EXPECT_EQ(detail->device.status, "UNACTIVE");
    auto product = services_->QueryProduct(scope_, pk);
    ASSERT_TRUE(product.ok());
    EXPECT_EQ(product->device_count, 2);
}

TEST_F(ServicesTest, FirmwareRules) {
    const std::string pk = MakeProduct("thermo");
    CreateFirmwareCommand cmd;
    cmd.firmware_name = "fw1";
    cmd.dest_version = "2.0.0";
    cmd.product_key = pk;
    cmd.firmware_url = "ftp://x/y";
    EXPECT_EQ(services_->CreateFirmware(scope_, cmd).error().code, ErrorCode::kInvalidFirmwareUrl);
    cmd.firmware_url = "https://x/y.bin";
    cmd.type = 1;
    EXPECT_EQ(services_->CreateFirmware(scope_, cmd).error().code,
              ErrorCode::kInvalidFormattedParameter);
    cmd.src_version = "1.0.0";
    cmd.firmware_sign = "ABCDEF0123456789abcdef0123456789";
    auto f = services_->CreateFirmware(scope_, cmd);
    ASSERT_TRUE(f.ok());
    EXPECT_EQ(f->status, FirmwareStatus::kNotVerified);
    EXPECT_EQ(f->firmware_sign, "abcdef0123456789abcdef0123456789");
    EXPECT_EQ(services_->CreateFirmware(scope_, cmd).error().code, ErrorCode::kFirmwareNameExists);
    cmd.firmware_name = "fw2";
    cmd.module_name = "mcu";
    EXPECT_EQ(services_->CreateFirmware(scope_, cmd).error().code, ErrorCode::kModuleNotFound);
    auto q = services_->QueryFirmware(scope_, f->firmware_id);
    ASSERT_TRUE(q.ok());
    EXPECT_EQ(q->product_name, "thermo");
    EXPECT_EQ(q->firmware.src_version, "1.0.0");
}

TEST_F(ServicesTest, StaticJobNeedsVerifiedFirmwareWhenAsked) {
    const std::string pk = MakeProduct("thermo");
    MakeDevice(pk, "dev-01");
    const std::string fw = MakeFirmware(pk, "fw1", /*verify=*/true);
    auto job = Static(fw, pk, {"dev-01"});
    ASSERT_FALSE(job.ok());
    EXPECT_EQ(job.error().code, ErrorCode::kFirmwareNotVerified);
}

TEST_F(ServicesTest, StaticJobTargetsAndListing) {
    const std::string pk = MakeProduct("thermo");
    MakeDevice(pk, "dev-01");
    MakeDevice(pk, "dev-02");
    const std::string fw = MakeFirmware(pk, "fw1");

    auto unknown = Static(fw, pk, {"dev-09"});
    ASSERT_FALSE(unknown.ok());
    EXPECT_EQ(unknown.error().code, ErrorCode::kDeviceNotFound);

    auto j1 = Static(fw, pk, {"dev-01"});
    ASSERT_TRUE(j1.ok());
    EXPECT_EQ(j1->job_status, JobStatus::kInProgress);
    EXPECT_EQ(j1->start_ms, kNow);

    // dev-01 is busy with j1: the second batch records a failed task for it; dev-02 queues.
    clock_.Advance(1000);
    auto j2 = Static(fw, pk, {});
    ASSERT_TRUE(j2.ok());

    ListJobsByDeviceQuery q{pk, "dev-01", fw, 1, 10};
    auto page = services_->ListJobsByDevice(scope_, q);
    ASSERT_TRUE(page.ok());
    ASSERT_EQ(page->total, 2);
    EXPECT_EQ(page->items[0].job_id, j2->job_id);  // newest first
    EXPECT_EQ(page->items[1].job_id, j1->job_id);

    q.page_size = 1;
    q.current_page = 2;
    page = services_->ListJobsByDevice(scope_, q);
    ASSERT_TRUE(page.ok());
    ASSERT_EQ(page->items.size(), 1u);
    EXPECT_EQ(page->items[0].job_id, j1->job_id);
    q.current_page = 3;
    page = services_->ListJobsByDevice(scope_, q);
    ASSERT_TRUE(page.ok());
    EXPECT_TRUE(page->items.empty());
    EXPECT_EQ(page->total, 2);

    q.device_name = "dev-02";
    q.current_page = 1;
    page = services_->ListJobsByDevice(scope_, q);
    ASSERT_TRUE(page.ok());
    ASSERT_EQ(page->total, 1);
    EXPECT_EQ(page->items[0].job_id, j2->job_id);

    auto tasks = std::vector<Task>{};
    ASSERT_TRUE(store_
                    ->Read([&](ReadTx& tx) -> Status {
                        OTA_ASSIGN_OR_RETURN(auto d, tx.FindDevice(scope_, pk, "dev-01"));
                        OTA_ASSIGN_OR_RETURN(tasks,
                                             tx.ListUnfinishedTasksOfDevice(scope_, d->iot_id));
                        return Ok();
                    })
                    .ok());
    ASSERT_EQ(tasks.size(), 1u);
    EXPECT_EQ(tasks[0].job_id, j1->job_id);
}

TEST_F(ServicesTest, OverwriteModeTwoCancelsPendingTasks) {
    const std::string pk = MakeProduct("thermo");
    MakeDevice(pk, "dev-01");
    const std::string fw = MakeFirmware(pk, "fw1");
    auto j1 = Static(fw, pk, {"dev-01"});
    ASSERT_TRUE(j1.ok());
    auto j2 = Static(fw, pk, {"dev-01"}, /*overwrite=*/2);
    ASSERT_TRUE(j2.ok());
    std::vector<Task> tasks;
    ASSERT_TRUE(store_
                    ->Read([&](ReadTx& tx) -> Status {
                        OTA_ASSIGN_OR_RETURN(auto d, tx.FindDevice(scope_, pk, "dev-01"));
                        OTA_ASSIGN_OR_RETURN(tasks,
                                             tx.ListUnfinishedTasksOfDevice(scope_, d->iot_id));
                        return Ok();
                    })
                    .ok());
    ASSERT_EQ(tasks.size(), 1u);
    EXPECT_EQ(tasks[0].job_id, j2->job_id);
}

TEST_F(ServicesTest, ScheduledJobsArePlanned) {
    const std::string pk = MakeProduct("thermo");
    MakeDevice(pk, "dev-01");
    const std::string fw = MakeFirmware(pk, "fw1");
    CreateStaticJobCommand cmd;
    cmd.firmware_id = fw;
    cmd.product_key = pk;
    cmd.target_selection = "ALL";
    cmd.schedule_ms = kNow + 60'000;  // too soon
    EXPECT_EQ(services_->CreateStaticJob(scope_, cmd).error().code,
              ErrorCode::kInvalidFormattedParameter);
    cmd.schedule_ms = kNow + 3'600'000;
    cmd.schedule_finish_ms = kNow + 3'600'000;
    EXPECT_EQ(services_->CreateStaticJob(scope_, cmd).error().code, ErrorCode::kFromNotLessThanTo);
    cmd.schedule_finish_ms = kNow + 3 * 3'600'000;
    auto job = services_->CreateStaticJob(scope_, cmd);
    ASSERT_TRUE(job.ok());
    EXPECT_EQ(job->job_status, JobStatus::kPlanned);
    EXPECT_EQ(job->start_ms, 0);
}

TEST_F(ServicesTest, PolicyValidation) {
    const std::string pk = MakeProduct("thermo");
    MakeDevice(pk, "dev-01");
    const std::string fw = MakeFirmware(pk, "fw1");
    CreateStaticJobCommand cmd;
    cmd.firmware_id = fw;
    cmd.product_key = pk;
    cmd.target_selection = "ALL";
    auto expect_invalid = [&](const char* what) {
        auto r = services_->CreateStaticJob(scope_, cmd);
        ASSERT_FALSE(r.ok()) << what;
        EXPECT_EQ(r.error().code, ErrorCode::kInvalidFormattedParameter) << what;
    };
    cmd.policy.retry_interval_min = 10;
    expect_invalid("interval without count");
    cmd.policy.retry_count = 3;
    expect_invalid("count not in 1,2,5");
    cmd.policy.retry_count = 2;
    cmd.policy.timeout_min = 10;
    expect_invalid("interval not below timeout");
    cmd.policy.timeout_min = 60;
    cmd.policy.maximum_per_minute = 5;
    expect_invalid("push rate too low");
    cmd.policy.maximum_per_minute = 100;
    cmd.policy.overwrite_mode = 2;
    cmd.policy.multi_module_mode = true;
    expect_invalid("overwrite with multi-module");
    cmd.policy.multi_module_mode = false;
    cmd.policy.download_protocol = "FTP";
    expect_invalid("protocol");
    cmd.policy.download_protocol = "MQTT";
    cmd.src_versions = {"1.0", "1.0"};
    expect_invalid("duplicate src versions");
    cmd.src_versions = {"1.0"};
    auto none = services_->CreateStaticJob(scope_, cmd);
    ASSERT_FALSE(none.ok());
    EXPECT_EQ(none.error().code, ErrorCode::kNoDeviceToUpgrade);
    cmd.src_versions.clear();
    cmd.target_selection = "SPECIFIC";
    expect_invalid("SPECIFIC without names");
    cmd.target_device_names = {"dev-01"};
    cmd.src_versions = {"1.0"};
    expect_invalid("SrcVersion with SPECIFIC");
    cmd.src_versions.clear();
    auto ok = services_->CreateStaticJob(scope_, cmd);
    ASSERT_TRUE(ok.ok());
    EXPECT_EQ(ok->retry_interval_min, 10);
    EXPECT_EQ(ok->download_protocol, "MQTT");
}

TEST_F(ServicesTest, TenantsDoNotSeeEachOther) {
    const std::string pk = MakeProduct("thermo");
    MakeDevice(pk, "dev-01");
    const std::string fw = MakeFirmware(pk, "fw1");
    ASSERT_TRUE(Static(fw, pk, {"dev-01"}).ok());

    auto other = services_->CreateAccount("tenant-b");
    ASSERT_TRUE(other.ok());
    auto b = services_->ResolveScope(other->account.id, "");
    ASSERT_TRUE(b.ok());
    EXPECT_EQ(services_->QueryProduct(*b, pk).error().code, ErrorCode::kProductNotFound);
    EXPECT_EQ(services_->QueryFirmware(*b, fw).error().code, ErrorCode::kFirmwareNotFound);
    EXPECT_EQ(services_->QueryDeviceDetail(*b, {"", pk, "dev-01"}).error().code,
              ErrorCode::kProductNotFound);
    EXPECT_EQ(services_->ListJobsByDevice(*b, {pk, "dev-01", fw, 1, 10}).error().code,
              ErrorCode::kProductNotFound);
    // Another tenant's instance id is unknown to this account.
    auto a_instance = services_->ListAccounts();
    ASSERT_TRUE(a_instance.ok());
    EXPECT_EQ(services_->ResolveScope(other->account.id, (*a_instance)[0].instance.instance_id)
                  .error()
                  .code,
              ErrorCode::kInstanceNotFound);
    // The same product name is free in another tenant.
    CreateProductCommand cmd;
    cmd.product_name = "thermo";
    EXPECT_TRUE(services_->CreateProduct(*b, cmd).ok());
}

TEST_F(ServicesTest, PageParameters) {
    for (auto [page, size] : {std::pair<int64_t, int64_t>{0, 10}, {1, 0}, {1, 101}, {-1, 10}}) {
        auto r = services_->ListJobsByDevice(scope_, {"pk", "dn", "fw", page, size});
        ASSERT_FALSE(r.ok());
        EXPECT_EQ(r.error().code, ErrorCode::kInvalidPageParams);
    }
}

}  // namespace
}  // namespace otad::domain
