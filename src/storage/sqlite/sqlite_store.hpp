#pragma once

#include "common/result.hpp"
#include "domain/ports.hpp"

#include <memory>
#include <string>

namespace otad::storage::sqlite {

struct SqliteOptions {
    /// Database file; created, with its schema, when absent.
    std::string path;
    /// Connections that serve Store::Read; at least 1. Reads beyond this many wait.
    int reader_connections = 4;
    /// true: synchronous=FULL, a commit survives power loss. false: synchronous=NORMAL, a commit
    /// survives a crash of the process but the last commits may be lost on power loss.
    bool synchronous_full = true;
    /// How long a statement waits for a lock held by another process before failing.
    int busy_timeout_ms = 5000;
    /// true: open an existing database that another process (otad) owns, for reading only.
    /// The file is not created and no migration runs; the schema must be exactly the version
    /// this build knows. Every connection is a query-only reader (WAL readers still share the
    /// database's -shm file, so the directory must be writable by this process), and
    /// Store::Write fails with kInternal. synchronous_full is ignored.
    bool read_only = false;
    /// A background thread copies the WAL into the database file (a PASSIVE checkpoint) once a
    /// commit leaves it this many pages long (SQLite's own threshold), so that no Write waits
    /// for a checkpoint. Should the WAL reach 10 times this all the same (the thread cannot keep
    /// up), the writer checkpoints after its commit, as SQLite would by itself. At least 1.
    int checkpoint_pages = 1000;
};

/// Opens (creating if needed) the database at `options.path`, brings its schema up to date and
/// returns a Store over it.
///
/// The store uses WAL mode: one writer connection (writes are serialized by a mutex), a pool of
/// reader connections, so reads never wait for a write to finish, and a checkpointing thread
/// with its own connection (see checkpoint_pages). A Write must not be started
/// from inside another Write on the same thread (it fails with kInternal), and a Read nested in
/// a Read may wait forever once the pool is exhausted.
///
/// Fails with kInternal if the file cannot be opened, the options are invalid, a migration fails,
/// or the database was written by a newer version of otad. With `read_only`, also fails with
/// kInternal when the file does not exist or its schema version differs from this build's.
Result<std::unique_ptr<domain::Store>> OpenSqliteStore(const SqliteOptions& options);

}  // namespace otad::storage::sqlite
