// What a device's messages do to its tasks (the device side of the task state machine).

#include "domain/service_helpers.hpp"
#include "domain/services.hpp"
#include "domain/validation.hpp"

#include <algorithm>
#include <cstdio>
#include <set>

namespace otad::domain {

using namespace detail;

namespace {

// Version-based dynamic batches update one device at most this many times.
constexpr int kMaxDynamicUpdatesPerDevice = 10;

std::string ModuleOrDefault(std::string_view module_name) {
    return module_name.empty() ? std::string("default") : std::string(module_name);
}

std::string FailureText(int64_t step, std::string_view desc) {
    if (!desc.empty()) {
        return std::string(desc);
    }
    switch (step) {
        case -2:
            return "download failed";
        case -3:
            return "verification failed";
        case -4:
            return "flashing failed";
        default:
            return "update failed";
    }
}

// Marks a task FAILED and, when its batch retries failures and retries remain, sets when it
// goes back to the queue.
Status FailTask(WriteTx& tx, const Scope& scope, Task task, std::string desc, int64_t now) {
    OTA_ASSIGN_OR_RETURN(auto job, tx.FindJob(scope, task.job_id));
    task.status = TaskStatus::kFailed;
    task.task_desc = std::move(desc);
    task.timeout_at_ms = 0;
    task.retry_at_ms = 0;
    task.modified_ms = now;
    if (job && job->retry_interval_min && job->retry_count &&
        task.retries_used < *job->retry_count && job->job_status == JobStatus::kInProgress) {
        ++task.retries_used;
        // Zero minutes means "at once"; the scheduler's next run picks it up.
        task.retry_at_ms = now + int64_t{*job->retry_interval_min} * kMinuteMs;
        if (task.retry_at_ms == 0) {
            task.retry_at_ms = 1;
        }
    }
    return tx.UpdateTask(scope, task);
}

}  // namespace

Status Services::MarkTaskNotified(const Scope& scope, std::string_view task_id) {
    const int64_t now = clock_.NowMs();
    return store_.Write([&](WriteTx& tx) -> Status {
        OTA_ASSIGN_OR_RETURN(auto task, tx.FindTask(scope, task_id));
        if (!task) {
            return MakeError(ErrorCode::kTaskNotFound);
        }
        if (task->status != TaskStatus::kQueued && task->status != TaskStatus::kNotified) {
            return MakeError(ErrorCode::kTaskStatusInvalid);
        }
        task->status = TaskStatus::kNotified;
        task->notified_ms = now;
        task->modified_ms = now;
        return tx.UpdateTask(scope, *task);
    });
}

Status detail::ApplyProgressReport(WriteTx& tx,
                                   const Scope& scope,
                                   const std::string& iot_id,
                                   std::string_view module_name,
                                   int64_t step,
                                   std::string_view desc,
                                   int64_t now,
                                   std::set<std::string>& touched_jobs) {
    const std::string module = ModuleOrDefault(module_name);
    if (step > 100 || step < -4) {
        return Invalid("A progress step is between -4 and 100.");
    }
    OTA_ASSIGN_OR_RETURN(auto tasks, tx.ListUnfinishedTasksOfDevice(scope, iot_id));
    for (Task& t : tasks) {
        // A task waiting for confirmation was never offered to the device.
        if (t.module_name != module || t.status == TaskStatus::kConfirm) {
            continue;
        }
        if (step < 0) {
            touched_jobs.insert(t.job_id);
            return FailTask(tx, scope, std::move(t), FailureText(step, desc), now);
        }
        t.status = TaskStatus::kInProgress;
        char progress[16];
        std::snprintf(progress, sizeof progress, "%lld.00", static_cast<long long>(step));
        t.progress = progress;
        if (t.progress_started_ms == 0) {
            // The timeout clock starts at the first report and is never reset by it. Only then
            // is the batch (its timeout) needed: later reports skip reading it.
            t.progress_started_ms = now;
            OTA_ASSIGN_OR_RETURN(auto job, tx.FindJob(scope, t.job_id));
            if (job && job->timeout_min) {
                t.timeout_at_ms = now + int64_t{*job->timeout_min} * kMinuteMs;
            }
        }
        t.modified_ms = now;
        return tx.UpdateTask(scope, t);
    }
    return Ok();
}

Status detail::ApplyVersionReport(WriteTx& tx,
                                  const Scope& scope,
                                  Device device,
                                  std::string_view module_name,
                                  std::string_view version,
                                  int64_t now,
                                  std::set<std::string>& touched_jobs) {
    const std::string module = ModuleOrDefault(module_name);
    OTA_TRY(ValidateVersion(version, "version"));
    OTA_ASSIGN_OR_RETURN(auto tasks, tx.ListUnfinishedTasksOfDevice(scope, device.iot_id));
    // Whether this is the module's first report matters only to a task without a source
    // version; the lookup is skipped otherwise (the usual case, on the path of every report).
    const bool source_unknown = std::any_of(tasks.begin(), tasks.end(), [&](const Task& t) {
        return t.module_name == module && t.src_version.empty() && t.dest_version != version;
    });
    bool first_report = false;
    if (source_unknown) {
        OTA_ASSIGN_OR_RETURN(auto previous, tx.FindModuleVersion(scope, device.iot_id, module));
        first_report = !previous.has_value();
    }
    ModuleVersion mv{
        device.iot_id, device.product_key, device.device_name, module, std::string(version), now};
    OTA_TRY(tx.UpsertModuleVersion(scope, mv));
    if (module == "default" && device.firmware_version != version) {
        device.firmware_version = std::string(version);
        device.modified_ms = now;
        OTA_TRY(tx.UpdateDevice(scope, device));
    }

    for (Task& t : tasks) {
        if (t.module_name != module) {
            continue;
        }
        if (t.dest_version == version) {
            t.status = TaskStatus::kSucceeded;
            t.progress = "100.00";
            t.task_desc.clear();
            t.timeout_at_ms = 0;
            t.retry_at_ms = 0;
            t.modified_ms = now;
            OTA_TRY(tx.UpdateTask(scope, t));
            touched_jobs.insert(t.job_id);
        } else if (t.src_version.empty() && first_report) {
            // The task was planned before the device ever reported this module's version, and
            // this first report names the version it runs: the task's source. It may arrive
            // after the update's first progress report (with several nodes a device's
            // messages are applied in no guaranteed order), and is not a failure then.
            t.src_version = std::string(version);
            OTA_TRY(tx.UpdateTask(scope, t));
        } else if (t.status == TaskStatus::kInProgress && t.src_version != version) {
            touched_jobs.insert(t.job_id);
            OTA_TRY(FailTask(tx, scope, t, "report version is not conform", now));
        }
    }

    // Dynamic batches: the newest running one whose package this version qualifies for.
    OTA_ASSIGN_OR_RETURN(auto dynamic, tx.ListRunningDynamicJobs(scope, device.product_key));
    for (const Job& job : dynamic) {
        if (!job.group_id.empty()) {
            continue;  // group-based batches follow group membership, not reports
        }
        OTA_ASSIGN_OR_RETURN(auto firmware, tx.FindFirmware(scope, job.firmware_id));
        if (!firmware || firmware->module_name != module ||
            !VersionQualifies(*firmware, job.src_versions, std::string(version))) {
            continue;
        }
        OTA_ASSIGN_OR_RETURN(
            auto mine,
            tx.ListTasksOfDeviceForFirmware(scope, device.iot_id, job.firmware_id, job.job_id));
        bool open = false;
        for (const Task& t : mine) {
            open = open || IsUnfinished(t.status);
        }
        if (open || static_cast<int>(mine.size()) >= kMaxDynamicUpdatesPerDevice) {
            break;
        }
        OTA_ASSIGN_OR_RETURN(
            Task t, PlanTask(tx, scope, job, *firmware, device, std::string(version), now));
        if (t.status == TaskStatus::kFailed) {
            break;  // blocked by another batch; the device is not enrolled this time
        }
        OTA_TRY(tx.InsertTasks(scope, {t}));
        break;
    }
    return Ok();
}

Status Services::ReportProgress(const Scope& scope,
                                std::string_view iot_id,
                                std::string_view module_name,
                                int64_t step,
                                std::string_view desc) {
    const int64_t now = clock_.NowMs();
    return store_.Write([&](WriteTx& tx) -> Status {
        std::set<std::string> touched;
        OTA_TRY(ApplyProgressReport(
            tx, scope, std::string(iot_id), module_name, step, desc, now, touched));
        for (const std::string& job_id : touched) {
            OTA_TRY(SettleJob(tx, scope, job_id, now));
        }
        return Ok();
    });
}

Status Services::ReportVersion(const Scope& scope,
                               std::string_view iot_id,
                               std::string_view module_name,
                               std::string_view version) {
    const int64_t now = clock_.NowMs();
    OTA_TRY(ValidateVersion(version, "version"));
    return store_.Write([&](WriteTx& tx) -> Status {
        OTA_ASSIGN_OR_RETURN(auto found, tx.FindDeviceByIotId(scope, iot_id));
        if (!found) {
            return MakeError(ErrorCode::kDeviceNotFound);
        }
        std::set<std::string> touched;
        OTA_TRY(
            ApplyVersionReport(tx, scope, std::move(*found), module_name, version, now, touched));
        for (const std::string& job_id : touched) {
            OTA_TRY(SettleJob(tx, scope, job_id, now));
        }
        return Ok();
    });
}

}  // namespace otad::domain
