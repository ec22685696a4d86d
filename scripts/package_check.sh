#!/usr/bin/env bash
# Installs the Debian package with dpkg and checks what an operator gets: the installed binary
# runs and accepts the shipped configuration, dpkg knows the unit and the configuration files
# (as conffiles), the unit carries its hardening, the tollgate user and the file modes are as
# README.Debian says, and the installed binary, as that user, starts on the shipped configuration
# and answers /healthz and /readyz. Run again, it reinstalls the same package over the first.
#
#   scripts/package_check.sh [PATH.deb]     (default: the one tollgate_*.deb in build-pkg)
#
# Needs root for dpkg (sudo is used when not root). The service itself is not started: a CI
# container has no systemd; the serve check runs the binary as the service's user instead, on a
# throwaway database. The package is left installed.
# shellcheck disable=SC2015  # "check && pass || fail": pass only echoes, it never fails.
set -euo pipefail
cd "$(dirname "$0")/.."

deb=${1:-}
if [[ -z "$deb" ]]; then
  shopt -s nullglob
  debs=("${TOLLGATE_PACKAGE_DIR:-build-pkg}"/tollgate_*.deb)
  if ((${#debs[@]} != 1)); then
    echo "package_check: no single tollgate_*.deb; run scripts/package.sh first" >&2
    exit 2
  fi
  deb=${debs[0]}
fi

as_root=()
if [[ $(id -u) -ne 0 ]]; then
  command -v sudo >/dev/null || { echo "package_check: needs root or sudo for dpkg" >&2; exit 2; }
  as_root=(sudo)
fi

failures=0
fail() { echo "FAIL: $*" >&2; failures=$((failures + 1)); }
pass() { echo "ok: $*"; }

echo "== dpkg -i $deb"
if ! "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive dpkg -i "$deb"; then
  # A machine without one of the Depends (adduser on a minimal image, say): apt fetches them and
  # finishes configuring the package, as an operator would do.
  echo "package_check: dpkg -i left dependencies missing: apt-get install -f" >&2
  "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -f -y -qq >/dev/null
fi
status=$(dpkg-query -W -f='${Status} ${Version}' tollgate)
[[ "$status" == "install ok installed "* ]] && pass "dpkg: $status" || fail "dpkg status: $status"
# libpq and libcurl are loaded when first needed (base/shared_library.h), so dpkg-shlibdeps does
# not see them: the package names them itself.
depends=$(dpkg-query -W -f='${Depends}' tollgate)
for p in libpq5 libcurl4; do
  grep -qE "(^|, )$p( |,|$)" <<<"$depends" && pass "Depends: $p" || fail "Depends lacks $p: $depends"
done

echo "== the installed binary"
if /usr/bin/tollgate --help >/dev/null; then pass "/usr/bin/tollgate --help"
else fail "/usr/bin/tollgate --help exited $?"; fi
# As the service's user: the configuration is 0640 root:tollgate, and the service must read it.
if "${as_root[@]}" setpriv --reuid=tollgate --regid=tollgate --clear-groups \
     /usr/bin/tollgate check-config /etc/tollgate/tollgate.json; then
  pass "tollgate check-config /etc/tollgate/tollgate.json, as the tollgate user"
else
  fail "tollgate check-config /etc/tollgate/tollgate.json as the tollgate user exited $?"
fi

echo "== dpkg -L tollgate"
listed=$(dpkg -L tollgate)
for f in /usr/bin/tollgate /lib/systemd/system/tollgate.service /etc/tollgate/tollgate.json \
         /etc/tollgate/tollgate.env /usr/share/doc/tollgate/README.Debian; do
  grep -qxF "$f" <<<"$listed" && pass "listed: $f" || fail "dpkg -L does not list $f"
done
conffiles=$(dpkg-query -W -f='${Conffiles}' tollgate)
for f in /etc/tollgate/tollgate.json /etc/tollgate/tollgate.env; do
  grep -qE "^ $f [0-9a-f]{32}$" <<<"$conffiles" && pass "conffile: $f" || fail "$f is not a conffile"
done

echo "== the unit's hardening"
unit=/lib/systemd/system/tollgate.service
for directive in 'User=tollgate' 'ExecStart=/usr/bin/tollgate serve' \
    'Environment=TOLLGATE_CONFIG=/etc/tollgate/tollgate.json' \
    'Environment=TOLLGATE_DB=sqlite:/var/lib/tollgate/tollgate.db' \
    'EnvironmentFile=/etc/tollgate/tollgate.env' 'StateDirectory=tollgate' 'Restart=on-failure' \
    'UMask=0077' 'NoNewPrivileges=yes' 'ProtectSystem=strict' 'ProtectHome=yes' 'PrivateTmp=yes' \
    'PrivateDevices=yes' 'ProtectKernelTunables=yes' 'ProtectKernelModules=yes' \
    'ProtectControlGroups=yes' 'RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX' \
    'RestrictNamespaces=yes' 'LockPersonality=yes' 'MemoryDenyWriteExecute=yes' \
    'SystemCallArchitectures=native' 'CapabilityBoundingSet='; do
  grep -qxF "$directive" "$unit" && pass "$directive" || fail "$unit lacks $directive"
done
if command -v systemd-analyze >/dev/null; then
  # Without systemd as PID 1 (a container) verify still parses the unit and checks its binary.
  if out=$("${as_root[@]}" systemd-analyze verify "$unit" 2>&1) && [[ -z "$out" ]]; then
    pass "systemd-analyze verify: clean"
  else
    fail "systemd-analyze verify: ${out:-exit status}"
  fi
else
  echo "skip: systemd-analyze is not installed"
fi

echo "== user and modes"
getent passwd tollgate >/dev/null && pass "user tollgate exists" || fail "no user tollgate"
check_mode() {  # path, expected "mode owner:group"
  local got
  got=$(stat -c '%a %U:%G' "$1")
  [[ "$got" == "$2" ]] && pass "$1 $got" || fail "$1 is $got, not $2"
}
check_mode /etc/tollgate/tollgate.json "640 root:tollgate"
check_mode /etc/tollgate/tollgate.env "600 root:root"
check_mode /var/lib/tollgate "750 tollgate:tollgate"
check_mode /usr/bin/tollgate "755 root:root"

echo "== serve, as the tollgate user, on the shipped configuration"
work=$("${as_root[@]}" mktemp -d /tmp/tollgate-package-check.XXXXXX)
"${as_root[@]}" chown tollgate:tollgate "$work"
log=$(mktemp)
cleanup() {
  [[ -n "${serve_pid:-}" ]] && "${as_root[@]}" kill "$serve_pid" 2>/dev/null || true
  "${as_root[@]}" rm -rf "$work"
  rm -f "$log"
}
trap cleanup EXIT
# setpriv execs (runuser would fork and stand between this script and serve's exit status).
"${as_root[@]}" setpriv --reuid=tollgate --regid=tollgate --init-groups \
  env -C "$work" -i PATH=/usr/bin:/bin \
  TOLLGATE_CONFIG=/etc/tollgate/tollgate.json TOLLGATE_DB="sqlite:$work/tollgate.db" \
  TOLLGATE_LISTEN=127.0.0.1:0 TOLLGATE_SANDBOX=off /usr/bin/tollgate serve >"$log" 2>&1 &
serve_pid=$!
url=""
for _ in $(seq 1 300); do  # up to 30 s
  url=$(sed -n 's|.*tollgate: listening on \(http://[0-9.]*:[0-9]*\).*|\1|p' "$log" | head -1)
  [[ -n "$url" ]] && break
  [[ -d /proc/$serve_pid ]] || break  # (kill -0 cannot see sudo's process from a user)
  sleep 0.1
done
if [[ -z "$url" ]]; then
  fail "serve did not start; its log:"
  cat "$log" >&2
else
  pass "serve listening on $url"
  for path in /healthz /readyz; do
    if body=$(python3 -c 'import sys, urllib.request
print(urllib.request.urlopen(sys.argv[1], timeout=5).read().decode().strip())' "$url$path")
    then pass "GET $path: $body"
    else fail "GET $path failed"; fi
  done
  # The audit key file, made by the first start beside the database: the service user's, 0600.
  check_mode "$work/tollgate.db.audit-key" "600 tollgate:tollgate"
fi
"${as_root[@]}" kill -TERM "$serve_pid" 2>/dev/null || true
wait "$serve_pid" 2>/dev/null && pass "serve stopped on SIGTERM" || fail "serve exited $? on SIGTERM"
serve_pid=""

if ((failures > 0)); then
  echo "package_check: $failures check(s) failed" >&2
  exit 1
fi
echo "package_check: all checks passed; tollgate $(dpkg-query -W -f='${Version}' tollgate) is installed"
