#pragma once

#include "common/result.hpp"
#include "domain/model.hpp"

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

// The storage interfaces the domain needs. Backends (storage/sqlite, later storage/postgres)
// implement them; nothing outside a backend sees SQL.
//
// Error contract for every method: a failure of the database itself returns
// ErrorCode::kInternal (or kUnavailable when retrying may help) with the cause in
// Error::internal. Uniqueness violations that a caller can provoke return the specific code named
// in the method's comment. Lookups that find nothing return an empty optional, not an error.

namespace otad::domain {

/// Reads, inside a consistent snapshot.
class ReadTx {
  public:
    virtual ~ReadTx() = default;

    // Accounts and instances (not scoped: they define the scopes).
    virtual Result<std::optional<Account>> FindAccountByAccessKey(std::string_view key_id) = 0;
    virtual Result<std::optional<Account>> FindAccountByName(std::string_view name) = 0;
    /// All accounts, ordered by id.
    virtual Result<std::vector<Account>> ListAccounts() = 0;
    virtual Result<std::optional<Instance>> FindDefaultInstance(int64_t account_id) = 0;
    /// The instance with that IotInstanceId, only if it belongs to the account.
    virtual Result<std::optional<Instance>> FindInstance(int64_t account_id,
                                                         std::string_view instance_id) = 0;

    // Products.
    virtual Result<std::optional<Product>> FindProduct(const Scope& scope,
                                                       std::string_view product_key) = 0;
    virtual Result<bool> ProductNameExists(const Scope& scope, std::string_view name) = 0;
    virtual Result<int64_t> CountProducts(const Scope& scope) = 0;

    // Devices.
    virtual Result<std::optional<Device>> FindDevice(const Scope& scope,
                                                     std::string_view product_key,
                                                     std::string_view device_name) = 0;
    virtual Result<std::optional<Device>> FindDeviceByIotId(const Scope& scope,
                                                            std::string_view iot_id) = 0;
    virtual Result<int64_t> CountDevices(const Scope& scope, std::string_view product_key) = 0;
    /// Calls `fn` for every device of the product, in iot_id order. Stops early and returns the
    /// error if `fn` fails.
    virtual Status ForEachDevice(const Scope& scope,
                                 std::string_view product_key,
                                 const std::function<Status(const Device&)>& fn) = 0;

    // Firmware.
    virtual Result<std::optional<Firmware>> FindFirmware(const Scope& scope,
                                                         std::string_view firmware_id) = 0;
    virtual Result<bool> FirmwareNameExists(const Scope& scope, std::string_view name) = 0;
    virtual Result<int64_t> CountFirmware(const Scope& scope) = 0;

    /// What a listing of one device's jobs of one package checks first, in one statement:
    /// whether the product and the package exist in the scope, and the device's iot_id (empty
    /// when there is no such device).
    struct DevicePackageRefs {
        bool product_exists = false;
        std::string iot_id;
        bool firmware_exists = false;
    };
    virtual Result<DevicePackageRefs> ResolveDevicePackage(const Scope& scope,
                                                           std::string_view product_key,
                                                           std::string_view device_name,
                                                           std::string_view firmware_id) = 0;

    // Jobs.
    /// The job with its tags and source versions.
    virtual Result<std::optional<Job>> FindJob(const Scope& scope, std::string_view job_id) = 0;
    /// Jobs of `firmware_id` in which the device has a task, newest job first (created_ms
    /// descending, then job_id ascending), with tags. An index range scan on the tasks of one
    /// device; `offset`/`limit` select the page, `total` counts all such jobs.
    virtual Result<Page<Job>> ListJobsByDevice(const Scope& scope,
                                               std::string_view iot_id,
                                               std::string_view firmware_id,
                                               int64_t offset,
                                               int64_t limit) = 0;

    // Tasks.
    /// The device's tasks in CONFIRM, QUEUED, NOTIFIED or IN_PROGRESS, oldest first.
    virtual Result<std::vector<Task>> ListUnfinishedTasksOfDevice(const Scope& scope,
                                                                  std::string_view iot_id) = 0;
    virtual Result<std::optional<Task>> FindTask(const Scope& scope, std::string_view task_id) = 0;

    // ---- Lists and lookups of the complete management API --------------------------------
    // Ordering rules: "newest first" means created_ms descending, then the public id ascending.

