// The rules of decision 0005 on the set-based path of static batches (ALL and GRAY walk the
// product's devices in one pass; device-list files take the same path).

#include "domain/service_helpers.hpp"
#include "domain/services.hpp"
#include "domain/testing/services_fixture.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

namespace otad::domain {
namespace {

class StaticBatchTest : public testing::ServicesFixture {
  protected:
    Result<Job> All(const std::string& fw, const std::string& pk, int64_t overwrite = 1) {
        CreateStaticJobCommand cmd;
        cmd.firmware_id = fw;
        cmd.product_key = pk;
        cmd.target_selection = "ALL";
        cmd.policy.overwrite_mode = overwrite;
        return services_->CreateStaticJob(scope_, cmd);
    }
    std::vector<Task> TasksOf(const std::string& job_id) {
        TaskListQuery q;
        q.job_id = job_id;
        q.page_size = 100;
        auto r = services_->ListTasksByJob(scope_, q);
        EXPECT_TRUE(r.ok());
        std::vector<Task> out;
        if (r.ok()) {
            for (const auto& item : r->items) {
                out.push_back(item.task);
            }
        }
        return out;
    }
};

TEST_F(StaticBatchTest, AllSkipsDevicesAtTheDestinationAndBlocksBusyOnes) {
    const std::string pk = MakeProduct("thermo");
    std::vector<Device> devices;
    for (int i = 0; i < 6; ++i) {
        devices.push_back(MakeDevice(pk, "dev-" + std::to_string(i)));
    }
    // dev-0 already runs 2.0.0; dev-1 is busy with another batch.
    ASSERT_TRUE(services_->ReportVersion(scope_, devices[0].iot_id, "default", "2.0.0").ok());
    const std::string fw_other = MakeFirmware(pk, "fw-other", false, "1.5.0");
    CreateStaticJobCommand busy;
    busy.firmware_id = fw_other;
    busy.product_key = pk;
    busy.target_selection = "SPECIFIC";
    busy.target_device_names = {"dev-1"};
    auto first = services_->CreateStaticJob(scope_, busy);
    ASSERT_TRUE(first.ok());

    const std::string fw = MakeFirmware(pk, "fw", false, "2.0.0");
    auto job = All(fw, pk);
    ASSERT_TRUE(job.ok());
    const std::vector<Task> tasks = TasksOf(job->job_id);
    ASSERT_EQ(tasks.size(), 5u);  // dev-0 skipped
    for (const Task& t : tasks) {
        EXPECT_NE(t.device_name, "dev-0");
        if (t.device_name == "dev-1") {
            EXPECT_EQ(t.status, TaskStatus::kFailed);
            EXPECT_NE(t.task_desc.find(first->job_id), std::string::npos);
        } else {
            EXPECT_EQ(t.status, TaskStatus::kQueued) << t.device_name;
        }
    }
    // The other batch's task is untouched (OverwriteMode 1).
    EXPECT_EQ(TaskOf(first->job_id, "dev-1").status, TaskStatus::kQueued);
}

TEST_F(StaticBatchTest, AllWithOverwriteCancelsTheOtherTaskAndQueuesItsOwn) {
    const std::string pk = MakeProduct("thermo");
    MakeDevice(pk, "dev-a");
    MakeDevice(pk, "dev-b");
    const std::string fw1 = MakeFirmware(pk, "fw1", false, "1.5.0");
    auto j1 = All(fw1, pk);
    ASSERT_TRUE(j1.ok());
    const std::string fw2 = MakeFirmware(pk, "fw2", false, "2.0.0");
    auto j2 = All(fw2, pk, /*overwrite=*/2);
    ASSERT_TRUE(j2.ok());
    for (const std::string name : {"dev-a", "dev-b"}) {
        EXPECT_EQ(TaskOf(j1->job_id, name).status, TaskStatus::kCanceled);
        EXPECT_EQ(TaskOf(j2->job_id, name).status, TaskStatus::kQueued);
    }
    EXPECT_EQ(JobOf(j1->job_id).job_status, JobStatus::kInProgress);
}

TEST_F(StaticBatchTest, EveryDeviceBlockedCompletesTheBatchAtOnce) {
    const std::string pk = MakeProduct("thermo");
    MakeDevice(pk, "dev-a");
    auto j1 = All(MakeFirmware(pk, "fw1", false, "1.5.0"), pk);
    ASSERT_TRUE(j1.ok());
    auto j2 = All(MakeFirmware(pk, "fw2", false, "2.0.0"), pk);
    ASSERT_TRUE(j2.ok());
    EXPECT_EQ(j2->job_status, JobStatus::kCompleted);
    EXPECT_EQ(TaskOf(j2->job_id, "dev-a").status, TaskStatus::kFailed);
}

TEST_F(StaticBatchTest, NothingToDoStoresNothing) {
    const std::string pk = MakeProduct("thermo");
    const Device d = MakeDevice(pk, "dev-a");
    ASSERT_TRUE(services_->ReportVersion(scope_, d.iot_id, "default", "2.0.0").ok());
    const std::string fw = MakeFirmware(pk, "fw", false, "2.0.0");
    auto job = All(fw, pk);
    ASSERT_FALSE(job.ok());
    EXPECT_EQ(job.error().code, ErrorCode::kNoDeviceToUpgrade);
    auto jobs = services_->ListJobsByFirmware(scope_, fw, 1, 10);
    ASSERT_TRUE(jobs.ok());
    EXPECT_EQ(jobs->total, 0);
}

TEST_F(StaticBatchTest, GrayTakesTheFirstShareInIotIdOrder) {
    const std::string pk = MakeProduct("thermo");
    std::vector<std::string> iot_ids;
    for (int i = 0; i < 10; ++i) {
        iot_ids.push_back(MakeDevice(pk, "dev-" + std::to_string(i)).iot_id);
    }
    std::sort(iot_ids.begin(), iot_ids.end());
    CreateStaticJobCommand cmd;
    cmd.firmware_id = MakeFirmware(pk, "fw", false, "2.0.0");
    cmd.product_key = pk;
    cmd.target_selection = "GRAY";
    cmd.gray_percent = "30";
    auto job = services_->CreateStaticJob(scope_, cmd);
    ASSERT_TRUE(job.ok());
    std::vector<std::string> got;
    for (const Task& t : TasksOf(job->job_id)) {
        got.push_back(t.iot_id);
    }
    std::sort(got.begin(), got.end());
    EXPECT_EQ(got, (std::vector<std::string>{iot_ids[0], iot_ids[1], iot_ids[2]}));
}

TEST_F(StaticBatchTest, TaskIdsKeepTheirShapeAndFollowCreationOrder) {
    std::string previous;
    for (int i = 0; i < 1000; ++i) {
        const std::string id = detail::NewTaskId();
        ASSERT_EQ(id.size(), 26u);
        EXPECT_TRUE(id.ends_with("010100")) << id;
        EXPECT_TRUE(std::all_of(id.begin(), id.begin() + 20, [](char c) {
            return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
        })) << id;
        EXPECT_LT(previous, id);
        previous = id;
    }
}

}  // namespace
}  // namespace otad::domain
