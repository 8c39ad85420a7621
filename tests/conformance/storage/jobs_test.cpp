// Jobs and tasks, and the device's job listing.

#include "store_conformance.hpp"

#include <cstdio>
#include <string>
#include <type_traits>
#include <vector>

namespace otad::conformance {
namespace {

using domain::Device;
using domain::Job;
using domain::ReadTx;
using domain::Task;
using domain::TaskStatus;
using domain::WriteTx;

class JobsTest : public StoreConformanceTest {
  protected:
    void SetUp() override {
        StoreConformanceTest::SetUp();
        if (HasFatalFailure() || IsSkipped()) {
            return;
        }
        SeedCatalog(
            a1_, MakeProduct("a1ProductAA", "P"), {dev1_, dev2_}, MakeFirmware(kPk, "fw-1", "F1"));
        MustWrite(
            [&](WriteTx& tx) { return tx.InsertFirmware(a1_, MakeFirmware(kPk, "fw-2", "F2")); });
    }

    std::vector<std::string> JobIds(const domain::Page<Job>& page) {
        std::vector<std::string> ids;
        for (const Job& job : page.items) {
            ids.push_back(job.job_id);
        }
        return ids;
    }

    static constexpr const char* kPk = "a1ProductAA";
    Device dev1_ = MakeDevice(kPk, "iot-1", "dev-1");
    Device dev2_ = MakeDevice(kPk, "iot-2", "dev-2");
};

TEST_P(JobsTest, JobRoundTripsEveryField) {
    Job full = MakeJob(kPk, "fw-1", "job-full", 5000);
    Job sparse = MakeJob(kPk, "fw-1", "job-sparse", 6000);
    sparse.dynamic_mode.reset();
    sparse.retry_interval_min.reset();
    sparse.retry_count.reset();
    sparse.timeout_min.reset();
    sparse.tags.clear();
    sparse.src_versions.clear();
    sparse.job_type = domain::JobType::kVerifyFirmware;
    sparse.selection_type = domain::SelectionType::kStatic;
    sparse.target_selection = domain::TargetSelection::kSpecific;
    sparse.job_status = domain::JobStatus::kPlanned;
    MustWrite([&](WriteTx& tx) -> Status {
        OTA_TRY(tx.InsertJob(a1_, full));
        return tx.InsertJob(a1_, sparse);
    });
    MustRead([&](ReadTx& tx) -> Status {
        OTA_ASSIGN_OR_RETURN(auto found_full, tx.FindJob(a1_, "job-full"));
        EXPECT_TRUE(found_full.has_value());
        if (found_full) {
            ExpectSameJob(*found_full, full);
        }
        OTA_ASSIGN_OR_RETURN(auto found_sparse, tx.FindJob(a1_, "job-sparse"));
        EXPECT_TRUE(found_sparse.has_value());
        if (found_sparse) {
            ExpectSameJob(*found_sparse, sparse);
        }
        OTA_ASSIGN_OR_RETURN(auto missing, tx.FindJob(a1_, "job-none"));
        EXPECT_FALSE(missing.has_value());
        return Ok();
    });
}

TEST_P(JobsTest, UpdatesJobStatusAndTimes) {
    Job job = MakeJob(kPk, "fw-1", "job-1", 5000);
    job.job_status = domain::JobStatus::kPlanned;
    job.start_ms = 0;
    job.end_ms = 0;
    MustWrite([&](WriteTx& tx) { return tx.InsertJob(a1_, job); });
    MustWrite([&](WriteTx& tx) {
        return tx.UpdateJobStatus(a1_, "job-1", domain::JobStatus::kInProgress, 6000, 0, 6001);
    });
    job.job_status = domain::JobStatus::kInProgress;
    job.start_ms = 6000;
    job.modified_ms = 6001;
    MustRead([&](ReadTx& tx) -> Status {
        OTA_ASSIGN_OR_RETURN(auto found, tx.FindJob(a1_, "job-1"));
        EXPECT_TRUE(found.has_value());
        if (found) {
            ExpectSameJob(*found, job);
        }
        return Ok();
    });
    MustWrite([&](WriteTx& tx) {
        return tx.UpdateJobStatus(a1_, "job-1", domain::JobStatus::kCanceled, 6000, 7000, 7000);
    });
    job.job_status = domain::JobStatus::kCanceled;
    job.end_ms = 7000;
    job.modified_ms = 7000;
    MustRead([&](ReadTx& tx) -> Status {
        OTA_ASSIGN_OR_RETURN(auto found, tx.FindJob(a1_, "job-1"));
        EXPECT_TRUE(found.has_value());
        if (found) {
            ExpectSameJob(*found, job);
        }
        return Ok();
    });
    // Unknown job, and the job seen from another tenant, are not updated.
    EXPECT_FALSE(store_
                     ->Write([&](WriteTx& tx) {
                         return tx.UpdateJobStatus(
                             a1_, "job-none", domain::JobStatus::kCompleted, 1, 1, 1);
                     })
                     .ok());
    EXPECT_FALSE(store_
                     ->Write([&](WriteTx& tx) {
                         return tx.UpdateJobStatus(
                             b1_, "job-1", domain::JobStatus::kCompleted, 1, 1, 1);
                     })
                     .ok());
}

TEST_P(JobsTest, EveryEnumeratorRoundTrips) {
    const std::vector<domain::JobStatus> statuses = {domain::JobStatus::kPlanned,
                                                     domain::JobStatus::kInProgress,
                                                     domain::JobStatus::kCompleted,
                                                     domain::JobStatus::kCanceled};
    const std::vector<domain::TargetSelection> targets = {domain::TargetSelection::kAll,
                                                          domain::TargetSelection::kSpecific,
                                                          domain::TargetSelection::kGray,
                                                          domain::TargetSelection::kGroup};
    std::vector<Job> jobs;
    for (size_t i = 0; i < statuses.size(); ++i) {
        Job job = MakeJob(kPk, "fw-1", "job-" + std::to_string(i), 1000 + static_cast<int64_t>(i));
        job.job_status = statuses[i];
        job.target_selection = targets[i];
        job.job_type =
            i % 2 == 0 ? domain::JobType::kVerifyFirmware : domain::JobType::kUpgradeFirmware;
        job.selection_type =
            i % 2 == 0 ? domain::SelectionType::kStatic : domain::SelectionType::kDynamic;
        jobs.push_back(job);
    }
    const std::vector<TaskStatus> task_statuses = {TaskStatus::kConfirm,
                                                   TaskStatus::kQueued,
                                                   TaskStatus::kNotified,
                                                   TaskStatus::kInProgress,
                                                   TaskStatus::kSucceeded,
                                                   TaskStatus::kFailed,
                                                   TaskStatus::kCanceled};
    MustWrite([&](WriteTx& tx) -> Status {
        for (const Job& job : jobs) {
            OTA_TRY(tx.InsertJob(a1_, job));
        }
        std::vector<Task> tasks;
        for (size_t i = 0; i < task_statuses.size(); ++i) {
            Task task = MakeTask(jobs[0], i == 0 ? dev1_ : dev2_, "task-" + std::to_string(i), 1);
            task.iot_id = "iot-virtual-" + std::to_string(i);  // one task per (job, device)
            task.status = task_statuses[i];
            tasks.push_back(task);
        }
        return tx.InsertTasks(a1_, tasks);
    });
    MustRead([&](ReadTx& tx) -> Status {
        for (const Job& job : jobs) {
            OTA_ASSIGN_OR_RETURN(auto found, tx.FindJob(a1_, job.job_id));
            EXPECT_TRUE(found.has_value());
            if (found) {
                ExpectSameJob(*found, job);
            }
        }
        for (size_t i = 0; i < task_statuses.size(); ++i) {
            OTA_ASSIGN_OR_RETURN(auto found, tx.FindTask(a1_, "task-" + std::to_string(i)));
            EXPECT_TRUE(found.has_value());
            if (found) {
                EXPECT_EQ(found->status, task_statuses[i]);
            }
        }
        return Ok();
    });
}

TEST_P(JobsTest, TaskRoundTripsEveryFieldAndUpdatesStatus) {
    Job job = MakeJob(kPk, "fw-1", "job-1", 5000);
    Task task = MakeTask(job, dev1_, "task-1", 7000);
    MustWrite([&](WriteTx& tx) -> Status {
        OTA_TRY(tx.InsertJob(a1_, job));
        return tx.InsertTasks(a1_, {task});
    });
    MustRead([&](ReadTx& tx) -> Status {
        OTA_ASSIGN_OR_RETURN(auto found, tx.FindTask(a1_, "task-1"));
        EXPECT_TRUE(found.has_value());
        if (found) {
            ExpectSameTask(*found, task);
        }
        OTA_ASSIGN_OR_RETURN(auto missing, tx.FindTask(a1_, "task-none"));
        EXPECT_FALSE(missing.has_value());
        return Ok();
    });
    MustWrite([&](WriteTx& tx) {
        return tx.UpdateTaskStatus(
            a1_, "task-1", TaskStatus::kFailed, "report version is not conform", 8000);
    });
    EXPECT_FALSE(store_
                     ->Write([&](WriteTx& tx) {
                         return tx.UpdateTaskStatus(a1_, "task-none", TaskStatus::kFailed, "", 1);
                     })
                     .ok());
    task.status = TaskStatus::kFailed;
    task.task_desc = "report version is not conform";
    task.modified_ms = 8000;
    MustRead([&](ReadTx& tx) -> Status {
        OTA_ASSIGN_OR_RETURN(auto found, tx.FindTask(a1_, "task-1"));
        EXPECT_TRUE(found.has_value());
        if (found) {
            ExpectSameTask(*found, task);
        }
        return Ok();
    });
}

TEST_P(JobsTest, RefusesASecondTaskOfTheDeviceInTheJobAndDuplicateTaskIds) {
    Job job = MakeJob(kPk, "fw-1", "job-1", 5000);
    Job other_job = MakeJob(kPk, "fw-1", "job-2", 5001);
    MustWrite([&](WriteTx& tx) -> Status {
        OTA_TRY(tx.InsertJob(a1_, job));
        OTA_TRY(tx.InsertJob(a1_, other_job));
        return tx.InsertTasks(a1_, {MakeTask(job, dev1_, "task-1", 1)});
    });
    EXPECT_FALSE(store_
                     ->Write([&](WriteTx& tx) {
                         return tx.InsertTasks(a1_, {MakeTask(job, dev1_, "task-2", 1)});
                     })
                     .ok());
    EXPECT_FALSE(store_
                     ->Write([&](WriteTx& tx) {
                         return tx.InsertTasks(a1_, {MakeTask(other_job, dev2_, "task-1", 1)});
                     })
                     .ok());
    MustWrite([&](WriteTx& tx) {
        return tx.InsertTasks(a1_, {MakeTask(other_job, dev1_, "task-3", 1)});
    });
}

TEST_P(JobsTest, ListsUnfinishedTasksOfTheDeviceOldestFirst) {
    std::vector<Job> jobs;
    for (int i = 0; i < 7; ++i) {
        jobs.push_back(MakeJob(kPk, "fw-1", "job-" + std::to_string(i), 1000 + i));
    }
    const std::vector<TaskStatus> statuses = {TaskStatus::kSucceeded,
                                              TaskStatus::kInProgress,
                                              TaskStatus::kConfirm,
                                              TaskStatus::kFailed,
                                              TaskStatus::kQueued,
                                              TaskStatus::kCanceled,
                                              TaskStatus::kNotified};
    // created_ms per job: not in job order, to show the sort.
    const std::vector<int64_t> created = {10, 50, 30, 20, 40, 60, 5};
    MustWrite([&](WriteTx& tx) -> Status {
        for (size_t i = 0; i < jobs.size(); ++i) {
            OTA_TRY(tx.InsertJob(a1_, jobs[i]));
            Task task = MakeTask(jobs[i], dev1_, "t1-" + std::to_string(i), created[i]);
            task.status = statuses[i];
            Task other = MakeTask(jobs[i], dev2_, "t2-" + std::to_string(i), created[i]);
            other.status = TaskStatus::kQueued;
            OTA_TRY(tx.InsertTasks(a1_, {task, other}));
        }
        return Ok();
    });
    MustRead([&](ReadTx& tx) -> Status {
        OTA_ASSIGN_OR_RETURN(auto tasks, tx.ListUnfinishedTasksOfDevice(a1_, "iot-1"));
        std::vector<std::string> ids;
        for (const Task& task : tasks) {
            ids.push_back(task.task_id);
            EXPECT_TRUE(domain::IsUnfinished(task.status));
            EXPECT_EQ(task.iot_id, "iot-1");
        }
        // NOTIFIED@5, CONFIRM@30, QUEUED@40, IN_PROGRESS@50.
        EXPECT_EQ(ids, (std::vector<std::string>{"t1-6", "t1-2", "t1-4", "t1-1"}));
        OTA_ASSIGN_OR_RETURN(auto none, tx.ListUnfinishedTasksOfDevice(a1_, "iot-none"));
        EXPECT_TRUE(none.empty());
        return Ok();
    });
}

TEST_P(JobsTest, ListJobsByDeviceOrdersNewestFirstWithJobIdTieBreak) {
    // (job_id, created_ms): two pairs of ties, inserted in a scrambled order.
    const std::vector<std::pair<std::string, int64_t>> job_times = {
        {"job-m", 200},
        {"job-b", 300},
        {"job-z", 100},
        {"job-a", 300},
        {"job-c", 200},
        {"job-q", 400},
    };
    MustWrite([&](WriteTx& tx) -> Status {
        for (const auto& [job_id, created_ms] : job_times) {
            Job job = MakeJob(kPk, "fw-1", job_id, created_ms);
            job.tags = {{"k-" + job_id, "v"}};
            OTA_TRY(tx.InsertJob(a1_, job));
            OTA_TRY(tx.InsertTasks(a1_, {MakeTask(job, dev1_, "t-" + job_id, 1)}));
        }
        // Jobs that must not appear: same package without a task of the device, and another
        // package in which the device has a task.
        Job without_device = MakeJob(kPk, "fw-1", "job-other-device", 1000);
        OTA_TRY(tx.InsertJob(a1_, without_device));
        OTA_TRY(tx.InsertTasks(a1_, {MakeTask(without_device, dev2_, "t-other-device", 1)}));
        Job no_tasks = MakeJob(kPk, "fw-1", "job-no-tasks", 1001);
        OTA_TRY(tx.InsertJob(a1_, no_tasks));
        Job other_package = MakeJob(kPk, "fw-2", "job-other-package", 1002);
        OTA_TRY(tx.InsertJob(a1_, other_package));
        return tx.InsertTasks(a1_, {MakeTask(other_package, dev1_, "t-other-package", 1)});
    });
    MustRead([&](ReadTx& tx) -> Status {
        OTA_ASSIGN_OR_RETURN(auto page, tx.ListJobsByDevice(a1_, "iot-1", "fw-1", 0, 100));
        EXPECT_EQ(page.total, 6);
        EXPECT_EQ(JobIds(page),
                  (std::vector<std::string>{"job-q", "job-a", "job-b", "job-c", "job-m", "job-z"}));
        // Items are whole jobs, tags included.
        for (const Job& job : page.items) {
            Job expected = MakeJob(kPk, "fw-1", job.job_id, job.created_ms);
            expected.tags = {{"k-" + job.job_id, "v"}};
            ExpectSameJob(job, expected);
        }
        OTA_ASSIGN_OR_RETURN(auto other, tx.ListJobsByDevice(a1_, "iot-1", "fw-2", 0, 100));
        EXPECT_EQ(other.total, 1);
        EXPECT_EQ(JobIds(other), (std::vector<std::string>{"job-other-package"}));
        OTA_ASSIGN_OR_RETURN(auto dev2, tx.ListJobsByDevice(a1_, "iot-2", "fw-1", 0, 100));
        EXPECT_EQ(JobIds(dev2), (std::vector<std::string>{"job-other-device"}));
        OTA_ASSIGN_OR_RETURN(auto none, tx.ListJobsByDevice(a1_, "iot-none", "fw-1", 0, 100));
        EXPECT_EQ(none.total, 0);
        EXPECT_TRUE(none.items.empty());
        return Ok();
    });
}

TEST_P(JobsTest, ListJobsByDevicePages) {
    MustWrite([&](WriteTx& tx) -> Status {
        for (int i = 0; i < 25; ++i) {
            char id[16];
            std::snprintf(id, sizeof id, "job-%02d", i);
            Job job = MakeJob(kPk, "fw-1", id, 1000 + i);
            OTA_TRY(tx.InsertJob(a1_, job));
            OTA_TRY(tx.InsertTasks(a1_, {MakeTask(job, dev1_, std::string("t-") + id, 1)}));
        }
        return Ok();
    });
    MustRead([&](ReadTx& tx) -> Status {
        OTA_ASSIGN_OR_RETURN(auto first, tx.ListJobsByDevice(a1_, "iot-1", "fw-1", 0, 10));
        EXPECT_EQ(first.total, 25);
        EXPECT_EQ(JobIds(first),
                  (std::vector<std::string>{"job-24",
                                            "job-23",
                                            "job-22",
                                            "job-21",
                                            "job-20",
                                            "job-19",
                                            "job-18",
                                            "job-17",
                                            "job-16",
                                            "job-15"}));
        OTA_ASSIGN_OR_RETURN(auto last, tx.ListJobsByDevice(a1_, "iot-1", "fw-1", 20, 10));
        EXPECT_EQ(last.total, 25);
        EXPECT_EQ(JobIds(last),
                  (std::vector<std::string>{"job-04", "job-03", "job-02", "job-01", "job-00"}));
        OTA_ASSIGN_OR_RETURN(auto past, tx.ListJobsByDevice(a1_, "iot-1", "fw-1", 30, 10));
        EXPECT_EQ(past.total, 25);
        EXPECT_TRUE(past.items.empty());
        OTA_ASSIGN_OR_RETURN(auto one, tx.ListJobsByDevice(a1_, "iot-1", "fw-1", 7, 1));
        EXPECT_EQ(JobIds(one), (std::vector<std::string>{"job-17"}));
        return Ok();
    });
}

// The children of listed jobs are read for several jobs at a time; these lists are longer than
// one such group. Each job has its own number of tags and source versions (none for some), in
// an order that is neither alphabetical nor shared with another job, and no list is in the job
// ids' order. Every method that lists jobs is checked.
TEST_P(JobsTest, ListedJobsCarryTheirOwnTagsAndSourceVersionsInOrder) {
    constexpr int kJobs = 25;
    std::vector<Job> jobs;
    for (int i = 0; i < kJobs; ++i) {
        char id[16];
        std::snprintf(id, sizeof id, "job-%02d", (i * 11) % kJobs);
        Job job = MakeJob(kPk, "fw-1", id, 1000 + i);
        // Running, dynamic (MakeJob's), due to finish and with a push backlog, so that the
        // scheduler's and the device channel's lists hold it too.
        job.job_status = domain::JobStatus::kInProgress;
        job.need_push = true;
        job.tags.clear();
        job.src_versions.clear();
        const std::string n = std::to_string(i);
        for (int t = i % 5; t > 0; --t) {
            job.tags.push_back(
                {"key-" + std::to_string(t), "value-" + n + "-" + std::to_string(t)});
        }
        for (int v = (i * 7) % 4; v > 0; --v) {
            job.src_versions.push_back(std::to_string(v) + ".0." + n);
        }
        jobs.push_back(job);
    }
    MustWrite([&](WriteTx& tx) -> Status {
        for (const Job& job : jobs) {
            OTA_TRY(tx.InsertJob(a1_, job));
            OTA_TRY(tx.InsertTasks(a1_, {MakeTask(job, dev1_, "t-" + job.job_id, 1)}));
        }
        return Ok();
    });
    // `listed` holds jobs[first], jobs[first + step], ... (step -1: newest first).
    auto expect_jobs = [&](const std::vector<const Job*>& listed, int first, int step) {
        for (size_t k = 0; k < listed.size(); ++k) {
            const int i = first + step * static_cast<int>(k);
            ASSERT_TRUE(i >= 0 && i < kJobs) << "item " << k;
            SCOPED_TRACE("item " + std::to_string(k) + ", " + listed[k]->job_id);
            ExpectSameJob(*listed[k], jobs[static_cast<size_t>(i)]);
        }
    };
    auto items = [](const auto& list) {
        std::vector<const Job*> out;
        for (const auto& item : list) {
            if constexpr (std::is_same_v<std::decay_t<decltype(item)>, Job>) {
                out.push_back(&item);
            } else {
                out.push_back(&item.job);
            }
        }
        return out;
    };
    MustRead([&](ReadTx& tx) -> Status {
        OTA_ASSIGN_OR_RETURN(auto all, tx.ListJobsByDevice(a1_, "iot-1", "fw-1", 0, 100));
        EXPECT_EQ(all.total, kJobs);
        EXPECT_EQ(all.items.size(), static_cast<size_t>(kJobs));
        expect_jobs(items(all.items), kJobs - 1, -1);
        OTA_ASSIGN_OR_RETURN(auto middle, tx.ListJobsByDevice(a1_, "iot-1", "fw-1", 3, 21));
        EXPECT_EQ(middle.items.size(), 21u);
        expect_jobs(items(middle.items), kJobs - 4, -1);
        OTA_ASSIGN_OR_RETURN(auto by_firmware, tx.ListJobsByFirmware(a1_, "fw-1", 0, 100));
        EXPECT_EQ(by_firmware.items.size(), static_cast<size_t>(kJobs));
        expect_jobs(items(by_firmware.items), kJobs - 1, -1);
        OTA_ASSIGN_OR_RETURN(auto running, tx.ListRunningDynamicJobs(a1_, kPk));
        EXPECT_EQ(running.size(), static_cast<size_t>(kJobs));
        expect_jobs(items(running), kJobs - 1, -1);
        OTA_ASSIGN_OR_RETURN(auto due, tx.ListJobsDue(1'000'000'000'000'000, 100));
        EXPECT_EQ(due.size(), static_cast<size_t>(kJobs));
        expect_jobs(items(due), 0, 1);
        OTA_ASSIGN_OR_RETURN(auto backlog, tx.ListJobsWithPushBacklog(100));
        EXPECT_EQ(backlog.size(), static_cast<size_t>(kJobs));
        expect_jobs(items(backlog), 0, 1);
        OTA_ASSIGN_OR_RETURN(auto newest, tx.FindRunningDynamicJob(a1_, "fw-1"));
        EXPECT_TRUE(newest.has_value());
        if (newest) {
            expect_jobs({&*newest}, kJobs - 1, 1);
        }
        for (const Job& job : jobs) {
            OTA_ASSIGN_OR_RETURN(auto found, tx.FindJob(a1_, job.job_id));
            EXPECT_TRUE(found.has_value());
            if (found) {
                ExpectSameJob(*found, job);
            }
        }
        return Ok();
    });
}

TEST_P(JobsTest, InsertsManyTasksInOneTransaction) {
    constexpr int kCount = 20'000;
    Job job = MakeJob(kPk, "fw-1", "job-big", 5000);
    std::vector<Task> tasks;
    tasks.reserve(kCount);
    for (int i = 0; i < kCount; ++i) {
        Task task = MakeTask(job, dev1_, "task-" + std::to_string(i), i);
        task.iot_id = "iot-bulk-" + std::to_string(i);
        task.status = TaskStatus::kSucceeded;
        tasks.push_back(std::move(task));
    }
    MustWrite([&](WriteTx& tx) -> Status {
        OTA_TRY(tx.InsertJob(a1_, job));
        return tx.InsertTasks(a1_, tasks);
    });
    MustRead([&](ReadTx& tx) -> Status {
        OTA_ASSIGN_OR_RETURN(auto found, tx.FindTask(a1_, "task-12345"));
        EXPECT_TRUE(found.has_value());
        if (found) {
            ExpectSameTask(*found, tasks[12345]);
        }
        OTA_ASSIGN_OR_RETURN(auto page, tx.ListJobsByDevice(a1_, "iot-bulk-999", "fw-1", 0, 10));
        EXPECT_EQ(page.total, 1);
        return Ok();
    });
}

INSTANTIATE_TEST_SUITE_P(Backends, JobsTest, ::testing::ValuesIn(AllBackends()), BackendName);

}  // namespace
}  // namespace otad::conformance
