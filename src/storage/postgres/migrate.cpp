#include "storage/postgres/migrate.hpp"

namespace otad::storage::postgres {
namespace {

constexpr const char* kCreateSchemaVersion =
    "CREATE TABLE IF NOT EXISTS schema_version ("
    "    version    BIGINT      PRIMARY KEY,"
    "    name       TEXT        NOT NULL,"
    "    applied_at TIMESTAMPTZ NOT NULL DEFAULT now()"
    ")";
// A migration may take long (an index over a large table) or wait for another process's; the
// session's statement_timeout does not apply to it. EXCLUSIVE conflicts with itself but not
// with plain reads: a second migrating process waits for the first one's commit, while
// processes that only check the version go on.
constexpr const char* kBeginMigration =
    "BEGIN; SET LOCAL statement_timeout = 0; LOCK TABLE schema_version IN EXCLUSIVE MODE";

// Two processes creating schema_version at the same moment may both pass IF NOT EXISTS, and
// the second then fails on the catalog's unique index; once the first has committed, a second
// attempt finds the table.
constexpr int kCreateAttempts = 3;

class PostgresTarget final : public sql::MigrationTarget {
  public:
    explicit PostgresTarget(PgConnection& db) : db_(db) {}
    sql::Connection& connection() override { return db_; }
    std::string_view engine() const override { return "postgres"; }
    Status CreateVersionTable() override {
        Status created = Ok();
        for (int attempt = 0; attempt < kCreateAttempts; ++attempt) {
            created = db_.Exec(kCreateSchemaVersion);
            if (created.ok() || db_.Broken()) {
                break;
            }
        }
        return created;
    }
    Status BeginExclusive() override { return db_.Exec(kBeginMigration); }
    Status RunScript(const char* script) override { return db_.Exec(script); }
    Status Commit() override { return db_.Commit(); }
    void RollbackQuietly() override { db_.RollbackQuietly(); }

  private:
    PgConnection& db_;
};

}  // namespace

Status ApplyMigrations(PgConnection& db, std::span<const Migration> migrations) {
    PostgresTarget target(db);
    return sql::ApplyMigrations(target, migrations);
}

Status CheckSchemaVersion(PgConnection& db, std::span<const Migration> migrations) {
    return sql::CheckSchemaVersion(db, migrations, "postgres", "the database");
}

}  // namespace otad::storage::postgres
