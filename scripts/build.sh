#!/usr/bin/env bash
# Installs what is missing, then configures and builds Tollgate with Ninja and ccache.
# TOLLGATE_BUILD_DIR (default build) and TOLLGATE_BUILD_TYPE (default RelWithDebInfo) choose the build.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/deps.sh
build_dir=${TOLLGATE_BUILD_DIR:-build}
cmake -S . -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE="${TOLLGATE_BUILD_TYPE:-RelWithDebInfo}" >/dev/null
cmake --build "$build_dir" -j "$(nproc)"
