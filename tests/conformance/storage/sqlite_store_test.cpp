// Checks that only make sense for the SQLite backend: query plans, migrations, options.

#include "storage/sqlite/sqlite_store.hpp"

#include "storage/sql/tx.hpp"
#include "storage/sqlite/connection.hpp"
#include "storage/sqlite/migrate.hpp"
#include "storage/sqlite/migrations.hpp"
#include "store_conformance.hpp"
#include "temp_dir.hpp"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <chrono>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>
#include <vector>

namespace otad::conformance {
namespace {

using domain::ReadTx;
using domain::Scope;
using domain::WriteTx;
using storage::sqlite::OpenSqliteStore;
using storage::sqlite::SqliteOptions;

// A raw connection to inspect the file next to the store.
class RawDb {
  public:
    explicit RawDb(const std::string& path) {
        if (sqlite3_open_v2(path.c_str(), &db_, SQLITE_OPEN_READWRITE, nullptr) != SQLITE_OK) {
            ADD_FAILURE() << "cannot open " << path;
        }
    }
    ~RawDb() { sqlite3_close_v2(db_); }
    RawDb(const RawDb&) = delete;
    RawDb& operator=(const RawDb&) = delete;

    // Runs `sql` and returns the given column of every row.
    std::vector<std::string> Column(const std::string& sql, int column) {
        std::vector<std::string> values;
        sqlite3_stmt* stmt = nullptr;
        if (sqlite3_prepare_v2(db_, sql.c_str(), -1, &stmt, nullptr) != SQLITE_OK) {
            ADD_FAILURE() << sqlite3_errmsg(db_) << " in " << sql;
            return values;
        }
        int rc = SQLITE_ROW;
        while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
            const unsigned char* text = sqlite3_column_text(stmt, column);
            values.emplace_back(text != nullptr ? reinterpret_cast<const char*>(text) : "");
        }
        EXPECT_EQ(rc, SQLITE_DONE) << sqlite3_errmsg(db_);
        sqlite3_finalize(stmt);
        return values;
    }

    void Exec(const std::string& sql) {
        EXPECT_EQ(sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, nullptr), SQLITE_OK)
            << sqlite3_errmsg(db_);
    }

  private:
    sqlite3* db_ = nullptr;
};

class SqliteStoreTest : public ::testing::Test {
  protected:
    void SetUp() override {
        ASSERT_FALSE(dir_.path().empty());
        options_.path = (dir_.path() / "otad.db").string();
        auto opened = OpenSqliteStore(options_);
        OTA_ASSERT_OK(opened);
        store_ = std::move(opened).value();
        OTA_ASSERT_OK(store_->Write([&](WriteTx& tx) -> Status {
            OTA_ASSIGN_OR_RETURN(auto account,
                                 tx.InsertAccount(domain::Account{.id = 0,
                                                                  .name = "alice",
                                                                  .access_key_id = "AK",
                                                                  .access_key_secret = "s",
                                                                  .enabled = true,
                                                                  .created_ms = 1}));
            OTA_ASSIGN_OR_RETURN(auto instance,
                                 tx.InsertInstance(domain::Instance{.id = 0,
                                                                    .account_id = account.id,
                                                                    .instance_id = "iot-1",
                                                                    .is_default = true,
                                                                    .created_ms = 1}));
            scope_ = Scope{account.id, instance.id};
            return tx.InsertProduct(scope_, MakeProduct("a1ProductAA", "P"));
        }));
    }

    // Reads the number of products in the scope through `store`.
    void ExpectProducts(domain::Store& store, int64_t expected) {
        OTA_EXPECT_OK(store.Read([&](ReadTx& tx) -> Status {
            OTA_ASSIGN_OR_RETURN(int64_t count, tx.CountProducts(scope_));
            EXPECT_EQ(count, expected);
            return Ok();
        }));
    }

    TempDir dir_;
    SqliteOptions options_;
    std::unique_ptr<domain::Store> store_;
    Scope scope_;
};

std::vector<std::string> Plan(RawDb& db, std::string_view sql) {
    return db.Column("EXPLAIN QUERY PLAN " + std::string(sql), 3);
}

std::string Join(const std::vector<std::string>& lines) {
    std::string text;
    for (const std::string& line : lines) {
        text += line + "\n";
    }
    return text;
}

