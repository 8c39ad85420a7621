#pragma once

#include "domain/ports.hpp"
#include "storage/sql/statement.hpp"

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

namespace otad::storage::sql {

/// The page of jobs of ListJobsByDevice: ?1 account, ?2 instance, ?3 iot_id, ?4 firmware_id,
/// ?5 limit, ?6 offset. Declared here so that a test can check its query plan.
extern const std::string_view kSelectJobsByDevice;
/// The total of ListJobsByDevice, with the first four parameters of kSelectJobsByDevice.
extern const std::string_view kCountJobsByDevice;

// More statements declared for query plan tests. Parameters: ?1 account, ?2 instance, then as
// noted; pages end with ?N limit, ?N+1 offset.
/// ListTasksByJob without a status: ?3 job_id, ?4 limit, ?5 offset.
extern const std::string_view kSelectTasksByJob;
/// ListTasksByJob with a status: ?3 job_id, ?4 status, ?5 limit, ?6 offset.
extern const std::string_view kSelectTasksByJobAndStatus;
/// The totals of the two above, with their parameters up to the status.
extern const std::string_view kCountTasksByJob;
extern const std::string_view kCountTasksByJobAndStatus;
/// CountTasksByStatus: ?3 job_id.
extern const std::string_view kCountTasksByStatus;
/// GetJobTaskState: ?3 job_id.
extern const std::string_view kSelectJobTaskState;
/// ListTasksByJobAndDevices for one name: ?3 job_id, ?4 device_name, ?5 status or NULL.
extern const std::string_view kSelectTasksOfJobAndDevice;
/// ForEachBatchCandidate over a whole product: ?3 product_key, ?4 module_name.
extern const std::string_view kSelectBatchCandidates;
/// ForEachBatchCandidate for one name: ?3 product_key, ?4 module_name, ?5 device_name.
extern const std::string_view kSelectBatchCandidateByName;
/// ForEachTaskOfJob: ?3 job_id, ?4..?10 the statuses wanted.
extern const std::string_view kSelectTasksOfJobByTaskId;
/// ListUnfinishedTasksOfDevice and ListDeliveredTasksOfDevice: ?3 iot_id.
extern const std::string_view kSelectUnfinishedTasksOfDevice;
extern const std::string_view kSelectDeliveredTasksOfDevice;
/// ListFirmware, one statement per combination of filters: ?3 product_key and/or dest_version
/// (product first), then limit and offset.
extern const std::string_view kSelectFirmwarePage;
extern const std::string_view kSelectFirmwarePageByProduct;
extern const std::string_view kSelectFirmwarePageByVersion;
extern const std::string_view kSelectFirmwarePageByProductAndVersion;

/// Prepares `sql` and binds the scope as ?1 (account) and ?2 (instance), the convention of every
/// scoped query.
Result<Statement> PrepareScoped(Connection& db, std::string_view sql, const domain::Scope& scope);

/// PrepareScoped for a query read row by row while other statements run (Connection::
/// PrepareStream).
Result<Statement> PrepareScopedStream(Connection& db,
                                      std::string_view sql,
                                      const domain::Scope& scope);

/// `sqlite_sql` on SQLite, `portable_sql` elsewhere: for the few statements that carry SQLite's
/// planner hints (INDEXED BY), which other engines do not accept.
inline std::string_view ForDialect(const Connection& db,
                                   std::string_view sqlite_sql,
                                   std::string_view portable_sql) {
    return db.dialect() == Dialect::kSqlite ? sqlite_sql : portable_sql;
}

/// Steps a query whose single row holds a single integer (a count, an EXISTS) and returns it.
Result<int64_t> QueryInt(Statement& stmt);

/// Runs an UPDATE or DELETE; `not_found` when it changed no row.
Status RunChange(Connection& db, Statement& stmt, ErrorCode not_found);

/// Runs an INSERT (or an UPDATE that may collide). A uniqueness violation becomes `taken` when
/// `name_taken` confirms that the caller-visible name is the cause; any other violation (a
/// colliding generated identifier, say) stays an internal error.
Status RunInsert(Statement& stmt, ErrorCode taken, const std::function<Result<bool>()>& name_taken);

/// Runs an INSERT whose row refers to a parent through a foreign key: like RunInsert, and a
/// violated foreign key becomes `parent_missing`.
Status RunInsertWithParent(Statement& stmt,
                           ErrorCode taken,
                           const std::function<Result<bool>()>& name_taken,
                           ErrorCode parent_missing);

/// Reads a device from columns 0-11: iot_id, product_key, device_name, device_secret,
/// nickname, status, firmware_version, ip_address, created_ms, modified_ms, active_ms,
/// online_ms.
domain::Device ReadDevice(const Statement& stmt);

/// Binds a page's limit as ?index and its offset (negative counts as 0) as ?index+1.
void BindPage(Statement& stmt, int index, int64_t offset, int64_t limit);

/// Whether a page query is worth running once the total is known.
inline bool PageHasRows(int64_t total, int64_t offset, int64_t limit) {
    return limit > 0 && offset < total;
}

/// Steps `stmt` to its end, appending read(stmt) for each row; `read` returns T or Result<T>.
template <typename T, typename Read>
Status CollectRows(Statement& stmt, std::vector<T>& out, Read read) {
    while (true) {
        OTA_ASSIGN_OR_RETURN(bool row, stmt.Step());
        if (!row) {
            return Ok();
        }
        if constexpr (std::is_same_v<decltype(read(stmt)), T>) {
            out.push_back(read(stmt));
        } else {
            OTA_ASSIGN_OR_RETURN(T item, read(stmt));
            out.push_back(std::move(item));
        }
    }
}

/// A transaction on one connection. The store opens and ends the SQL transaction around it;
/// reads run as well on a reader connection (which refuses writes), writes only on the writer.
/// Every method filters by its Scope's account and instance.
class SqlTx final : public domain::WriteTx {
  public:
    explicit SqlTx(Connection& connection) : db_(connection) {}

