#pragma once

#include "common/result.hpp"
#include "domain/ports.hpp"

#include <memory>
#include <string>

namespace otad::storage::postgres {

struct PgOptions {
    /// A libpq connection string or URI (`postgresql://user@host:port/db?...`).
    std::string conninfo;
    /// Connections in the pool; at least 1. Transactions beyond this many wait for one.
    int connections = 8;
    /// How long a transaction waits for a free connection before failing with kUnavailable.
    int acquire_timeout_ms = 10000;
    /// Server-side limit for one statement (statement_timeout); 0 = none.
    int statement_timeout_ms = 0;
    /// true: bring the schema up to date on open (PostgreSQL migrations). false: require it to
    /// be exactly this build's version.
    bool migrate = true;
};

/// Opens a pool of connections to the PostgreSQL database named by `options.conninfo`, applies
/// the migrations (unless told not to) and returns a Store over it.
///
/// Write transactions are serialized across every process that uses the database (each takes
/// the row lock of `write_lock` first), so a write sees every write committed before it, as on
/// SQLite. Reads run at REPEATABLE READ, read-only, on any pooled connection.
///
/// A connection that breaks is replaced on its next use; while the server is unreachable,
/// transactions fail with kUnavailable. Fails with kInternal (or kUnavailable when the server
/// cannot be reached) when opening fails.
Result<std::unique_ptr<domain::Store>> OpenPgStore(const PgOptions& options);

}  // namespace otad::storage::postgres