// The device's job listing must be a range scan of tasks_by_firmware_device that also yields
// the page order (no sort step), with each job found by a unique key, and the count must read
// the index alone.
void ExpectIndexedPlans(RawDb& db) {
    std::vector<std::string> select = Plan(db, storage::sql::kSelectJobsByDevice);
    std::string select_text = Join(select);
    SCOPED_TRACE("plan of the job page:\n" + select_text);
    ASSERT_EQ(select.size(), 2u);
    // "USING COVERING INDEX" in practice: the task's columns needed are all in the index.
    EXPECT_EQ(select[0].rfind("SEARCH t USING ", 0), 0u);
    EXPECT_NE(select[0].find("INDEX tasks_by_firmware_device (account_id=? AND instance_id=? AND "),
              std::string::npos);
    EXPECT_NE(select[0].find("firmware_id=? AND iot_id=?"), std::string::npos);
    EXPECT_EQ(select[1].rfind("SEARCH j USING INDEX", 0), 0u);
    EXPECT_NE(select[1].find("job_id=?"), std::string::npos);
    EXPECT_EQ(select_text.find("SCAN"), std::string::npos);
    EXPECT_EQ(select_text.find("TEMP B-TREE"), std::string::npos);

    std::vector<std::string> count = Plan(db, storage::sql::kCountJobsByDevice);
    SCOPED_TRACE("plan of the count:\n" + Join(count));
    ASSERT_EQ(count.size(), 1u);
    EXPECT_EQ(count[0].rfind("SEARCH tasks USING COVERING INDEX tasks_by_firmware_device (", 0),
              0u);
}

TEST_F(SqliteStoreTest, ListJobsByDeviceUsesTheTaskIndex) {
    // Enough rows that a poor plan would have something to choose from.
    OTA_ASSERT_OK(store_->Write([&](WriteTx& tx) -> Status {
        std::vector<domain::Device> devices;
        for (int d = 0; d < 50; ++d) {
            devices.push_back(
                MakeDevice("a1ProductAA", "iot-" + std::to_string(d), "dev-" + std::to_string(d)));
            OTA_TRY(tx.InsertDevice(scope_, devices.back()));
        }
        for (int f = 0; f < 3; ++f) {
            std::string firmware_id = "fw-" + std::to_string(f);
            OTA_TRY(tx.InsertFirmware(scope_,
                                      MakeFirmware("a1ProductAA", firmware_id, "F" + firmware_id)));
            for (int j = 0; j < 20; ++j) {
                domain::Job job = MakeJob("a1ProductAA",
                                          firmware_id,
                                          "job-" + std::to_string(f) + "-" + std::to_string(j),
                                          1000 + j);
                OTA_TRY(tx.InsertJob(scope_, job));
                std::vector<domain::Task> tasks;
                for (const domain::Device& device : devices) {
                    tasks.push_back(MakeTask(job, device, job.job_id + "-" + device.iot_id, 1));
                }
                OTA_TRY(tx.InsertTasks(scope_, tasks));
            }
        }
        return Ok();
    }));
    RawDb db(options_.path);
    {
        SCOPED_TRACE("without statistics");
        ExpectIndexedPlans(db);
    }
    db.Exec("ANALYZE");
    {
        SCOPED_TRACE("after ANALYZE");
        ExpectIndexedPlans(db);
    }
}

// Batch creation walks the product's devices in index order (no sort) and answers the
// unfinished-task question from the partial index, never from the task rows.
TEST_F(SqliteStoreTest, BatchCandidatesUseTheUnfinishedTaskIndex) {
    RawDb db(options_.path);
    for (const std::string_view sql :
         {storage::sql::kSelectBatchCandidates, storage::sql::kSelectBatchCandidateByName}) {
        const std::string text = Join(Plan(db, sql));
        SCOPED_TRACE("plan:\n" + text);
        EXPECT_NE(text.find("tasks_unfinished_by_device"), std::string::npos);
        EXPECT_EQ(text.find("SCAN"), std::string::npos);
        EXPECT_EQ(text.find("TEMP B-TREE"), std::string::npos);
    }
    EXPECT_NE(Join(Plan(db, storage::sql::kSelectBatchCandidates)).find("devices_by_product"),
              std::string::npos);
}

