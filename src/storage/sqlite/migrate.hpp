#pragma once

#include "common/result.hpp"
#include "storage/sqlite/connection.hpp"
#include "storage/sqlite/migrations.hpp"

#include <span>

namespace otad::storage::sqlite {

/// Applies, in order, each migration newer than the version recorded in schema_version, each in
/// its own IMMEDIATE transaction together with its schema_version row. Fails with kInternal if a
/// migration fails (that migration is rolled back, earlier ones stay) or if the database records
/// a version newer than the last of `migrations`.
Status ApplyMigrations(Connection& writer, std::span<const Migration> migrations);

}  // namespace otad::storage::sqlite
