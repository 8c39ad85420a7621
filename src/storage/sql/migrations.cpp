#include "storage/sql/migrations.hpp"

#include <utility>

namespace otad::storage::sql {
namespace {

constexpr std::string_view kSelectSchemaVersion =
    "SELECT COALESCE(MAX(version), 0) FROM schema_version";
constexpr std::string_view kInsertSchemaVersion =
    "INSERT INTO schema_version (version, name) VALUES (?1, ?2)";

Error NewerThanBuild(std::string_view engine, int64_t found, int64_t latest) {
    return InternalError(std::string(engine) + ": the database has schema version " +
                         std::to_string(found) + ", newer than this build's " +
                         std::to_string(latest));
}

// Applies `migration` unless the database already has it, inside the migration's transaction.
Status ApplyOne(MigrationTarget& target, const Migration& migration, int64_t latest) {
    OTA_ASSIGN_OR_RETURN(int64_t current, SchemaVersion(target.connection()));
    if (current > latest) {
        return NewerThanBuild(target.engine(), current, latest);
    }
    if (current >= migration.version) {
        return Ok();  // another process applied it meanwhile
    }
    // The migration's text is a script of several statements; the engines need it
    // NUL-terminated, which a string_view does not promise.
    const std::string script(migration.sql);
    OTA_TRY(target.RunScript(script.c_str()));
    OTA_ASSIGN_OR_RETURN(Statement stmt, target.connection().Prepare(kInsertSchemaVersion));
    stmt.Bind(1, static_cast<int64_t>(migration.version));
    stmt.Bind(2, migration.name);
    return stmt.Run();
}

}  // namespace

Result<int64_t> SchemaVersion(Connection& db) {
    OTA_ASSIGN_OR_RETURN(Statement stmt, db.Prepare(kSelectSchemaVersion));
    OTA_ASSIGN_OR_RETURN(bool row, stmt.Step());
    return row ? stmt.ColumnInt64(0) : 0;
}

int64_t LatestVersion(std::span<const Migration> migrations) {
    return migrations.empty() ? 0 : migrations.back().version;
}

Status CheckSchemaVersion(Connection& db,
                          std::span<const Migration> migrations,
                          std::string_view engine,
                          std::string_view what) {
    const std::string where = std::string(engine) + ": " + std::string(what);
    Result<int64_t> found = SchemaVersion(db);
    if (!found.ok()) {
        Error error = std::move(found).error();
        if (error.code != ErrorCode::kUnavailable) {
            error.internal = where + " holds no otad schema (" + error.internal + ")";
        }
        return error;
    }
    const int64_t latest = LatestVersion(migrations);
    if (*found != latest) {
        return InternalError(where + " has schema version " + std::to_string(*found) +
                             ", this build reads version " + std::to_string(latest) +
                             " (start the matching otad first)");
    }
    return Ok();
}

Status ApplyMigrations(MigrationTarget& target, std::span<const Migration> migrations) {
    OTA_TRY(target.CreateVersionTable());
    OTA_ASSIGN_OR_RETURN(int64_t current, SchemaVersion(target.connection()));
    const int64_t latest = LatestVersion(migrations);
    if (current > latest) {
        return NewerThanBuild(target.engine(), current, latest);
    }
    for (const Migration& migration : migrations) {
        if (migration.version <= current) {
            continue;
        }
        OTA_TRY(target.BeginExclusive());
        Status applied = ApplyOne(target, migration, latest);
        if (applied.ok()) {
            applied = target.Commit();
        }
        if (!applied.ok()) {
            target.RollbackQuietly();
            Error error = std::move(applied).error();
            error.internal = "migration " + std::string(migration.name) + ": " + error.internal;
            return error;
        }
    }
    return Ok();
}

}  // namespace otad::storage::sql
