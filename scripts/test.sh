#!/usr/bin/env bash
# Installs what is missing, builds otad and runs every test:
#   1. formatting (clang-format), the layer rules of docs/ARCHITECTURE.md, clang-tidy;
#   2. release build, all C++ tests (ctest);
#   3. asan-ubsan build, all C++ tests under the sanitizers;
#   4. the compatibility suite: the official Alibaba Cloud Node SDKs against a real otad, and
#      devices (the official Node device SDK and otad-devsim) through Mosquitto and otad's
#      plugin, once on SQLite, once on PostgreSQL, and once on a cluster of three otad nodes
#      behind nginx sharing PostgreSQL, Redis and Mosquitto (with the cluster tests: throttling
#      across nodes, a node killed mid-rollout, PostgreSQL restarted mid-rollout);
#   5. the benchmarks in quick mode (tiny sizes), so that they keep working.
# The C++ storage tests and the compatibility suite run against a throwaway PostgreSQL server,
# the C++ tests of src/redis against a throwaway Redis server; this script starts both on
# loopback ports and stops them at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=lib/server-process.sh
source scripts/lib/server-process.sh
export CCACHE_DIR="${CCACHE_DIR:-$HOME/.cache/ccache}"
jobs="$(nproc)"

scripts/deps.sh --test

services="$(mktemp -d -t otad-test-services.XXXXXX)"
# PostgreSQL runs as its own user when this script runs as root: it must reach its directory.
chmod 0755 "$services"
stop_services() {
  scripts/postgres.sh stop "$services/postgres" >/dev/null 2>&1 || true
  scripts/redis.sh stop "$services/redis" >/dev/null 2>&1 || true
  rm -rf "$services"
}
trap stop_services EXIT
echo "== throwaway PostgreSQL"
OTAD_TEST_POSTGRES="$(scripts/postgres.sh start "$services/postgres" "$(free_port)" | tail -n 1)"
# The cluster test restarts this server mid-rollout (scripts/postgres.sh stop/start on it).
OTAD_TEST_POSTGRES_DIR="$services/postgres"
export OTAD_TEST_POSTGRES OTAD_TEST_POSTGRES_DIR
echo "PostgreSQL at $OTAD_TEST_POSTGRES"
echo "== throwaway Redis"
OTAD_TEST_REDIS="$(scripts/redis.sh start "$services/redis" "$(free_port)" | tail -n 1)"
export OTAD_TEST_REDIS
echo "Redis at $OTAD_TEST_REDIS"

echo "== static checks"
scripts/check-format.sh
scripts/check-layers.sh
cmake --preset release >/dev/null
scripts/check-tidy.sh build/release

echo "== release build and C++ tests"
cmake --build --preset release -j "$jobs"
ctest --preset release -j "$jobs"

echo "== asan-ubsan build and C++ tests"
cmake --preset asan-ubsan >/dev/null
cmake --build --preset asan-ubsan -j "$jobs"
ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 ctest --preset asan-ubsan -j "$jobs"

release="$PWD/build/release"
# The device tests skip without these; here they must run.
for built in apps/otad-mosquitto-plugin/otad-auth.so apps/otad-devsim/otad-devsim; do
  [[ -f "$release/$built" ]] || { echo "missing $release/$built" >&2; exit 1; }
done
compat() {  # compat [VAR=VALUE...]: the suite with the official Node SDKs
  (cd tests/compat &&
    env "$@" \
      OTAD_BIN="$release/apps/otad/otad" \
      OTAD_PLUGIN="$release/apps/otad-mosquitto-plugin/otad-auth.so" \
      OTADEVSIM_BIN="$release/apps/otad-devsim/otad-devsim" \
      npm test)
}
echo "== compatibility suite on SQLite (official Node SDKs)"
compat -u OTAD_TEST_POSTGRES
echo "== compatibility suite on PostgreSQL (official Node SDKs)"
compat OTAD_TEST_POSTGRES="$OTAD_TEST_POSTGRES"
echo "== compatibility suite on a cluster: 3 otad nodes behind nginx, PostgreSQL, Redis, Mosquitto"
compat OTAD_TEST_POSTGRES="$OTAD_TEST_POSTGRES" OTAD_TEST_CLUSTER=3

echo "== benchmarks, quick mode"
bench/run --quick
