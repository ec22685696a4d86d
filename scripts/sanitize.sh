#!/usr/bin/env bash
# Builds the tree with sanitizers (CMakePresets.json) and runs the tests under them. CI runs both.
#   scripts/sanitize.sh asan   AddressSanitizer + UndefinedBehaviorSanitizer (clang, -O1): the whole
#                              suite; the same tree (build-asan) holds the libFuzzer targets that
#                              scripts/fuzz.sh runs
#   scripts/sanitize.sh tsan   ThreadSanitizer (GCC, -O1): the suites where threads meet: the store
#                              on both backends, the service, several instances on one
#                              PostgreSQL, and the whole server in-process with its scheduler,
#                              outbox worker and Slack and SMTP clients (StaleTasks), the
#                              Socket Mode client with its connections and handler threads, and
#                              the router and admin API in-process over the store's writer, and
#                              the connectors (their libcurl thread against the real SCIM server
#                              and webhook receiver, alone and in the whole server)
#                              (build-tsan, only the targets these need)
# Any report fails the run (halt_on_error, abort_on_error). The ASan suite runs twice as many tests
# at once as there are cores, like scripts/test.sh; the TSan suites, busy on the CPU (TSan's checks
# on every access), one per core.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/deps.sh
preset=${1:-asan}
case "$preset" in asan | tsan) ;; *) echo "unknown preset: $preset (asan, tsan)" >&2; exit 2 ;; esac
cmake --preset "$preset" >/dev/null
cmake --build --preset "$preset" -j "$(nproc)"
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:strict_string_checks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
export TSAN_OPTIONS=${TSAN_OPTIONS:-halt_on_error=1:second_deadlock_stack=1}
case "$preset" in
  asan) ctest --test-dir build-asan -j "$((2 * $(nproc)))" --output-on-failure ;;
  tsan) ctest --test-dir build-tsan -j "$(nproc)" --output-on-failure \
          -R "StoreTest|ServiceTest|InstancesTest|PgCluster|Sla\\.|SlaConfig|StaleTasks|WebClient|SocketModeClientTest|RouterTest|AdminApiTest|Connectors|WebhookTest|ScimTest" ;;
esac