    Result<std::optional<domain::Account>> FindAccountByAccessKey(std::string_view key_id) override;
    Result<std::optional<domain::Account>> FindAccountByName(std::string_view name) override;
    Result<std::vector<domain::Account>> ListAccounts() override;
    Result<std::optional<domain::Instance>> FindDefaultInstance(int64_t account_id) override;
    Result<std::optional<domain::Instance>> FindInstance(int64_t account_id,
                                                         std::string_view instance_id) override;

    Result<std::optional<domain::Product>> FindProduct(const domain::Scope& scope,
                                                       std::string_view product_key) override;
    Result<bool> ProductNameExists(const domain::Scope& scope, std::string_view name) override;
    Result<int64_t> CountProducts(const domain::Scope& scope) override;

    Result<std::optional<domain::Device>> FindDevice(const domain::Scope& scope,
                                                     std::string_view product_key,
                                                     std::string_view device_name) override;
    Result<std::optional<domain::Device>> FindDeviceByIotId(const domain::Scope& scope,
                                                            std::string_view iot_id) override;
    Result<int64_t> CountDevices(const domain::Scope& scope, std::string_view product_key) override;
    Status ForEachDevice(const domain::Scope& scope,
                         std::string_view product_key,
                         const std::function<Status(const domain::Device&)>& fn) override;

    Result<std::optional<domain::Firmware>> FindFirmware(const domain::Scope& scope,
                                                         std::string_view firmware_id) override;
    Result<bool> FirmwareNameExists(const domain::Scope& scope, std::string_view name) override;
    Result<int64_t> CountFirmware(const domain::Scope& scope) override;

    Result<DevicePackageRefs> ResolveDevicePackage(const domain::Scope& scope,
                                                   std::string_view product_key,
                                                   std::string_view device_name,
                                                   std::string_view firmware_id) override;
    Result<std::optional<domain::Job>> FindJob(const domain::Scope& scope,
                                               std::string_view job_id) override;
    Result<domain::Page<domain::Job>> ListJobsByDevice(const domain::Scope& scope,
                                                       std::string_view iot_id,
                                                       std::string_view firmware_id,
                                                       int64_t offset,
                                                       int64_t limit) override;

    Result<std::vector<domain::Task>> ListUnfinishedTasksOfDevice(const domain::Scope& scope,
                                                                  std::string_view iot_id) override;
    Result<std::optional<domain::Task>> FindTask(const domain::Scope& scope,
                                                 std::string_view task_id) override;

    Result<domain::Account> InsertAccount(const domain::Account& account) override;
    Result<domain::Instance> InsertInstance(const domain::Instance& instance) override;
    Status InsertProduct(const domain::Scope& scope, const domain::Product& product) override;
    Status InsertDevice(const domain::Scope& scope, const domain::Device& device) override;
    Status InsertFirmware(const domain::Scope& scope, const domain::Firmware& firmware) override;
    Status UpdateFirmwareStatus(const domain::Scope& scope,
                                std::string_view firmware_id,
                                domain::FirmwareStatus status,
                                int verify_progress,
                                int64_t modified_ms) override;
    Status InsertJob(const domain::Scope& scope, const domain::Job& job) override;
    Status UpdateJobStatus(const domain::Scope& scope,
                           std::string_view job_id,
                           domain::JobStatus status,
                           int64_t start_ms,
                           int64_t end_ms,
                           int64_t modified_ms) override;
    Status InsertTasks(const domain::Scope& scope, const std::vector<domain::Task>& tasks) override;
    Status UpdateTaskStatus(const domain::Scope& scope,
                            std::string_view task_id,
                            domain::TaskStatus status,
                            std::string_view task_desc,
                            int64_t modified_ms) override;

