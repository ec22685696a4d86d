#!/usr/bin/env bash
# Installs the Debian packages Tollgate needs to build and test, and only those
# that are missing. Safe to run again: a machine that has everything is left alone.
set -euo pipefail

packages=(
  build-essential cmake ninja-build ccache pkg-config git
  libboost1.81-dev libboost-url1.81-dev
  libssl-dev openssl rapidjson-dev libsqlite3-dev sqlite3 libpq-dev postgresql
  libgtest-dev libgmock-dev
  libspdlog-dev libcli11-dev
  python3 python3-jsonschema python3-aiosmtpd clang
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if ((${#missing[@]} == 0)); then
  exit 0
fi

echo "deps: installing ${missing[*]}" >&2
sudo_cmd=()
if [[ $(id -u) -ne 0 ]]; then sudo_cmd=(sudo); fi
export DEBIAN_FRONTEND=noninteractive
"${sudo_cmd[@]}" apt-get update -qq
"${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
