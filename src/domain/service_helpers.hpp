#pragma once

#include "common/result.hpp"
#include "domain/model.hpp"
#include "domain/ports.hpp"
#include "domain/services.hpp"

#include <cstdint>
#include <functional>
#include <optional>
#include <set>
#include <string>
#include <string_view>

// Pieces shared by the use-case files of Services. Internal to the domain module.

namespace otad::domain::detail {

constexpr int64_t kMinuteMs = 60'000;
constexpr int64_t kHourMs = 60 * kMinuteMs;
constexpr int64_t kDayMs = 24 * kHourMs;

inline Error Invalid(std::string message) {
    return MakeError(ErrorCode::kInvalidFormattedParameter, std::move(message));
}

std::string NewProductKey();
std::string NewIotId();
std::string NewFirmwareId();
std::string NewJobId();
std::string NewTaskId();
std::string NewInstanceId();
std::string NewGroupId();

/// Runs `fn` in a read transaction and returns its value.
template <typename T>
Result<T> ReadOne(Store& store, const std::function<Result<T>(ReadTx&)>& fn) {
    std::optional<T> out;
    Status st = store.Read([&](ReadTx& tx) -> Status {
        auto r = fn(tx);
        if (!r.ok()) {
            return std::move(r).error();
        }
        out = std::move(r).value();
        return Ok();
    });
    if (!st.ok()) {
        return std::move(st).error();
    }
    return std::move(*out);
}

/// kInvalidPageParams unless 1 <= current_page, 1 <= page_size <= max_page_size and the page
/// starts before row `max_rows`.
Status CheckPage(int64_t current_page,
                 int64_t page_size,
                 int64_t max_page_size,
                 int64_t max_rows = 1'000'000'000);

/// Checks that an optional value is one of `allowed`.
Status CheckOneOf(std::optional<int64_t> v,
                  std::initializer_list<int64_t> allowed,
                  std::string_view what);

/// Parses a percentage with at most three decimals into thousandths (0 < p <= 100).
std::optional<int64_t> ParsePercentMilli(std::string_view s);

/// Validates the policy shared by every batch kind and fills the job's policy fields.
Status ApplyPolicy(const JobPolicy& p, const Firmware& firmware, Job& job);

/// The version the device last reported for the module ("" if never).
Result<std::string> CurrentVersion(ReadTx& tx,
                                   const Scope& scope,
                                   const Device& device,
                                   std::string_view module_name);

/// Whether a device qualifies for a package by version: not already at the destination, at
/// one of `src_versions` when given, and at the package's source version for a differential
/// package.
bool VersionQualifies(const Firmware& firmware,
                      const std::vector<std::string>& src_versions,
                      const std::string& current);

/// Builds the device's task in `job`, applying the one-unfinished-task rule: an unfinished
/// task of another batch either is overwritten (cancelled; OverwriteMode 2 and not
/// IN_PROGRESS) or blocks the device (the new task is FAILED with a reason). In multi-module
/// mode only tasks of the same module count.
Result<Task> PlanTask(WriteTx& tx,
                      const Scope& scope,
                      const Job& job,
                      const Firmware& firmware,
                      const Device& device,
                      const std::string& current_version,
                      int64_t now);

/// PlanTask for a device known by its identifiers. When the caller knows that the device has
/// no unfinished task (`may_have_unfinished_task` false), the store is not asked again.
Result<Task> PlanTaskFor(WriteTx& tx,
                         const Scope& scope,
                         const Job& job,
                         const Firmware& firmware,
                         const std::string& iot_id,
                         const std::string& product_key,
                         const std::string& device_name,
                         const std::string& current_version,
                         bool may_have_unfinished_task,
                         int64_t now);

/// Looks up a device by IotId or by ProductKey and DeviceName.
Result<Device> FindDeviceRef(ReadTx& tx, const Scope& scope, const DeviceRef& ref);

/// Parses a task status name; nothing for an unknown name.
std::optional<TaskStatus> ParseTaskStatus(std::string_view name);

/// Brings a job and its package up to date after its tasks changed: a static or verification
/// batch whose tasks are all finished (and none waits for an automatic retry) is COMPLETED;
/// a verification batch sets the package's verification state and progress.
Status SettleJob(WriteTx& tx, const Scope& scope, const std::string& job_id, int64_t now);

/// Calls `fn` for every device in the group: the members of a static group, or the devices
/// that satisfy a dynamic group's rule (implemented with the rule grammar in
/// catalog_services.cpp).
Status ForEachGroupDevice(ReadTx& tx,
                          const Scope& scope,
                          const Group& group,
                          const std::function<Status(const Device&)>& fn);

/// A device's progress report for one module (see Services::ReportProgress); adds the jobs
/// whose tasks changed to `touched_jobs` for the caller to settle.
Status ApplyProgressReport(WriteTx& tx,
                           const Scope& scope,
                           const std::string& iot_id,
                           std::string_view module_name,
                           int64_t step,
                           std::string_view desc,
                           int64_t now,
                           std::set<std::string>& touched_jobs);

/// A device's version report for one module (see Services::ReportVersion); adds the jobs
/// whose tasks changed to `touched_jobs` for the caller to settle.
Status ApplyVersionReport(WriteTx& tx,
                          const Scope& scope,
                          Device device,
                          std::string_view module_name,
                          std::string_view version,
                          int64_t now,
                          std::set<std::string>& touched_jobs);

/// Notes that QUEUED tasks of the job may wait for a push (the device channel's sweep looks
/// at such jobs). Nothing when the job does not push.
Status MarkPushBacklog(WriteTx& tx, const Scope& scope, std::string_view job_id);

/// Cancels one task (any unfinished state) with a reason.
Status CancelTask(WriteTx& tx, const Scope& scope, Task task, std::string desc, int64_t now);

}  // namespace otad::domain::detail