// A device's unfinished and delivered tasks come from the partial index of unfinished tasks,
// not from the rows of every task the device ever had.
TEST_F(SqliteStoreTest, TasksOfADeviceByStatusUseTheUnfinishedTaskIndex) {
    RawDb db(options_.path);
    for (const std::string_view sql : {storage::sql::kSelectUnfinishedTasksOfDevice,
                                       storage::sql::kSelectDeliveredTasksOfDevice}) {
        const std::string text = Join(Plan(db, sql));
        SCOPED_TRACE("plan:\n" + text);
        EXPECT_NE(text.find("SEARCH tasks USING INDEX tasks_unfinished_by_device (account_id=? "
                            "AND instance_id=? AND iot_id=?)"),
                  std::string::npos);
        EXPECT_EQ(text.find("SCAN"), std::string::npos);
    }
}

// Enough rows of every kind that a poor plan would have something to choose from: two
// products with firmware of several versions, jobs with many tasks in every status.
Status SeedManagementRows(domain::WriteTx& tx, const Scope& scope) {
    OTA_TRY(tx.InsertProduct(scope, MakeProduct("a1ProductBB", "P2")));
    std::vector<domain::Device> devices;
    for (int d = 0; d < 40; ++d) {
        devices.push_back(
            MakeDevice("a1ProductAA", "iot-" + std::to_string(d), "dev-" + std::to_string(d)));
        OTA_TRY(tx.InsertDevice(scope, devices.back()));
    }
    const domain::TaskStatus statuses[] = {domain::TaskStatus::kQueued,
                                           domain::TaskStatus::kSucceeded,
                                           domain::TaskStatus::kFailed,
                                           domain::TaskStatus::kInProgress};
    for (int f = 0; f < 12; ++f) {
        std::string firmware_id = "fw-" + std::to_string(f);
        domain::Firmware firmware = MakeFirmware(
            f % 2 == 0 ? "a1ProductAA" : "a1ProductBB", firmware_id, "F" + firmware_id);
        firmware.dest_version = "1." + std::to_string(f % 3);
        firmware.created_ms = 1000 + f;
        OTA_TRY(tx.InsertFirmware(scope, firmware));
        if (f % 2 != 0) {
            continue;
        }
        for (int j = 0; j < 5; ++j) {
            domain::Job job = MakeJob("a1ProductAA",
                                      firmware_id,
                                      "job-" + std::to_string(f) + "-" + std::to_string(j),
                                      1000 + j);
            OTA_TRY(tx.InsertJob(scope, job));
            std::vector<domain::Task> tasks;
            for (size_t d = 0; d < devices.size(); ++d) {
                domain::Task task = MakeTask(job,
                                             devices[d],
                                             job.job_id + "-" + devices[d].iot_id,
                                             static_cast<int64_t>(d % 7));
                task.status = statuses[d % 4];
                tasks.push_back(task);
            }
            OTA_TRY(tx.InsertTasks(scope, tasks));
        }
    }
    return Ok();
}

// A plan that reads `index` by a range on its leading columns (SEARCH, not SCAN) and needs no
// sorting step.
void ExpectRangeScan(RawDb& db, std::string_view sql, const std::string& index) {
    std::vector<std::string> plan = Plan(db, sql);
    std::string text = Join(plan);
    SCOPED_TRACE("plan of " + std::string(sql) + ":\n" + text);
    ASSERT_FALSE(plan.empty());
    EXPECT_EQ(plan[0].rfind("SEARCH ", 0), 0u);
    EXPECT_NE(plan[0].find("INDEX " + index + " ("), std::string::npos);
    EXPECT_NE(plan[0].find("account_id=? AND instance_id=?"), std::string::npos);
    EXPECT_EQ(text.find("SCAN"), std::string::npos);
    EXPECT_EQ(text.find("TEMP B-TREE"), std::string::npos);
}

