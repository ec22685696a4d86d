#!/usr/bin/env bash
# Builds an optimised tree (build-release) and runs the benchmarks in bench/.
#   scripts/bench.sh store|ingress|query|fanout [-- extra arguments]
#   scripts/bench.sh all    every figure a target of docs/benchmarks.md is about, in one table
set -euo pipefail
cd "$(dirname "$0")/.."
export TOLLGATE_BUILD_DIR=${TOLLGATE_BUILD_DIR:-build-release}
export TOLLGATE_BUILD_TYPE=${TOLLGATE_BUILD_TYPE:-Release}
command -v node >/dev/null || { apt-get install -y -qq nodejs npm >/dev/null; }
./scripts/build.sh
which=${1:-store}
shift || true
[[ ${1:-} == "--" ]] && shift
# The ingress benchmark's reference and PostgreSQL: installed and started here.
ingress() {
  # The reference: a minimal Bolt-js app, installed from the npm registry.
  if [[ ! -d bench/bolt-reference/node_modules/@slack/bolt ]]; then
    (cd bench/bolt-reference && npm install --no-audit --no-fund --loglevel=error)
  fi
  # PostgreSQL beside SQLite: a throwaway cluster with two empty databases.
  pg_state="$TOLLGATE_BUILD_DIR/pg-bench"
  bash scripts/pg_cluster.sh stop "$pg_state" >/dev/null 2>&1 || true
  rm -rf "$pg_state"
  bash scripts/pg_cluster.sh start "$pg_state" >/dev/null
  trap 'bash scripts/pg_cluster.sh stop "$pg_state" >/dev/null 2>&1' EXIT
  base=$(cat "$pg_state/url")
  port=$(cat "$pg_state/port")
  # An empty database for each instance count in each round (--rounds R).
  local rounds=1 args=("$@") i
  for ((i = 0; i + 1 < ${#args[@]}; i++)); do
    [[ ${args[i]} == --rounds ]] && rounds=${args[i + 1]}
  done
  [[ $rounds =~ ^[1-9][0-9]*$ ]] || { echo "--rounds: not a positive number: $rounds" >&2; exit 2; }
  local one="" two=""
  for ((i = 1; i <= rounds; i++)); do
    createdb -h 127.0.0.1 -p "$port" -U tollgate "bench1_$i"
    createdb -h 127.0.0.1 -p "$port" -U tollgate "bench2_$i"
    one+="${one:+,}${base%/*}/bench1_$i"
    two+="${two:+,}${base%/*}/bench2_$i"
  done
  "$TOLLGATE_BUILD_DIR/bench/ingress_bench" --postgres "$one" --postgres2 "$two" "$@"
}
case "$which" in
  store) exec "$TOLLGATE_BUILD_DIR/bench/store_bench" "$@" ;;
  query) exec "$TOLLGATE_BUILD_DIR/bench/query_bench" "$@" ;;
  all)
    # Each benchmark prints its whole output to a log and its target figures as
    # "ratio | what | figure | target" lines, gathered here into one table.
    logs="$TOLLGATE_BUILD_DIR/bench-logs"
    mkdir -p "$logs"
    echo "full outputs in $logs/"
    "$TOLLGATE_BUILD_DIR/bench/store_bench" > "$logs/store.txt" 2>&1 || true
    ingress --tasks 1000000 --rounds 3 > "$logs/ingress.txt" 2>&1 || true
    "$TOLLGATE_BUILD_DIR/bench/query_bench" > "$logs/query.txt" 2>&1 || true
    printf '\n| %-60s | %10s | %10s |\n|%s|%s|%s|\n' figure measured target \
      "$(printf -- '-%.0s' {1..62})" "$(printf -- '-%.0s' {1..12})" "$(printf -- '-%.0s' {1..12})"
    for f in store ingress query; do
      grep -h '^ratio |' "$logs/$f.txt" | awk -F' [|] ' '{printf "| %-60s | %10s | %10s |\n", $2, $3, $4}'
    done
    echo
    for f in store ingress query; do
      { grep -h -B1 '^  each round:' "$logs/$f.txt" || true; } |
        sed -e '/^--$/d' -e 's/^ratio | \([^|]*\) |.*/\1/'
    done ;;
  ingress) ingress "$@" ;;
  fanout) exec "$TOLLGATE_BUILD_DIR/bench/fanout_bench" "$@" ;;
  *) echo "unknown benchmark: $which (store, ingress, query, fanout, all)" >&2; exit 2 ;;
esac
