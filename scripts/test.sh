#!/usr/bin/env bash
# Installs what is missing, builds otad and runs every test:
#   1. formatting (clang-format), the layer rules of docs/ARCHITECTURE.md, clang-tidy;
#   2. release build, all C++ tests (ctest);
#   3. asan-ubsan build, all C++ tests under the sanitizers;
#   4. the compatibility suite: the official Alibaba Cloud Node SDKs against a real otad, and
#      devices (the official Node device SDK and otad-devsim) through Mosquitto and otad's
#      plugin;
#   5. the benchmarks in quick mode (tiny sizes), so that they keep working.
set -euo pipefail
cd "$(dirname "$0")/.."
export CCACHE_DIR="${CCACHE_DIR:-$HOME/.cache/ccache}"
jobs="$(nproc)"

scripts/deps.sh --test

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

echo "== compatibility suite (official Node SDKs)"
release="$PWD/build/release"
# The device tests skip without these; here they must run.
for built in apps/otad-mosquitto-plugin/otad-auth.so apps/otad-devsim/otad-devsim; do
  [[ -f "$release/$built" ]] || { echo "missing $release/$built" >&2; exit 1; }
done
(cd tests/compat &&
  OTAD_BIN="$release/apps/otad/otad" \
  OTAD_PLUGIN="$release/apps/otad-mosquitto-plugin/otad-auth.so" \
  OTADEVSIM_BIN="$release/apps/otad-devsim/otad-devsim" \
  npm test)

echo "== benchmarks, quick mode"
bench/run --quick
