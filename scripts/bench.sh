#!/usr/bin/env bash
# Builds an optimised tree (build-release) and runs the benchmarks in bench/.
#   scripts/bench.sh store|ingress|fanout [-- extra arguments]
set -euo pipefail
cd "$(dirname "$0")/.."
export TOLLGATE_BUILD_DIR=${TOLLGATE_BUILD_DIR:-build-release}
export TOLLGATE_BUILD_TYPE=${TOLLGATE_BUILD_TYPE:-Release}
command -v node >/dev/null || { apt-get install -y -qq nodejs npm >/dev/null; }
./scripts/build.sh
which=${1:-store}
shift || true
[[ ${1:-} == "--" ]] && shift
case "$which" in
  store) exec "$TOLLGATE_BUILD_DIR/bench/store_bench" "$@" ;;
  ingress)
    # The reference: a minimal Bolt-js app, installed from the npm registry.
    if [[ ! -d bench/bolt-reference/node_modules/@slack/bolt ]]; then
      (cd bench/bolt-reference && npm install --no-audit --no-fund --loglevel=error)
    fi
    exec "$TOLLGATE_BUILD_DIR/bench/ingress_bench" "$@" ;;
  fanout) exec "$TOLLGATE_BUILD_DIR/bench/fanout_bench" "$@" ;;
  *) echo "unknown benchmark: $which (store, ingress, fanout)" >&2; exit 2 ;;
esac
