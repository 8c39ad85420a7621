#include "domain/testing/services_fixture.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <set>
#include <thread>

namespace otad::domain {
namespace {

using testing::kNow;

class JobsTest : public testing::ServicesFixture {
  protected:
    void SetUp() override {
        ServicesFixture::SetUp();
        pk_ = MakeProduct("thermo");
        for (const char* n : {"dev-01", "dev-02", "dev-03"}) {
            devices_.push_back(MakeDevice(pk_, n));
        }
        fw_ = MakeFirmware(pk_, "fw1");
    }
    Result<Job> Static(std::vector<std::string> names, JobPolicy policy = {}) {
        CreateStaticJobCommand cmd;
        cmd.firmware_id = fw_;
        cmd.product_key = pk_;
        cmd.target_selection = names.empty() ? "ALL" : "SPECIFIC";
        cmd.target_device_names = std::move(names);
        cmd.policy = std::move(policy);
        return services_->CreateStaticJob(scope_, cmd);
    }
    std::string pk_;
    std::vector<Device> devices_;
    std::string fw_;
};

ErrorCode CodeOf(const Status& s) {
    return s.ok() ? ErrorCode::kInternal : s.error().code;
}

TEST_F(JobsTest, DeviceDrivenLifeOfATask) {
    JobPolicy policy;
    policy.timeout_min = 60;
    auto job = Static({"dev-01", "dev-02"}, policy);
    ASSERT_TRUE(job.ok());
    Task t = TaskOf(job->job_id, "dev-01");
    EXPECT_EQ(t.status, TaskStatus::kQueued);

    ASSERT_TRUE(services_->MarkTaskNotified(scope_, t.task_id).ok());
    EXPECT_EQ(TaskOf(job->job_id, "dev-01").status, TaskStatus::kNotified);

    clock_.Advance(1000);
    ASSERT_TRUE(services_->ReportProgress(scope_, devices_[0].iot_id, "", 40, "").ok());
    t = TaskOf(job->job_id, "dev-01");
    EXPECT_EQ(t.status, TaskStatus::kInProgress);
    EXPECT_EQ(t.progress, "40.00");
    EXPECT_EQ(t.timeout_at_ms, kNow + 1000 + 60 * 60'000);

    // Progress 100 alone is not success; the reported version decides.
    ASSERT_TRUE(services_->ReportProgress(scope_, devices_[0].iot_id, "", 100, "").ok());
    EXPECT_EQ(TaskOf(job->job_id, "dev-01").status, TaskStatus::kInProgress);
    ASSERT_TRUE(services_->ReportVersion(scope_, devices_[0].iot_id, "", "2.0.0").ok());
    t = TaskOf(job->job_id, "dev-01");
    EXPECT_EQ(t.status, TaskStatus::kSucceeded);
    EXPECT_EQ(t.progress, "100.00");
    EXPECT_EQ(JobOf(job->job_id).job_status, JobStatus::kInProgress);

    // The second device, first reporting the version it runs (the task's source, unknown
    // when the batch was made), then a version that is neither source nor destination.
    ASSERT_TRUE(services_->ReportVersion(scope_, devices_[1].iot_id, "", "1.0.0").ok());
    EXPECT_EQ(TaskOf(job->job_id, "dev-02").src_version, "1.0.0");
    ASSERT_TRUE(services_->ReportProgress(scope_, devices_[1].iot_id, "", 0, "").ok());
    ASSERT_TRUE(services_->ReportVersion(scope_, devices_[1].iot_id, "", "1.0.0").ok());
    EXPECT_EQ(TaskOf(job->job_id, "dev-02").status, TaskStatus::kInProgress);
    ASSERT_TRUE(services_->ReportVersion(scope_, devices_[1].iot_id, "", "9.9.9").ok());
    t = TaskOf(job->job_id, "dev-02");
    EXPECT_EQ(t.status, TaskStatus::kFailed);
    EXPECT_EQ(t.task_desc, "report version is not conform");
    const Job done = JobOf(job->job_id);
    EXPECT_EQ(done.job_status, JobStatus::kCompleted);
    EXPECT_EQ(done.end_ms, kNow + 1000);

    auto detail = services_->QueryDeviceDetail(scope_, {devices_[0].iot_id, "", ""});
    ASSERT_TRUE(detail.ok());
    EXPECT_EQ(detail->device.firmware_version, "2.0.0");
}

TEST_F(JobsTest, AFirstVersionReportAfterProgressIsTheSourceNotAFailure) {
    auto job = Static({"dev-01"});
    ASSERT_TRUE(job.ok());
    EXPECT_EQ(TaskOf(job->job_id, "dev-01").src_version, "");
    // Reports applied out of order: the progress of the update before the version the
    // device reported when it came online.
    ASSERT_TRUE(services_->ReportProgress(scope_, devices_[0].iot_id, "", 50, "").ok());
    ASSERT_TRUE(services_->ReportVersion(scope_, devices_[0].iot_id, "", "1.0.0").ok());
    Task t = TaskOf(job->job_id, "dev-01");
    EXPECT_EQ(t.status, TaskStatus::kInProgress);
    EXPECT_EQ(t.src_version, "1.0.0");
    EXPECT_EQ(t.progress, "50.00");
    // From then on the source is known, and another version is a failure.
    ASSERT_TRUE(services_->ReportVersion(scope_, devices_[0].iot_id, "", "1.5.0").ok());
    t = TaskOf(job->job_id, "dev-01");
    EXPECT_EQ(t.status, TaskStatus::kFailed);
    EXPECT_EQ(t.task_desc, "report version is not conform");
}

TEST_F(JobsTest, FailureIsRetriedAutomaticallyButTimeoutIsNot) {
    JobPolicy policy;
    policy.retry_interval_min = 10;
    policy.retry_count = 1;
    policy.timeout_min = 30;
    auto job = Static({"dev-01"}, policy);
    ASSERT_TRUE(job.ok());
    ASSERT_TRUE(services_->ReportProgress(scope_, devices_[0].iot_id, "", 10, "").ok());
    ASSERT_TRUE(services_->ReportProgress(scope_, devices_[0].iot_id, "", -2, "").ok());
    Task t = TaskOf(job->job_id, "dev-01");
    EXPECT_EQ(t.status, TaskStatus::kFailed);
    EXPECT_EQ(t.task_desc, "download failed");
    EXPECT_EQ(t.retry_at_ms, kNow + 10 * 60'000);
    // A retry is pending: the batch stays open.
    EXPECT_EQ(JobOf(job->job_id).job_status, JobStatus::kInProgress);
    auto next = services_->NextDueTime();
    ASSERT_TRUE(next.ok());
    EXPECT_EQ(*next, kNow + 10 * 60'000);

    clock_.Advance(9 * 60'000);
    ASSERT_TRUE(services_->RunDueWork().ok());
    EXPECT_EQ(TaskOf(job->job_id, "dev-01").status, TaskStatus::kFailed);
    clock_.Advance(60'000);
    ASSERT_TRUE(services_->RunDueWork().ok());
    t = TaskOf(job->job_id, "dev-01");
    EXPECT_EQ(t.status, TaskStatus::kQueued);
    EXPECT_EQ(t.retries_used, 1);

    // Second attempt times out: FAILED, no retry left anyway, and timeouts never retry.
    ASSERT_TRUE(services_->ReportProgress(scope_, devices_[0].iot_id, "", 5, "").ok());
    clock_.Advance(30 * 60'000);
    ASSERT_TRUE(services_->RunDueWork().ok());
    t = TaskOf(job->job_id, "dev-01");
    EXPECT_EQ(t.status, TaskStatus::kFailed);
    EXPECT_EQ(t.task_desc, "update timed out");
    EXPECT_EQ(t.retry_at_ms, 0);
    EXPECT_EQ(JobOf(job->job_id).job_status, JobStatus::kCompleted);
}

TEST_F(JobsTest, ScheduledBatchStartsAndEndsOnTime) {
    CreateStaticJobCommand cmd;
    cmd.firmware_id = fw_;
    cmd.product_key = pk_;
    cmd.target_selection = "ALL";
    cmd.schedule_ms = kNow + 10 * 60'000;
    cmd.schedule_finish_ms = kNow + 2 * 3'600'000;
    auto job = services_->CreateStaticJob(scope_, cmd);
    ASSERT_TRUE(job.ok());
    EXPECT_EQ(job->job_status, JobStatus::kPlanned);
    clock_.Advance(10 * 60'000);
    ASSERT_TRUE(services_->RunDueWork().ok());
    Job started = JobOf(job->job_id);
    EXPECT_EQ(started.job_status, JobStatus::kInProgress);
    EXPECT_EQ(started.start_ms, kNow + 10 * 60'000);
    ASSERT_TRUE(services_->ReportVersion(scope_, devices_[0].iot_id, "", "2.0.0").ok());
    clock_.Set(kNow + 2 * 3'600'000);
    ASSERT_TRUE(services_->RunDueWork().ok());
    Job ended = JobOf(job->job_id);
    EXPECT_EQ(ended.job_status, JobStatus::kCompleted);
    EXPECT_EQ(TaskOf(job->job_id, "dev-01").status, TaskStatus::kSucceeded);
    Task left = TaskOf(job->job_id, "dev-02");
    EXPECT_EQ(left.status, TaskStatus::kCanceled);
    EXPECT_EQ(left.task_desc, "the batch reached its finish time");
}

TEST_F(JobsTest, VerificationSetsThePackageState) {
    const std::string fw = MakeFirmware(pk_, "fw-verify", /*verify=*/true, "3.0.0");
    CreateVerifyJobCommand cmd;
    cmd.firmware_id = fw;
    cmd.product_key = pk_;
    cmd.target_device_names = {"dev-01", "dev-02"};
    auto job = services_->CreateVerifyJob(scope_, cmd);
    ASSERT_TRUE(job.ok());
    EXPECT_EQ(job->job_type, JobType::kVerifyFirmware);
    EXPECT_EQ(services_->QueryFirmware(scope_, fw)->firmware.status, FirmwareStatus::kVerifying);
    EXPECT_EQ(CodeOf(services_->CreateVerifyJob(scope_, cmd).ok()
                         ? Status{}
                         : Status{services_->CreateVerifyJob(scope_, cmd).error()}),
              ErrorCode::kFirmwareVerifyingOrVerified);

    ASSERT_TRUE(services_->ReportVersion(scope_, devices_[0].iot_id, "", "3.0.0").ok());
    auto f = services_->QueryFirmware(scope_, fw);
    EXPECT_EQ(f->firmware.status, FirmwareStatus::kVerifying);
    EXPECT_EQ(f->firmware.verify_progress, 50);
    ASSERT_TRUE(services_->ReportVersion(scope_, devices_[1].iot_id, "", "3.0.0").ok());
    f = services_->QueryFirmware(scope_, fw);
    EXPECT_EQ(f->firmware.status, FirmwareStatus::kVerified);
    EXPECT_EQ(f->firmware.verify_progress, 100);
    EXPECT_EQ(JobOf(job->job_id).job_status, JobStatus::kCompleted);

    // Verified: update batches are now allowed, another verification is not.
    auto again = services_->CreateVerifyJob(scope_, cmd);
    ASSERT_FALSE(again.ok());
    EXPECT_EQ(again.error().code, ErrorCode::kFirmwareVerifyingOrVerified);
}

TEST_F(JobsTest, FailedVerification) {
    const std::string fw = MakeFirmware(pk_, "fw-verify", /*verify=*/true, "3.0.0");
    CreateVerifyJobCommand cmd;
    cmd.firmware_id = fw;
    cmd.product_key = pk_;
    cmd.target_device_names = {"dev-01"};
    ASSERT_TRUE(services_->CreateVerifyJob(scope_, cmd).ok());
    ASSERT_TRUE(services_->ReportProgress(scope_, devices_[0].iot_id, "", -3, "bad digest").ok());
    auto f = services_->QueryFirmware(scope_, fw);
    EXPECT_EQ(f->firmware.status, FirmwareStatus::kVerifyFailed);
    // From "failed" a new verification may start.
    EXPECT_TRUE(services_->CreateVerifyJob(scope_, cmd).ok());
}

TEST_F(JobsTest, DynamicBatchEnrollsMatchingDevicesNowAndLater) {
    ASSERT_TRUE(services_->ReportVersion(scope_, devices_[0].iot_id, "", "1.0.0").ok());
    CreateDynamicJobCommand cmd;
    cmd.firmware_id = fw_;
    cmd.product_key = pk_;
    cmd.src_versions = {"1.0.0"};
    auto job = services_->CreateDynamicJob(scope_, cmd);
    ASSERT_TRUE(job.ok());
    EXPECT_EQ(job->selection_type, SelectionType::kDynamic);
    EXPECT_EQ(job->target_selection, TargetSelection::kAll);
    EXPECT_EQ(job->dynamic_mode, 1);
    EXPECT_EQ(TaskOf(job->job_id, "dev-01").status, TaskStatus::kQueued);

    auto second = services_->CreateDynamicJob(scope_, cmd);
    ASSERT_FALSE(second.ok());
    EXPECT_EQ(second.error().code, ErrorCode::kDynamicJobExists);

    // dev-02 reports a matching version later and is enrolled.
    ASSERT_TRUE(services_->ReportVersion(scope_, devices_[1].iot_id, "", "1.0.0").ok());
    EXPECT_EQ(TaskOf(job->job_id, "dev-02").status, TaskStatus::kQueued);
    // dev-03 reports another version and is not.
    ASSERT_TRUE(services_->ReportVersion(scope_, devices_[2].iot_id, "", "0.9.0").ok());
    TaskListQuery q;
    q.job_id = job->job_id;
    EXPECT_EQ(services_->ListTasksByJob(scope_, q)->total, 2);

    ASSERT_TRUE(services_->CancelStrategy(scope_, job->job_id).ok());
    EXPECT_EQ(JobOf(job->job_id).job_status, JobStatus::kCanceled);
    EXPECT_EQ(CodeOf(services_->CancelStrategy(scope_, job->job_id)), ErrorCode::kJobStatusInvalid);
    // A cancelled strategy enrolls nobody; a new one may now be created.
    ASSERT_TRUE(services_->ReportVersion(scope_, devices_[2].iot_id, "", "1.0.0").ok());
    EXPECT_EQ(services_->ListTasksByJob(scope_, q)->total, 2);
    EXPECT_TRUE(services_->CreateDynamicJob(scope_, cmd).ok());

    auto static_job = Static({"dev-03"});
    ASSERT_TRUE(static_job.ok());
    EXPECT_EQ(CodeOf(services_->CancelStrategy(scope_, static_job->job_id)),
              ErrorCode::kJobNotDynamic);
}

TEST_F(JobsTest, CancelByJobFlags) {
    JobPolicy policy;
    policy.need_confirm = true;
    auto job = Static({}, policy);
    ASSERT_TRUE(job.ok());
    EXPECT_EQ(TaskOf(job->job_id, "dev-01").status, TaskStatus::kConfirm);
    CancelByJobCommand none;
    none.job_id = job->job_id;
    EXPECT_EQ(CodeOf(services_->CancelTasksByJob(scope_, none)),
              ErrorCode::kInvalidFormattedParameter);

    // Confirm one, then cancel queued tasks while protecting unconfirmed ones.
    const Task t1 = TaskOf(job->job_id, "dev-01");
    ASSERT_TRUE(services_->ConfirmTasks(scope_, {t1.task_id}).ok());
    EXPECT_EQ(CodeOf(services_->ConfirmTasks(scope_, {t1.task_id})), ErrorCode::kTaskStatusInvalid);
    CancelByJobCommand cmd;
    cmd.job_id = job->job_id;
    cmd.cancel_queued = true;
    cmd.cancel_unconfirmed = false;
    ASSERT_TRUE(services_->CancelTasksByJob(scope_, cmd).ok());
    EXPECT_EQ(TaskOf(job->job_id, "dev-01").status, TaskStatus::kCanceled);
    EXPECT_EQ(TaskOf(job->job_id, "dev-02").status, TaskStatus::kConfirm);
    // CancelQueuedTask without CancelUnconfirmedTask takes the unconfirmed ones too.
    cmd.cancel_unconfirmed.reset();
    ASSERT_TRUE(services_->CancelTasksByJob(scope_, cmd).ok());
    EXPECT_EQ(TaskOf(job->job_id, "dev-02").status, TaskStatus::kCanceled);
    EXPECT_EQ(JobOf(job->job_id).job_status, JobStatus::kCompleted);

    // Re-run a cancelled task: it needs confirmation again and re-opens the batch.
    ASSERT_TRUE(services_->ReupgradeTasks(scope_, job->job_id, {t1.task_id}).ok());
    EXPECT_EQ(TaskOf(job->job_id, "dev-01").status, TaskStatus::kConfirm);
    EXPECT_EQ(JobOf(job->job_id).job_status, JobStatus::kInProgress);
    EXPECT_EQ(CodeOf(services_->ReupgradeTasks(scope_, job->job_id, {t1.task_id})),
              ErrorCode::kTaskStatusInvalid);
    EXPECT_EQ(CodeOf(services_->ReupgradeTasks(scope_, job->job_id, {"nope"})),
              ErrorCode::kTaskNotFound);
}

TEST_F(JobsTest, CancelScheduledBatch) {
    CreateStaticJobCommand cmd;
    cmd.firmware_id = fw_;
    cmd.product_key = pk_;
    cmd.target_selection = "ALL";
    cmd.schedule_ms = kNow + 3'600'000;
    auto job = services_->CreateStaticJob(scope_, cmd);
    ASSERT_TRUE(job.ok());
    CancelByJobCommand cancel;
    cancel.job_id = job->job_id;
    cancel.cancel_scheduled = true;
    ASSERT_TRUE(services_->CancelTasksByJob(scope_, cancel).ok());
    EXPECT_EQ(JobOf(job->job_id).job_status, JobStatus::kCanceled);
    EXPECT_EQ(TaskOf(job->job_id, "dev-03").status, TaskStatus::kCanceled);
}

TEST_F(JobsTest, CancelByDeviceAndUnfinishedList) {
    auto job = Static({});
    ASSERT_TRUE(job.ok());
    UnfinishedTaskQuery uq;
    uq.device = {"", pk_, "dev-02"};
    auto unfinished = services_->ListUnfinishedTasks(scope_, uq);
    ASSERT_TRUE(unfinished.ok());
    ASSERT_EQ(unfinished->size(), 1u);
    uq.statuses = {"IN_PROGRESS"};
    EXPECT_TRUE(services_->ListUnfinishedTasks(scope_, uq)->empty());
    uq.statuses = {"SUCCEEDED"};
    EXPECT_FALSE(services_->ListUnfinishedTasks(scope_, uq).ok());

    CancelByDeviceCommand cmd{pk_, fw_, {"dev-02", "dev-03"}, ""};
    ASSERT_TRUE(services_->CancelTasksByDevice(scope_, cmd).ok());
    EXPECT_EQ(TaskOf(job->job_id, "dev-02").status, TaskStatus::kCanceled);
    EXPECT_EQ(TaskOf(job->job_id, "dev-01").status, TaskStatus::kQueued);
    cmd.device_names = {"dev-99"};
    EXPECT_EQ(CodeOf(services_->CancelTasksByDevice(scope_, cmd)), ErrorCode::kDeviceNotFound);
}

TEST_F(JobsTest, TaskListFiltersAndPaging) {
    auto job = Static({});
    ASSERT_TRUE(job.ok());
    ASSERT_TRUE(services_->ReportVersion(scope_, devices_[0].iot_id, "", "2.0.0").ok());
    TaskListQuery q;
    q.job_id = job->job_id;
    q.page_size = 2;
    auto page = services_->ListTasksByJob(scope_, q);
    ASSERT_TRUE(page.ok());
    EXPECT_EQ(page->total, 3);
    EXPECT_EQ(page->items.size(), 2u);
    q.task_status = "SUCCEEDED";
    page = services_->ListTasksByJob(scope_, q);
    EXPECT_EQ(page->total, 1);
    q.task_status = "DONE";
    EXPECT_FALSE(services_->ListTasksByJob(scope_, q).ok());
    q.task_status.reset();
    q.page_size = 100;
    q.current_page = 1001;
    EXPECT_EQ(services_->ListTasksByJob(scope_, q).error().code, ErrorCode::kInvalidPageParams);
    q.job_id = "missing";
    q.current_page = 1;
    EXPECT_EQ(services_->ListTasksByJob(scope_, q).error().code, ErrorCode::kJobNotFound);
}

TEST_F(JobsTest, FirmwareListAndDeletion) {
    auto list = services_->ListFirmware(scope_, pk_, "", 1, 10);
    ASSERT_TRUE(list.ok());
    EXPECT_EQ(list->total, 1);
    EXPECT_EQ(list->items[0].product_name, "thermo");
    EXPECT_EQ(services_->ListFirmware(scope_, "", "9.9", 1, 10)->total, 0);
    auto job = Static({"dev-01"});
    ASSERT_TRUE(job.ok());
    EXPECT_EQ(CodeOf(services_->DeleteFirmware(scope_, fw_)), ErrorCode::kFirmwareInUse);
    ASSERT_TRUE(services_->ReportVersion(scope_, devices_[0].iot_id, "", "2.0.0").ok());
    ASSERT_TRUE(services_->DeleteFirmware(scope_, fw_).ok());
    EXPECT_EQ(CodeOf(services_->DeleteFirmware(scope_, fw_)), ErrorCode::kFirmwareNotFound);
    EXPECT_EQ(services_->QueryJob(scope_, job->job_id).error().code, ErrorCode::kJobNotFound);
}

// Invariant 1 under concurrency: many clients create overlapping batches at once; afterwards
// no device has more than one unfinished task.
TEST_F(JobsTest, OneUnfinishedTaskPerDeviceUnderConcurrentBatches) {
    for (int i = 4; i <= 20; ++i) {
        MakeDevice(pk_, "dev-" + std::to_string(100 + i));
    }
    std::vector<std::thread> threads;
    std::atomic<int> created{0};
    for (int c = 0; c < 8; ++c) {
        threads.emplace_back([&, c] {
            for (int k = 0; k < 5; ++k) {
                JobPolicy policy;
                policy.overwrite_mode = (c + k) % 2 == 0 ? 1 : 2;
                std::vector<std::string> names;
                if ((c + k) % 3 != 0) {
                    names = {"dev-01", "dev-02", "dev-" + std::to_string(104 + (c + k) % 17)};
                }
                if (Static(names, policy).ok()) {
                    ++created;
                }
            }
        });
    }
    for (auto& t : threads) {
        t.join();
    }
    EXPECT_GT(created.load(), 0);
    ASSERT_TRUE(store_
                    ->Read([&](ReadTx& tx) -> Status {
                        return tx.ForEachDevice(scope_, pk_, [&](const Device& d) -> Status {
                            OTA_ASSIGN_OR_RETURN(auto tasks,
                                                 tx.ListUnfinishedTasksOfDevice(scope_, d.iot_id));
                            EXPECT_LE(tasks.size(), 1u) << d.device_name;
                            return Ok();
                        });
                    })
                    .ok());
}

}  // namespace
}  // namespace otad::domain
