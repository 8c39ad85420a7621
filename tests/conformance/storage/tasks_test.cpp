// The jobs and tasks half of the complete management API, and the scheduler's queries.

#include "store_conformance.hpp"

#include <algorithm>
#include <cstdio>
#include <string>
#include <vector>

namespace otad::conformance {
namespace {

using domain::Device;
using domain::Job;
using domain::JobStatus;
using domain::ReadTx;
using domain::Scope;
using domain::SelectionType;
using domain::Task;
using domain::TaskStatus;
using domain::WriteTx;

constexpr const char* kPk = "a1ProductAA";
constexpr const char* kPk2 = "a1ProductBB";

std::vector<std::string> TaskIds(const std::vector<Task>& tasks) {
    std::vector<std::string> ids;
    for (const Task& task : tasks) {
        ids.push_back(task.task_id);
    }
    return ids;
}

std::vector<std::string> JobIds(const std::vector<Job>& jobs) {
    std::vector<std::string> ids;
    for (const Job& job : jobs) {
        ids.push_back(job.job_id);
    }
    return ids;
}

// A task whose every field differs from its default, the new bookkeeping included.
Task MakeFullTask(const Job& job, const Device& device, const std::string& task_id) {
    Task task = MakeTask(job, device, task_id, 7000);
    task.status = TaskStatus::kFailed;
    task.retries_used = 3;
    task.retry_at_ms = 8'000'000'000'001;
    task.progress_started_ms = 7100;
    task.timeout_at_ms = 8'000'000'000'002;
    task.notified_ms = 7050;
    return task;
}

class TasksTest : public StoreConformanceTest {
  protected:
    void SetUp() override {
        StoreConformanceTest::SetUp();
        if (HasFatalFailure() || IsSkipped()) {
            return;
        }
        std::vector<Device> devices;
        for (int i = 0; i < 6; ++i) {
            devices.push_back(
                MakeDevice(kPk, "iot-" + std::to_string(i), "dev-" + std::to_string(i)));
        }
        devices_ = devices;
        SeedCatalog(a1_, MakeProduct(kPk, "P"), devices, MakeFirmware(kPk, "fw-1", "F1"));
        MustWrite([&](WriteTx& tx) -> Status {
            OTA_TRY(tx.InsertFirmware(a1_, MakeFirmware(kPk, "fw-2", "F2")));
            OTA_TRY(tx.InsertProduct(a1_, MakeProduct(kPk2, "P2")));
            OTA_TRY(tx.InsertDevice(a1_, MakeDevice(kPk2, "iot-p2", "dev-p2")));
            return tx.InsertFirmware(a1_, MakeFirmware(kPk2, "fw-p2", "FP2"));
        });
    }

    Job NewJob(const std::string& firmware_id,
               const std::string& job_id,
               int64_t created_ms,
               JobStatus status = JobStatus::kCompleted,
               SelectionType selection = SelectionType::kStatic,
               const std::string& product_key = kPk) {
        Job job = MakeJob(product_key, firmware_id, job_id, created_ms);
        job.job_status = status;
        job.selection_type = selection;
        job.schedule_ms = 0;
        job.schedule_finish_ms = 0;
        return job;
    }

