#pragma once

#include "common/result.hpp"
#include "domain/ports.hpp"

#include <memory>
#include <string>
#include <string_view>

// Opens the store a deployment names: embedded SQLite in the data directory by default, or a
// PostgreSQL database given by URL.

namespace otad::storage {

struct StoreOptions {
    /// Empty: SQLite at `sqlite_path`. Otherwise a PostgreSQL URL (postgresql://... or
    /// postgres://...), which may carry a password: it is never logged or put in errors.
    std::string database;

    // SQLite.
    std::string sqlite_path;
    bool sqlite_synchronous_full = true;

    // PostgreSQL.
    int pg_connections = 8;
    int pg_acquire_timeout_ms = 10'000;
    int pg_statement_timeout_ms = 60'000;

    /// Open for reading an existing database that an otad server owns: no file is created, no
    /// migration runs, and the schema must be exactly this build's.
    bool read_only = false;
    /// Connections that serve reads (SQLite readers) when read_only.
    int read_only_connections = 2;
};

/// True for the URL schemes of PostgreSQL (postgresql://, postgres://).
bool IsPostgresUrl(std::string_view database);

/// The database named for logs: "sqlite <path>" or "postgresql host:port/dbname", without
/// user, password or options.
std::string DescribeDatabase(const StoreOptions& options);

/// Opens the store. A `database` that is neither empty nor a PostgreSQL URL is refused with
/// kInvalidParameter.
Result<std::unique_ptr<domain::Store>> OpenStore(const StoreOptions& options);

}  // namespace otad::storage
