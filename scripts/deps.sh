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
  prometheus-cpp-dev libcurl4-openssl-dev
  python3 python3-jsonschema python3-aiosmtpd clang
  chromium fonts-noto-color-emoji
  # cpack -G DEB (scripts/package.sh): dpkg-shlibdeps fills Depends; file finds the ELF files.
  dpkg-dev file
)
# Node.js and npm drive the sandbox page's browser test: the machine's own, else Debian's.
command -v node >/dev/null || packages+=(nodejs)
command -v npm >/dev/null || packages+=(npm)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if ((${#missing[@]} > 0)); then
  echo "deps: installing ${missing[*]}" >&2
  sudo_cmd=()
  if [[ $(id -u) -ne 0 ]]; then sudo_cmd=(sudo); fi
  export DEBIAN_FRONTEND=noninteractive
  "${sudo_cmd[@]}" apt-get update -qq
  "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# playwright-core, at the version tests/sandbox/package-lock.json pins (it drives Debian's
# chromium; it downloads no browser of its own).
sandbox_tests="$(dirname "$0")/../tests/sandbox"
if [[ ! -d "$sandbox_tests/node_modules/playwright-core" ]]; then
  echo "deps: npm ci in tests/sandbox" >&2
  npm ci --prefix "$sandbox_tests" --no-audit --no-fund --loglevel=error >/dev/null
fi

# playwright-core and axe-core, at the versions tests/web/package-lock.json pins: the task page
# behind every email link, in the same chromium, checked for accessibility.
web_tests="$(dirname "$0")/../tests/web"
if [[ ! -d "$web_tests/node_modules/axe-core" ]]; then
  echo "deps: npm ci in tests/web" >&2
  npm ci --prefix "$web_tests" --no-audit --no-fund --loglevel=error >/dev/null
fi

# typescript, @slack/types and @slack/web-api (for its argument types), at the versions
# tests/slack_types/package-lock.json pins: the type check of every payload sent to the fake Slack.
slack_types_tests="$(dirname "$0")/../tests/slack_types"
if [[ ! -d "$slack_types_tests/node_modules" ]]; then
  echo "deps: npm ci in tests/slack_types" >&2
  npm ci --prefix "$slack_types_tests" --no-audit --no-fund --loglevel=error >/dev/null
fi

# @slack/socket-mode (Slack's official Socket Mode client) and undici (a plain WebSocket), at
# the versions tests/socket_mode/package-lock.json pins: they prove the fake Slack's Socket Mode.
socket_mode_tests="$(dirname "$0")/../tests/socket_mode"
if [[ ! -d "$socket_mode_tests/node_modules/@slack/socket-mode" ]]; then
  echo "deps: npm ci in tests/socket_mode" >&2
  npm ci --prefix "$socket_mode_tests" --no-audit --no-fund --loglevel=error >/dev/null
fi

# scimmy, scimmy-routers, express 4 and standardwebhooks, at the versions
# tests/connectors/package-lock.json pins: the real SCIM 2.0 server and Standard Webhooks receiver
# Tollgate's connectors talk to in the tests (tests/support/connector_servers.h starts them).
connectors_tests="$(dirname "$0")/../tests/connectors"
if [[ ! -d "$connectors_tests/node_modules/standardwebhooks" ]]; then
  echo "deps: npm ci in tests/connectors" >&2
  npm ci --prefix "$connectors_tests" --no-audit --no-fund --loglevel=error >/dev/null
fi