    std::vector<Device> devices_;
};

TEST_P(TasksTest, NewTaskFieldsRoundTripEverywhere) {
    Job job = NewJob("fw-1", "job-1", 5000);
    Task failed = MakeFullTask(job, devices_[0], "task-failed");
    Task running = MakeFullTask(job, devices_[1], "task-running");
    running.status = TaskStatus::kInProgress;
    MustWrite([&](WriteTx& tx) -> Status {
        OTA_TRY(tx.InsertJob(a1_, job));
        return tx.InsertTasks(a1_, {failed, running});
    });
    MustRead([&](ReadTx& tx) -> Status {
        OTA_ASSIGN_OR_RETURN(auto found, tx.FindTask(a1_, "task-failed"));
        EXPECT_TRUE(found.has_value());
        if (found) {
            ExpectSameTask(*found, failed);
        }
        OTA_ASSIGN_OR_RETURN(auto unfinished, tx.ListUnfinishedTasksOfDevice(a1_, "iot-1"));
        EXPECT_EQ(unfinished.size(), 1u);
        if (!unfinished.empty()) {
            ExpectSameTask(unfinished[0], running);
        }
        OTA_ASSIGN_OR_RETURN(auto page, tx.ListTasksByJob(a1_, "job-1", std::nullopt, 0, 10));
        EXPECT_EQ(page.items.size(), 2u);
        for (const Task& task : page.items) {
            ExpectSameTask(task, task.task_id == "task-failed" ? failed : running);
        }
        OTA_ASSIGN_OR_RETURN(auto by_ids, tx.FindTasks(a1_, {"task-running"}));
        EXPECT_EQ(by_ids.size(), 1u);
        if (!by_ids.empty()) {
            ExpectSameTask(by_ids[0], running);
        }
        return Ok();
    });
}

TEST_P(TasksTest, UpdateTaskReplacesTheMutableFields) {
    Job job = NewJob("fw-1", "job-1", 5000);
    Task task = MakeTask(job, devices_[0], "task-1", 6000);
    MustWrite([&](WriteTx& tx) -> Status {
        OTA_TRY(tx.InsertJob(a1_, job));
        return tx.InsertTasks(a1_, {task});
    });
    Task update = task;
    update.status = TaskStatus::kFailed;
    update.progress = "88.00";
    update.task_desc = "timed out";
    update.module_name = "other-module";
    update.src_version = "0.9";
    update.dest_version = "3.0";
    update.retries_used = 4;
    update.retry_at_ms = 123'456;
    update.progress_started_ms = 111;
    update.timeout_at_ms = 222;
    update.modified_ms = 333;
    update.notified_ms = 444;
    Task attempt = update;
    attempt.job_id = "job-x";
    attempt.firmware_id = "fw-x";
    attempt.iot_id = "iot-x";
    attempt.product_key = "pk-x";
    attempt.device_name = "dn-x";
    attempt.job_created_ms = 1;
    attempt.created_ms = 2;
    MustWrite([&](WriteTx& tx) { return tx.UpdateTask(a1_, attempt); });
    OTA_EXPECT_CODE(store_->Write([&](WriteTx& tx) { return tx.UpdateTask(b1_, attempt); }),
                    ErrorCode::kTaskNotFound);
    Task missing = MakeTask(job, devices_[0], "task-none", 1);
    OTA_EXPECT_CODE(store_->Write([&](WriteTx& tx) { return tx.UpdateTask(a1_, missing); }),
                    ErrorCode::kTaskNotFound);
    OTA_EXPECT_CODE(store_->Write([&](WriteTx& tx) {
        return tx.UpdateTaskStatus(a1_, "task-none", TaskStatus::kCanceled, "", 1);
    }),
                    ErrorCode::kTaskNotFound);
    MustRead([&](ReadTx& tx) -> Status {
        OTA_ASSIGN_OR_RETURN(auto found, tx.FindTask(a1_, "task-1"));
        EXPECT_TRUE(found.has_value());
        if (found) {
            ExpectSameTask(*found, update);
        }
        return Ok();
    });
}

TEST_P(TasksTest, UpdateJobReplacesTheMutableFields) {
    Job job = NewJob("fw-1", "job-1", 5000, JobStatus::kPlanned, SelectionType::kDynamic);
    MustWrite([&](WriteTx& tx) { return tx.InsertJob(a1_, job); });
    Job update = job;
    update.target_selection = domain::TargetSelection::kSpecific;
    update.job_status = JobStatus::kInProgress;
    update.job_desc = "changed";
    update.src_versions = {"0.1"};
    update.tags = {{"only", "tag"}};
    update.dynamic_mode = std::nullopt;
    update.gray_percent = "";
    update.group_id = "g-2";
    update.group_name = "two";
    update.dn_list_file_url = "";
    update.retry_interval_min = 60;
    update.retry_count = std::nullopt;
    update.timeout_min = std::nullopt;
    update.maximum_per_minute = 1000;
    update.overwrite_mode = 1;
    update.multi_module_mode = false;
    update.need_push = true;
    update.need_confirm = false;
    update.download_protocol = "HTTPS";
    update.schedule_ms = 9000;
    update.schedule_finish_ms = 99000;
    update.modified_ms = 9001;
    update.start_ms = 9002;
    update.end_ms = 9003;
    Job attempt = update;
    attempt.firmware_id = "fw-2";
    attempt.product_key = kPk2;
    attempt.job_type = domain::JobType::kVerifyFirmware;
    attempt.selection_type = SelectionType::kStatic;
    attempt.created_ms = 1;
    MustWrite([&](WriteTx& tx) { return tx.UpdateJob(a1_, attempt); });
    OTA_EXPECT_CODE(store_->Write([&](WriteTx& tx) { return tx.UpdateJob(b1_, attempt); }),
                    ErrorCode::kJobNotFound);
    Job missing = NewJob("fw-1", "job-none", 1);
    OTA_EXPECT_CODE(store_->Write([&](WriteTx& tx) { return tx.UpdateJob(a1_, missing); }),
                    ErrorCode::kJobNotFound);
    MustRead([&](ReadTx& tx) -> Status {
        OTA_ASSIGN_OR_RETURN(auto found, tx.FindJob(a1_, "job-1"));
        EXPECT_TRUE(found.has_value());
        if (found) {
            ExpectSameJob(*found, update);
        }
        return Ok();
    });
    // Emptying the lists.
    update.tags.clear();
    update.src_versions.clear();
    MustWrite([&](WriteTx& tx) { return tx.UpdateJob(a1_, update); });
    MustRead([&](ReadTx& tx) -> Status {
        OTA_ASSIGN_OR_RETURN(auto found, tx.FindJob(a1_, "job-1"));
        EXPECT_TRUE(found.has_value());
        if (found) {
            ExpectSameJob(*found, update);
        }
        return Ok();
    });
}

TEST_P(TasksTest, ListJobsByFirmwareNewestFirstAndPages) {
    const std::vector<std::pair<std::string, int64_t>> times = {
        {"job-m", 200}, {"job-b", 300}, {"job-z", 100}, {"job-a", 300}, {"job-c", 200}};
    MustWrite([&](WriteTx& tx) -> Status {
        for (const auto& [job_id, created_ms] : times) {
            Job job = NewJob("fw-1", job_id, created_ms);
            job.tags = {{"k", job_id}};
            OTA_TRY(tx.InsertJob(a1_, job));
        }
        return tx.InsertJob(a1_, NewJob("fw-2", "job-other", 1000));
    });
    MustRead([&](ReadTx& tx) -> Status {
        OTA_ASSIGN_OR_RETURN(auto all, tx.ListJobsByFirmware(a1_, "fw-1", 0, 100));
        EXPECT_EQ(all.total, 5);
        EXPECT_EQ(JobIds(all.items),
                  (std::vector<std::string>{"job-a", "job-b", "job-c", "job-m", "job-z"}));
        for (const Job& job : all.items) {
            Job expected = NewJob("fw-1", job.job_id, job.created_ms);
            expected.tags = {{"k", job.job_id}};
            ExpectSameJob(job, expected);
        }
        OTA_ASSIGN_OR_RETURN(auto page, tx.ListJobsByFirmware(a1_, "fw-1", 2, 2));
        EXPECT_EQ(page.total, 5);
        EXPECT_EQ(JobIds(page.items), (std::vector<std::string>{"job-c", "job-m"}));
        OTA_ASSIGN_OR_RETURN(auto past, tx.ListJobsByFirmware(a1_, "fw-1", 5, 2));
        EXPECT_TRUE(past.items.empty());
        OTA_ASSIGN_OR_RETURN(auto other, tx.ListJobsByFirmware(b1_, "fw-1", 0, 100));
        EXPECT_EQ(other.total, 0);
        return Ok();
    });
}

TEST_P(TasksTest, FindsRunningDynamicJobs) {
    MustWrite([&](WriteTx& tx) -> Status {
        OTA_TRY(tx.InsertJob(a1_, NewJob("fw-1", "static-running", 100, JobStatus::kInProgress)));
        OTA_TRY(tx.InsertJob(
            a1_,
            NewJob("fw-1", "dynamic-done", 200, JobStatus::kCompleted, SelectionType::kDynamic)));
        OTA_TRY(tx.InsertJob(
            a1_,
            NewJob("fw-1", "dynamic-planned", 250, JobStatus::kPlanned, SelectionType::kDynamic)));
        Job running =
            NewJob("fw-1", "dynamic-1", 300, JobStatus::kInProgress, SelectionType::kDynamic);
        running.tags = {{"t", "v"}};
        OTA_TRY(tx.InsertJob(a1_, running));
        OTA_TRY(tx.InsertJob(
            a1_,
            NewJob("fw-2", "dynamic-2", 400, JobStatus::kInProgress, SelectionType::kDynamic)));
        return tx.InsertJob(
            a1_,
            NewJob(
                "fw-p2", "dynamic-p2", 500, JobStatus::kInProgress, SelectionType::kDynamic, kPk2));
    });
    MustRead([&](ReadTx& tx) -> Status {
        OTA_ASSIGN_OR_RETURN(auto found, tx.FindRunningDynamicJob(a1_, "fw-1"));
        EXPECT_TRUE(found.has_value());
        if (found) {
            Job expected =
                NewJob("fw-1", "dynamic-1", 300, JobStatus::kInProgress, SelectionType::kDynamic);
            expected.tags = {{"t", "v"}};
            ExpectSameJob(*found, expected);
        }
        OTA_ASSIGN_OR_RETURN(auto none, tx.FindRunningDynamicJob(a1_, "fw-none"));
        EXPECT_FALSE(none.has_value());
        OTA_ASSIGN_OR_RETURN(auto other_scope, tx.FindRunningDynamicJob(b1_, "fw-1"));
        EXPECT_FALSE(other_scope.has_value());
        OTA_ASSIGN_OR_RETURN(auto running, tx.ListRunningDynamicJobs(a1_, kPk));
        EXPECT_EQ(JobIds(running), (std::vector<std::string>{"dynamic-2", "dynamic-1"}));
        if (running.size() == 2) {
            EXPECT_EQ(running[1].tags.size(), 1u);
        }
        OTA_ASSIGN_OR_RETURN(auto p2, tx.ListRunningDynamicJobs(a1_, kPk2));
        EXPECT_EQ(JobIds(p2), (std::vector<std::string>{"dynamic-p2"}));
        OTA_ASSIGN_OR_RETURN(auto cross, tx.ListRunningDynamicJobs(b1_, kPk));
        EXPECT_TRUE(cross.empty());
        return Ok();
    });
}

TEST_P(TasksTest, FirmwareHasActiveWork) {
    auto active = [&](const Scope& scope, const char* firmware_id) {
        bool result = false;
        MustRead([&](ReadTx& tx) -> Status {
            OTA_ASSIGN_OR_RETURN(result, tx.FirmwareHasActiveWork(scope, firmware_id));
            return Ok();
        });
        return result;
    };
    EXPECT_FALSE(active(a1_, "fw-1"));
    Job done = NewJob("fw-1", "job-done", 100, JobStatus::kCompleted);
    MustWrite([&](WriteTx& tx) -> Status {
        OTA_TRY(tx.InsertJob(a1_, done));
        std::vector<Task> tasks;
        const TaskStatus finished[] = {
            TaskStatus::kSucceeded, TaskStatus::kFailed, TaskStatus::kCanceled};
        for (int i = 0; i < 3; ++i) {
            Task task = MakeTask(done, devices_[i], "done-" + std::to_string(i), 1);
            task.status = finished[i];
            tasks.push_back(task);
        }
        // Active work of another package does not count.
        OTA_TRY(tx.InsertJob(a1_, NewJob("fw-2", "job-2", 100, JobStatus::kInProgress)));
        return tx.InsertTasks(a1_, tasks);
    });
    EXPECT_FALSE(active(a1_, "fw-1"));
    EXPECT_TRUE(active(a1_, "fw-2"));
    for (TaskStatus status : {TaskStatus::kConfirm,
                              TaskStatus::kQueued,
                              TaskStatus::kNotified,
                              TaskStatus::kInProgress}) {
        SCOPED_TRACE(static_cast<int>(status));
        MustWrite([&](WriteTx& tx) { return tx.UpdateTaskStatus(a1_, "done-0", status, "", 2); });
        EXPECT_TRUE(active(a1_, "fw-1"));
        EXPECT_FALSE(active(b1_, "fw-1"));
    }
    MustWrite([&](WriteTx& tx) {
        return tx.UpdateTaskStatus(a1_, "done-0", TaskStatus::kSucceeded, "", 3);
    });
    EXPECT_FALSE(active(a1_, "fw-1"));
    for (JobStatus status : {JobStatus::kPlanned, JobStatus::kInProgress}) {
        MustWrite(
            [&](WriteTx& tx) { return tx.UpdateJobStatus(a1_, "job-done", status, 0, 0, 4); });
        EXPECT_TRUE(active(a1_, "fw-1"));
    }
    MustWrite([&](WriteTx& tx) {
        return tx.UpdateJobStatus(a1_, "job-done", JobStatus::kCanceled, 0, 0, 5);
    });
    EXPECT_FALSE(active(a1_, "fw-1"));
}

// Tasks of one job with scrambled creation times and statuses, and of a second job.
class TaskListsTest : public TasksTest {
  protected:
    void SetUp() override {
        TasksTest::SetUp();
        if (HasFatalFailure() || IsSkipped()) {
            return;
        }
        // (task_id, device, created_ms, status)
        struct Row {
            const char* id;
            int device;
            int64_t created_ms;
            TaskStatus status;
        };
        const Row rows[] = {
            {"t-e", 0, 30, TaskStatus::kQueued},
            {"t-b", 1, 10, TaskStatus::kSucceeded},
            {"t-d", 2, 20, TaskStatus::kQueued},
            {"t-a", 3, 20, TaskStatus::kFailed},
            {"t-f", 4, 10, TaskStatus::kQueued},
            {"t-c", 5, 40, TaskStatus::kInProgress},
        };
        MustWrite([&](WriteTx& tx) -> Status {
            OTA_TRY(tx.InsertJob(a1_, job_));
            OTA_TRY(tx.InsertJob(a1_, other_job_));
            OTA_TRY(tx.InsertJob(a1_, other_firmware_job_));
            std::vector<Task> tasks;
            for (const Row& row : rows) {
                Task task = MakeTask(job_, devices_[row.device], row.id, row.created_ms);
                task.status = row.status;
                tasks.push_back(task);
            }
            OTA_TRY(tx.InsertTasks(a1_, tasks));
            Task other = MakeTask(other_job_, devices_[0], "t-other", 1);
            other.status = TaskStatus::kQueued;
            OTA_TRY(tx.InsertTasks(a1_, {other}));
            Task other_fw = MakeTask(other_firmware_job_, devices_[0], "t-other-fw", 1);
            return tx.InsertTasks(a1_, {other_fw});
        });
    }

