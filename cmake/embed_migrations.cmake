# Writes OUT, a C++ source that defines otad::storage::BACKEND::EmbeddedMigrations() (declared in
# storage/BACKEND/migrations.hpp) from the files in MIGRATIONS_DIR.
# Each file must be named NNNN_name.sql; files are applied in the order of their number, and the
# numbers must run 1, 2, 3, ... without gaps.
if(NOT BACKEND)
  message(FATAL_ERROR "BACKEND (sqlite or postgres) is required")
endif()
file(GLOB files "${MIGRATIONS_DIR}/*.sql")
list(SORT files)

set(delimiter "otad_sql")
set(entries "")
set(expected 1)
foreach(path IN LISTS files)
  get_filename_component(name "${path}" NAME)
  if(NOT name MATCHES "^([0-9][0-9][0-9][0-9])_[a-z0-9_]+\\.sql$")
    message(FATAL_ERROR "migration file name must look like 0001_name.sql: ${name}")
  endif()
  math(EXPR version "${CMAKE_MATCH_1}")
  if(NOT version EQUAL expected)
    message(FATAL_ERROR "migration ${name}: expected number ${expected}")
  endif()
  math(EXPR expected "${expected} + 1")
  file(READ "${path}" sql)
  string(FIND "${sql}" ")${delimiter}\"" clash)
  if(NOT clash EQUAL -1)
    message(FATAL_ERROR "migration ${name} contains the raw string delimiter")
  endif()
  string(APPEND entries "    {${version}, \"${name}\", R\"${delimiter}(${sql})${delimiter}\"},\n")
endforeach()
if(expected EQUAL 1)
  message(FATAL_ERROR "no migrations found in ${MIGRATIONS_DIR}")
endif()

set(content "// Generated at build time from src/storage/${BACKEND}/migrations. Do not edit.
#include \"storage/${BACKEND}/migrations.hpp\"

namespace otad::storage::${BACKEND} {
namespace {

constexpr Migration kMigrations[] = {
${entries}};

}  // namespace

std::span<const Migration> EmbeddedMigrations() { return kMigrations; }

}  // namespace otad::storage::${BACKEND}
")
file(WRITE "${OUT}.tmp" "${content}")
file(COPY_FILE "${OUT}.tmp" "${OUT}" ONLY_IF_DIFFERENT)
file(REMOVE "${OUT}.tmp")
