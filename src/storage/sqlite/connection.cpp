#include "storage/sqlite/connection.hpp"

#include <sqlite3.h>

#include <mutex>
#include <string>
#include <utility>

namespace otad::storage::sqlite {
namespace {

// A larger page cache than SQLite's 2 MiB default keeps the task indexes' hot pages in memory
// while large batches of tasks are inserted. Negative values are KiB.
// journal_size_limit: once the WAL has been checkpointed and starts over, a file grown past
// 64 MiB by a large batch is cut back to that size instead of keeping its largest size on disk.
constexpr const char* kWriterPragmas =
    "PRAGMA journal_mode = WAL;"
    "PRAGMA foreign_keys = ON;"
    "PRAGMA cache_size = -65536;"
    "PRAGMA journal_size_limit = 67108864;"
    "PRAGMA trusted_schema = OFF;";
constexpr const char* kReaderPragmas =
    "PRAGMA foreign_keys = ON;"
    "PRAGMA cache_size = -16384;"
    "PRAGMA trusted_schema = OFF;"
    "PRAGMA query_only = ON;";
constexpr const char* kSynchronousFull = "PRAGMA synchronous = FULL;";
constexpr const char* kSynchronousNormal = "PRAGMA synchronous = NORMAL;";

std::string DescribeFailure(sqlite3* db, int rc, std::string_view context) {
    std::string text = "sqlite: ";
    text.append(context);
    text.append(": ");
    // The connection's message describes the most recent failure; fall back to the code's
    // generic text when the connection itself could not be created.
    text.append(db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
    text.append(" (code ");
    text.append(std::to_string(rc));
    text.append(")");
    return text;
}

// SQLite keeps memory statistics by default, under one process-wide mutex taken on every one
// of its allocations and frees; with several reader threads that mutex is contended on every
// query. otad does not read the statistics, so they are turned off before the library
// initializes (sqlite3_config must precede it; should something else in the process have
// initialized SQLite already, the call is refused and the default stays).
void ConfigureLibraryOnce() {
    static std::once_flag once;
    std::call_once(once, [] { sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0); });
}

}  // namespace

SqliteStatement::~SqliteStatement() {
    sqlite3_finalize(stmt_);
}

void SqliteStatement::Release() {
    if (!cached_) {
        delete this;
        return;
    }
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
    busy_ = false;
}

void SqliteStatement::BindInt(int index, int64_t value) {
    sqlite3_bind_int64(stmt_, index, value);
}

void SqliteStatement::BindText(int index, std::string_view value) {
    // A default-constructed view has no data pointer, which SQLite would bind as NULL.
    const char* data = value.data() != nullptr ? value.data() : "";
    sqlite3_bind_text64(stmt_, index, data, value.size(), SQLITE_STATIC, SQLITE_UTF8);
}

void SqliteStatement::BindNull(int index) {
    sqlite3_bind_null(stmt_, index);
}

Result<bool> SqliteStatement::Step() {
    int rc = sqlite3_step(stmt_);
    if (rc == SQLITE_ROW) {
        return true;
    }
    if (rc == SQLITE_DONE) {
        return false;
    }
    return connection_->ErrorFrom(rc, sqlite3_sql(stmt_));
}

Result<sql::Violation> SqliteStatement::RunChecked() {
    while (true) {
        int rc = sqlite3_step(stmt_);
        if (rc == SQLITE_ROW) {
            continue;
        }
        if (rc == SQLITE_DONE) {
            return sql::Violation::kNone;
        }
        // A failed statement is undone by SQLite without ending the transaction.
        if (rc == SQLITE_CONSTRAINT_UNIQUE || rc == SQLITE_CONSTRAINT_PRIMARYKEY) {
            return sql::Violation::kUnique;
        }
        if (rc == SQLITE_CONSTRAINT_FOREIGNKEY) {
            return sql::Violation::kForeignKey;
        }
        return connection_->ErrorFrom(rc, sqlite3_sql(stmt_));
    }
}

void SqliteStatement::Reset() {
    sqlite3_reset(stmt_);
}

int64_t SqliteStatement::ColumnInt64(int column) const {
    return sqlite3_column_int64(stmt_, column);
}

std::string SqliteStatement::ColumnText(int column) const {
    const unsigned char* text = sqlite3_column_text(stmt_, column);
    if (text == nullptr) {
        return {};
    }
    // sqlite3_column_bytes must follow sqlite3_column_text to describe the UTF-8 form.
    int size = sqlite3_column_bytes(stmt_, column);
    return std::string(reinterpret_cast<const char*>(text), static_cast<size_t>(size));
}

bool SqliteStatement::ColumnIsNull(int column) const {
    return sqlite3_column_type(stmt_, column) == SQLITE_NULL;
}

Result<std::unique_ptr<Connection>> Connection::Open(const Options& options) {
    ConfigureLibraryOnce();
    sqlite3* db = nullptr;
    // NOMUTEX: the store guarantees that one thread at a time uses a connection.
    int flags =
        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_EXRESCODE;
    int rc = sqlite3_open_v2(options.path.c_str(), &db, flags, nullptr);
    if (rc != SQLITE_OK) {
        Error error = InternalError(DescribeFailure(db, rc, "open " + options.path));
        sqlite3_close_v2(db);
        return error;
    }
    std::unique_ptr<Connection> connection(new Connection(db));
    sqlite3_busy_timeout(db, options.busy_timeout_ms);
    OTA_TRY(connection->ExecScript(options.writer ? kWriterPragmas : kReaderPragmas));
    OTA_TRY(
        connection->ExecScript(options.synchronous_full ? kSynchronousFull : kSynchronousNormal));
    return connection;
}

Connection::~Connection() {
    // Statements are finalized before the connection closes.
    cache_.clear();
    sqlite3_close_v2(db_);
}

Result<Statement> Connection::Prepare(std::string_view sql) {
    auto it = cache_.find(sql);
    if (it != cache_.end() && !it->second->busy_) {
        it->second->busy_ = true;
        return Statement(it->second.get());
    }
    bool cache = it == cache_.end();
    sqlite3_stmt* stmt = nullptr;
    const char* tail = nullptr;
    int rc = sqlite3_prepare_v3(db_,
                                sql.data(),
                                static_cast<int>(sql.size()),
                                cache ? SQLITE_PREPARE_PERSISTENT : 0,
                                &stmt,
                                &tail);
    if (rc != SQLITE_OK) {
        return ErrorFrom(rc, sql);
    }
    if (stmt == nullptr || tail != sql.data() + sql.size()) {
        sqlite3_finalize(stmt);
        return InternalError("sqlite: expected exactly one statement: " + std::string(sql));
    }
    if (!cache) {
        // Owned by the Statement: Release deletes it.
        return Statement(new SqliteStatement(this, stmt, false));
    }
    auto [inserted, unused] =
        cache_.emplace(sql, std::make_unique<SqliteStatement>(this, stmt, true));
    inserted->second->busy_ = true;
    return Statement(inserted->second.get());
}

Status Connection::ExecScript(const char* sql) {
    char* message = nullptr;
    int rc = sqlite3_exec(db_, sql, nullptr, nullptr, &message);
    if (rc == SQLITE_OK) {
        return Ok();
    }
    std::string text = message != nullptr ? message : sqlite3_errstr(rc);
    sqlite3_free(message);
    Error error = ErrorFrom(rc, "exec");
    error.internal = "sqlite: exec: " + text + " (code " + std::to_string(rc) + ")";
    return error;
}

Status Connection::Commit() {
    OTA_ASSIGN_OR_RETURN(Statement stmt, Prepare("COMMIT"));
    return stmt.Run();
}

void Connection::RollbackQuietly() {
    // Some failures (I/O errors, a full disk) already rolled the transaction back.
    if (InTransaction()) {
        sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
    }
}

bool Connection::InTransaction() const {
    return sqlite3_get_autocommit(db_) == 0;
}

Error Connection::ErrorFrom(int rc, std::string_view context) const {
    int primary = rc & 0xff;
    ErrorCode code = (primary == SQLITE_BUSY || primary == SQLITE_LOCKED) ? ErrorCode::kUnavailable
                                                                          : ErrorCode::kInternal;
    return Error{code, {}, {}, DescribeFailure(db_, rc, context)};
}

void Connection::SetWalCommitHook(std::function<void(int wal_pages)> hook) {
    wal_hook_ = std::move(hook);
    sqlite3_wal_hook(db_, wal_hook_ ? &Connection::OnWalCommit : nullptr, this);
}

int Connection::OnWalCommit(void* self, sqlite3* /*db*/, const char* /*schema*/, int wal_pages) {
    static_cast<Connection*>(self)->wal_hook_(wal_pages);
    return SQLITE_OK;
}

Status Connection::CheckpointPassive() {
    const int rc =
        sqlite3_wal_checkpoint_v2(db_, nullptr, SQLITE_CHECKPOINT_PASSIVE, nullptr, nullptr);
    if (rc != SQLITE_OK) {
        return ErrorFrom(rc, "checkpoint");
    }
    return Ok();
}

int64_t Connection::Changes() const {
    return sqlite3_changes64(db_);
}

int64_t Connection::TotalChanges() const {
    return sqlite3_total_changes64(db_);
}

}  // namespace otad::storage::sqlite
