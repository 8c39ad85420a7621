#include "storage/postgres/migrate.hpp"

#include <string>
#include <utility>

namespace otad::storage::postgres {
namespace {

constexpr const char* kCreateSchemaVersion =
    "CREATE TABLE IF NOT EXISTS schema_version ("
    "    version    BIGINT      PRIMARY KEY,"
    "    name       TEXT        NOT NULL,"
    "    applied_at TIMESTAMPTZ NOT NULL DEFAULT now()"
    ")";
// EXCLUSIVE conflicts with itself but not with plain reads: a second migrating process waits
// for the first one's commit, while processes that only check the version go on.
constexpr const char* kLockSchemaVersion = "LOCK TABLE schema_version IN EXCLUSIVE MODE";
constexpr std::string_view kSelectSchemaVersion =
    "SELECT COALESCE(MAX(version), 0) FROM schema_version";
constexpr std::string_view kInsertSchemaVersion =
    "INSERT INTO schema_version (version, name) VALUES (?1, ?2)";

// A migration may take long (an index over a large table) or wait for another process's; the
// session's statement_timeout does not apply to it.
constexpr const char* kBeginMigration = "BEGIN; SET LOCAL statement_timeout = 0";

// Two processes creating schema_version at the same moment may both pass IF NOT EXISTS, and
// the second then fails on the catalog's unique index; once the first has committed, a second
// attempt finds the table.
constexpr int kCreateAttempts = 3;

int64_t LatestVersion(std::span<const Migration> migrations) {
    return migrations.empty() ? 0 : migrations.back().version;
}

Error NewerThanBuild(int64_t found, int64_t latest) {
    return InternalError("postgres: the database has schema version " + std::to_string(found) +
                         ", newer than this build's " + std::to_string(latest));
}

Result<int64_t> CurrentVersion(PgConnection& db) {
    OTA_ASSIGN_OR_RETURN(sql::Statement stmt, db.Prepare(kSelectSchemaVersion));
    OTA_ASSIGN_OR_RETURN(bool row, stmt.Step());
    return row ? stmt.ColumnInt64(0) : 0;
}

Status CreateSchemaVersion(PgConnection& db) {
    Status created = Ok();
    for (int attempt = 0; attempt < kCreateAttempts; ++attempt) {
        created = db.Exec(kCreateSchemaVersion);
        if (created.ok() || db.Broken()) {
            break;
        }
    }
    return created;
}

// Applies `migration` unless the database already has it. The version is read again under the
// table lock, so that two processes starting on a new database do not both apply it.
Status ApplyOne(PgConnection& db, const Migration& migration, int64_t latest) {
    OTA_TRY(db.Exec(kLockSchemaVersion));
    OTA_ASSIGN_OR_RETURN(int64_t current, CurrentVersion(db));
    if (current > latest) {
        return NewerThanBuild(current, latest);
    }
    if (current >= migration.version) {
        return Ok();
    }
    // The migration's text is a script of several statements; libpq needs it NUL-terminated,
    // which a string_view does not promise.
    std::string script(migration.sql);
    OTA_TRY(db.Exec(script.c_str()));
    OTA_ASSIGN_OR_RETURN(sql::Statement stmt, db.Prepare(kInsertSchemaVersion));
    stmt.Bind(1, static_cast<int64_t>(migration.version));
    stmt.Bind(2, migration.name);
    return stmt.Run();
}

}  // namespace

Status ApplyMigrations(PgConnection& db, std::span<const Migration> migrations) {
    OTA_TRY(CreateSchemaVersion(db));
    OTA_ASSIGN_OR_RETURN(int64_t current, CurrentVersion(db));
    int64_t latest = LatestVersion(migrations);
    if (current > latest) {
        return NewerThanBuild(current, latest);
    }
    for (const Migration& migration : migrations) {
        if (migration.version <= current) {
            continue;
        }
        OTA_TRY(db.Exec(kBeginMigration));
        Status applied = ApplyOne(db, migration, latest);
        if (applied.ok()) {
            applied = db.Commit();
        }
        if (!applied.ok()) {
            db.RollbackQuietly();
            Error error = std::move(applied).error();
            error.internal = "migration " + std::string(migration.name) + ": " + error.internal;
            return error;
        }
    }
    return Ok();
}

Status CheckSchemaVersion(PgConnection& db, std::span<const Migration> migrations) {
    Result<int64_t> found = CurrentVersion(db);
    if (!found.ok()) {
        Error error = std::move(found).error();
        if (error.code != ErrorCode::kUnavailable) {
            error.internal = "postgres: the database holds no otad schema (" + error.internal + ")";
        }
        return error;
    }
    int64_t latest = LatestVersion(migrations);
    if (*found != latest) {
        return InternalError("postgres: the database has schema version " + std::to_string(*found) +
                             ", this build reads version " + std::to_string(latest) +
                             " (start the matching otad first)");
    }
    return Ok();
}

}  // namespace otad::storage::postgres
