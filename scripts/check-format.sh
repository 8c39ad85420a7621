#!/usr/bin/env bash
# Fails when a C++ source differs from what clang-format makes of it.
set -euo pipefail
cd "$(dirname "$0")/.."
mapfile -t files < <(git ls-files -co --exclude-standard -- '*.cpp' '*.hpp' | grep -v '^build/')
clang-format --dry-run --Werror "${files[@]}"
echo "format ok (${#files[@]} files)"