    Job job_ = NewJob("fw-1", "job-1", 1000);
    Job other_job_ = NewJob("fw-1", "job-2", 2000);
    Job other_firmware_job_ = NewJob("fw-2", "job-3", 3000);
};

TEST_P(TaskListsTest, ListTasksByJobOrdersByCreationThenIdWithStatusAndPages) {
    MustRead([&](ReadTx& tx) -> Status {
        OTA_ASSIGN_OR_RETURN(auto all, tx.ListTasksByJob(a1_, "job-1", std::nullopt, 0, 100));
        EXPECT_EQ(all.total, 6);
        EXPECT_EQ(TaskIds(all.items),
                  (std::vector<std::string>{"t-b", "t-f", "t-a", "t-d", "t-e", "t-c"}));
        OTA_ASSIGN_OR_RETURN(auto page, tx.ListTasksByJob(a1_, "job-1", std::nullopt, 2, 3));
        EXPECT_EQ(page.total, 6);
        EXPECT_EQ(TaskIds(page.items), (std::vector<std::string>{"t-a", "t-d", "t-e"}));
        OTA_ASSIGN_OR_RETURN(auto queued,
                             tx.ListTasksByJob(a1_, "job-1", TaskStatus::kQueued, 0, 100));
        EXPECT_EQ(queued.total, 3);
        EXPECT_EQ(TaskIds(queued.items), (std::vector<std::string>{"t-f", "t-d", "t-e"}));
        OTA_ASSIGN_OR_RETURN(auto queued_page,
                             tx.ListTasksByJob(a1_, "job-1", TaskStatus::kQueued, 1, 1));
        EXPECT_EQ(queued_page.total, 3);
        EXPECT_EQ(TaskIds(queued_page.items), (std::vector<std::string>{"t-d"}));
        OTA_ASSIGN_OR_RETURN(auto none,
                             tx.ListTasksByJob(a1_, "job-1", TaskStatus::kConfirm, 0, 100));
        EXPECT_EQ(none.total, 0);
        EXPECT_TRUE(none.items.empty());
        OTA_ASSIGN_OR_RETURN(auto past, tx.ListTasksByJob(a1_, "job-1", std::nullopt, 6, 10));
        EXPECT_EQ(past.total, 6);
        EXPECT_TRUE(past.items.empty());
        OTA_ASSIGN_OR_RETURN(auto cross, tx.ListTasksByJob(b1_, "job-1", std::nullopt, 0, 100));
        EXPECT_EQ(cross.total, 0);
        EXPECT_TRUE(cross.items.empty());
        return Ok();
    });
}

TEST_P(TaskListsTest, ListTasksByJobAndDeviceNames) {
    MustRead([&](ReadTx& tx) -> Status {
        OTA_ASSIGN_OR_RETURN(
            auto named,
            tx.ListTasksByJobAndDevices(
                a1_, "job-1", {"dev-3", "dev-none", "dev-0", "dev-3"}, std::nullopt));
        EXPECT_EQ(TaskIds(named), (std::vector<std::string>{"t-a", "t-e"}));
        OTA_ASSIGN_OR_RETURN(auto queued,
                             tx.ListTasksByJobAndDevices(
                                 a1_, "job-1", {"dev-0", "dev-1", "dev-2"}, TaskStatus::kQueued));
        EXPECT_EQ(TaskIds(queued), (std::vector<std::string>{"t-e", "t-d"}));
        OTA_ASSIGN_OR_RETURN(auto none,
                             tx.ListTasksByJobAndDevices(a1_, "job-1", {}, std::nullopt));
        EXPECT_TRUE(none.empty());
        OTA_ASSIGN_OR_RETURN(auto other_job,
                             tx.ListTasksByJobAndDevices(a1_, "job-2", {"dev-0"}, std::nullopt));
        EXPECT_EQ(TaskIds(other_job), (std::vector<std::string>{"t-other"}));
        OTA_ASSIGN_OR_RETURN(auto cross,
                             tx.ListTasksByJobAndDevices(b1_, "job-1", {"dev-0"}, std::nullopt));
        EXPECT_TRUE(cross.empty());
        return Ok();
    });
    // A deleted device's tasks are still found by the name they recorded.
    MustWrite([&](WriteTx& tx) { return tx.DeleteDevice(a1_, "iot-3"); });
    MustRead([&](ReadTx& tx) -> Status {
        OTA_ASSIGN_OR_RETURN(auto named,
                             tx.ListTasksByJobAndDevices(a1_, "job-1", {"dev-3"}, std::nullopt));
        EXPECT_EQ(TaskIds(named), (std::vector<std::string>{"t-a"}));
        return Ok();
    });
}

TEST_P(TaskListsTest, FindTasksInTheOrderAsked) {
    MustRead([&](ReadTx& tx) -> Status {
        OTA_ASSIGN_OR_RETURN(auto tasks, tx.FindTasks(a1_, {"t-c", "t-none", "t-other", "t-a"}));
        EXPECT_EQ(TaskIds(tasks), (std::vector<std::string>{"t-c", "t-other", "t-a"}));
        if (tasks.size() == 3) {
            Task expected = MakeTask(job_, devices_[5], "t-c", 40);
            expected.status = TaskStatus::kInProgress;
            ExpectSameTask(tasks[0], expected);
        }
        OTA_ASSIGN_OR_RETURN(auto empty, tx.FindTasks(a1_, {}));
        EXPECT_TRUE(empty.empty());
        OTA_ASSIGN_OR_RETURN(auto cross, tx.FindTasks(b1_, {"t-c", "t-a"}));
        EXPECT_TRUE(cross.empty());
        return Ok();
    });
}

TEST_P(TaskListsTest, ListTasksOfDeviceForFirmware) {
    MustRead([&](ReadTx& tx) -> Status {
        OTA_ASSIGN_OR_RETURN(auto all, tx.ListTasksOfDeviceForFirmware(a1_, "iot-0", "fw-1", ""));
        // Newest job first.
        EXPECT_EQ(TaskIds(all), (std::vector<std::string>{"t-other", "t-e"}));
        OTA_ASSIGN_OR_RETURN(auto one_job,
                             tx.ListTasksOfDeviceForFirmware(a1_, "iot-0", "fw-1", "job-1"));
        EXPECT_EQ(TaskIds(one_job), (std::vector<std::string>{"t-e"}));
        OTA_ASSIGN_OR_RETURN(auto other_fw,
                             tx.ListTasksOfDeviceForFirmware(a1_, "iot-0", "fw-2", ""));
        EXPECT_EQ(TaskIds(other_fw), (std::vector<std::string>{"t-other-fw"}));
        OTA_ASSIGN_OR_RETURN(auto wrong_job,
                             tx.ListTasksOfDeviceForFirmware(a1_, "iot-0", "fw-2", "job-1"));
        EXPECT_TRUE(wrong_job.empty());
        OTA_ASSIGN_OR_RETURN(auto cross, tx.ListTasksOfDeviceForFirmware(b1_, "iot-0", "fw-1", ""));
        EXPECT_TRUE(cross.empty());
        return Ok();
    });
}

TEST_P(TaskListsTest, CountsTasksByStatus) {
    MustWrite([&](WriteTx& tx) -> Status {
        // One of each remaining status, on virtual devices.
        std::vector<Task> more;
        int n = 0;
        for (TaskStatus status : {TaskStatus::kConfirm,
                                  TaskStatus::kNotified,
                                  TaskStatus::kCanceled,
                                  TaskStatus::kCanceled}) {
            Task task = MakeTask(job_, devices_[0], "t-more-" + std::to_string(n), 50);
            task.iot_id = "iot-virtual-" + std::to_string(n++);
            task.status = status;
            more.push_back(task);
        }
        return tx.InsertTasks(a1_, more);
    });
    MustRead([&](ReadTx& tx) -> Status {
        OTA_ASSIGN_OR_RETURN(auto counts, tx.CountTasksByStatus(a1_, "job-1"));
        EXPECT_EQ(counts.confirm, 1);
        EXPECT_EQ(counts.queued, 3);
        EXPECT_EQ(counts.notified, 1);
        EXPECT_EQ(counts.in_progress, 1);
        EXPECT_EQ(counts.succeeded, 1);
        EXPECT_EQ(counts.failed, 1);
        EXPECT_EQ(counts.canceled, 2);
        EXPECT_EQ(counts.Total(), 10);
        EXPECT_EQ(counts.Unfinished(), 6);
        OTA_ASSIGN_OR_RETURN(auto other, tx.CountTasksByStatus(a1_, "job-2"));
        EXPECT_EQ(other.Total(), 1);
        EXPECT_EQ(other.queued, 1);
        OTA_ASSIGN_OR_RETURN(auto cross, tx.CountTasksByStatus(b1_, "job-1"));
        EXPECT_EQ(cross.Total(), 0);
        OTA_ASSIGN_OR_RETURN(auto none, tx.CountTasksByStatus(a1_, "job-none"));
        EXPECT_EQ(none.Total(), 0);
        return Ok();
    });
}

TEST_P(TaskListsTest, JobTaskStateTellsUnfinishedAndPendingRetries) {
    const auto state_of = [&](const Scope& scope, const std::string& job_id) {
        domain::JobTaskState state;
        MustRead([&](ReadTx& tx) -> Status {
            OTA_ASSIGN_OR_RETURN(state, tx.GetJobTaskState(scope, job_id));
            return Ok();
        });
        return state;
    };
    EXPECT_TRUE(state_of(a1_, "job-1").has_unfinished);
    EXPECT_FALSE(state_of(a1_, "job-1").has_pending_retry);
    EXPECT_TRUE(state_of(a1_, "job-2").has_unfinished);
    EXPECT_FALSE(state_of(b1_, "job-1").has_unfinished);
    EXPECT_FALSE(state_of(b1_, "job-1").has_pending_retry);
    EXPECT_FALSE(state_of(a1_, "job-none").has_unfinished);
    // Every unfinished task of job-1 ends, one status at a time.
    for (TaskStatus status : {TaskStatus::kQueued, TaskStatus::kInProgress}) {
        EXPECT_TRUE(state_of(a1_, "job-1").has_unfinished);
        MustWrite([&](WriteTx& tx) -> Status {
            return tx.ForEachTaskOfJob(a1_, "job-1", {status}, [&](const Task& task) -> Status {
                return tx.UpdateTaskStatus(a1_, task.task_id, TaskStatus::kSucceeded, "", 20);
            });
        });
    }
    EXPECT_FALSE(state_of(a1_, "job-1").has_unfinished);
    EXPECT_FALSE(state_of(a1_, "job-1").has_pending_retry);  // its failed task has no retry due
    // The failed task gets an automatic retry due: the job is not done after all.
    MustWrite([&](WriteTx& tx) -> Status {
        return tx.ForEachTaskOfJob(
            a1_, "job-1", {TaskStatus::kFailed}, [&](const Task& task) -> Status {
                Task update = task;
                update.retry_at_ms = 99;
                return tx.UpdateTask(a1_, update);
            });
    });
    EXPECT_FALSE(state_of(a1_, "job-1").has_unfinished);
    EXPECT_TRUE(state_of(a1_, "job-1").has_pending_retry);
    EXPECT_FALSE(state_of(b1_, "job-1").has_pending_retry);
}

TEST_P(TaskListsTest, ForEachTaskOfJobInTaskIdOrderWithStatusFilter) {
    MustRead([&](ReadTx& tx) -> Status {
        std::vector<std::string> all;
        OTA_TRY(tx.ForEachTaskOfJob(a1_, "job-1", {}, [&](const Task& task) -> Status {
            all.push_back(task.task_id);
            return Ok();
        }));
        EXPECT_EQ(all, (std::vector<std::string>{"t-a", "t-b", "t-c", "t-d", "t-e", "t-f"}));
        std::vector<std::string> some;
        OTA_TRY(tx.ForEachTaskOfJob(a1_,
                                    "job-1",
                                    {TaskStatus::kQueued, TaskStatus::kInProgress},
                                    [&](const Task& task) -> Status {
                                        some.push_back(task.task_id);
                                        return Ok();
                                    }));
        EXPECT_EQ(some, (std::vector<std::string>{"t-c", "t-d", "t-e", "t-f"}));
        std::vector<std::string> cross;
        OTA_TRY(tx.ForEachTaskOfJob(b1_, "job-1", {}, [&](const Task& task) -> Status {
            cross.push_back(task.task_id);
            return Ok();
        }));
        EXPECT_TRUE(cross.empty());
        int calls = 0;
        Status stopped = tx.ForEachTaskOfJob(a1_, "job-1", {}, [&](const Task&) -> Status {
            return ++calls == 2 ? MakeError(ErrorCode::kThrottled) : Ok();
        });
        EXPECT_TRUE(!stopped.ok() && stopped.error().code == ErrorCode::kThrottled);
        EXPECT_EQ(calls, 2);
        return Ok();
    });
}

TEST_P(TaskListsTest, ForEachTaskOfJobAllowsWritesFromTheCallback) {
    // Cancels every queued task as it is visited (t-d, t-e, t-f in task_id order). The first
    // visit also cancels t-f, which must then not be visited, and changes t-e, which must be
    // seen with its new values.
    std::vector<std::string> visited;
    MustWrite([&](WriteTx& tx) -> Status {
        return tx.ForEachTaskOfJob(
            a1_, "job-1", {TaskStatus::kQueued}, [&](const Task& task) -> Status {
                visited.push_back(task.task_id);
                EXPECT_EQ(task.status, TaskStatus::kQueued) << task.task_id;
                if (visited.size() == 1) {
                    OTA_TRY(tx.UpdateTaskStatus(a1_, "t-f", TaskStatus::kCanceled, "early", 9));
                    OTA_TRY(tx.UpdateTaskStatus(a1_, "t-e", TaskStatus::kQueued, "touched", 9));
                }
                if (task.task_id == "t-e") {
                    EXPECT_EQ(task.task_desc, "touched");
                }
                Task update = task;
                update.status = TaskStatus::kCanceled;
                update.task_desc = "canceled by job";
                update.modified_ms = 10;
                return tx.UpdateTask(a1_, update);
            });
    });
    EXPECT_EQ(visited, (std::vector<std::string>{"t-d", "t-e"}));
    MustRead([&](ReadTx& tx) -> Status {
        OTA_ASSIGN_OR_RETURN(auto counts, tx.CountTasksByStatus(a1_, "job-1"));
        EXPECT_EQ(counts.queued, 0);
        EXPECT_EQ(counts.canceled, 3);
        OTA_ASSIGN_OR_RETURN(auto e, tx.FindTask(a1_, "t-e"));
        EXPECT_TRUE(e.has_value());
        if (e) {
            EXPECT_EQ(e->task_desc, "canceled by job");
        }
        OTA_ASSIGN_OR_RETURN(auto f, tx.FindTask(a1_, "t-f"));
        EXPECT_TRUE(f.has_value());
        if (f) {
            EXPECT_EQ(f->task_desc, "early");
        }
        return Ok();
    });
}

INSTANTIATE_TEST_SUITE_P(Backends, TasksTest, ::testing::ValuesIn(AllBackends()), BackendName);
INSTANTIATE_TEST_SUITE_P(Backends, TaskListsTest, ::testing::ValuesIn(AllBackends()), BackendName);

// ---- The scheduler ---------------------------------------------------------------------------

class SchedulerTest : public StoreConformanceTest {
  protected:
    void SetUp() override {
        StoreConformanceTest::SetUp();
        if (HasFatalFailure() || IsSkipped()) {
            return;
        }
        for (const Scope& scope : {a1_, b1_}) {
            std::string pk = scope.account_id == a1_.account_id ? kPk : "b1Product01";
            SeedCatalog(scope,
                        MakeProduct(pk, "P"),
                        {MakeDevice(pk, pk + "-iot", "dev")},
                        MakeFirmware(pk, pk + "-fw", "F"));
        }
    }

