#pragma once

#include "common/result.hpp"

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

// Moving a deployment from SQLite to PostgreSQL (`otad migrate`): every table of the SQLite
// schema is copied into a PostgreSQL database in one transaction, then verified there before
// it commits. Only apps/ use this library (scripts/check-layers.sh).

namespace otad::storage::postgres {
class PgConnection;
}

namespace otad::storage::migrate {

struct CopyOptions {
    /// The SQLite database (DATA/otad.db). It must exist. A schema older than this build's is
    /// brought up to date first (through the SQLite store, which writes to the file); a newer
    /// one is refused.
    std::string sqlite_path;
    /// The target: a libpq URI or conninfo (`postgresql://USER@HOST:PORT/DB`, with
    /// `?options=-csearch_path%3DSCHEMA` for a schema other than the default). otad's
    /// PostgreSQL schema is applied to it first. It may hold a password: it is never put in
    /// errors or reports.
    std::string postgres;
    /// Replace the records the target holds. Without it a target that holds any is refused.
    bool force = false;
    int connect_timeout_s = 10;
    /// Called while a table is copied, after every kProgressRows rows, with the rows so far.
    std::function<void(std::string_view table, int64_t rows)> progress;
    /// For tests: runs on the target's connection inside the migration's transaction, after
    /// the copy and before the verification. A failure ends the migration (rolled back).
    std::function<Status(postgres::PgConnection&)> before_verify;
};

/// Rows between two progress calls.
inline constexpr int64_t kProgressRows = 100'000;

struct TableReport {
    std::string table;
    int64_t rows = 0;
    /// Lower-case hex SHA-256 of the table's rows in primary key order, each value rendered
    /// canonically (type, length, bytes), computed from SQLite while copying and again from
    /// PostgreSQL after the copy; the migration commits only when the two agree.
    std::string checksum;
    /// Rows the target held before and `force` deleted.
    int64_t replaced_rows = 0;
};

struct MigrationReport {
    std::vector<TableReport> tables;  ///< in copy order: referenced tables first
    int64_t rows = 0;                 ///< of all tables
    int64_t sqlite_schema_version = 0;
    /// The SQLite file had an older schema and was brought up to date first.
    bool sqlite_upgraded = false;
    /// The target held records, which `force` replaced.
    bool replaced = false;
    /// Planner statistics were gathered after the commit (ANALYZE); when that failed,
    /// PostgreSQL's autovacuum gathers them later.
    bool analyzed = false;
    int64_t elapsed_ms = 0;
};

/// Copies every table of the SQLite database (all of them but schema_version) into the
/// PostgreSQL database, in one PostgreSQL transaction that first takes the row lock of
/// `write_lock`, so that no otad node writes meanwhile:
///
/// 1. The tables and their columns come from the SQLite schema (PRAGMA table_info), ordered so
///    that a table comes after those its foreign keys reference, and must match the target's
///    (information_schema.columns): same names, integer or text alike.
/// 2. A target that holds records (rows in any of those tables other than the rows a new
///    database starts with) is refused with kInvalidParameter, unless `force`; the target's
///    rows are then deleted in the same transaction.
/// 3. Each table is read from one SQLite snapshot, row by row in primary key order, and sent
///    with COPY FROM STDIN; integers stay integers, NULLs NULLs, text text (a value whose
///    SQLite type differs from its column's fails the migration). Identity columns keep their
///    values, and their sequences are moved past the largest.
/// 4. Each table is read back from PostgreSQL; its row count and checksum must equal those
///    read from SQLite, or the transaction is rolled back and the error names the table.
///
/// On failure nothing in the target has changed. Fails with kUnavailable when a database
/// cannot be reached, kInternal otherwise (with Error::message saying what failed).
Result<MigrationReport> CopySqliteToPostgres(const CopyOptions& options);

}  // namespace otad::storage::migrate
