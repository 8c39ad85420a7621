// The device channel's queries: devices by ProductKey and DeviceName across tenants,
// presence, and the push sweep.

#include "store_conformance.hpp"

#include <string>
#include <utility>
#include <vector>

namespace otad::conformance {
namespace {

using domain::Device;
using domain::Job;
using domain::JobStatus;
using domain::ReadTx;
using domain::Task;
using domain::TaskStatus;
using domain::WriteTx;

constexpr const char* kPk = "a1ChannelPK";
constexpr const char* kOtherPk = "a1ChannelB1";

std::vector<std::string> TaskIds(const std::vector<Task>& tasks) {
    std::vector<std::string> ids;
    for (const Task& task : tasks) {
        ids.push_back(task.task_id);
    }
    return ids;
}

class DeviceChannelStoreTest : public StoreConformanceTest {
  protected:
    void SetUp() override {
        StoreConformanceTest::SetUp();
        if (HasFatalFailure() || IsSkipped()) {
            return;
        }
        for (int i = 0; i < 4; ++i) {
            Device d = MakeDevice(kPk, "iot-c" + std::to_string(i), "dev-" + std::to_string(i));
            d.status = i % 2 == 0 ? "ONLINE" : "OFFLINE";
            devices_.push_back(d);
        }
        SeedCatalog(a1_, MakeProduct(kPk, "P"), devices_, MakeFirmware(kPk, "fw-c", "FC"));
        // Another tenant with the same device name under its own product.
        Device other = MakeDevice(kOtherPk, "iot-b", "dev-0");
        other.status = "ONLINE";
        SeedCatalog(b1_, MakeProduct(kOtherPk, "P"), {other}, MakeFirmware(kOtherPk, "fw-b", "F"));
    }
    std::vector<Device> devices_;
};

TEST_P(DeviceChannelStoreTest, FindsDevicesByKeyAcrossTenants) {
    MustRead([&](ReadTx& tx) -> Status {
        OTA_ASSIGN_OR_RETURN(auto found, tx.FindDeviceAnyScope(kPk, "dev-2"));
        EXPECT_TRUE(found.has_value());
        if (found) {
            EXPECT_EQ(found->scope.account_id, a1_.account_id);
            EXPECT_EQ(found->scope.instance_id, a1_.instance_id);
            ExpectSameDevice(found->device, devices_[2]);
        }
        OTA_ASSIGN_OR_RETURN(auto other, tx.FindDeviceAnyScope(kOtherPk, "dev-0"));
        EXPECT_TRUE(other.has_value());
        if (other) {
            EXPECT_EQ(other->scope.instance_id, b1_.instance_id);
            EXPECT_EQ(other->device.iot_id, "iot-b");
        }
        OTA_ASSIGN_OR_RETURN(auto none, tx.FindDeviceAnyScope(kPk, "dev-9"));
        EXPECT_FALSE(none.has_value());
        OTA_ASSIGN_OR_RETURN(auto wrong_product, tx.FindDeviceAnyScope(kOtherPk, "dev-2"));
        EXPECT_FALSE(wrong_product.has_value());
        return Ok();
    });
}

TEST_P(DeviceChannelStoreTest, ResetPresenceTakesEveryTenantOffline) {
    MustWrite([&](WriteTx& tx) -> Status {
        OTA_ASSIGN_OR_RETURN(int64_t changed, tx.ResetPresence());
        EXPECT_EQ(changed, 3);  // dev-0 and dev-2 here, dev-0 of the other tenant
        OTA_ASSIGN_OR_RETURN(auto d, tx.FindDeviceAnyScope(kOtherPk, "dev-0"));
        EXPECT_EQ(d ? d->device.status : "", "OFFLINE");
        OTA_ASSIGN_OR_RETURN(int64_t again, tx.ResetPresence());
        EXPECT_EQ(again, 0);
        return Ok();
    });
}

TEST_P(DeviceChannelStoreTest, LeasesPassOnlyWhenFreeExpiredOrReleased) {
    auto hold = [&](std::string_view name, std::string_view holder, int64_t now) {
        bool held = false;
        MustWrite([&](WriteTx& tx) -> Status {
            OTA_ASSIGN_OR_RETURN(held, tx.HoldLease(name, holder, now, now + 100));
            return Ok();
        });
        return held;
    };
    EXPECT_TRUE(hold("presence", "node-a", 1000));   // free: taken, until 1100
    EXPECT_FALSE(hold("presence", "node-b", 1050));  // held by node-a
    EXPECT_TRUE(hold("presence", "node-a", 1090));   // renewed, until 1190
    EXPECT_FALSE(hold("presence", "node-b", 1150));  // the renewal counts
    EXPECT_TRUE(hold("other", "node-b", 1150));      // leases are independent
    EXPECT_TRUE(hold("presence", "node-b", 1191));   // node-a's term ended
    EXPECT_FALSE(hold("presence", "node-a", 1200));
    MustWrite([&](WriteTx& tx) -> Status {
        OTA_TRY(tx.ReleaseLease("presence", "node-a"));  // not the holder: nothing
        return Ok();
    });
    EXPECT_FALSE(hold("presence", "node-a", 1210));
    MustWrite([&](WriteTx& tx) -> Status { return tx.ReleaseLease("presence", "node-b"); });
    EXPECT_TRUE(hold("presence", "node-a", 1220));  // released: free at once
    EXPECT_FALSE(hold("other", "node-a", 1220));
}

TEST_P(DeviceChannelStoreTest, PushSweepQueries) {
    Job running = MakeJob(kPk, "fw-c", "job-run", 1000);
    running.job_status = JobStatus::kInProgress;
    running.need_push = true;
    running.push_backlog = true;
    Job quiet = MakeJob(kPk, "fw-c", "job-quiet", 2000);
    quiet.job_status = JobStatus::kInProgress;
    quiet.need_push = true;
    quiet.push_backlog = false;
    Job done = MakeJob(kPk, "fw-c", "job-done", 3000);
    done.job_status = JobStatus::kCompleted;
    done.push_backlog = true;
    MustWrite([&](WriteTx& tx) -> Status {
        OTA_TRY(tx.InsertJob(a1_, running));
        OTA_TRY(tx.InsertJob(a1_, quiet));
        OTA_TRY(tx.InsertJob(a1_, done));
        std::vector<Task> tasks;
        for (int i = 0; i < 4; ++i) {
            Task t = MakeTask(running, devices_[i], "task-" + std::to_string(i), 5000 + i);
            t.status = i == 3 ? TaskStatus::kNotified : TaskStatus::kQueued;
            tasks.push_back(t);
        }
        return tx.InsertTasks(a1_, tasks);
    });
    MustRead([&](ReadTx& tx) -> Status {
        OTA_ASSIGN_OR_RETURN(auto backlog, tx.ListJobsWithPushBacklog(10));
        EXPECT_EQ(backlog.size(), 1u);
        if (!backlog.empty()) {
            EXPECT_EQ(backlog[0].job.job_id, "job-run");
            EXPECT_EQ(backlog[0].scope.instance_id, a1_.instance_id);
        }
        // QUEUED tasks of online devices (dev-0, dev-2) in list order.
        OTA_ASSIGN_OR_RETURN(auto pushable, tx.ListPushableTasks(a1_, "job-run", 10));
        EXPECT_EQ(TaskIds(pushable), (std::vector<std::string>{"task-0", "task-2"}));
        OTA_ASSIGN_OR_RETURN(auto one, tx.ListPushableTasks(a1_, "job-run", 1));
        EXPECT_EQ(TaskIds(one), std::vector<std::string>{"task-0"});
        OTA_ASSIGN_OR_RETURN(auto foreign, tx.ListPushableTasks(b1_, "job-run", 10));
        EXPECT_TRUE(foreign.empty());
        OTA_ASSIGN_OR_RETURN(auto delivered, tx.ListDeliveredTasksOfDevice(a1_, "iot-c3"));
        EXPECT_EQ(TaskIds(delivered), std::vector<std::string>{"task-3"});
        return Ok();
    });
    MustWrite([&](WriteTx& tx) -> Status {
        Job paced = running;
        paced.push_window_start_ms = 123'456;
        paced.push_window_count = 9;
        paced.push_backlog = false;
        paced.job_desc = "not written by the pacing update";
        OTA_TRY(tx.UpdateJobPushState(a1_, paced));
        OTA_ASSIGN_OR_RETURN(auto stored, tx.FindJob(a1_, "job-run"));
        EXPECT_TRUE(stored.has_value());
        if (stored) {
            EXPECT_EQ(stored->push_window_start_ms, 123'456);
            EXPECT_EQ(stored->push_window_count, 9);
            EXPECT_FALSE(stored->push_backlog);
            EXPECT_EQ(stored->job_desc, running.job_desc);
        }
        OTA_ASSIGN_OR_RETURN(auto backlog, tx.ListJobsWithPushBacklog(10));
        EXPECT_TRUE(backlog.empty());
        Job missing = running;
        missing.job_id = "job-none";
        for (const auto& [scope, job] : {std::pair{a1_, missing}, std::pair{b1_, paced}}) {
            Status st = tx.UpdateJobPushState(scope, job);
            EXPECT_FALSE(st.ok());
            EXPECT_EQ(st.ok() ? "" : ErrorCodeName(st.error().code),
                      ErrorCodeName(ErrorCode::kJobNotFound));
        }
        return Ok();
    });
}

INSTANTIATE_TEST_SUITE_P(Backends,
                         DeviceChannelStoreTest,
                         ::testing::ValuesIn(AllBackends()),
                         BackendName);

}  // namespace
}  // namespace otad::conformance
