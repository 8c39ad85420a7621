#include "storage/sqlite/migrate.hpp"

namespace otad::storage::sqlite {
namespace {

constexpr const char* kCreateSchemaVersion =
    "CREATE TABLE IF NOT EXISTS schema_version ("
    "    version    INTEGER PRIMARY KEY,"
    "    name       TEXT    NOT NULL,"
    "    applied_at TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))"
    ")";

// SQLite has one writer at a time: an IMMEDIATE transaction takes the write lock at once, so a
// second process opening a new database waits for the first one's migration.
class SqliteTarget final : public sql::MigrationTarget {
  public:
    explicit SqliteTarget(Connection& writer) : writer_(writer) {}
    sql::Connection& connection() override { return writer_; }
    std::string_view engine() const override { return "sqlite"; }
    Status CreateVersionTable() override { return writer_.ExecScript(kCreateSchemaVersion); }
    Status BeginExclusive() override { return writer_.ExecScript("BEGIN IMMEDIATE"); }
    Status RunScript(const char* script) override { return writer_.ExecScript(script); }
    Status Commit() override { return writer_.ExecScript("COMMIT"); }
    void RollbackQuietly() override { writer_.RollbackQuietly(); }

  private:
    Connection& writer_;
};

}  // namespace

Status ApplyMigrations(Connection& writer, std::span<const Migration> migrations) {
    SqliteTarget target(writer);
    return sql::ApplyMigrations(target, migrations);
}

}  // namespace otad::storage::sqlite
