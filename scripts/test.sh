#!/usr/bin/env bash
# Installs what is missing, builds, and runs the whole test suite with ctest.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/build.sh
ctest --test-dir "${TOLLGATE_BUILD_DIR:-build}" --output-on-failure -j "$(nproc)"
