#include "domain/service_helpers.hpp"

#include "common/crypto.hpp"
#include "domain/validation.hpp"

#include <algorithm>
#include <atomic>
#include <cstring>

namespace otad::domain::detail {

std::string NewProductKey() {
    return "a1" + crypto::RandomBase62(9);
}
std::string NewIotId() {
    return crypto::RandomBase62(20) + "000100";
}
std::string NewFirmwareId() {
    return crypto::RandomBase62(20) + "030100";
}
std::string NewJobId() {
    return crypto::RandomBase62(20) + "020200";
}
std::string NewTaskId() {
    // 20 base62 characters: ten of a per-process counter, then ten random ones. The counter
    // starts at a random point of the lower half of its range and only grows, so the ids of one
    // batch sort in creation order and are inserted at one place of the task_id index instead
    // of all over it; the random half keeps ids of different processes apart. Digits, then
    // upper, then lower case letters: the ASCII order, so the text sorts like the number.
    static constexpr char kDigits[] =
        "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    static constexpr uint64_t kCounterRange = 839'299'365'868'340'224ULL;  // 62^10
    static std::atomic<uint64_t> counter{[] {
        uint64_t seed = 0;
        const std::string bytes = crypto::RandomBytes(sizeof seed);
        std::memcpy(&seed, bytes.data(), sizeof seed);
        return seed % (kCounterRange / 2);
    }()};
    // The random half comes from a per-thread generator seeded once from the system, not a
    // system call per id: these ids are not secrets, and a batch makes a million of them.
    thread_local uint64_t state = [] {
        uint64_t seed = 0;
        const std::string bytes = crypto::RandomBytes(sizeof seed);
        std::memcpy(&seed, bytes.data(), sizeof seed);
        return seed;
    }();
    auto next_random = [] {
        state += 0x9e3779b97f4a7c15ULL;  // splitmix64
        uint64_t z = state;
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
        return z ^ (z >> 31);
    };
    std::string id(26, '0');
    uint64_t n = counter.fetch_add(1, std::memory_order_relaxed) % kCounterRange;
    for (int i = 9; i >= 0; --i) {
        id[static_cast<size_t>(i)] = kDigits[n % 62];
        n /= 62;
    }
    uint64_t r = next_random();
    for (size_t i = 10; i < 20; ++i) {
        if (i == 15) {
            r = next_random();  // 5 characters use under 30 bits; two draws cover ten
        }
        id[i] = kDigits[r % 62];
        r /= 62;
    }
    std::memcpy(id.data() + 20, "010100", 6);
    return id;
}
std::string NewInstanceId() {
    return "iot-" + crypto::RandomLowerAlnum(8);
}
std::string NewGroupId() {
    return crypto::RandomBase62(20) + "010200";
}

Status CheckPage(int64_t current_page, int64_t page_size, int64_t max_page_size, int64_t max_rows) {
    if (current_page < 1 || page_size < 1 || page_size > max_page_size ||
        current_page > max_rows / page_size) {
        return MakeError(ErrorCode::kInvalidPageParams);
    }
    return Ok();
}

Status CheckOneOf(std::optional<int64_t> v,
                  std::initializer_list<int64_t> allowed,
                  std::string_view what) {
    if (v && std::find(allowed.begin(), allowed.end(), *v) == allowed.end()) {
        std::string list;
        for (int64_t a : allowed) {
            list += (list.empty() ? "" : ", ") + std::to_string(a);
        }
        return Invalid(std::string(what) + " must be one of " + list + ".");
    }
    return Ok();
}

std::optional<int64_t> ParsePercentMilli(std::string_view s) {
    const size_t dot = s.find('.');
    const std::string_view whole = s.substr(0, dot);
    const std::string_view frac = dot == std::string_view::npos ? "" : s.substr(dot + 1);
    if (whole.empty() || whole.size() > 3 || frac.size() > 3 ||
        (dot != std::string_view::npos && frac.empty())) {
        return std::nullopt;
    }
    int64_t v = 0;
    for (char c : whole) {
        if (c < '0' || c > '9') {
            return std::nullopt;
        }
        v = v * 10 + (c - '0');
    }
    int64_t f = 0;
    for (size_t i = 0; i < 3; ++i) {
        const char c = i < frac.size() ? frac[i] : '0';
        if (c < '0' || c > '9') {
            return std::nullopt;
        }
        f = f * 10 + (c - '0');
    }
    const int64_t milli = v * 1000 + f;
    if (milli <= 0 || milli > 100'000) {
        return std::nullopt;
    }
    return milli;
}

Status ApplyPolicy(const JobPolicy& p, const Firmware& firmware, Job& job) {
    OTA_TRY(CheckOneOf(p.retry_interval_min, {0, 10, 30, 60, 1440}, "RetryInterval"));
    OTA_TRY(CheckOneOf(p.retry_count, {1, 2, 5}, "RetryCount"));
    if (p.retry_interval_min.has_value() != p.retry_count.has_value()) {
        return Invalid("RetryInterval and RetryCount must be given together.");
    }
    if (p.timeout_min && (*p.timeout_min < 1 || *p.timeout_min > 1440)) {
        return Invalid("TimeoutInMinutes must be between 1 and 1440.");
    }
    if (p.retry_interval_min && p.timeout_min && *p.retry_interval_min >= *p.timeout_min) {
        return Invalid("RetryInterval must be smaller than TimeoutInMinutes.");
    }
    if (p.maximum_per_minute && (*p.maximum_per_minute < 10 || *p.maximum_per_minute > 10000)) {
        return Invalid("MaximumPerMinute must be between 10 and 10000.");
    }
    OTA_TRY(CheckOneOf(p.overwrite_mode, {1, 2}, "OverwriteMode"));
    const bool multi_module = p.multi_module_mode.value_or(false);
    if (multi_module && p.overwrite_mode.value_or(1) == 2) {
        return Invalid("OverwriteMode 2 cannot be combined with MultiModuleMode.");
    }
    const std::string protocol = p.download_protocol.value_or("HTTPS");
    if (protocol != "HTTPS" && protocol != "MQTT") {
        return Invalid("DownloadProtocol must be HTTPS or MQTT.");
    }
    if (protocol == "MQTT" &&
        (!firmware.multi_files.empty() || firmware.firmware_size > 16 * 1024 * 1024)) {
        return Invalid("MQTT download needs a single-file package of at most 16 MB.");
    }
    OTA_TRY(ValidateTags(p.tags));

    if (p.retry_interval_min) {
        job.retry_interval_min = static_cast<int>(*p.retry_interval_min);
        job.retry_count = static_cast<int>(*p.retry_count);
    }
    if (p.timeout_min) {
        job.timeout_min = static_cast<int>(*p.timeout_min);
    }
    job.maximum_per_minute = static_cast<int>(p.maximum_per_minute.value_or(10000));
    job.overwrite_mode = static_cast<int>(p.overwrite_mode.value_or(1));
    job.multi_module_mode = multi_module;
    job.need_push = p.need_push.value_or(true);
    job.need_confirm = p.need_confirm.value_or(false);
    job.download_protocol = protocol;
    job.tags = p.tags;
    return Ok();
}

Result<std::string> CurrentVersion(ReadTx& tx,
                                   const Scope& scope,
                                   const Device& device,
                                   std::string_view module_name) {
    if (module_name == "default") {
        return device.firmware_version;
    }
    OTA_ASSIGN_OR_RETURN(auto v, tx.FindModuleVersion(scope, device.iot_id, module_name));
    return v ? v->version : std::string{};
}

bool VersionQualifies(const Firmware& firmware,
                      const std::vector<std::string>& src_versions,
                      const std::string& current) {
    if (current == firmware.dest_version) {
        return false;
    }
    if (!src_versions.empty() &&
        std::find(src_versions.begin(), src_versions.end(), current) == src_versions.end()) {
        return false;
    }
    // A differential package only applies to its source version.
    return firmware.type != 1 || current == firmware.src_version;
}

Result<Task> PlanTask(WriteTx& tx,
                      const Scope& scope,
                      const Job& job,
                      const Firmware& firmware,
                      const Device& device,
                      const std::string& current_version,
                      int64_t now) {
    return PlanTaskFor(tx,
                       scope,
                       job,
                       firmware,
                       device.iot_id,
                       device.product_key,
                       device.device_name,
                       current_version,
                       true,
                       now);
}

Result<Task> PlanTaskFor(WriteTx& tx,
                         const Scope& scope,
                         const Job& job,
                         const Firmware& firmware,
                         const std::string& iot_id,
                         const std::string& product_key,
                         const std::string& device_name,
                         const std::string& current_version,
                         bool may_have_unfinished_task,
                         int64_t now) {
    Task t;
    t.task_id = NewTaskId();
    t.job_id = job.job_id;
    t.firmware_id = firmware.firmware_id;
    t.iot_id = iot_id;
    t.product_key = product_key;
    t.device_name = device_name;
    t.module_name = firmware.module_name;
    t.src_version = current_version;
    t.dest_version = firmware.dest_version;
    t.status = job.need_confirm ? TaskStatus::kConfirm : TaskStatus::kQueued;
    t.job_created_ms = job.created_ms;
    t.created_ms = now;
    t.modified_ms = now;
    if (!may_have_unfinished_task) {
        return t;
    }

    OTA_ASSIGN_OR_RETURN(auto pending, tx.ListUnfinishedTasksOfDevice(scope, iot_id));
    for (const Task& other : pending) {
        if (job.multi_module_mode && other.module_name != firmware.module_name) {
            continue;
        }
        if (job.overwrite_mode == 2 && other.status != TaskStatus::kInProgress) {
            OTA_TRY(CancelTask(tx, scope, other, "overwritten by batch " + job.job_id, now));
        } else {
            t.status = TaskStatus::kFailed;
            t.task_desc = "device has an unfinished update in batch " + other.job_id;
            break;
        }
    }
    return t;
}

Result<Device> FindDeviceRef(ReadTx& tx, const Scope& scope, const DeviceRef& ref) {
    std::optional<Device> device;
    if (!ref.iot_id.empty()) {
        OTA_ASSIGN_OR_RETURN(device, tx.FindDeviceByIotId(scope, ref.iot_id));
    } else {
        OTA_ASSIGN_OR_RETURN(auto product, tx.FindProduct(scope, ref.product_key));
        if (!product) {
            return MakeError(ErrorCode::kProductNotFound);
        }
        OTA_ASSIGN_OR_RETURN(device, tx.FindDevice(scope, ref.product_key, ref.device_name));
    }
    if (!device) {
        return MakeError(ErrorCode::kDeviceNotFound);
    }
    return std::move(*device);
}

std::optional<TaskStatus> ParseTaskStatus(std::string_view name) {
    static constexpr std::pair<std::string_view, TaskStatus> kNames[] = {
        {"CONFIRM", TaskStatus::kConfirm},
        {"QUEUED", TaskStatus::kQueued},
        {"NOTIFIED", TaskStatus::kNotified},
        {"IN_PROGRESS", TaskStatus::kInProgress},
        {"SUCCEEDED", TaskStatus::kSucceeded},
        {"FAILED", TaskStatus::kFailed},
        {"CANCELED", TaskStatus::kCanceled},
    };
    for (const auto& [n, s] : kNames) {
        if (n == name) {
            return s;
        }
    }
    return std::nullopt;
}

Status CancelTask(WriteTx& tx, const Scope& scope, Task task, std::string desc, int64_t now) {
    task.status = TaskStatus::kCanceled;
    task.task_desc = std::move(desc);
    task.retry_at_ms = 0;
    task.timeout_at_ms = 0;
    task.modified_ms = now;
    return tx.UpdateTask(scope, task);
}

Status SettleJob(WriteTx& tx, const Scope& scope, const std::string& job_id, int64_t now) {
    OTA_ASSIGN_OR_RETURN(auto found, tx.FindJob(scope, job_id));
    if (!found) {
        return MakeError(ErrorCode::kJobNotFound);
    }
    Job job = std::move(*found);

    if (job.job_type == JobType::kVerifyFirmware) {
        // A verify batch is small and its package's progress needs the counts themselves.
        OTA_ASSIGN_OR_RETURN(auto firmware, tx.FindFirmware(scope, job.firmware_id));
        if (firmware && firmware->status == FirmwareStatus::kVerifying) {
            OTA_ASSIGN_OR_RETURN(const TaskCounts counts, tx.CountTasksByStatus(scope, job_id));
            const int64_t total = counts.Total();
            const int progress = total == 0 ? 0 : static_cast<int>(100 * counts.succeeded / total);
            FirmwareStatus status = FirmwareStatus::kVerifying;
            if (counts.Unfinished() == 0) {
                status = counts.succeeded == total && total > 0 ? FirmwareStatus::kVerified
                                                                : FirmwareStatus::kVerifyFailed;
            }
            OTA_TRY(tx.UpdateFirmwareStatus(scope, job.firmware_id, status, progress, now));
        }
    }

    // Settling runs after every applied report, so it must not count a batch of a million tasks
    // each time: whether anything is left is a few index seeks.
    const bool may_end =
        job.selection_type == SelectionType::kStatic && job.job_status == JobStatus::kInProgress;
    const bool may_reopen = job.job_status == JobStatus::kCompleted;
    if (!may_end && !may_reopen) {
        return Ok();
    }
    OTA_ASSIGN_OR_RETURN(const JobTaskState state, tx.GetJobTaskState(scope, job_id));
    if (may_end && !state.has_unfinished) {
        // A failed task waiting for its automatic retry keeps the batch open.
        if (!state.has_pending_retry) {
            job.job_status = JobStatus::kCompleted;
            job.end_ms = now;
            job.modified_ms = now;
            OTA_TRY(tx.UpdateJob(scope, job));
        }
    } else if (may_reopen && state.has_unfinished) {
        // Re-run tasks re-open a finished batch.
        job.job_status = JobStatus::kInProgress;
        job.end_ms = 0;
        job.modified_ms = now;
        OTA_TRY(tx.UpdateJob(scope, job));
    }
    return Ok();
}

Status MarkPushBacklog(WriteTx& tx, const Scope& scope, std::string_view job_id) {
    OTA_ASSIGN_OR_RETURN(auto job, tx.FindJob(scope, job_id));
    if (!job || !job->need_push || job->push_backlog) {
        return Ok();
    }
    job->push_backlog = true;
    return tx.UpdateJobPushState(scope, *job);
}

}  // namespace otad::domain::detail
