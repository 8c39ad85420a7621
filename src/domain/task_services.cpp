// Per-device tasks: lists, cancellation, re-runs and confirmation.

#include "domain/service_helpers.hpp"
#include "domain/services.hpp"

#include <algorithm>
#include <map>
#include <set>

namespace otad::domain {

using namespace detail;

namespace {

Status CheckTaskIds(const std::vector<std::string>& ids, std::string_view param) {
    if (ids.empty()) {
        return MissingParam(std::string(param));
    }
    if (ids.size() > 10) {
        return Invalid("At most 10 " + std::string(param) + " values are allowed.");
    }
    std::set<std::string_view> seen;
    for (const std::string& id : ids) {
        if (!seen.insert(id).second) {
            return Invalid(std::string(param) + " values must be unique.");
        }
    }
    return Ok();
}

}  // namespace

Result<Page<TaskDetail>> Services::ListTasksByJob(const Scope& scope, const TaskListQuery& q) {
    std::optional<TaskStatus> status;
    if (q.task_status && !q.task_status->empty()) {
        status = ParseTaskStatus(*q.task_status);
        if (!status) {
            return Invalid(
                "TaskStatus must be one of CONFIRM, QUEUED, NOTIFIED, IN_PROGRESS, "
                "SUCCEEDED, FAILED, CANCELED.");
        }
    }
    if (q.device_names.size() > 50) {
        return Invalid("At most 50 DeviceNames values are allowed.");
    }
    if (q.device_names.empty()) {
        // Task lists bound CurrentPage x PageSize by 100,000.
        OTA_TRY(CheckPage(q.current_page, q.page_size, 100, 100'000));
    }
    return ReadOne<Page<TaskDetail>>(store_, [&](ReadTx& tx) -> Result<Page<TaskDetail>> {
        OTA_ASSIGN_OR_RETURN(auto job, tx.FindJob(scope, q.job_id));
        if (!job) {
            return MakeError(ErrorCode::kJobNotFound);
        }
        Page<Task> tasks;
        if (!q.device_names.empty()) {
            OTA_ASSIGN_OR_RETURN(
                tasks.items, tx.ListTasksByJobAndDevices(scope, q.job_id, q.device_names, status));
            tasks.total = static_cast<int64_t>(tasks.items.size());
        } else {
            OTA_ASSIGN_OR_RETURN(
                tasks,
                tx.ListTasksByJob(
                    scope, q.job_id, status, (q.current_page - 1) * q.page_size, q.page_size));
        }
        OTA_ASSIGN_OR_RETURN(auto product, tx.FindProduct(scope, job->product_key));
        Page<TaskDetail> out;
        out.total = tasks.total;
        for (Task& t : tasks.items) {
            out.items.push_back(
                {std::move(t), product ? product->product_name : std::string{}, job->timeout_min});
        }
        return out;
    });
}

Result<std::vector<TaskDetail>> Services::ListUnfinishedTasks(const Scope& scope,
                                                              const UnfinishedTaskQuery& q) {
    std::vector<TaskStatus> wanted;
    for (const std::string& name : q.statuses) {
        const auto s = ParseTaskStatus(name);
        if (!s || !IsUnfinished(*s)) {
            return Invalid("Task statuses must be CONFIRM, QUEUED, NOTIFIED or IN_PROGRESS.");
        }
        wanted.push_back(*s);
    }
    return ReadOne<std::vector<TaskDetail>>(
        store_, [&](ReadTx& tx) -> Result<std::vector<TaskDetail>> {
            OTA_ASSIGN_OR_RETURN(Device device, FindDeviceRef(tx, scope, q.device));
            OTA_ASSIGN_OR_RETURN(auto product, tx.FindProduct(scope, device.product_key));
            OTA_ASSIGN_OR_RETURN(auto tasks, tx.ListUnfinishedTasksOfDevice(scope, device.iot_id));
            std::vector<TaskDetail> out;
            for (Task& t : tasks) {
                if (!q.module_name.empty() && t.module_name != q.module_name) {
                    continue;
                }
                if (!wanted.empty() &&
                    std::find(wanted.begin(), wanted.end(), t.status) == wanted.end()) {
                    continue;
                }
                out.push_back(
                    {std::move(t), product ? product->product_name : std::string{}, std::nullopt});
            }
            return out;
        });
}

Status Services::CancelTasksByJob(const Scope& scope, const CancelByJobCommand& cmd) {
    if (!cmd.cancel_scheduled && !cmd.cancel_queued && !cmd.cancel_notified &&
        !cmd.cancel_in_progress && !cmd.cancel_unconfirmed) {
        return Invalid(
            "At least one of CancelScheduledTask, CancelQueuedTask, "
            "CancelNotifiedTask, CancelInProgressTask and CancelUnconfirmedTask is "
            "required.");
    }
    const int64_t now = clock_.NowMs();
    return store_.Write([&](WriteTx& tx) -> Status {
        OTA_ASSIGN_OR_RETURN(auto job, tx.FindJob(scope, cmd.job_id));
        if (!job) {
            return MakeError(ErrorCode::kJobNotFound);
        }
        std::vector<TaskStatus> statuses;
        const bool planned = job->job_status == JobStatus::kPlanned;
        if (planned && cmd.cancel_scheduled.value_or(false)) {
            // The whole scheduled batch is called off before it started.
            OTA_TRY(tx.ForEachTaskOfJob(scope,
                                        cmd.job_id,
                                        {TaskStatus::kConfirm, TaskStatus::kQueued},
                                        [&](const Task& t) -> Status {
                                            return CancelTask(
                                                tx, scope, t, "scheduled batch cancelled", now);
                                        }));
            job->job_status = JobStatus::kCanceled;
            job->end_ms = now;
            job->modified_ms = now;
            return tx.UpdateJob(scope, *job);
        }
        if (cmd.cancel_queued.value_or(false)) {
            statuses.push_back(TaskStatus::kQueued);
            // Unconfirmed tasks go with the queued ones unless the caller said otherwise.
            if (!cmd.cancel_unconfirmed.has_value()) {
                statuses.push_back(TaskStatus::kConfirm);
            }
        }
        if (cmd.cancel_unconfirmed.value_or(false)) {
            statuses.push_back(TaskStatus::kConfirm);
        }
        if (cmd.cancel_notified.value_or(false)) {
            statuses.push_back(TaskStatus::kNotified);
        }
        if (cmd.cancel_in_progress.value_or(false)) {
            statuses.push_back(TaskStatus::kInProgress);
        }
        if (statuses.empty()) {
            return Ok();
        }
        OTA_TRY(tx.ForEachTaskOfJob(scope, cmd.job_id, statuses, [&](const Task& t) -> Status {
            return CancelTask(tx, scope, t, "cancelled by CancelOTATaskByJob", now);
        }));
        return SettleJob(tx, scope, cmd.job_id, now);
    });
}

Status Services::CancelTasksByDevice(const Scope& scope, const CancelByDeviceCommand& cmd) {
    if (cmd.device_names.empty()) {
        return MissingParam("DeviceName");
    }
    if (cmd.device_names.size() > limits_.max_target_device_names) {
        return MakeError(ErrorCode::kTooManyTargetDevices);
    }
    std::set<std::string_view> seen;
    for (const std::string& n : cmd.device_names) {
        if (!seen.insert(n).second) {
            return Invalid("DeviceName values must be unique.");
        }
    }
    const int64_t now = clock_.NowMs();
    return store_.Write([&](WriteTx& tx) -> Status {
        OTA_ASSIGN_OR_RETURN(auto product, tx.FindProduct(scope, cmd.product_key));
        if (!product) {
            return MakeError(ErrorCode::kProductNotFound);
        }
        OTA_ASSIGN_OR_RETURN(auto firmware, tx.FindFirmware(scope, cmd.firmware_id));
        if (!firmware) {
            return MakeError(ErrorCode::kFirmwareNotFound);
        }
        if (!cmd.job_id.empty()) {
            OTA_ASSIGN_OR_RETURN(auto job, tx.FindJob(scope, cmd.job_id));
            if (!job || job->firmware_id != cmd.firmware_id) {
                return MakeError(ErrorCode::kJobNotFound);
            }
        }
        std::vector<Device> devices;
        for (const std::string& name : cmd.device_names) {
            OTA_ASSIGN_OR_RETURN(auto device, tx.FindDevice(scope, cmd.product_key, name));
            if (!device) {
                return MakeError(ErrorCode::kDeviceNotFound,
                                 "The device " + name + " does not exist in the product.");
            }
            devices.push_back(std::move(*device));
        }
        std::set<std::string> touched;
        for (const Device& d : devices) {
            OTA_ASSIGN_OR_RETURN(
                auto tasks,
                tx.ListTasksOfDeviceForFirmware(scope, d.iot_id, cmd.firmware_id, cmd.job_id));
            for (const Task& t : tasks) {
                if (IsUnfinished(t.status)) {
                    OTA_TRY(CancelTask(tx, scope, t, "cancelled by CancelOTATaskByDevice", now));
                    touched.insert(t.job_id);
                }
            }
        }
        for (const std::string& job_id : touched) {
            OTA_TRY(SettleJob(tx, scope, job_id, now));
        }
        return Ok();
    });
}

Status Services::ReupgradeTasks(const Scope& scope,
                                std::string_view job_id,
                                const std::vector<std::string>& task_ids) {
    OTA_TRY(CheckTaskIds(task_ids, "TaskId"));
    const int64_t now = clock_.NowMs();
    return store_.Write([&](WriteTx& tx) -> Status {
        OTA_ASSIGN_OR_RETURN(auto job, tx.FindJob(scope, job_id));
        if (!job) {
            return MakeError(ErrorCode::kJobNotFound);
        }
        if (job->job_status == JobStatus::kCanceled || job->job_status == JobStatus::kPlanned) {
            return MakeError(ErrorCode::kJobStatusInvalid);
        }
        OTA_ASSIGN_OR_RETURN(auto tasks, tx.FindTasks(scope, task_ids));
        if (tasks.size() != task_ids.size()) {
            return MakeError(ErrorCode::kTaskNotFound);
        }
        for (Task& t : tasks) {
            if (t.job_id != job_id) {
                return MakeError(ErrorCode::kTaskNotFound);
            }
            if (t.status != TaskStatus::kFailed && t.status != TaskStatus::kCanceled) {
                return MakeError(ErrorCode::kTaskStatusInvalid,
                                 "Only FAILED or CANCELED tasks can be run again.");
            }
            // The device must not have another unfinished task (of this module when the batch
            // is multi-module).
            OTA_ASSIGN_OR_RETURN(auto pending, tx.ListUnfinishedTasksOfDevice(scope, t.iot_id));
            for (const Task& other : pending) {
                if (!job->multi_module_mode || other.module_name == t.module_name) {
                    return MakeError(ErrorCode::kTaskStatusInvalid,
                                     "The device " + t.device_name +
                                         " has an unfinished update in batch " + other.job_id +
                                         ".");
                }
            }
            t.status = job->need_confirm ? TaskStatus::kConfirm : TaskStatus::kQueued;
            t.progress = "0.00";
            t.task_desc.clear();
            t.retries_used = 0;
            t.retry_at_ms = 0;
            t.progress_started_ms = 0;
            t.timeout_at_ms = 0;
            t.modified_ms = now;
            OTA_TRY(tx.UpdateTask(scope, t));
        }
        OTA_TRY(SettleJob(tx, scope, std::string(job_id), now));
        return MarkPushBacklog(tx, scope, job_id);
    });
}

Status Services::ConfirmTasks(const Scope& scope, const std::vector<std::string>& task_ids) {
    OTA_TRY(CheckTaskIds(task_ids, "TaskId"));
    const int64_t now = clock_.NowMs();
    return store_.Write([&](WriteTx& tx) -> Status {
        OTA_ASSIGN_OR_RETURN(auto tasks, tx.FindTasks(scope, task_ids));
        if (tasks.size() != task_ids.size()) {
            return MakeError(ErrorCode::kTaskNotFound);
        }
        std::map<std::string, Job> jobs;
        for (Task& t : tasks) {
            if (t.status != TaskStatus::kConfirm) {
                return MakeError(ErrorCode::kTaskStatusInvalid,
                                 "Only tasks waiting for confirmation can be confirmed.");
            }
            auto it = jobs.find(t.job_id);
            if (it == jobs.end()) {
                OTA_ASSIGN_OR_RETURN(auto job, tx.FindJob(scope, t.job_id));
                if (!job) {
                    return MakeError(ErrorCode::kJobNotFound);
                }
                it = jobs.emplace(t.job_id, std::move(*job)).first;
            }
            const Job& job = it->second;
            // A scheduled batch takes confirmations only inside its time window.
            if ((job.schedule_ms != 0 && now < job.schedule_ms) ||
                (job.schedule_finish_ms != 0 && now >= job.schedule_finish_ms) ||
                job.job_status == JobStatus::kCanceled || job.job_status == JobStatus::kCompleted) {
                return MakeError(ErrorCode::kJobStatusInvalid,
                                 "The batch does not take confirmations at this time.");
            }
            t.status = TaskStatus::kQueued;
            t.modified_ms = now;
            OTA_TRY(tx.UpdateTask(scope, t));
        }
        for (const auto& [job_id, job] : jobs) {
            OTA_TRY(MarkPushBacklog(tx, scope, job_id));
        }
        return Ok();
    });
}

}  // namespace otad::domain
