#include "storage/sqlite/migrate.hpp"

#include <string>

namespace otad::storage::sqlite {
namespace {

constexpr const char* kCreateSchemaVersion =
    "CREATE TABLE IF NOT EXISTS schema_version ("
    "    version    INTEGER PRIMARY KEY,"
    "    name       TEXT    NOT NULL,"
    "    applied_at TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))"
    ")";
constexpr std::string_view kSelectSchemaVersion =
    "SELECT COALESCE(MAX(version), 0) FROM schema_version";
constexpr std::string_view kInsertSchemaVersion =
    "INSERT INTO schema_version (version, name) VALUES (?1, ?2)";

Result<int64_t> CurrentVersion(Connection& writer) {
    OTA_ASSIGN_OR_RETURN(Statement stmt, writer.Prepare(kSelectSchemaVersion));
    OTA_ASSIGN_OR_RETURN(bool row, stmt.Step());
    return row ? stmt.ColumnInt64(0) : 0;
}

// Applies `migration` unless the database already has it. The version is read again under the
// write lock, so two processes opening a new database at once do not both apply it.
Status ApplyOne(Connection& writer, const Migration& migration) {
    OTA_ASSIGN_OR_RETURN(int64_t current, CurrentVersion(writer));
    if (current >= migration.version) {
        return Ok();
    }
    // The migration's text is a script of several statements; sqlite3_exec needs it
    // NUL-terminated, which a string_view does not promise.
    std::string script(migration.sql);
    OTA_TRY(writer.ExecScript(script.c_str()));
    OTA_ASSIGN_OR_RETURN(Statement stmt, writer.Prepare(kInsertSchemaVersion));
    stmt.Bind(1, static_cast<int64_t>(migration.version));
    stmt.Bind(2, migration.name);
    return stmt.Run();
}

}  // namespace

Status ApplyMigrations(Connection& writer, std::span<const Migration> migrations) {
    OTA_TRY(writer.ExecScript(kCreateSchemaVersion));
    OTA_ASSIGN_OR_RETURN(int64_t current, CurrentVersion(writer));
    int64_t latest = migrations.empty() ? 0 : migrations.back().version;
    if (current > latest) {
        return InternalError("sqlite: the database has schema version " + std::to_string(current) +
                             ", newer than this build's " + std::to_string(latest));
    }
    for (const Migration& migration : migrations) {
        if (migration.version <= current) {
            continue;
        }
        OTA_TRY(writer.ExecScript("BEGIN IMMEDIATE"));
        Status applied = ApplyOne(writer, migration);
        if (applied.ok()) {
            applied = writer.ExecScript("COMMIT");
        }
        if (!applied.ok()) {
            writer.RollbackQuietly();
            Error error = std::move(applied).error();
            error.internal = "migration " + std::string(migration.name) + ": " + error.internal;
            return error;
        }
    }
    return Ok();
}

}  // namespace otad::storage::sqlite
