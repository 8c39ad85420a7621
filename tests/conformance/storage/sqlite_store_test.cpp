// Checks that only make sense for the SQLite backend: query plans, migrations, options.

#include "storage/sqlite/sqlite_store.hpp"

#include "storage/sqlite/migrations.hpp"
#include "storage/sqlite/tx.hpp"
#include "store_conformance.hpp"
#include "temp_dir.hpp"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <memory>
#include <string>
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

// The device's job listing must be a range scan of tasks_by_device that also yields the page
// order (no sort step), with each job found by a unique key, and the count must read the index
// alone.
void ExpectIndexedPlans(RawDb& db) {
    std::vector<std::string> select = Plan(db, storage::sqlite::kSelectJobsByDevice);
    std::string select_text = Join(select);
    SCOPED_TRACE("plan of the job page:\n" + select_text);
    ASSERT_EQ(select.size(), 2u);
    // "USING COVERING INDEX" in practice: the task's columns needed are all in the index.
    EXPECT_EQ(select[0].rfind("SEARCH t USING ", 0), 0u);
    EXPECT_NE(select[0].find("INDEX tasks_by_device (account_id=? AND instance_id=? AND "),
              std::string::npos);
    EXPECT_NE(select[0].find("iot_id=? AND firmware_id=?"), std::string::npos);
    EXPECT_EQ(select[1].rfind("SEARCH j USING INDEX", 0), 0u);
    EXPECT_NE(select[1].find("job_id=?"), std::string::npos);
    EXPECT_EQ(select_text.find("SCAN"), std::string::npos);
    EXPECT_EQ(select_text.find("TEMP B-TREE"), std::string::npos);

    std::vector<std::string> count = Plan(db, storage::sqlite::kCountJobsByDevice);
    SCOPED_TRACE("plan of the count:\n" + Join(count));
    ASSERT_EQ(count.size(), 1u);
    EXPECT_EQ(count[0].rfind("SEARCH tasks USING COVERING INDEX tasks_by_device (", 0), 0u);
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
    OTA_EXPECT_OK((*reopened)->Read([&](ReadTx& tx) -> Status {
        OTA_ASSIGN_OR_RETURN(int64_t count, tx.CountProducts(scope_));
        EXPECT_EQ(count, 1);
        return Ok();
    }));
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
