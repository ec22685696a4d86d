#!/usr/bin/env bash
# Installs what is missing, builds, and starts `tollgate serve` on the embedded
# SQLite store with the example company. Extra arguments go to `serve`.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/build.sh
export TOLLGATE_CONFIG=${TOLLGATE_CONFIG:-examples/acme.json}
export TOLLGATE_DB=${TOLLGATE_DB:-sqlite:tollgate.db}
exec "${TOLLGATE_BUILD_DIR:-build}/tollgate" serve "$@"
