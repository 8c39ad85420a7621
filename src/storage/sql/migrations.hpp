#pragma once

#include "common/result.hpp"
#include "storage/sql/statement.hpp"

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

// Schema migrations as both SQL backends keep them: numbered scripts embedded in the build, and
// a schema_version table that records which ran. The engines differ only in how a migration's
// transaction keeps other processes from migrating at the same time (MigrationTarget).

namespace otad::storage::sql {

/// One schema migration, embedded from migrations/NNNN_name.sql.
struct Migration {
    int version = 0;        ///< NNNN; versions run 1, 2, 3, ... without gaps
    std::string_view name;  ///< the file name, for the schema_version table and logs
    std::string_view sql;   ///< one or more statements, run inside one transaction
};

/// A connection as the migration runner drives it.
class MigrationTarget {
  public:
    virtual ~MigrationTarget() = default;
    virtual Connection& connection() = 0;
    /// "sqlite" or "postgres", for error messages.
    virtual std::string_view engine() const = 0;
    /// Creates schema_version (version, name, applied_at) if it is absent.
    virtual Status CreateVersionTable() = 0;
    /// Opens the transaction of one migration and takes what makes a second migrating process
    /// wait for its end, so that the version read next is final.
    virtual Status BeginExclusive() = 0;
    /// Runs a script of several statements (NUL-terminated).
    virtual Status RunScript(const char* script) = 0;
    virtual Status Commit() = 0;
    virtual void RollbackQuietly() = 0;
};

/// The highest version recorded in schema_version (0 when none).
Result<int64_t> SchemaVersion(Connection& db);

/// The last version of `migrations` (0 when there are none).
int64_t LatestVersion(std::span<const Migration> migrations);

/// Checks that the database's schema is exactly the last of `migrations`, for a process that
/// must not migrate (it cannot migrate an older schema and must not guess at a newer one).
/// `engine` ("sqlite", "postgres") and `what` (a file's path, "the database") name the
/// database in messages. kInternal when the version differs or there is no otad schema;
/// kUnavailable, as the connection reports it, when the database cannot be reached.
Status CheckSchemaVersion(Connection& db,
                          std::span<const Migration> migrations,
                          std::string_view engine,
                          std::string_view what);

/// Applies, in order, each migration newer than the version recorded in schema_version, each
/// in its own transaction together with its schema_version row; the version is read again
/// inside that transaction, so that processes starting at once apply each migration once.
/// Fails with kInternal if a migration fails (that migration is rolled back, earlier ones
/// stay) or if the database records a version newer than the last of `migrations`; with the
/// connection's code (kUnavailable) when it fails.
Status ApplyMigrations(MigrationTarget& target, std::span<const Migration> migrations);

}  // namespace otad::storage::sql
