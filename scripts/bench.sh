#!/usr/bin/env bash
# Builds an optimised tree (build-release) and runs the benchmarks in bench/.
#   scripts/bench.sh [store] [-- extra arguments]
set -euo pipefail
cd "$(dirname "$0")/.."
export TOLLGATE_BUILD_DIR=${TOLLGATE_BUILD_DIR:-build-release}
export TOLLGATE_BUILD_TYPE=${TOLLGATE_BUILD_TYPE:-Release}
./scripts/build.sh
which=${1:-store}
shift || true
[[ ${1:-} == "--" ]] && shift
case "$which" in
  store) exec "$TOLLGATE_BUILD_DIR/bench/store_bench" "$@" ;;
  *) echo "unknown benchmark: $which (store)" >&2; exit 2 ;;
esac
