#!/usr/bin/env bash
# Installs what otad needs to build and test on Debian 12, skipping what is already there.
# Usage: scripts/deps.sh [--test]   (--test adds the test-only tools and the Node packages)
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(g++ cmake ninja-build ccache pkg-config libboost-dev libsqlite3-dev libssl-dev
          nlohmann-json3-dev sqlite3 mosquitto mosquitto-dev libmosquitto-dev libhiredis-dev
          libpq-dev)
if [[ "${1:-}" == "--test" ]]; then
  packages+=(libgtest-dev libgmock-dev clang-format clang-tidy libbenchmark-dev nginx-light
            gnuplot-nox jq curl mosquitto-clients redis-server redis-tools
            postgresql-15 postgresql-client-15)
  command -v node >/dev/null 2>&1 || packages+=(nodejs npm)
fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "installing: ${missing[*]}"
  sudo_cmd=()
  [[ $(id -u) -eq 0 ]] || sudo_cmd=(sudo)
  "${sudo_cmd[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends \
    "${missing[@]}" >/dev/null
fi

if [[ "${1:-}" == "--test" ]]; then
  if [[ ! -d tests/compat/node_modules ]] ||
     [[ tests/compat/package-lock.json -nt tests/compat/node_modules ]]; then
    (cd tests/compat && npm ci --no-audit --no-fund --loglevel=error)
    touch tests/compat/node_modules
  fi
fi
