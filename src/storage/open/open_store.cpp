#include "storage/open/open_store.hpp"

#include "storage/postgres/pg_store.hpp"
#include "storage/sqlite/sqlite_store.hpp"

namespace otad::storage {
namespace {

constexpr std::string_view kSchemes[] = {"postgresql://", "postgres://"};

}  // namespace

bool IsPostgresUrl(std::string_view database) {
    for (std::string_view scheme : kSchemes) {
        if (database.starts_with(scheme)) {
            return true;
        }
    }
    return false;
}

std::string DescribeDatabase(const StoreOptions& options) {
    if (options.database.empty()) {
        return "sqlite " + options.sqlite_path;
    }
    // postgresql://[user[:password]@][host][:port][/dbname][?options]: keep host, port and
    // database name only.
    std::string_view rest = options.database;
    for (std::string_view scheme : kSchemes) {
        if (rest.starts_with(scheme)) {
            rest.remove_prefix(scheme.size());
            break;
        }
    }
    rest = rest.substr(0, rest.find('?'));
    if (const size_t at = rest.rfind('@'); at != std::string_view::npos) {
        rest.remove_prefix(at + 1);
    }
    return "postgresql " + std::string(rest);
}

Result<std::unique_ptr<domain::Store>> OpenStore(const StoreOptions& options) {
    if (options.database.empty()) {
        sqlite::SqliteOptions sqlite;
        sqlite.path = options.sqlite_path;
        sqlite.synchronous_full = options.sqlite_synchronous_full;
        if (options.read_only) {
            sqlite.read_only = true;
            sqlite.reader_connections = options.read_only_connections;
        }
        return sqlite::OpenSqliteStore(sqlite);
    }
    if (!IsPostgresUrl(options.database)) {
        return MakeError(ErrorCode::kInvalidParameter,
                         "the database must be a postgresql:// URL (without one, otad keeps its "
                         "records in SQLite in the data directory)");
    }
    postgres::PgOptions pg;
    pg.conninfo = options.database;
    pg.connections = options.read_only ? options.read_only_connections : options.pg_connections;
    pg.acquire_timeout_ms = options.pg_acquire_timeout_ms;
    pg.statement_timeout_ms = options.pg_statement_timeout_ms;
    pg.migrate = !options.read_only;
    return postgres::OpenPgStore(pg);
}

}  // namespace otad::storage