void ExpectManagementPlans(RawDb& db) {
    namespace sql = storage::sql;
    ExpectRangeScan(db, sql::kSelectTasksByJob, "tasks_by_job");
    ExpectRangeScan(db, sql::kSelectTasksByJobAndStatus, "tasks_by_job_status");
    // Any covering index on the job's range will do for the total.
    std::string total = Join(Plan(db, sql::kCountTasksByJob));
    EXPECT_EQ(total.rfind("SEARCH tasks USING COVERING INDEX tasks_by_job", 0), 0u) << total;
    EXPECT_NE(total.find("(account_id=? AND instance_id=? AND job_id=?)"), std::string::npos)
        << total;
    ExpectRangeScan(db, sql::kCountTasksByJobAndStatus, "tasks_by_job_status");
    ExpectRangeScan(db, sql::kSelectTasksOfJobByTaskId, "tasks_by_job_task");
    // One device's tasks in the job: an equality on every column of tasks_by_job_device (the
    // few rows of one name are then sorted).
    std::string named = Join(Plan(db, sql::kSelectTasksOfJobAndDevice));
    EXPECT_NE(named.find("SEARCH tasks USING INDEX tasks_by_job_device (account_id=? AND "
                         "instance_id=? AND job_id=? AND device_name=?)"),
              std::string::npos)
        << named;
    // The GROUP BY reads the job's range of tasks_by_job_status alone, already grouped.
    ExpectRangeScan(db, sql::kCountTasksByStatus, "tasks_by_job_status");
    std::string counts = Join(Plan(db, sql::kCountTasksByStatus));
    EXPECT_NE(counts.find("COVERING INDEX tasks_by_job_status (account_id=? AND instance_id=? "
                          "AND job_id=?)"),
              std::string::npos)
        << counts;
    // Settling a job: one seek per status in tasks_by_job_status, never a scan of the job.
    std::string state = Join(Plan(db, sql::kSelectJobTaskState));
    EXPECT_EQ(state.find("SCAN tasks"), std::string::npos) << state;
    const std::string seek =
        "INDEX tasks_by_job_status (account_id=? AND instance_id=? AND job_id=? AND status=?)";
    size_t seeks = 0;
    for (size_t at = state.find(seek); at != std::string::npos; at = state.find(seek, at + 1)) {
        ++seeks;
    }
    EXPECT_EQ(seeks, 5u) << state;
    ExpectRangeScan(db, sql::kSelectFirmwarePage, "firmware_newest");
    ExpectRangeScan(db, sql::kSelectFirmwarePageByProduct, "firmware_by_product");
    ExpectRangeScan(db, sql::kSelectFirmwarePageByVersion, "firmware_by_dest_version");
    // With both filters either single-filter index serves, in page order.
    std::string both = Join(Plan(db, sql::kSelectFirmwarePageByProductAndVersion));
    EXPECT_EQ(both.find("SCAN"), std::string::npos) << both;
    EXPECT_EQ(both.find("TEMP B-TREE"), std::string::npos) << both;
    EXPECT_TRUE(both.find("INDEX firmware_by_product (") != std::string::npos ||
                both.find("INDEX firmware_by_dest_version (") != std::string::npos)
        << both;
}

TEST_F(SqliteStoreTest, ManagementListsAreIndexRangeScans) {
    OTA_ASSERT_OK(store_->Write([&](WriteTx& tx) { return SeedManagementRows(tx, scope_); }));
    RawDb db(options_.path);
    {
        SCOPED_TRACE("without statistics");
        ExpectManagementPlans(db);
    }
    db.Exec("ANALYZE");
    {
        SCOPED_TRACE("after ANALYZE");
        ExpectManagementPlans(db);
    }
}

