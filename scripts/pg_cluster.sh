#!/usr/bin/env bash
# A throwaway PostgreSQL cluster for the tests, on loopback only.
#
#   scripts/pg_cluster.sh start STATE_DIR   initdb into a fresh temporary folder, start it on a
#                                            free port, create the database `tollgate`, and write
#                                            its URL to STATE_DIR/url
#   scripts/pg_cluster.sh stop STATE_DIR    stop it and remove its folder
#   scripts/pg_cluster.sh down STATE_DIR    stop the server, keeping its data (an outage)
#   scripts/pg_cluster.sh up STATE_DIR      start it again on the same port and data
#
# Uses Debian's PostgreSQL binaries (scripts/deps.sh installs them). When run as root, the
# server runs as the `postgres` user (PostgreSQL refuses to run as root).
set -euo pipefail

cmd=${1:?start, stop, down or up}
state=${2:?state directory}
bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
if [[ -z "$bin" ]]; then
  echo "pg_cluster: no PostgreSQL server found (run scripts/deps.sh)" >&2
  exit 1
fi
as_pg=()
if [[ $(id -u) -eq 0 ]]; then as_pg=(runuser -u postgres --); fi

stop() {
  if [[ -f "$state/data_dir" ]]; then
    local data
    data=$(cat "$state/data_dir")
    if [[ -d "$data" ]]; then
      "${as_pg[@]}" "$bin/pg_ctl" -D "$data" -m immediate -w stop >/dev/null 2>&1 || true
    fi
  fi
}

start_server() {
  local data=$1 port=$2
  "${as_pg[@]}" "$bin/pg_ctl" -D "$data" -l "$data/../server.log" -w -t 60 \
    -o "-p $port -k $data/.. -c listen_addresses=127.0.0.1 -c max_connections=200" start >/dev/null
}

case "$cmd" in
  start)
    stop
    if [[ -f "$state/data_dir" ]]; then rm -rf "$(dirname "$(cat "$state/data_dir")")"; fi
    mkdir -p "$state"
    root=$(mktemp -d /tmp/tollgate-pg-XXXXXX)
    chmod 755 "$root"
    if [[ ${#as_pg[@]} -gt 0 ]]; then chown postgres "$root"; fi
    data="$root/data"
    "${as_pg[@]}" "$bin/initdb" -D "$data" -U tollgate -A trust --no-sync -E UTF8 >/dev/null
    port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
    start_server "$data" "$port"
    "$bin/createdb" -h 127.0.0.1 -p "$port" -U tollgate tollgate
    echo "$data" >"$state/data_dir"
    echo "$port" >"$state/port"
    echo "postgresql://tollgate@127.0.0.1:$port/tollgate" >"$state/url"
    echo "pg_cluster: $(cat "$state/url")"
    ;;
  down)
    "${as_pg[@]}" "$bin/pg_ctl" -D "$(cat "$state/data_dir")" -m fast -w stop >/dev/null
    ;;
  up)
    start_server "$(cat "$state/data_dir")" "$(cat "$state/port")"
    ;;
  stop)
    stop
    if [[ -f "$state/data_dir" ]]; then rm -rf "$(dirname "$(cat "$state/data_dir")")"; fi
    rm -f "$state/data_dir" "$state/port" "$state/url"
    ;;
  *)
    echo "pg_cluster: unknown command $cmd" >&2
    exit 2
    ;;
esac