    /// Products of the scope, oldest first (created_ms ascending, then product_key), each with
    /// its device count in `device_counts` (same positions as `items`).
    virtual Result<Page<Product>> ListProducts(const Scope& scope,
                                               int64_t offset,
                                               int64_t limit,
                                               std::vector<int64_t>& device_counts) = 0;
    /// Devices of a product, oldest first (created_ms ascending, then iot_id).
    virtual Result<Page<Device>> ListDevices(const Scope& scope,
                                             std::string_view product_key,
                                             int64_t offset,
                                             int64_t limit) = 0;
    /// Firmware of the scope, newest first; empty filters match everything; exact matches.
    virtual Result<Page<Firmware>> ListFirmware(const Scope& scope,
                                                std::string_view product_key,
                                                std::string_view dest_version,
                                                int64_t offset,
                                                int64_t limit) = 0;
    /// Number of packages of the product that belong to the module (exact name).
    virtual Result<int64_t> CountFirmwareOfModule(const Scope& scope,
                                                  std::string_view product_key,
                                                  std::string_view module_name) = 0;

    /// Jobs of a package, newest first, with tags and source versions.
    virtual Result<Page<Job>> ListJobsByFirmware(const Scope& scope,
                                                 std::string_view firmware_id,
                                                 int64_t offset,
                                                 int64_t limit) = 0;
    /// The package's dynamic job in IN_PROGRESS, if any (at most one exists).
    virtual Result<std::optional<Job>> FindRunningDynamicJob(const Scope& scope,
                                                             std::string_view firmware_id) = 0;
    /// Dynamic jobs in IN_PROGRESS of a product, newest first (device reports are matched
    /// against them).
    virtual Result<std::vector<Job>> ListRunningDynamicJobs(const Scope& scope,
                                                            std::string_view product_key) = 0;
    /// True when the package has a job in PLANNED or IN_PROGRESS, or an unfinished task.
    virtual Result<bool> FirmwareHasActiveWork(const Scope& scope,
                                               std::string_view firmware_id) = 0;

    /// Tasks of a job, optionally of one status, ordered by created_ms then task_id.
    virtual Result<Page<Task>> ListTasksByJob(const Scope& scope,
                                              std::string_view job_id,
                                              std::optional<TaskStatus> status,
                                              int64_t offset,
                                              int64_t limit) = 0;
    /// Tasks of a job for the named devices (any number of names), optionally of one status.
    virtual Result<std::vector<Task>> ListTasksByJobAndDevices(
        const Scope& scope,
        std::string_view job_id,
        const std::vector<std::string>& device_names,
        std::optional<TaskStatus> status) = 0;
    /// Tasks with these ids (ids not found are simply absent), in the order asked.
    virtual Result<std::vector<Task>> FindTasks(const Scope& scope,
                                                const std::vector<std::string>& task_ids) = 0;
    /// Tasks of one device for one package; restricted to one job when job_id is not empty.
    virtual Result<std::vector<Task>> ListTasksOfDeviceForFirmware(const Scope& scope,
                                                                   std::string_view iot_id,
                                                                   std::string_view firmware_id,
                                                                   std::string_view job_id) = 0;
    virtual Result<TaskCounts> CountTasksByStatus(const Scope& scope, std::string_view job_id) = 0;
    /// What settling a job needs to know, without counting its tasks: whether any is unfinished
    /// (CONFIRM, QUEUED, NOTIFIED or IN_PROGRESS), and whether any FAILED one waits for an
    /// automatic retry (retry_at_ms not 0). A few index seeks however large the job.
    virtual Result<JobTaskState> GetJobTaskState(const Scope& scope, std::string_view job_id) = 0;
    /// Calls `fn` for every task of the job whose status is in `statuses` (all when empty),
    /// streaming, in task_id order. `fn` may write through the same transaction.
    virtual Status ForEachTaskOfJob(const Scope& scope,
                                    std::string_view job_id,
                                    const std::vector<TaskStatus>& statuses,
                                    const std::function<Status(const Task&)>& fn) = 0;

    /// Custom modules of a product (the implicit `default` is not stored), oldest first.
    virtual Result<std::vector<Module>> ListModules(const Scope& scope,
                                                    std::string_view product_key) = 0;
    /// The module whose name equals `module_name` ignoring ASCII letter case.
    virtual Result<std::optional<Module>> FindModule(const Scope& scope,
                                                     std::string_view product_key,
                                                     std::string_view module_name) = 0;
    /// Reported module versions of a device, ordered by module_name.
    virtual Result<Page<ModuleVersion>> ListModuleVersions(const Scope& scope,
                                                           std::string_view iot_id,
                                                           int64_t offset,
                                                           int64_t limit) = 0;
    virtual Result<std::optional<ModuleVersion>> FindModuleVersion(
        const Scope& scope, std::string_view iot_id, std::string_view module_name) = 0;