    static bool SameScope(const Scope& a, const Scope& b) {
        return a.account_id == b.account_id && a.instance_id == b.instance_id;
    }
};

TEST_P(SchedulerTest, ListsDueJobsAcrossTenantsEarliestFirst) {
    constexpr int64_t kNow = 10'000;
    struct Row {
        std::string id;
        bool in_b;
        JobStatus status;
        int64_t schedule_ms;
        int64_t finish_ms;
    };
    const std::vector<Row> rows = {
        {"start-due", false, JobStatus::kPlanned, 5000, 0},
        {"start-now", true, JobStatus::kPlanned, kNow, 0},
        {"start-later", false, JobStatus::kPlanned, kNow + 1, 0},
        {"start-unscheduled", false, JobStatus::kPlanned, 0, 3000},
        {"start-but-running", false, JobStatus::kInProgress, 1000, 0},
        {"finish-due", true, JobStatus::kInProgress, 1, 7000},
        {"finish-later", false, JobStatus::kInProgress, 1, kNow + 5},
        {"finish-but-planned", false, JobStatus::kPlanned, kNow + 100, 2000},
        {"finish-but-done", false, JobStatus::kCompleted, 1, 2000},
    };
    MustWrite([&](WriteTx& tx) -> Status {
        int64_t created = 1;
        for (const Row& row : rows) {
            std::string pk = row.in_b ? "b1Product01" : kPk;
            Job job = MakeJob(pk, pk + "-fw", row.id, created++);
            job.job_status = row.status;
            job.schedule_ms = row.schedule_ms;
            job.schedule_finish_ms = row.finish_ms;
            OTA_TRY(tx.InsertJob(row.in_b ? b1_ : a1_, job));
        }
        return Ok();
    });
    MustRead([&](ReadTx& tx) -> Status {
        OTA_ASSIGN_OR_RETURN(auto due, tx.ListJobsDue(kNow, 100));
        std::vector<std::string> ids;
        for (const auto& scoped : due) {
            ids.push_back(scoped.job.job_id);
            EXPECT_TRUE(SameScope(
                scoped.scope,
                scoped.job.job_id == "start-now" || scoped.job.job_id == "finish-due" ? b1_ : a1_))
                << scoped.job.job_id;
        }
        // Due times: start-due 5000, finish-due 7000, start-now 10000.
        EXPECT_EQ(ids, (std::vector<std::string>{"start-due", "finish-due", "start-now"}));
        if (due.size() == 3) {
            Job expected = MakeJob("b1Product01", "b1Product01-fw", "finish-due", 6);
            expected.job_status = JobStatus::kInProgress;
            expected.schedule_ms = 1;
            expected.schedule_finish_ms = 7000;
            ExpectSameJob(due[1].job, expected);  // whole jobs, tags included
        }
        OTA_ASSIGN_OR_RETURN(auto limited, tx.ListJobsDue(kNow, 2));
        EXPECT_EQ(limited.size(), 2u);
        if (limited.size() == 2) {
            EXPECT_EQ(limited[1].job.job_id, "finish-due");
        }
        OTA_ASSIGN_OR_RETURN(auto early, tx.ListJobsDue(4999, 100));
        EXPECT_TRUE(early.empty());
        OTA_ASSIGN_OR_RETURN(auto zero, tx.ListJobsDue(kNow, 0));
        EXPECT_TRUE(zero.empty());
        OTA_ASSIGN_OR_RETURN(int64_t next, tx.NextDueTime());
        EXPECT_EQ(next, 5000);
        return Ok();
    });
}

TEST_P(SchedulerTest, ListsDueTasksAcrossTenantsEarliestFirst) {
    constexpr int64_t kNow = 10'000;
    struct Row {
        std::string id;
        bool in_b;
        TaskStatus status;
        int64_t retry_at_ms;
        int64_t timeout_at_ms;
    };
    const std::vector<Row> rows = {
        {"retry-due", true, TaskStatus::kFailed, 6000, 0},
        {"retry-now", false, TaskStatus::kFailed, kNow, 0},
        {"retry-later", false, TaskStatus::kFailed, kNow + 1, 0},
        {"retry-never", false, TaskStatus::kFailed, 0, 100},
        {"retry-but-queued", false, TaskStatus::kQueued, 100, 0},
        {"timeout-due", false, TaskStatus::kInProgress, 0, 3000},
        {"timeout-later", true, TaskStatus::kInProgress, 0, kNow + 2},
        {"timeout-but-succeeded", false, TaskStatus::kSucceeded, 0, 100},
    };
    MustWrite([&](WriteTx& tx) -> Status {
        for (const Scope& scope : {a1_, b1_}) {
            std::string pk = SameScope(scope, a1_) ? kPk : "b1Product01";
            Job job = MakeJob(pk, pk + "-fw", "job-" + pk, 1);
            OTA_TRY(tx.InsertJob(scope, job));
            std::vector<Task> tasks;
            for (const Row& row : rows) {
                if (row.in_b != SameScope(scope, b1_)) {
                    continue;
                }
                Task task = MakeTask(job, MakeDevice(pk, "iot-" + row.id, "dev"), row.id, 1);
                task.status = row.status;
                task.retry_at_ms = row.retry_at_ms;
                task.timeout_at_ms = row.timeout_at_ms;
                tasks.push_back(task);
            }
            OTA_TRY(tx.InsertTasks(scope, tasks));
        }
        return Ok();
    });
    MustRead([&](ReadTx& tx) -> Status {
        OTA_ASSIGN_OR_RETURN(auto due, tx.ListTasksDue(kNow, 100));
        std::vector<std::string> ids;
        for (const auto& scoped : due) {
            ids.push_back(scoped.task.task_id);
            EXPECT_TRUE(SameScope(scoped.scope, scoped.task.task_id == "retry-due" ? b1_ : a1_))
                << scoped.task.task_id;
        }
        EXPECT_EQ(ids, (std::vector<std::string>{"timeout-due", "retry-due", "retry-now"}));
        if (due.size() == 3) {
            EXPECT_EQ(due[1].task.retry_at_ms, 6000);
            EXPECT_EQ(due[1].task.status, TaskStatus::kFailed);
            EXPECT_EQ(due[1].task.job_id, "job-b1Product01");
        }
        OTA_ASSIGN_OR_RETURN(auto limited, tx.ListTasksDue(kNow, 1));
        EXPECT_EQ(limited.size(), 1u);
        OTA_ASSIGN_OR_RETURN(auto early, tx.ListTasksDue(2999, 100));
        EXPECT_TRUE(early.empty());
        OTA_ASSIGN_OR_RETURN(int64_t next, tx.NextDueTime());
        EXPECT_EQ(next, 3000);
        return Ok();
    });
    // Handling a task takes it off the list.
    MustWrite([&](WriteTx& tx) -> Status {
        OTA_ASSIGN_OR_RETURN(auto task, tx.FindTask(a1_, "timeout-due"));
        if (!task) {
            return MakeError(ErrorCode::kTaskNotFound);
        }
        task->status = TaskStatus::kFailed;
        task->timeout_at_ms = 0;
        task->retry_at_ms = 0;
        return tx.UpdateTask(a1_, *task);
    });
    MustRead([&](ReadTx& tx) -> Status {
        OTA_ASSIGN_OR_RETURN(int64_t next, tx.NextDueTime());
        EXPECT_EQ(next, 6000);
        return Ok();
    });
}

TEST_P(SchedulerTest, NextDueTimeIsZeroWhenNothingIsScheduled) {
    MustWrite([&](WriteTx& tx) -> Status {
        Job job = MakeJob(kPk, std::string(kPk) + "-fw", "job-1", 1);
        job.job_status = JobStatus::kCompleted;  // its schedule times no longer matter
        OTA_TRY(tx.InsertJob(a1_, job));
        Task task = MakeTask(job, MakeDevice(kPk, "iot-x", "x"), "task-1", 1);
        task.status = TaskStatus::kSucceeded;
        task.retry_at_ms = 5;
        task.timeout_at_ms = 5;
        return tx.InsertTasks(a1_, {task});
    });
    MustRead([&](ReadTx& tx) -> Status {
        OTA_ASSIGN_OR_RETURN(int64_t next, tx.NextDueTime());
        EXPECT_EQ(next, 0);
        OTA_ASSIGN_OR_RETURN(auto jobs, tx.ListJobsDue(1'000'000'000'000'000, 100));
        EXPECT_TRUE(jobs.empty());
        OTA_ASSIGN_OR_RETURN(auto tasks, tx.ListTasksDue(1'000'000'000'000'000, 100));
        EXPECT_TRUE(tasks.empty());
        return Ok();
    });
    // Each of the four kinds of scheduled work sets it.
    MustWrite([&](WriteTx& tx) {
        return tx.UpdateJobStatus(a1_, "job-1", JobStatus::kPlanned, 0, 0, 2);
    });
    MustRead([&](ReadTx& tx) -> Status {
        OTA_ASSIGN_OR_RETURN(int64_t next, tx.NextDueTime());
        EXPECT_EQ(next, 1001);  // MakeJob: schedule_ms = created_ms + 1000
        return Ok();
    });
    MustWrite([&](WriteTx& tx) {
        return tx.UpdateJobStatus(a1_, "job-1", JobStatus::kInProgress, 0, 0, 3);
    });
    MustRead([&](ReadTx& tx) -> Status {
        OTA_ASSIGN_OR_RETURN(int64_t next, tx.NextDueTime());
        EXPECT_EQ(next, 2001);  // schedule_finish_ms = created_ms + 2000
        return Ok();
    });
    MustWrite([&](WriteTx& tx) {
        return tx.UpdateTaskStatus(a1_, "task-1", TaskStatus::kFailed, "", 4);
    });
    MustRead([&](ReadTx& tx) -> Status {
        OTA_ASSIGN_OR_RETURN(int64_t next, tx.NextDueTime());
        EXPECT_EQ(next, 5);
        return Ok();
    });
    MustWrite([&](WriteTx& tx) {
        return tx.UpdateTaskStatus(a1_, "task-1", TaskStatus::kInProgress, "", 5);
    });
    MustRead([&](ReadTx& tx) -> Status {
        OTA_ASSIGN_OR_RETURN(int64_t next, tx.NextDueTime());
        EXPECT_EQ(next, 5);
        return Ok();
    });
}

INSTANTIATE_TEST_SUITE_P(Backends, SchedulerTest, ::testing::ValuesIn(AllBackends()), BackendName);

}  // namespace
}  // namespace otad::conformance
