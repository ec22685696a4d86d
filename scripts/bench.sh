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
    # PostgreSQL beside SQLite: a throwaway cluster with two empty databases.
    pg_state="$TOLLGATE_BUILD_DIR/pg-bench"
    bash scripts/pg_cluster.sh start "$pg_state" >/dev/null
    trap 'bash scripts/pg_cluster.sh stop "$pg_state" >/dev/null 2>&1' EXIT
    base=$(cat "$pg_state/url")
    port=$(cat "$pg_state/port")
    for d in bench1 bench2; do createdb -h 127.0.0.1 -p "$port" -U tollgate "$d"; done
    "$TOLLGATE_BUILD_DIR/bench/ingress_bench" --postgres "${base%/*}/bench1" \
      --postgres2 "${base%/*}/bench2" "$@" ;;
  fanout) exec "$TOLLGATE_BUILD_DIR/bench/fanout_bench" "$@" ;;
  *) echo "unknown benchmark: $which (store, ingress, fanout)" >&2; exit 2 ;;
esac
