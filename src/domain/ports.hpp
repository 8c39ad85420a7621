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