TEST(SqliteMigrationTest, UpgradesADatabaseCreatedByTheFirstMigration) {
    TempDir dir;
    ASSERT_FALSE(dir.path().empty());
    SqliteOptions options;
    options.path = (dir.path() / "otad.db").string();
    {
        auto writer = storage::sqlite::Connection::Open({.path = options.path,
                                                         .writer = true,
                                                         .synchronous_full = true,
                                                         .busy_timeout_ms = 1000});
        OTA_ASSERT_OK(writer);
        auto migrations = storage::sqlite::EmbeddedMigrations();
        ASSERT_GE(migrations.size(), 2u);
        OTA_ASSERT_OK(storage::sqlite::ApplyMigrations(**writer, migrations.first(1)));
        // Rows as a build with only 0001 wrote them.
        OTA_ASSERT_OK((*writer)->ExecScript(
            "INSERT INTO accounts VALUES (1, 'alice', 'AK', 's', 1, 1);"
            "INSERT INTO instances VALUES (7, 1, 'iot-1', 1, 1);"
            "INSERT INTO products (account_id, instance_id, product_key, product_name, "
            "    product_secret, description, node_type, data_format, aliyun_commodity_code, "
            "    auth_type, protocol_type, net_type, id2, category_key, validate_type, "
            "    publish_auto, product_status, created_ms) "
            "VALUES (1, 7, 'pk1', 'P', 'sec', 'd', 0, 1, 'iothub', 'secret', '', 3, 0, '', 0, 1, "
            "    'DEVELOPMENT_STATUS', 10);"
            "INSERT INTO devices (account_id, instance_id, iot_id, product_key, device_name, "
            "    device_secret, nickname, status, firmware_version, ip_address, created_ms, "
            "    modified_ms, active_ms, online_ms) "
            "VALUES (1, 7, 'iot-a', 'pk1', 'dev-a', 'ds', '', 'ONLINE', '1.0', '', 11, 12, 13, 14);"
            "INSERT INTO firmware (account_id, instance_id, firmware_id, firmware_name, "
            "    firmware_desc, product_key, module_name, dest_version, src_version, type, "
            "    sign_method, firmware_sign, firmware_size, firmware_url, need_to_verify, status, "
            "    verify_progress, udi, created_ms, modified_ms) "
            "VALUES (1, 7, 'fw1', 'F', '', 'pk1', 'default', '2.0', '', 0, 'MD5', 'sig', 100, "
            "    'url', 0, -1, 0, '', 20, 21);"
            "INSERT INTO firmware_files VALUES ('fw1', 0, 'a.bin', 'url-a', 5, 'm', 's');"
            "INSERT INTO jobs (account_id, instance_id, job_id, firmware_id, product_key, "
            "    job_type, selection_type, target_selection, job_status, job_desc, dynamic_mode, "
            "    gray_percent, group_id, group_name, dn_list_file_url, retry_interval_min, "
            "    retry_count, timeout_min, maximum_per_minute, overwrite_mode, multi_module_mode, "
            "    need_push, need_confirm, download_protocol, schedule_ms, schedule_finish_ms, "
            "    created_ms, modified_ms, start_ms, end_ms) "
            "VALUES (1, 7, 'job1', 'fw1', 'pk1', 'UPGRADE_FIRMWARE', 'STATIC', 'ALL', "
            "    'IN_PROGRESS', '', NULL, '', '', '', '', NULL, NULL, NULL, 100, 1, 0, 1, 0, "
            "    'HTTPS', 0, 0, 30, 31, 32, 0);"
            "INSERT INTO job_tags VALUES ('job1', 0, 'k', 'v');"
            "INSERT INTO tasks (account_id, instance_id, task_id, job_id, firmware_id, iot_id, "
            "    product_key, device_name, module_name, src_version, dest_version, status, "
            "    progress, task_desc, job_created_ms, created_ms, modified_ms) "
            "VALUES (1, 7, 'task1', 'job1', 'fw1', 'iot-a', 'pk1', 'dev-a', 'default', '1.0', "
            "    '2.0', 'IN_PROGRESS', '50', 'd', 30, 40, 41);"));
    }
    auto opened = OpenSqliteStore(options);
    OTA_ASSERT_OK(opened);
    std::unique_ptr<domain::Store> store = std::move(opened).value();
    const Scope scope{1, 7};
    OTA_EXPECT_OK(store->Read([&](ReadTx& tx) -> Status {
        OTA_ASSIGN_OR_RETURN(auto product, tx.FindProduct(scope, "pk1"));
        EXPECT_TRUE(product.has_value());
        OTA_ASSIGN_OR_RETURN(auto device, tx.FindDeviceByIotId(scope, "iot-a"));
        EXPECT_TRUE(device.has_value());
        OTA_ASSIGN_OR_RETURN(auto firmware, tx.FindFirmware(scope, "fw1"));
        EXPECT_TRUE(firmware.has_value());
        if (firmware) {
            EXPECT_EQ(firmware->multi_files.size(), 1u);
        }
        OTA_ASSIGN_OR_RETURN(auto job, tx.FindJob(scope, "job1"));
        EXPECT_TRUE(job.has_value());
        if (job) {
            EXPECT_EQ(job->tags.size(), 1u);
        }
        OTA_ASSIGN_OR_RETURN(auto task, tx.FindTask(scope, "task1"));
        EXPECT_TRUE(task.has_value());
        if (task) {
            EXPECT_EQ(task->status, domain::TaskStatus::kInProgress);
            EXPECT_EQ(task->progress, "50");
            EXPECT_EQ(task->created_ms, 40);
            // The new columns read as "not set".
            EXPECT_EQ(task->retries_used, 0);
            EXPECT_EQ(task->retry_at_ms, 0);
            EXPECT_EQ(task->progress_started_ms, 0);
            EXPECT_EQ(task->timeout_at_ms, 0);
            EXPECT_EQ(task->notified_ms, 0);
        }
        OTA_ASSIGN_OR_RETURN(auto page, tx.ListTasksByJob(scope, "job1", std::nullopt, 0, 10));
        EXPECT_EQ(page.total, 1);
        OTA_ASSIGN_OR_RETURN(int64_t next, tx.NextDueTime());
        EXPECT_EQ(next, 0);
        return Ok();
    }));
    // The new tables and columns work on the upgraded file.
    OTA_EXPECT_OK(store->Write([&](WriteTx& tx) -> Status {
        OTA_TRY(tx.InsertModule(scope,
                                domain::Module{.product_key = "pk1",
                                               .module_name = "mcu",
                                               .alias_name = "",
                                               .desc = "",
                                               .created_ms = 1,
                                               .modified_ms = 1}));
        OTA_ASSIGN_OR_RETURN(auto task, tx.FindTask(scope, "task1"));
        if (!task) {
            return MakeError(ErrorCode::kTaskNotFound);
        }
        task->timeout_at_ms = 5000;
        OTA_TRY(tx.UpdateTask(scope, *task));
        OTA_ASSIGN_OR_RETURN(int64_t apply_id, tx.NextApplyId());
        EXPECT_EQ(apply_id, 1);
        return Ok();
    }));
    OTA_EXPECT_OK(store->Read([&](ReadTx& tx) -> Status {
        OTA_ASSIGN_OR_RETURN(auto due, tx.ListTasksDue(5000, 10));
        EXPECT_EQ(due.size(), 1u);
        return Ok();
    }));
    store.reset();
    RawDb db(options.path);
    EXPECT_EQ(db.Column("SELECT name FROM schema_version ORDER BY version", 0),
              (std::vector<std::string>{"0001_init.sql",
                                        "0002_management_api.sql",
                                        "0003_device_channel.sql",
                                        "0004_unfinished_tasks.sql",
                                        "0005_stale_offers.sql",
                                        "0006_leases.sql",
                                        "0007_tasks_by_firmware_device.sql"}));
    EXPECT_EQ(db.Column("PRAGMA foreign_key_check", 0), std::vector<std::string>{});
    EXPECT_EQ(db.Column("PRAGMA integrity_check", 0), std::vector<std::string>{"ok"});
}

