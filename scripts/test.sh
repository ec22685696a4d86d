#!/usr/bin/env bash
# Installs what is missing, builds, and runs the whole test suite with ctest.
# Twice as many tests at once as there are cores: most of the suite's time is tests waiting (at
# Slack's pace, for an outage to end, for a browser); on two cores about a quarter of the CPU was
# busy at -j2, 40% at -j4. The tests that bound a latency run alone (RUN_SERIAL, in
# tests/CMakeLists.txt).
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/build.sh
ctest --test-dir "${TOLLGATE_BUILD_DIR:-build}" --output-on-failure -j "$((2 * $(nproc)))"
