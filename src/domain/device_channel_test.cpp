#include "domain/testing/services_fixture.hpp"

#include <gtest/gtest.h>

#include <set>

namespace otad::domain {
namespace {

using testing::kNow;

class DeviceChannelTest : public testing::ServicesFixture {
  protected:
    void SetUp() override {
        ServicesFixture::SetUp();
        pk_ = MakeProduct("meter");
        for (int i = 1; i <= 3; ++i) {
            devices_.push_back(MakeDevice(pk_, "dev-0" + std::to_string(i)));
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
    DeviceEvent Event(DeviceEventKind kind, const std::string& dn) {
        DeviceEvent e;
        e.kind = kind;
        e.product_key = pk_;
        e.device_name = dn;
        return e;
    }
    DeviceEvent Online(const std::string& dn, int64_t at_ms) {
        DeviceEvent e = Event(DeviceEventKind::kOnline, dn);
        e.at_ms = at_ms;
        e.ip_address = "10.0.0.7";
        return e;
    }
    DeviceEvent Progress(const std::string& dn, int64_t step) {
        DeviceEvent e = Event(DeviceEventKind::kProgress, dn);
        e.step = step;
        return e;
    }
    DeviceEvent Version(const std::string& dn, const std::string& v) {
        DeviceEvent e = Event(DeviceEventKind::kVersion, dn);
        e.version = v;
        return e;
    }
    DeviceEventOutcome Apply(std::vector<DeviceEvent> events) {
        auto r = services_->ApplyDeviceEvents(events);
        EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().internal);
        return r.ok() ? std::move(r).value() : DeviceEventOutcome{};
    }
    std::vector<UpgradeNotice> Sweep(int64_t limit = 1000) {
        auto r = services_->TakeDuePushes(limit);
        EXPECT_TRUE(r.ok());
        return r.ok() ? std::move(r).value() : std::vector<UpgradeNotice>{};
    }
    static std::set<std::string> Names(const std::vector<UpgradeNotice>& pushes) {
        std::set<std::string> names;
        for (const UpgradeNotice& n : pushes) {
            names.insert(n.device_name);
        }
        return names;
    }
    std::string pk_;
    std::vector<Device> devices_;
    std::string fw_;
};

TEST_F(DeviceChannelTest, OnlineDevicesArePushedAndOfflineOnesWhenTheyLogIn) {
    Apply({Online("dev-01", kNow - 5000)});
    JobPolicy policy;
    policy.tags = {{"site", "north"}};
    auto job = Static({"dev-01", "dev-02"}, policy);
    ASSERT_TRUE(job.ok());

    auto pushes = Sweep();
    ASSERT_EQ(pushes.size(), 1u);
    const UpgradeNotice& n = pushes[0];
    EXPECT_EQ(n.device_name, "dev-01");
    EXPECT_EQ(n.version, "2.0.0");
    EXPECT_EQ(n.module_name, "default");
    ASSERT_EQ(n.files.size(), 1u);
    EXPECT_EQ(n.files[0].url, "https://files.example.com/fw.bin");
    ASSERT_EQ(n.tags.size(), 1u);
    EXPECT_EQ(n.tags[0].key, "site");
    EXPECT_EQ(TaskOf(job->job_id, "dev-01").status, TaskStatus::kNotified);
    EXPECT_EQ(TaskOf(job->job_id, "dev-02").status, TaskStatus::kQueued);
    EXPECT_TRUE(Sweep().empty());  // nothing left for online devices

    auto out = Apply({Online("dev-02", kNow)});
    EXPECT_EQ(Names(out.pushes), std::set<std::string>{"dev-02"});
    EXPECT_EQ(TaskOf(job->job_id, "dev-02").status, TaskStatus::kNotified);
    auto detail = services_->QueryDeviceDetail(scope_, {devices_[1].iot_id, "", ""});
    ASSERT_TRUE(detail.ok());
    EXPECT_EQ(detail->device.status, "ONLINE");
    EXPECT_EQ(detail->device.ip_address, "10.0.0.7");
}

TEST_F(DeviceChannelTest, ProgressAndVersionReportsCompleteTheBatch) {
    Apply({Online("dev-01", kNow)});
    auto job = Static({"dev-01"});
    ASSERT_TRUE(job.ok());
    ASSERT_EQ(Sweep().size(), 1u);
    auto out = Apply({Progress("dev-01", 0), Progress("dev-01", 50)});
    EXPECT_EQ(out.applied, 2);
    Task t = TaskOf(job->job_id, "dev-01");
    EXPECT_EQ(t.status, TaskStatus::kInProgress);
    EXPECT_EQ(t.progress, "50.00");
    Apply({Progress("dev-01", 100), Version("dev-01", "2.0.0")});
    EXPECT_EQ(TaskOf(job->job_id, "dev-01").status, TaskStatus::kSucceeded);
    EXPECT_EQ(JobOf(job->job_id).job_status, JobStatus::kCompleted);
}

TEST_F(DeviceChannelTest, RunsOfProgressReportsEndAsTheirLastReport) {
    Apply({Online("dev-01", kNow), Online("dev-02", kNow)});
    JobPolicy policy;
    policy.timeout_min = 30;
    auto job = Static({"dev-01", "dev-02"}, policy);
    ASSERT_TRUE(job.ok());
    ASSERT_EQ(Sweep().size(), 2u);
    // Interleaved devices, reports of an unknown device, and a failure after progress.
    auto out = Apply({Progress("dev-01", 10),
                      Progress("nobody", 5),
                      Progress("dev-02", 20),
                      Progress("nobody", 6),
                      Progress("dev-01", 40),
                      Progress("dev-02", 70),
                      Progress("dev-02", -2)});
    EXPECT_EQ(out.applied, 5);
    EXPECT_EQ(out.ignored, 2);
    Task first = TaskOf(job->job_id, "dev-01");
    EXPECT_EQ(first.status, TaskStatus::kInProgress);
    EXPECT_EQ(first.progress, "40.00");
    EXPECT_EQ(first.progress_started_ms, kNow);
    EXPECT_EQ(first.timeout_at_ms, kNow + 30 * 60'000);
    EXPECT_EQ(TaskOf(job->job_id, "dev-02").status, TaskStatus::kFailed);
}

TEST_F(DeviceChannelTest, MaximumPerMinutePacesFirstPushes) {
    for (int i = 4; i <= 25; ++i) {
        MakeDevice(pk_, "dev-" + std::to_string(i));
    }
    std::vector<DeviceEvent> logins;
    for (int i = 1; i <= 3; ++i) {
        logins.push_back(Online("dev-0" + std::to_string(i), kNow));
    }
    for (int i = 4; i <= 25; ++i) {
        logins.push_back(Online("dev-" + std::to_string(i), kNow));
    }
    Apply(logins);
    JobPolicy policy;
    policy.maximum_per_minute = 10;
    auto job = Static({}, policy);
    ASSERT_TRUE(job.ok());

    EXPECT_EQ(Sweep().size(), 10u);
    EXPECT_TRUE(Sweep().empty());
    clock_.Advance(59'999);
    EXPECT_TRUE(Sweep().empty());
    clock_.Advance(1);
    EXPECT_EQ(Sweep().size(), 10u);
    clock_.Advance(60'000);
    EXPECT_EQ(Sweep().size(), 5u);
    clock_.Advance(60'000);
    EXPECT_TRUE(Sweep().empty());
}

TEST_F(DeviceChannelTest, WithoutPushTheDevicePulls) {
    Apply({Online("dev-01", kNow)});
    JobPolicy policy;
    policy.need_push = false;
    auto job = Static({"dev-01"}, policy);
    ASSERT_TRUE(job.ok());
    EXPECT_TRUE(Sweep().empty());
    EXPECT_TRUE(Apply({Online("dev-01", kNow + 1)}).pushes.empty());

    DeviceEvent pull = Event(DeviceEventKind::kPull, "dev-01");
    pull.request_id = "77";
    auto out = Apply({pull});
    ASSERT_EQ(out.replies.size(), 1u);
    EXPECT_EQ(out.replies[0].request_id, "77");
    ASSERT_TRUE(out.replies[0].notice.has_value());
    EXPECT_EQ(out.replies[0].notice->version, "2.0.0");
    EXPECT_EQ(TaskOf(job->job_id, "dev-01").status, TaskStatus::kNotified);

    // Another module has nothing pending: an empty reply.
    pull.module_name = "MCU";
    out = Apply({pull});
    ASSERT_EQ(out.replies.size(), 1u);
    EXPECT_FALSE(out.replies[0].notice.has_value());
}

TEST_F(DeviceChannelTest, PlannedBatchIsNeitherPushedNorPulledUntilItStarts) {
    Apply({Online("dev-01", kNow)});
    CreateStaticJobCommand cmd;
    cmd.firmware_id = fw_;
    cmd.product_key = pk_;
    cmd.target_selection = "SPECIFIC";
    cmd.target_device_names = {"dev-01"};
    cmd.schedule_ms = kNow + 10 * 60'000;
    auto job = services_->CreateStaticJob(scope_, cmd);
    ASSERT_TRUE(job.ok());
    EXPECT_TRUE(Sweep().empty());
    auto out = Apply({Event(DeviceEventKind::kPull, "dev-01")});
    ASSERT_EQ(out.replies.size(), 1u);
    EXPECT_FALSE(out.replies[0].notice.has_value());

    clock_.Advance(10 * 60'000);
    ASSERT_TRUE(services_->RunDueWork().ok());
    EXPECT_EQ(Names(Sweep()), std::set<std::string>{"dev-01"});
}

TEST_F(DeviceChannelTest, ReplayedLoginOffersOnlyWhatTheDeviceHasNotAcknowledged) {
    Apply({Online("dev-01", kNow), Online("dev-02", kNow)});
    auto job = Static({"dev-01", "dev-02"});
    ASSERT_TRUE(job.ok());
    ASSERT_EQ(Sweep().size(), 2u);
    Apply({Progress("dev-02", 10)});  // dev-02 acknowledged; dev-01 did not

    // otad reconnects to the broker: everyone offline, then the retained logins come back.
    ASSERT_TRUE(services_->ResetPresence().ok());
    EXPECT_TRUE(Sweep().empty());
    auto out = Apply({Online("dev-01", kNow), Online("dev-02", kNow)});
    EXPECT_EQ(Names(out.pushes), std::set<std::string>{"dev-01"});

    // A genuine new login of dev-02 (a later login time) offers its update again.
    out = Apply({Online("dev-02", kNow + 30'000)});
    EXPECT_EQ(Names(out.pushes), std::set<std::string>{"dev-02"});
    EXPECT_EQ(TaskOf(job->job_id, "dev-02").status, TaskStatus::kInProgress);

    // An older login than the one recorded changes nothing.
    out = Apply({Online("dev-02", kNow + 10'000)});
    EXPECT_TRUE(out.pushes.empty());
}

// An offer nobody answered (the push or the device's reports may have been lost) is made
// again once it is old enough; one being answered, or to an offline device, is not.
TEST_F(DeviceChannelTest, UnansweredOffersAreMadeAgain) {
    constexpr int64_t kStale = 10 * 60'000;
    Apply({Online("dev-01", kNow), Online("dev-02", kNow), Online("dev-03", kNow)});
    auto job = Static({"dev-01", "dev-02", "dev-03"});
    ASSERT_TRUE(job.ok());
    ASSERT_EQ(Sweep().size(), 3u);
    auto none = services_->ReofferStaleTasks(kStale, 100);
    ASSERT_TRUE(none.ok());
    EXPECT_TRUE(none->empty());

    clock_.Advance(kStale - 1000);
    Apply({Progress("dev-02", 30)});                      // dev-02 is working on it
    Apply({Event(DeviceEventKind::kOffline, "dev-03")});  // dev-03 left
    clock_.Advance(2000);
    auto again = services_->ReofferStaleTasks(kStale, 100);
    ASSERT_TRUE(again.ok());
    EXPECT_EQ(Names(*again), std::set<std::string>{"dev-01"});
    // Offered just now: not again until it is old once more.
    auto soon = services_->ReofferStaleTasks(kStale, 100);
    ASSERT_TRUE(soon.ok());
    EXPECT_TRUE(soon->empty());

    // dev-02's reports stop: its task is offered again too, still IN_PROGRESS.
    clock_.Advance(kStale + 1);
    auto later = services_->ReofferStaleTasks(kStale, 100);
    ASSERT_TRUE(later.ok());
    EXPECT_EQ(Names(*later), (std::set<std::string>{"dev-01", "dev-02"}));
    EXPECT_EQ(TaskOf(job->job_id, "dev-02").status, TaskStatus::kInProgress);
    EXPECT_EQ(TaskOf(job->job_id, "dev-03").status, TaskStatus::kNotified);
}

TEST_F(DeviceChannelTest, OfflineDevicesAreNotPushed) {
    Apply({Online("dev-01", kNow)});
    Apply({Event(DeviceEventKind::kOffline, "dev-01")});
    auto job = Static({"dev-01"});
    ASSERT_TRUE(job.ok());
    EXPECT_TRUE(Sweep().empty());
    auto detail = services_->QueryDeviceDetail(scope_, {devices_[0].iot_id, "", ""});
    ASSERT_TRUE(detail.ok());
    EXPECT_EQ(detail->device.status, "OFFLINE");
}

TEST_F(DeviceChannelTest, FailureIsRetriedAndPushedAgain) {
    Apply({Online("dev-01", kNow)});
    JobPolicy policy;
    policy.retry_interval_min = 10;
    policy.retry_count = 1;
    policy.timeout_min = 30;
    auto job = Static({"dev-01"}, policy);
    ASSERT_TRUE(job.ok());
    ASSERT_EQ(Sweep().size(), 1u);
    DeviceEvent failed = Progress("dev-01", -2);
    failed.desc = "cannot fetch package";
    Apply({Progress("dev-01", 0), failed});
    Task t = TaskOf(job->job_id, "dev-01");
    EXPECT_EQ(t.status, TaskStatus::kFailed);
    EXPECT_EQ(t.task_desc, "cannot fetch package");

    clock_.Advance(10 * 60'000);
    ASSERT_TRUE(services_->RunDueWork().ok());
    EXPECT_EQ(TaskOf(job->job_id, "dev-01").status, TaskStatus::kQueued);
    EXPECT_EQ(Names(Sweep()), std::set<std::string>{"dev-01"});
    Apply({Progress("dev-01", 0), Version("dev-01", "2.0.0")});
    EXPECT_EQ(TaskOf(job->job_id, "dev-01").status, TaskStatus::kSucceeded);
    EXPECT_EQ(JobOf(job->job_id).job_status, JobStatus::kCompleted);
}

TEST_F(DeviceChannelTest, ConfirmedTasksArePushed) {
    Apply({Online("dev-01", kNow)});
    JobPolicy policy;
    policy.need_confirm = true;
    auto job = Static({"dev-01"}, policy);
    ASSERT_TRUE(job.ok());
    EXPECT_TRUE(Sweep().empty());
    Task t = TaskOf(job->job_id, "dev-01");
    EXPECT_EQ(t.status, TaskStatus::kConfirm);
    ASSERT_TRUE(services_->ConfirmTasks(scope_, {t.task_id}).ok());
    EXPECT_EQ(Names(Sweep()), std::set<std::string>{"dev-01"});
}

TEST_F(DeviceChannelTest, DynamicBatchEnrollsAndPushesAReportingDevice) {
    Apply({Online("dev-01", kNow), Version("dev-01", "1.0.0")});
    CreateDynamicJobCommand cmd;
    cmd.firmware_id = fw_;
    cmd.product_key = pk_;
    cmd.src_versions = {"1.5.0"};
    cmd.dynamic_mode = 2;  // only devices that report later
    auto job = services_->CreateDynamicJob(scope_, cmd);
    ASSERT_TRUE(job.ok()) << job.error().message;
    EXPECT_TRUE(Sweep().empty());
    auto out = Apply({Version("dev-01", "1.5.0")});
    EXPECT_EQ(Names(out.pushes), std::set<std::string>{"dev-01"});
    EXPECT_EQ(TaskOf(job->job_id, "dev-01").status, TaskStatus::kNotified);
}

TEST_F(DeviceChannelTest, EventsOfUnknownDevicesOrWithBadContentAreIgnored) {
    DeviceEvent stranger = Online("nobody", kNow);
    DeviceEvent bad_step = Progress("dev-01", 250);
    DeviceEvent bad_version = Version("dev-01", "");
    auto out = Apply({stranger, bad_step, bad_version, Online("dev-01", kNow)});
    EXPECT_EQ(out.ignored, 3);
    EXPECT_EQ(out.applied, 1);
}

TEST_F(DeviceChannelTest, SignedUrlsAndDigestsReachTheDevice) {
    CreateFirmwareCommand cmd;
    cmd.firmware_name = "sha-fw";
    cmd.dest_version = "3.0.0";
    cmd.product_key = pk_;
    cmd.firmware_url = "https://files.example.com/fw3.bin";
    cmd.sign_method = "SHA256";
    cmd.firmware_sign = std::string(64, 'A');
    cmd.firmware_size = 1234;
    cmd.need_to_verify = false;
    auto fw = services_->CreateFirmware(scope_, cmd);
    ASSERT_TRUE(fw.ok()) << fw.error().message;
    fw_ = fw->firmware_id;
    Apply({Online("dev-01", kNow)});
    ASSERT_TRUE(Static({"dev-01"}).ok());
    auto pushes = Sweep();
    ASSERT_EQ(pushes.size(), 1u);
    EXPECT_EQ(pushes[0].sign_method, SignMethod::kSha256);
    ASSERT_EQ(pushes[0].files.size(), 1u);
    EXPECT_EQ(pushes[0].files[0].sign, std::string(64, 'a'));
    EXPECT_EQ(pushes[0].files[0].md5, "");
    EXPECT_EQ(pushes[0].files[0].size, 1234);
}

}  // namespace
}  // namespace otad::domain