    // ---- The complete management API ----
    Result<domain::Page<domain::Product>> ListProducts(
        const domain::Scope& scope,
        int64_t offset,
        int64_t limit,
        std::vector<int64_t>& device_counts) override;
    Result<domain::Page<domain::Device>> ListDevices(const domain::Scope& scope,
                                                     std::string_view product_key,
                                                     int64_t offset,
                                                     int64_t limit) override;
    Result<domain::Page<domain::Firmware>> ListFirmware(const domain::Scope& scope,
                                                        std::string_view product_key,
                                                        std::string_view dest_version,
                                                        int64_t offset,
                                                        int64_t limit) override;
    Result<int64_t> CountFirmwareOfModule(const domain::Scope& scope,
                                          std::string_view product_key,
                                          std::string_view module_name) override;
    Result<domain::Page<domain::Job>> ListJobsByFirmware(const domain::Scope& scope,
                                                         std::string_view firmware_id,
                                                         int64_t offset,
                                                         int64_t limit) override;
    Result<std::optional<domain::Job>> FindRunningDynamicJob(const domain::Scope& scope,
                                                             std::string_view firmware_id) override;
    Result<std::vector<domain::Job>> ListRunningDynamicJobs(const domain::Scope& scope,
                                                            std::string_view product_key) override;
    Result<bool> FirmwareHasActiveWork(const domain::Scope& scope,
                                       std::string_view firmware_id) override;
    Result<domain::Page<domain::Task>> ListTasksByJob(const domain::Scope& scope,
                                                      std::string_view job_id,
                                                      std::optional<domain::TaskStatus> status,
                                                      int64_t offset,
                                                      int64_t limit) override;
    Result<std::vector<domain::Task>> ListTasksByJobAndDevices(
        const domain::Scope& scope,
        std::string_view job_id,
        const std::vector<std::string>& device_names,
        std::optional<domain::TaskStatus> status) override;
    Result<std::vector<domain::Task>> FindTasks(const domain::Scope& scope,
                                                const std::vector<std::string>& task_ids) override;
    Result<std::vector<domain::Task>> ListTasksOfDeviceForFirmware(
        const domain::Scope& scope,
        std::string_view iot_id,
        std::string_view firmware_id,
        std::string_view job_id) override;
    Result<domain::TaskCounts> CountTasksByStatus(const domain::Scope& scope,
                                                  std::string_view job_id) override;
    Result<domain::JobTaskState> GetJobTaskState(const domain::Scope& scope,
                                                 std::string_view job_id) override;
    Status ForEachTaskOfJob(const domain::Scope& scope,
                            std::string_view job_id,
                            const std::vector<domain::TaskStatus>& statuses,
                            const std::function<Status(const domain::Task&)>& fn) override;
    Result<std::vector<domain::Module>> ListModules(const domain::Scope& scope,
                                                    std::string_view product_key) override;
    Result<std::optional<domain::Module>> FindModule(const domain::Scope& scope,
                                                     std::string_view product_key,
                                                     std::string_view module_name) override;
    Result<domain::Page<domain::ModuleVersion>> ListModuleVersions(const domain::Scope& scope,
                                                                   std::string_view iot_id,
                                                                   int64_t offset,
                                                                   int64_t limit) override;
    Result<std::optional<domain::ModuleVersion>> FindModuleVersion(
        const domain::Scope& scope, std::string_view iot_id, std::string_view module_name) override;
    Result<std::optional<domain::Group>> FindGroup(const domain::Scope& scope,
                                                   std::string_view group_id) override;
    Result<bool> GroupNameExists(const domain::Scope& scope, std::string_view group_name) override;
    Result<domain::Page<domain::Group>> ListGroups(const domain::Scope& scope,
                                                   std::string_view name_fragment,
                                                   std::string_view super_group_id,
                                                   const std::vector<domain::GroupType>& types,
                                                   int64_t offset,
                                                   int64_t limit) override;
    Result<int64_t> CountGroups(const domain::Scope& scope) override;
    Result<int64_t> CountSubGroups(const domain::Scope& scope, std::string_view group_id) override;
    Result<int64_t> CountGroupMembers(const domain::Scope& scope,
                                      std::string_view group_id) override;
    Status ForEachGroupMember(const domain::Scope& scope,
                              std::string_view group_id,
                              const std::function<Status(const domain::Device&)>& fn) override;
    Result<int64_t> CountGroupsOfDevice(const domain::Scope& scope,
                                        std::string_view iot_id) override;
    Result<bool> IsGroupMember(const domain::Scope& scope,
                               std::string_view group_id,
                               std::string_view iot_id) override;
    Result<std::optional<domain::BatchRegistration>> FindBatchRegistration(
        const domain::Scope& scope, std::string_view product_key, int64_t apply_id) override;
    Result<std::optional<domain::StoredFile>> FindFile(const domain::Scope& scope,
                                                       std::string_view object_key) override;
    Result<bool> BlobInUse(std::string_view sha256) override;
    Result<std::optional<std::pair<domain::Scope, domain::StoredFile>>> FindFileAnyScope(
        std::string_view object_key) override;
    Result<std::vector<domain::ScopedJob>> ListJobsDue(int64_t now_ms, int64_t limit) override;
    Result<std::vector<domain::ScopedTask>> ListTasksDue(int64_t now_ms, int64_t limit) override;
    Result<int64_t> NextDueTime() override;
    Result<std::optional<domain::ScopedDevice>> FindDeviceAnyScope(
        std::string_view product_key, std::string_view device_name) override;
    Result<std::vector<domain::ScopedJob>> ListJobsWithPushBacklog(int64_t limit) override;
    Result<std::vector<domain::Task>> ListPushableTasks(const domain::Scope& scope,
                                                        std::string_view job_id,
                                                        int64_t limit) override;
    Result<std::vector<domain::Task>> ListDeliveredTasksOfDevice(const domain::Scope& scope,
                                                                 std::string_view iot_id) override;
    Result<std::vector<domain::ScopedTask>> ListStaleOffers(int64_t before_ms,
                                                            int64_t limit) override;
    Status ForEachBatchCandidate(const domain::Scope& scope,
                                 std::string_view product_key,
                                 std::string_view module_name,
                                 const std::vector<std::string>* names,
                                 const std::function<Status(const BatchCandidate&)>& fn) override;