    virtual Result<std::optional<Group>> FindGroup(const Scope& scope,
                                                   std::string_view group_id) = 0;
    virtual Result<bool> GroupNameExists(const Scope& scope, std::string_view group_name) = 0;
    /// Groups, oldest first. `name_fragment` matches anywhere in the name (empty = all);
    /// `super_group_id` empty = any parent; `types` empty = any type.
    virtual Result<Page<Group>> ListGroups(const Scope& scope,
                                           std::string_view name_fragment,
                                           std::string_view super_group_id,
                                           const std::vector<GroupType>& types,
                                           int64_t offset,
                                           int64_t limit) = 0;
    virtual Result<int64_t> CountGroups(const Scope& scope) = 0;
    virtual Result<int64_t> CountSubGroups(const Scope& scope, std::string_view group_id) = 0;
    virtual Result<int64_t> CountGroupMembers(const Scope& scope, std::string_view group_id) = 0;
    /// Calls `fn` for every member device of a static group, in iot_id order.
    virtual Status ForEachGroupMember(const Scope& scope,
                                      std::string_view group_id,
                                      const std::function<Status(const Device&)>& fn) = 0;
    virtual Result<int64_t> CountGroupsOfDevice(const Scope& scope, std::string_view iot_id) = 0;
    virtual Result<bool> IsGroupMember(const Scope& scope,
                                       std::string_view group_id,
                                       std::string_view iot_id) = 0;

    virtual Result<std::optional<BatchRegistration>> FindBatchRegistration(
        const Scope& scope, std::string_view product_key, int64_t apply_id) = 0;

    virtual Result<std::optional<StoredFile>> FindFile(const Scope& scope,
                                                       std::string_view object_key) = 0;
    /// Whether any stored file (of any tenant) uses the blob; blobs are shared by content.
    virtual Result<bool> BlobInUse(std::string_view sha256) = 0;
    /// The file record with that object key in whichever scope holds it (uploads arrive
    /// without an AccessKey; the key chosen by otad identifies the tenant).
    virtual Result<std::optional<std::pair<Scope, StoredFile>>> FindFileAnyScope(
        std::string_view object_key) = 0;

    // ---- Work that spans tenants (the scheduler) -----------------------------------------

    /// Jobs that need the scheduler at `now_ms`: PLANNED with 0 < schedule_ms <= now, and
    /// IN_PROGRESS with 0 < schedule_finish_ms <= now. At most `limit`, earliest first.
    virtual Result<std::vector<ScopedJob>> ListJobsDue(int64_t now_ms, int64_t limit) = 0;
    /// Tasks that need the scheduler at `now_ms`: FAILED with 0 < retry_at_ms <= now, and
    /// IN_PROGRESS with 0 < timeout_at_ms <= now. At most `limit`, earliest first.
    virtual Result<std::vector<ScopedTask>> ListTasksDue(int64_t now_ms, int64_t limit) = 0;
    /// The earliest future time at which ListJobsDue or ListTasksDue would return something,
    /// or 0 when nothing is scheduled.
    virtual Result<int64_t> NextDueTime() = 0;

    // ---- The device channel (spans tenants: ProductKey is unique across them) -------------

    /// The device with that ProductKey and DeviceName in whichever scope holds it.
    virtual Result<std::optional<ScopedDevice>> FindDeviceAnyScope(
        std::string_view product_key, std::string_view device_name) = 0;
    /// IN_PROGRESS jobs with NeedPush whose push_backlog flag is set, oldest first.
    virtual Result<std::vector<ScopedJob>> ListJobsWithPushBacklog(int64_t limit) = 0;
    /// QUEUED tasks of the job whose device is ONLINE, oldest first, at most `limit`.
    virtual Result<std::vector<Task>> ListPushableTasks(const Scope& scope,
                                                        std::string_view job_id,
                                                        int64_t limit) = 0;
    /// NOTIFIED and IN_PROGRESS tasks of the device, oldest first (what a device that comes
    /// back online is offered again).
    virtual Result<std::vector<Task>> ListDeliveredTasksOfDevice(const Scope& scope,
                                                                 std::string_view iot_id) = 0;
    /// NOTIFIED and IN_PROGRESS tasks last offered (notified_ms) and last changed (modified_ms)
    /// before `before_ms`, of ONLINE devices, in IN_PROGRESS batches with NeedPush: offers
    /// that may have been lost. Oldest offer first, at most `limit`, across tenants.
    virtual Result<std::vector<ScopedTask>> ListStaleOffers(int64_t before_ms, int64_t limit) = 0;

    // ---- Large static batches --------------------------------------------------------------

