#pragma once

#include "common/result.hpp"
#include "storage/postgres/connection.hpp"
#include "storage/postgres/migrations.hpp"

#include <span>

namespace otad::storage::postgres {

/// Creates schema_version if it is absent, then applies, in order, each migration newer than
/// the version recorded there, each in its own transaction together with its schema_version
/// row. Safe when several processes start at once: each migration's transaction locks
/// schema_version and reads the version again, so a migration is applied once. Fails with
/// kInternal if a migration fails (that migration is rolled back, earlier ones stay) or if the
/// database records a version newer than the last of `migrations`; kUnavailable if the
/// connection fails.
Status ApplyMigrations(PgConnection& db, std::span<const Migration> migrations);

/// Checks that the database's schema is exactly the last of `migrations`, for a process that
/// must not migrate. Fails with kInternal when it is not (or there is no otad schema).
Status CheckSchemaVersion(PgConnection& db, std::span<const Migration> migrations);

}  // namespace otad::storage::postgres
