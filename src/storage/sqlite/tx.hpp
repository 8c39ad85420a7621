#pragma once

#include "domain/ports.hpp"
#include "storage/sqlite/connection.hpp"

#include <string_view>

namespace otad::storage::sqlite {

/// The page of jobs of ListJobsByDevice: ?1 account, ?2 instance, ?3 iot_id, ?4 firmware_id,
/// ?5 limit, ?6 offset. Declared here so that a test can check its query plan.
extern const std::string_view kSelectJobsByDevice;
/// The total of ListJobsByDevice, with the first four parameters of kSelectJobsByDevice.
extern const std::string_view kCountJobsByDevice;

/// Prepares `sql` and binds the scope as ?1 (account) and ?2 (instance), the convention of every
/// scoped query.
Result<Statement> PrepareScoped(Connection& db, std::string_view sql, const domain::Scope& scope);

/// Steps a query whose single row holds a single integer (a count, an EXISTS) and returns it.
Result<int64_t> QueryInt(Statement& stmt);

/// A transaction on one connection. The store opens and ends the SQL transaction around it;
/// reads run as well on a reader connection (which refuses writes), writes only on the writer.
/// Every method filters by its Scope's account and instance.
class SqliteTx final : public domain::WriteTx {
  public:
    explicit SqliteTx(Connection& connection) : db_(connection) {}

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

  private:
    /// Fills the job's tags and source versions.
    Status LoadJobChildren(domain::Job& job);

    Connection& db_;
};

}  // namespace otad::storage::sqlite