    /// What the batch rules need to know of one device (ForEachBatchCandidate).
    struct BatchCandidate {
        std::string iot_id;
        std::string product_key;
        std::string device_name;
        /// The device's version of the module: firmware_version for "default", else the
        /// version it last reported for the module (exact name), "" when it never did.
        std::string current_version;
        /// Whether the device has a task in CONFIRM, QUEUED, NOTIFIED or IN_PROGRESS (of any
        /// batch and module).
        bool has_unfinished_task = false;
    };

    /// Calls `fn` for the devices of the product in iot_id order: every device when `names`
    /// is null, otherwise those whose device_name is in `*names` (sorted ascending, no
    /// repeats; names of no device of the product are skipped). One pass with set-based
    /// reads, rather than a lookup per device. `fn` may write tasks through the same
    /// transaction (it must not write devices or module versions); a task written for a device
    /// already passed does not change what later devices report. Stops early and returns the
    /// error if `fn` fails.
    virtual Status ForEachBatchCandidate(
        const Scope& scope,
        std::string_view product_key,
        std::string_view module_name,
        const std::vector<std::string>* names,
        const std::function<Status(const BatchCandidate&)>& fn) = 0;
};

/// Reads and writes inside one transaction: all of it becomes durable at commit, or none.
class WriteTx : public ReadTx {
  public:
    /// Fails with kInternal if the name or AccessKeyId is taken (callers check first).
    virtual Result<Account> InsertAccount(const Account& account) = 0;
    virtual Result<Instance> InsertInstance(const Instance& instance) = 0;

    /// kProductNameExists if the name is taken in the scope.
    virtual Status InsertProduct(const Scope& scope, const Product& product) = 0;
    /// kDeviceNameExists if (product_key, device_name) is taken in the scope.
    virtual Status InsertDevice(const Scope& scope, const Device& device) = 0;
    /// kFirmwareNameExists if the name is taken in the scope.
    virtual Status InsertFirmware(const Scope& scope, const Firmware& firmware) = 0;
    virtual Status UpdateFirmwareStatus(const Scope& scope,
                                        std::string_view firmware_id,
                                        FirmwareStatus status,
                                        int verify_progress,
                                        int64_t modified_ms) = 0;

    /// Inserts the job with its tags and source versions.
    virtual Status InsertJob(const Scope& scope, const Job& job) = 0;
    /// Sets a job's status and its start/end times (0 = unset) and modified time.
    virtual Status UpdateJobStatus(const Scope& scope,
                                   std::string_view job_id,
                                   JobStatus status,
                                   int64_t start_ms,
                                   int64_t end_ms,
                                   int64_t modified_ms) = 0;
    /// Inserts tasks of one job; `task.job_created_ms` must be the job's created_ms.
    virtual Status InsertTasks(const Scope& scope, const std::vector<Task>& tasks) = 0;
    /// Sets status, desc and modified time of one task.
    virtual Status UpdateTaskStatus(const Scope& scope,
                                    std::string_view task_id,
                                    TaskStatus status,
                                    std::string_view task_desc,
                                    int64_t modified_ms) = 0;

    // ---- Writes of the complete management API --------------------------------------------
    // Updates and deletes of a row that does not exist in the scope return the matching
    // not-found code (kProductNotFound, kDeviceNotFound, kFirmwareNotFound, kJobNotFound,
    // kTaskNotFound, kModuleNotFound, kGroupNotFound, kFileNotFound).

    /// Sets product_name and description. kProductNameExists if the name is taken by another
    /// product of the scope.
    virtual Status UpdateProduct(const Scope& scope, const Product& product) = 0;
    /// Deletes the product with its devices, modules, module versions, group memberships,
    /// firmware, jobs and tasks.
    virtual Status DeleteProduct(const Scope& scope, std::string_view product_key) = 0;
    /// Sets the mutable device fields: nickname, status, firmware_version, ip_address,
    /// modified/active/online times.
    virtual Status UpdateDevice(const Scope& scope, const Device& device) = 0;
    /// Deletes the device, its module versions and group memberships. Its tasks stay (they are
    /// history; the domain cancels unfinished ones first).
    virtual Status DeleteDevice(const Scope& scope, std::string_view iot_id) = 0;
    /// Deletes the package with its files list, jobs and tasks.
    virtual Status DeleteFirmware(const Scope& scope, std::string_view firmware_id) = 0;
    /// Replaces every mutable job field (status, times, policy, tags, src_versions).
    virtual Status UpdateJob(const Scope& scope, const Job& job) = 0;
    /// Replaces every mutable task field (status, progress, desc, module, versions, retry and
    /// timeout bookkeeping, modified and notified times).
    virtual Status UpdateTask(const Scope& scope, const Task& task) = 0;
    /// Every ONLINE device becomes OFFLINE, in all scopes. Returns how many changed.
    virtual Result<int64_t> ResetPresence() = 0;
    /// Takes or renews the lease `name` for `holder` until `expires_ms`: when nobody holds it,
    /// when its term ended before `now_ms`, or when `holder` holds it already. Returns whether
    /// `holder` holds it after the call. Leases are shared by every process on the database.
    virtual Result<bool> HoldLease(std::string_view name,
                                   std::string_view holder,
                                   int64_t now_ms,
                                   int64_t expires_ms) = 0;
    /// Ends the lease `name` now if `holder` holds it; nothing otherwise.
    virtual Status ReleaseLease(std::string_view name, std::string_view holder) = 0;
    /// Writes only the push-pacing fields of the job (push_window_start_ms,
    /// push_window_count, push_backlog). kJobNotFound.
    virtual Status UpdateJobPushState(const Scope& scope, const Job& job) = 0;