TEST_F(SqliteStoreTest, RecordsEachMigrationOnce) {
    store_.reset();
    auto reopened = OpenSqliteStore(options_);
    OTA_ASSERT_OK(reopened);
    RawDb db(options_.path);
    std::vector<std::string> names =
        db.Column("SELECT name FROM schema_version ORDER BY version", 0);
    auto migrations = storage::sqlite::EmbeddedMigrations();
    ASSERT_EQ(names.size(), migrations.size());
    EXPECT_EQ(names[0], "0001_init.sql");
    for (size_t i = 0; i < migrations.size(); ++i) {
        EXPECT_EQ(names[i], migrations[i].name);
        EXPECT_EQ(migrations[i].version, static_cast<int>(i) + 1);
    }
    EXPECT_EQ(db.Column("PRAGMA journal_mode", 0), std::vector<std::string>{"wal"});
}

TEST_F(SqliteStoreTest, RefusesADatabaseFromANewerVersion) {
    store_.reset();
    {
        RawDb db(options_.path);
        db.Exec("INSERT INTO schema_version (version, name) VALUES (9999, '9999_future.sql')");
    }
    auto reopened = OpenSqliteStore(options_);
    OTA_EXPECT_CODE(reopened, ErrorCode::kInternal);
}

TEST_F(SqliteStoreTest, RefusesBadOptions) {
    SqliteOptions no_readers = options_;
    no_readers.reader_connections = 0;
    OTA_EXPECT_CODE(OpenSqliteStore(no_readers), ErrorCode::kInternal);
    OTA_EXPECT_CODE(OpenSqliteStore(SqliteOptions{}), ErrorCode::kInternal);
    SqliteOptions missing_dir = options_;
    missing_dir.path = (dir_.path() / "no-such-dir" / "otad.db").string();
    OTA_EXPECT_CODE(OpenSqliteStore(missing_dir), ErrorCode::kInternal);
}

