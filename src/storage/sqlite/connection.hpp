#pragma once

#include "common/result.hpp"

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

struct sqlite3;
struct sqlite3_stmt;

namespace otad::storage::sqlite {

class Connection;

/// A prepared statement borrowed from a connection's cache. Move-only; when it goes out of scope
/// the statement is reset, its bindings are cleared and it returns to the cache.
///
/// Text is bound without copying: the bound characters must stay alive until the statement is
/// reset or destroyed. Binding a temporary std::string does not compile for that reason.
class Statement {
  public:
    Statement(Statement&& other) noexcept;
    Statement& operator=(Statement&&) = delete;
    Statement(const Statement&) = delete;
    Statement& operator=(const Statement&) = delete;
    ~Statement();

    // Parameters are numbered from 1, as in SQL (`?1`, `?2`, ...).
    void Bind(int index, int64_t value);
    void Bind(int index, int value) { Bind(index, static_cast<int64_t>(value)); }
    void Bind(int index, bool value) { Bind(index, static_cast<int64_t>(value ? 1 : 0)); }
    void Bind(int index, std::string_view value);
    void Bind(int index, const char* value) { Bind(index, std::string_view(value)); }
    void Bind(int index, const std::string& value) { Bind(index, std::string_view(value)); }
    void Bind(int index, std::string&& value) = delete;
    void Bind(int index, std::optional<int> value);
    void BindNull(int index);

    /// Advances to the next row: true when a row is available, false when done.
    Result<bool> Step();
    /// Steps a statement that returns no rows.
    Status Run();
    /// Steps once and returns SQLite's result code as is, for callers that react to specific
    /// codes (constraint violations). Use Connection::ErrorFrom to turn a failure into an Error.
    int StepRaw();
    /// Resets the statement so that it can be run again; bindings are kept.
    void Reset();

    // Columns are numbered from 0. NULL reads as 0 / empty / nullopt.
    int64_t ColumnInt64(int column) const;
    int ColumnInt(int column) const;
    bool ColumnBool(int column) const { return ColumnInt64(column) != 0; }
    std::string ColumnText(int column) const;
    std::optional<int> ColumnOptionalInt(int column) const;

  private:
    friend class Connection;
    Statement(Connection* connection, sqlite3_stmt* stmt, bool* busy);

    Connection* connection_;
    sqlite3_stmt* stmt_;
    /// The cache entry's in-use flag, or nullptr for a statement prepared outside the cache
    /// (finalized on destruction).
    bool* busy_;
};

/// One SQLite connection and its cache of prepared statements. Not thread-safe: one thread at a
/// time (the store hands connections out accordingly).
class Connection {
  public:
    struct Options {
        std::string path;
        bool writer = false;  ///< false: the connection refuses writes (query_only)
        bool synchronous_full = true;
        int busy_timeout_ms = 5000;
    };

    static Result<std::unique_ptr<Connection>> Open(const Options& options);
    ~Connection();
    Connection(const Connection&) = delete;
    Connection& operator=(const Connection&) = delete;

    /// Returns the cached statement for `sql`, preparing it on first use. `sql` must have static
    /// storage duration (a named constant): the cache keys on it. If the cached statement is in
    /// use (a nested use, e.g. a query issued while another of the same kind is being stepped),
    /// a separate statement is prepared for this use.
    Result<Statement> Prepare(std::string_view sql);

    /// Runs one or more statements without parameters (pragmas, transaction control, the
    /// migrations).
    Status ExecScript(const char* sql);

    /// Rolls back the open transaction, if there is one; errors are ignored because the caller is
    /// already on a failure path.
    void RollbackQuietly();
    bool InTransaction() const;

    /// An Error for a failed SQLite call: kUnavailable for lock contention, kInternal otherwise,
    /// with SQLite's message in Error::internal.
    Error ErrorFrom(int rc, std::string_view context) const;

    /// Rows changed by the last INSERT, UPDATE or DELETE.
    int64_t Changes() const;
    int64_t LastInsertRowId() const;

  private:
    explicit Connection(sqlite3* db) : db_(db) {}

    struct CachedStatement {
        sqlite3_stmt* stmt = nullptr;
        bool busy = false;
    };

    sqlite3* db_;
    // Keys view the callers' static SQL constants.
    std::unordered_map<std::string_view, CachedStatement> cache_;
};

/// True for the result codes of UNIQUE and PRIMARY KEY violations.
bool IsUniqueViolation(int rc);

}  // namespace otad::storage::sqlite
