#!/usr/bin/env bash
# Builds the libFuzzer targets (the asan preset: clang, AddressSanitizer, UndefinedBehaviorSanitizer;
# the tree scripts/sanitize.sh asan also uses) and runs each for SECONDS (default 60), two at a
# time, seeded with Slack's fixtures from tests/fixtures/slack and the kept regression inputs
# (tests/fuzz/regressions/TARGET). A crash fails the run with its input in build-asan/crashes/.
#   scripts/fuzz.sh [SECONDS] [TARGET...]     targets: form interaction event tasks_command config signature
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/deps.sh
seconds=${1:-60}
shift || true
targets=("$@")
[[ ${#targets[@]} -eq 0 ]] && targets=(form interaction event tasks_command config signature)
build=build-asan
cmake --preset asan >/dev/null
cmake --build "$build" -j "$(nproc)" --target "${targets[@]/#/fuzz_}"
fixtures=tests/fixtures/slack
mkdir -p "$build/crashes"

seed() {
  local t=$1 corpus=$2
  case "$t" in
    form) cp "$fixtures"/*.txt "$corpus"/ 2>/dev/null || true ;;
    interaction) cp "$fixtures"/block_actions_payload_*.json "$corpus"/ ;;
    event) cp "$fixtures"/event_*.json "$fixtures"/inner_event_*.json "$corpus"/ ;;
    config) cp examples/acme.json "$corpus"/ ;;
    tasks_command) printf 'approve 42 43 -- ok' >"$corpus/seed1"
                   printf 'request github/admin for <@U1|bo> 8h --emergency -- why' >"$corpus/seed2"
                   printf 'delegate <@U0OLGA> until 2026-12-24' >"$corpus/seed3" ;;
    signature) printf '1700000000\nv0=0000\nbody' >"$corpus/seed1" ;;
  esac
  if [[ -d "tests/fuzz/regressions/$t" ]]; then cp tests/fuzz/regressions/"$t"/* "$corpus"/; fi
}

run() {
  local t=$1 corpus="$build/corpus/$1"
  mkdir -p "$corpus"
  seed "$t" "$corpus"
  if ASAN_OPTIONS=detect_leaks=1 "$build/tests/fuzz/fuzz_$t" "$corpus" -max_total_time="$seconds" \
       -max_len=65536 -timeout=10 -artifact_prefix="$build/crashes/$t-" -print_final_stats=1 \
       2>"$build/fuzz_$t.log"; then
    grep -E "stat::number_of_executed_units|stat::peak_rss_mb" "$build/fuzz_$t.log" | sed "s/^/fuzz: $t: /"
  else
    tail -40 "$build/fuzz_$t.log"
    echo "fuzz: $t FAILED; the input is in $build/crashes/" >&2
    return 1
  fi
}

echo "fuzz: ${targets[*]}, ${seconds}s each, two at a time"
failed=0
for ((i = 0; i < ${#targets[@]}; i += 2)); do
  pids=()
  for t in "${targets[@]:i:2}"; do
    run "$t" &
    pids+=($!)
  done
  for p in "${pids[@]}"; do wait "$p" || failed=1; done
done
exit "$failed"
