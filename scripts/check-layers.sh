#!/usr/bin/env bash
# Enforces the dependency rules of docs/ARCHITECTURE.md on #include lines:
#   common <- domain <- storage/*, rpc;  http depends on common only; apps on everything.
# Each rule: files under a directory may not include the listed headers. Tests and test
# support (*_test.cpp, testing/) may use any layer.
set -euo pipefail
cd "$(dirname "$0")/.."
fail=0
check() {  # check DIR REGEX WHY
  local hits
  hits="$(git ls-files -co --exclude-standard -- "$1" |
          grep -E '\.(cpp|hpp)$' | grep -vE '_test\.cpp$|/testing/' |
          xargs -r grep -nE "^#include [<\"]($2)" || true)"
  if [[ -n "$hits" ]]; then
    echo "layer violation ($3):"
    echo "$hits"
    fail=1
  fi
}
check src/common 'domain/|storage/|rpc/|http/|boost/|sqlite3|nlohmann/' 'common depends on nothing of ours'
check src/domain 'storage/|rpc/|http/|boost/|sqlite3|nlohmann/|libpq|mosquitto' 'the domain has no I/O, JSON or SQL'
check src/storage 'rpc/|http/|boost/|nlohmann/' 'storage sees only the domain'
check src/storage/sql 'storage/sqlite|storage/postgres|sqlite3|libpq' 'the shared SQL code knows no engine'
check src/storage/sqlite 'storage/postgres|libpq' 'one engine per backend'
check src/storage/postgres 'storage/sqlite|sqlite3' 'one engine per backend'
check src/rpc 'storage/|http/|boost/|sqlite3' 'rpc is transport-free and storage-free'
check src/http 'domain/|storage/|rpc/|sqlite3' 'http only transports'
check src/mqtt 'storage/|rpc/|http/|boost/|sqlite3' 'mqtt speaks to devices through the domain, without SQL'
check src/files 'storage/|rpc/|http/|boost/|sqlite3|nlohmann/' 'files serves bytes through the domain, without Beast or SQL'
# src/redis implements rpc's NonceStore and RateLimiter over Redis: of rpc it sees those two
# interfaces only, and only apps/ choose it.
check src/redis 'domain/|storage/|http/|files/|mqtt/|boost/|sqlite3|nlohmann/|libpq|mosquitto' 'redis sees common and two rpc interfaces'
redis_rpc="$(git ls-files -co --exclude-standard -- src/redis |
             grep -E '\.(cpp|hpp)$' | grep -vE '_test\.cpp$|/testing/' |
             xargs -r grep -nE '^#include [<"]rpc/' |
             grep -vE '[<"]rpc/(rate_limiter|signature/nonce_store)\.hpp[>"]' || true)"
if [[ -n "$redis_rpc" ]]; then
  echo "layer violation (redis uses only rpc/rate_limiter.hpp and rpc/signature/nonce_store.hpp):"
  echo "$redis_rpc"; fail=1
fi
redis_users="$(git ls-files -co --exclude-standard -- 'src/*' |
               grep -E '\.(cpp|hpp)$' | grep -v '^src/redis/' |
               xargs -r grep -nE '^#include [<"](redis/|hiredis)' || true)"
if [[ -n "$redis_users" ]]; then
  echo "layer violation (only apps/ use src/redis and hiredis):"; echo "$redis_users"; fail=1
fi
# src/storage/migrate (otad migrate) needs both engines, through their drivers; only apps/ use it.
check src/storage/migrate 'sqlite3|libpq' 'the migration reads and writes through the drivers'
migrate_users="$(git ls-files -co --exclude-standard -- 'src/*' |
                 grep -E '\.(cpp|hpp)$' | grep -v '^src/storage/migrate/' |
                 xargs -r grep -nE '^#include [<"]storage/migrate/' || true)"
if [[ -n "$migrate_users" ]]; then
  echo "layer violation (only apps/ use src/storage/migrate):"; echo "$migrate_users"; fail=1
fi
# Beast and Asio stay in the few files that need them (build time on small machines).
beast="$(git ls-files -co --exclude-standard -- 'src/*' 'apps/*' |
         xargs -r grep -lE '^#include <boost/(beast|asio)' | grep -v '^src/http/server\(_test\)\?\.cpp$' || true)"
if [[ -n "$beast" ]]; then
  echo "Beast/Asio included outside src/http/server.cpp:"; echo "$beast"; fail=1
fi
((fail == 0)) && echo "layers ok"
exit "$fail"