TEST_F(SqliteStoreTest, OpensWithOneReaderAndNormalSync) {
    store_.reset();
    SqliteOptions options = options_;
    options.reader_connections = 1;
    options.synchronous_full = false;
    auto reopened = OpenSqliteStore(options);
    OTA_ASSERT_OK(reopened);
    ExpectProducts(**reopened, 1);
}

TEST_F(SqliteStoreTest, TheWalIsCheckpointedInTheBackgroundWhileTheStoreIsOpen) {
    store_.reset();
    SqliteOptions options = options_;
    options.checkpoint_pages = 20;
    auto reopened = OpenSqliteStore(options);
    OTA_ASSERT_OK(reopened);
    std::unique_ptr<domain::Store> store = std::move(reopened).value();
    const auto db_bytes = [&] { return std::filesystem::file_size(options.path); };
    const auto before = db_bytes();
    // Commits of a few pages each: the WAL passes 20 pages many times over, and the records
    // reach the database file while the store stays open (without checkpoints they would all
    // stay in the WAL until the store closes).
    for (int i = 0; i < 200; ++i) {
        OTA_ASSERT_OK(store->Write([&](WriteTx& tx) -> Status {
            domain::Product p = MakeProduct("a1Bulk" + std::to_string(100000 + i),
                                            "bulk product " + std::to_string(i));
            p.description = std::string(3000, 'd');
            return tx.InsertProduct(scope_, p);
        }));
    }
    bool grew = false;
    for (int i = 0; i < 200 && !grew; ++i) {
        grew = db_bytes() > before + 100 * 4096;
        if (!grew) {
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
        }
    }
    EXPECT_TRUE(grew) << "database file " << db_bytes() << " bytes, " << before << " before";
    ExpectProducts(*store, 201);
    // Closing while the checkpointer may be busy is clean, and nothing is lost.
    store.reset();
    auto again = OpenSqliteStore(options_);
    OTA_ASSERT_OK(again);
    ExpectProducts(**again, 201);
    SqliteOptions zero = options_;
    zero.checkpoint_pages = 0;
    OTA_EXPECT_CODE(OpenSqliteStore(zero), ErrorCode::kInternal);
}

TEST_F(SqliteStoreTest, RefusesAWriteNestedInAWrite) {
    Status inner = Ok();
    OTA_EXPECT_OK(store_->Write([&](WriteTx&) -> Status {
        inner = store_->Write([](WriteTx&) { return Ok(); });
        return Ok();
    }));
    OTA_EXPECT_CODE(inner, ErrorCode::kInternal);
    // The store still works afterwards.
    OTA_EXPECT_OK(store_->Write([](WriteTx&) { return Ok(); }));
}

TEST_F(SqliteStoreTest, ReadTransactionsCannotWrite) {
    OTA_EXPECT_CODE(store_->Read([&](ReadTx& tx) -> Status {
        // A ReadTx is the same object as a WriteTx in this backend; the reader connection itself
        // must refuse the write.
        auto* write = dynamic_cast<WriteTx*>(&tx);
        if (write == nullptr) {
            return MakeError(ErrorCode::kInternal);
        }
        return write->InsertProduct(scope_, MakeProduct("a1ProductZZ", "Z"));
    }),
                    ErrorCode::kInternal);
}

TEST_F(SqliteStoreTest, RefusesTasksWhoseJobTimeDiffersFromTheJob) {
    domain::Job job = MakeJob("a1ProductAA", "fw-1", "job-1", 5000);
    domain::Device device = MakeDevice("a1ProductAA", "iot-1", "dev-1");
    domain::Task task = MakeTask(job, device, "task-1", 1);
    task.job_created_ms = 4999;
    OTA_EXPECT_CODE(store_->Write([&](WriteTx& tx) -> Status {
        OTA_TRY(tx.InsertJob(scope_, job));
        return tx.InsertTasks(scope_, {task});
    }),
                    ErrorCode::kInternal);
    // A task of a job that does not exist is refused too.
    domain::Task orphan = MakeTask(MakeJob("a1ProductAA", "fw-1", "job-none", 1), device, "t", 1);
    OTA_EXPECT_CODE(store_->Write([&](WriteTx& tx) { return tx.InsertTasks(scope_, {orphan}); }),
                    ErrorCode::kInternal);
}

}  // namespace
}  // namespace otad::conformance
