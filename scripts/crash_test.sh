#!/usr/bin/env bash
# The crash test, longer than the one ctest runs: kill -9 under load, ROUNDS times (default 100).
#   scripts/crash_test.sh [ROUNDS] [SEED]
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/build.sh
args=(--rounds "${1:-100}")
[[ -n "${2:-}" ]] && args+=(--seed "$2")
exec "${TOLLGATE_BUILD_DIR:-build}/tests/crash_test" "${args[@]}"