    /// kModuleNameExists when a module of the product has that name ignoring case.
    virtual Status InsertModule(const Scope& scope, const Module& module) = 0;
    /// Sets alias_name, desc and modified_ms of the module named exactly module.module_name.
    virtual Status UpdateModule(const Scope& scope, const Module& module) = 0;
    virtual Status DeleteModule(const Scope& scope,
                                std::string_view product_key,
                                std::string_view module_name) = 0;
    /// Inserts or replaces the device's version of one module.
    virtual Status UpsertModuleVersion(const Scope& scope, const ModuleVersion& version) = 0;

    /// kGroupNameExists if the name is taken in the scope.
    virtual Status InsertGroup(const Scope& scope, const Group& group) = 0;
    /// Deletes the group and its memberships.
    virtual Status DeleteGroup(const Scope& scope, std::string_view group_id) = 0;
    /// Adds a device to a static group; returns false if it was already a member.
    virtual Result<bool> AddGroupMember(const Scope& scope,
                                        std::string_view group_id,
                                        std::string_view iot_id) = 0;

    /// Inserts the record; apply_id must be unique (see NextApplyId).
    virtual Status InsertBatchRegistration(const Scope& scope, const BatchRegistration& r) = 0;
    virtual Status UpdateBatchRegistration(const Scope& scope, const BatchRegistration& r) = 0;
    /// A new apply id, larger than every one handed out before (across tenants).
    virtual Result<int64_t> NextApplyId() = 0;

    /// Inserts the record of a form handed out. object_key must be unique.
    virtual Status InsertFile(const Scope& scope, const StoredFile& file) = 0;
    /// Records the upload or its use: size, md5, sha256, uploaded_ms and referenced.
    virtual Status UpdateFile(const Scope& scope, const StoredFile& file) = 0;
    virtual Status DeleteFile(const Scope& scope, std::string_view object_key) = 0;
    /// Unreferenced records that expired before `before_ms`, across tenants, at most `limit`:
    /// forms never used (uploaded_ms == 0 and upload_deadline_ms < before_ms) and uploads
    /// never referenced (referenced == false and 0 < uploaded_ms < before_ms).
    virtual Result<std::vector<std::pair<Scope, StoredFile>>> ListExpiredFiles(int64_t before_ms,
                                                                               int64_t limit) = 0;
};

/// Content-addressed file bytes (firmware files, device-list files), named by the lower-case
/// hex SHA-256 of their content. Implemented outside the domain (src/files); the domain only
/// reads small files through it and asks for removal.
class BlobStore {
  public:
    virtual ~BlobStore() = default;
    /// The whole content of a blob; kFileNotFound if absent; kInvalidFormattedParameter if it
    /// is larger than `max_bytes`.
    virtual Result<std::string> ReadAll(std::string_view sha256, size_t max_bytes) = 0;
    /// Removes a blob; removing an absent blob succeeds.
    virtual Status Remove(std::string_view sha256) = 0;
};

/// The database. Thread-safe: any thread may open transactions; writes are serialized.
class Store {
  public:
    virtual ~Store() = default;

    /// Runs `fn` in a read transaction (a consistent snapshot). Returns fn's status.
    virtual Status Read(const std::function<Status(ReadTx&)>& fn) = 0;

    /// Runs `fn` in a write transaction. Commits (durably) when fn succeeds and rolls back
    /// when it fails; returns fn's status, or the commit's failure.
    virtual Status Write(const std::function<Status(WriteTx&)>& fn) = 0;

    /// A cheap liveness check of the database (for /healthz).
    virtual Status Ping() = 0;
};

}  // namespace otad::domain
