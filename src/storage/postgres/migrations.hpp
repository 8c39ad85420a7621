#pragma once

#include <span>
#include <string_view>

namespace otad::storage::postgres {

/// One schema migration, embedded from migrations/NNNN_name.sql.
struct Migration {
    int version = 0;        ///< NNNN; versions run 1, 2, 3, ... without gaps
    std::string_view name;  ///< the file name, for the schema_version table and logs
    std::string_view sql;   ///< one or more statements, run inside one transaction
};

/// All migrations known to this build, ordered by version (generated source).
std::span<const Migration> EmbeddedMigrations();

}  // namespace otad::storage::postgres
