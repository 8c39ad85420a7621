#pragma once

#include "common/result.hpp"
#include "storage/sql/statement.hpp"

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>

struct sqlite3;
struct sqlite3_stmt;

namespace otad::storage::sqlite {

using sql::Statement;

class Connection;

/// One use of a prepared SQLite statement. Cached statements live in their connection's cache
/// and are marked busy while in use; a statement prepared for a nested use (its cached one
/// being busy) is owned by itself and finalized on release.
class SqliteStatement final : public sql::StatementImpl {
  public:
    SqliteStatement(Connection* connection, sqlite3_stmt* stmt, bool cached)
        : connection_(connection), stmt_(stmt), cached_(cached) {}
    ~SqliteStatement() override;
    SqliteStatement(const SqliteStatement&) = delete;
    SqliteStatement& operator=(const SqliteStatement&) = delete;

    void BindInt(int index, int64_t value) override;
    void BindText(int index, std::string_view value) override;
    void BindNull(int index) override;
    Result<bool> Step() override;
    Result<sql::Violation> RunChecked() override;
    void Reset() override;
    int64_t ColumnInt64(int column) const override;
    std::string ColumnText(int column) const override;
    bool ColumnIsNull(int column) const override;
    void Release() override;

  private:
    friend class Connection;

    Connection* connection_;
    sqlite3_stmt* stmt_;
    bool cached_;
    bool busy_ = false;
};

/// One SQLite connection and its cache of prepared statements. Not thread-safe: one thread at a
/// time (the store hands connections out accordingly).
class Connection final : public sql::Connection {
  public:
    struct Options {
        std::string path;
        bool writer = false;  ///< false: the connection refuses writes (query_only)
        bool synchronous_full = true;
        int busy_timeout_ms = 5000;
    };

    static Result<std::unique_ptr<Connection>> Open(const Options& options);
    ~Connection() override;
    Connection(const Connection&) = delete;
    Connection& operator=(const Connection&) = delete;

    sql::Dialect dialect() const override { return sql::Dialect::kSqlite; }

    /// Returns the cached statement for `sql`, preparing it on first use. If the cached statement
    /// is in use (a nested use, e.g. a query issued while another of the same kind is being
    /// stepped), a separate statement is prepared for this use.
    Result<Statement> Prepare(std::string_view sql) override;

    int64_t Changes() const override;
    int64_t TotalChanges() const override;

    /// Runs one or more statements without parameters (pragmas, transaction control, the
    /// migrations).
    Status ExecScript(const char* sql);

    /// Rolls back the open transaction, if there is one; errors are ignored because the caller is
    /// already on a failure path.
    void RollbackQuietly();
    /// Commits the open transaction.
    Status Commit();
    bool InTransaction() const;

    /// An Error for a failed SQLite call: kUnavailable for lock contention, kInternal otherwise,
    /// with SQLite's message in Error::internal.
    Error ErrorFrom(int rc, std::string_view context) const;

    /// Calls `hook` after each commit on this connection with the number of pages then in the
    /// WAL, on the committing thread. This replaces SQLite's automatic checkpoint, which no
    /// longer runs after this connection's commits. `hook` must not throw; an empty one removes
    /// it (and the automatic checkpoint stays off).
    void SetWalCommitHook(std::function<void(int wal_pages)> hook);
    /// A PASSIVE checkpoint: copies as much of the WAL into the database file as it can without
    /// waiting for readers or writers.
    Status CheckpointPassive();

  private:
    explicit Connection(sqlite3* db) : db_(db) {}
    static int OnWalCommit(void* self, sqlite3* db, const char* schema, int wal_pages);

    sqlite3* db_;
    std::function<void(int)> wal_hook_;
    // Keys view the callers' static SQL constants.
    std::unordered_map<std::string_view, std::unique_ptr<SqliteStatement>> cache_;
};

}  // namespace otad::storage::sqlite
