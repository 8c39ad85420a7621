#pragma once

#include "storage/sql/migrations.hpp"

#include <span>

namespace otad::storage::sqlite {

using Migration = sql::Migration;

/// All migrations known to this build, ordered by version (generated source).
std::span<const Migration> EmbeddedMigrations();

}  // namespace otad::storage::sqlite
