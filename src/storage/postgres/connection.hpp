#pragma once

#include "common/result.hpp"
#include "storage/sql/statement.hpp"

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

// libpq's handle types, so that users of this header do not include libpq-fe.h.
struct pg_conn;
struct pg_result;

namespace otad::storage::postgres {

/// A statement's text with PostgreSQL's parameters.
struct TranslatedSql {
    std::string text;
    int parameters = 0;      ///< the highest parameter number (0 when there is none)
    std::vector<bool> used;  ///< used[n - 1]: whether parameter n appears
};

/// Rewrites the numbered parameters of `sql` (`?1`, `?2`, ...; a number may repeat) into
/// PostgreSQL's (`$1`, `$2`, ...). Text inside single-quoted literals, double-quoted identifiers
/// and `--` comments is copied unchanged.
TranslatedSql TranslateParameters(std::string_view sql);

class PgStatement;

/// One libpq connection with its prepared statements: the PostgreSQL side of sql::Connection.
/// Not thread-safe: one thread at a time (the store hands connections out accordingly).
///
/// Statements are prepared on the server on first use, under generated names, and stay
/// prepared for the connection's lifetime. Parameters travel as text for integers and as raw
/// bytes for text (the server infers each parameter's type from the SQL); results come back
/// as text and are held whole by each use of a statement, except for PrepareStream, which
/// reads through a cursor in batches of kStreamBatchRows.
///
/// Errors are kUnavailable when retrying may help (the connection broke, the server is shutting
/// down or refuses connections, a serialization failure or deadlock), kInternal otherwise, with
/// the server's message and the statement in Error::internal. Bound values never appear in
/// messages.
class PgConnection final : public sql::Connection {
  public:
    struct Options {
        /// A libpq connection string or URI. Its settings win over the defaults below, except
        /// client_encoding, which is always UTF8.
        std::string conninfo;
        /// How long connecting may take (libpq's connect_timeout; libpq uses at least 2 s).
        int connect_timeout_s = 10;
        /// The session's statement_timeout; 0 keeps the server's setting.
        int statement_timeout_ms = 0;
    };

    /// Rows a streamed query fetches at a time.
    static constexpr int kStreamBatchRows = 1000;

    /// Connects. Fails with kUnavailable when no connection can be made (the server is down or
    /// unreachable, or refuses this user), with libpq's message; kInternal when the session
    /// cannot be set up.
    static Result<std::unique_ptr<PgConnection>> Open(const Options& options);

    ~PgConnection() override;
    PgConnection(const PgConnection&) = delete;
    PgConnection& operator=(const PgConnection&) = delete;

    sql::Dialect dialect() const override { return sql::Dialect::kPostgres; }

    /// The statement for `sql`, prepared on the server on first use (see sql::Connection).
    Result<sql::Statement> Prepare(std::string_view sql) override;

    /// A query read through a cursor (DECLARE ... NO SCROLL CURSOR, FETCH kStreamBatchRows at a
    /// time), so that other statements may run between its rows and its result need not fit in
    /// memory. Only inside a transaction: the cursor ends with it. The cursor is closed when the
    /// rows are exhausted, or when the statement is reset or released.
    Result<sql::Statement> PrepareStream(std::string_view sql) override;

    /// Rows changed by the most recent INSERT, UPDATE or DELETE (or MERGE) on this connection.
    int64_t Changes() const override { return changes_; }
    /// Rows changed by every INSERT, UPDATE, DELETE and MERGE since the connection opened.
    int64_t TotalChanges() const override { return total_changes_; }

    /// Runs one or more statements without parameters (transaction control, the migrations).
    Status Exec(const char* script);
    /// Like Exec; returns how many rows the script's last statement returned.
    Result<int64_t> ExecCountingRows(const char* script);

    /// Bulk loading with `COPY ... FROM STDIN`. CopyBegin runs the statement; CopyData sends
    /// rows in the statement's format, in pieces of any size (libpq buffers them); CopyEnd ends
    /// the data and returns how many rows the server stored. A row the server refuses fails
    /// CopyData or CopyEnd with the server's error (which ends the COPY, and fails the open
    /// transaction); CopyAbort ends a COPY on purpose, with the same effect. Errors never quote
    /// the rows.
    Status CopyBegin(const char* statement);
    Status CopyData(std::string_view data);
    Result<int64_t> CopyEnd();
    void CopyAbort();

    /// Commits the open transaction. Fails with kInternal when the server rolled it back
    /// instead (PostgreSQL answers COMMIT of a transaction in which a statement failed with a
    /// rollback, not an error).
    Status Commit();

    /// Rolls back the open transaction, if there is one; errors are ignored because the caller is
    /// already on a failure path.
    void RollbackQuietly();

    /// True inside a transaction block, including a failed one.
    bool InTransaction() const;

    /// True once the connection to the server is lost; it cannot be used again.
    bool Broken() const;

  private:
    friend class PgStatement;

    /// A statement text known to this connection.
    struct Prepared {
        std::string_view source;  ///< the caller's text, for error messages
        TranslatedSql sql;        ///< with $N parameters
        /// Parameter type OIDs for the server: empty when every number up to the highest
        /// appears (the server infers all types); otherwise 0 (infer) for those that appear and
        /// text for those that do not, whose type nothing could tell.
        std::vector<unsigned int> types;
        std::string name;  ///< the server-side name; empty until prepared there
    };

    /// The cache key: the address and length of the caller's static text.
    struct SqlKey {
        const char* data;
        size_t size;
        bool operator==(const SqlKey&) const = default;
    };
    struct SqlKeyHash {
        size_t operator()(const SqlKey& key) const {
            return std::hash<const void*>()(key.data) ^ (key.size * 0x9e3779b97f4a7c15ULL);
        }
    };

    explicit PgConnection(pg_conn* conn);

    Result<const Prepared*> Find(std::string_view sql, bool on_server);
    sql::Statement Borrow(const Prepared& prepared, bool stream);
    void GiveBack(PgStatement* statement);

    /// Ends the COPY in progress (with `abort_reason`, when not null: the server then fails it)
    /// and collects its results: the rows stored, or the COPY's error.
    Result<int64_t> FinishCopy(const char* abort_reason);

    /// Records the affected rows of a finished INSERT, UPDATE, DELETE or MERGE.
    void NoteCompleted(pg_result* result);
    /// Checks the outcome of a statement: Ok for a success, the mapped Error otherwise.
    Status Check(const pg_result* result, std::string_view context);
    Error ErrorFrom(const pg_result* result, std::string_view context) const;
    std::string NextCursorName();

    pg_conn* conn_;
    std::unordered_map<SqlKey, Prepared, SqlKeyHash> prepared_;
    int64_t statements_prepared_ = 0;
    int64_t cursors_declared_ = 0;
    int64_t changes_ = 0;
    int64_t total_changes_ = 0;
    // Every statement object of this connection, and those not in use.
    std::vector<std::unique_ptr<PgStatement>> statements_;
    std::vector<PgStatement*> free_statements_;
};

}  // namespace otad::storage::postgres