    Status UpdateProduct(const domain::Scope& scope, const domain::Product& product) override;
    Status DeleteProduct(const domain::Scope& scope, std::string_view product_key) override;
    Status UpdateDevice(const domain::Scope& scope, const domain::Device& device) override;
    Status DeleteDevice(const domain::Scope& scope, std::string_view iot_id) override;
    Status DeleteFirmware(const domain::Scope& scope, std::string_view firmware_id) override;
    Status UpdateJob(const domain::Scope& scope, const domain::Job& job) override;
    Status UpdateTask(const domain::Scope& scope, const domain::Task& task) override;
    Result<int64_t> ResetPresence() override;
    Result<bool> HoldLease(std::string_view name,
                           std::string_view holder,
                           int64_t now_ms,
                           int64_t expires_ms) override;
    Status ReleaseLease(std::string_view name, std::string_view holder) override;
    Status UpdateJobPushState(const domain::Scope& scope, const domain::Job& job) override;
    Status InsertModule(const domain::Scope& scope, const domain::Module& module) override;
    Status UpdateModule(const domain::Scope& scope, const domain::Module& module) override;
    Status DeleteModule(const domain::Scope& scope,
                        std::string_view product_key,
                        std::string_view module_name) override;
    Status UpsertModuleVersion(const domain::Scope& scope,
                               const domain::ModuleVersion& version) override;
    Status InsertGroup(const domain::Scope& scope, const domain::Group& group) override;
    Status DeleteGroup(const domain::Scope& scope, std::string_view group_id) override;
    Result<bool> AddGroupMember(const domain::Scope& scope,
                                std::string_view group_id,
                                std::string_view iot_id) override;
    Status InsertBatchRegistration(const domain::Scope& scope,
                                   const domain::BatchRegistration& r) override;
    Status UpdateBatchRegistration(const domain::Scope& scope,
                                   const domain::BatchRegistration& r) override;
    Result<int64_t> NextApplyId() override;
    Status InsertFile(const domain::Scope& scope, const domain::StoredFile& file) override;
    Status UpdateFile(const domain::Scope& scope, const domain::StoredFile& file) override;
    Status DeleteFile(const domain::Scope& scope, std::string_view object_key) override;
    Result<std::vector<std::pair<domain::Scope, domain::StoredFile>>> ListExpiredFiles(
        int64_t before_ms, int64_t limit) override;

  private:
    /// Fills the tags and source versions of the jobs (read without them): one statement per
    /// job on SQLite, per 20 jobs on PostgreSQL, rather than two per job (see tx_jobs.cpp).
    Status LoadJobChildren(const std::vector<domain::Job*>& jobs);
    /// Writes the job's tags and source versions (after deleting any stored ones).
    Status StoreJobChildren(const domain::Job& job);
    /// Writes the registration's name lists (after deleting any stored ones).
    Status StoreRegistrationNames(const domain::BatchRegistration& r);

    Connection& db_;
};

}  // namespace otad::storage::sql
