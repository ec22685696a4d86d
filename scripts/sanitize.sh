#!/usr/bin/env bash
# Builds the tree with sanitizers (CMakePresets.json) and runs the tests under them.
#   scripts/sanitize.sh asan    AddressSanitizer + UndefinedBehaviorSanitizer, the whole suite
#   scripts/sanitize.sh tsan    ThreadSanitizer, the concurrency suites
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/deps.sh
preset=${1:-asan}
cmake --preset "$preset" >/dev/null
cmake --build --preset "$preset" -j "$(nproc)"
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:strict_string_checks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
export TSAN_OPTIONS=${TSAN_OPTIONS:-halt_on_error=1:second_deadlock_stack=1}
case "$preset" in
  asan) ctest --test-dir build-asan -j "$(nproc)" --output-on-failure ;;
  tsan) ctest --test-dir build-tsan -j "$(nproc)" --output-on-failure \
          -R "StoreTest|Service|Instances|PgCluster|Scheduler|Sla" ;;
  *) echo "unknown preset: $preset (asan, tsan)" >&2; exit 2 ;;
esac
