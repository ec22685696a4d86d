#!/usr/bin/env bash
# The systems of the example company's connected apps, on this machine, for the sandbox
# (docs/connectors.md): the SCIM 2.0 server behind Jira on 127.0.0.1:9481 and the webhook
# receiver behind Deploy pipeline on 127.0.0.1:9482, the addresses examples/acme.json names.
# The SCIM server knows every person of the configuration who has an email (userName = email)
# and has the group Engineering, empty. Both run in the foreground until Ctrl-C; they keep
# nothing on disk.
#
# Prints the export lines for the terminal that runs `tollgate serve`: the token and the
# signing secret the servers were started with (TOLLGATE_SANDBOX_SCIM_TOKEN and
# TOLLGATE_SANDBOX_WEBHOOK_SECRET when already set, else fixed sandbox values).
#
# Needs node and tests/connectors/node_modules (scripts/deps.sh installs them).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
servers="$root/tests/connectors"
config="${TOLLGATE_CONFIG:-$root/examples/acme.json}"
scim_port=9481
hook_port=9482
token="${TOLLGATE_SANDBOX_SCIM_TOKEN:-sandbox-scim-token}"
secret="${TOLLGATE_SANDBOX_WEBHOOK_SECRET:-whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw}"

if ! command -v node >/dev/null; then
  echo "sandbox_connectors: node is not installed: run scripts/deps.sh" >&2
  exit 2
fi
for package in scimmy scimmy-routers express standardwebhooks; do
  if [[ ! -d "$servers/node_modules/$package" ]]; then
    echo "sandbox_connectors: $servers/node_modules/$package is missing: run scripts/deps.sh" >&2
    exit 2
  fi
done

# The configuration's people as SCIM users. The file may have // and /* */ comments and
# trailing commas (as Tollgate allows): they are dropped outside strings before parsing.
users="$(node - "$config" <<'EOF'
const fs = require("fs");
const text = fs.readFileSync(process.argv[2], "utf8");
let out = "";
for (let i = 0; i < text.length; ++i) {
  const c = text[i];
  if (c === '"') {
    let j = i + 1;
    while (j < text.length && text[j] !== '"') j += text[j] === "\\" ? 2 : 1;
    out += text.slice(i, j + 1);
    i = j;
  } else if (c === "/" && text[i + 1] === "/") {
    while (i < text.length && text[i] !== "\n") ++i;
    out += "\n";
  } else if (c === "/" && text[i + 1] === "*") {
    i = text.indexOf("*/", i + 2);
    if (i < 0) break;
    ++i;
  } else {
    out += c;
  }
}
const config = JSON.parse(out.replace(/,(\s*[\]}])/g, "$1"));
const users = (config.people || [])
  .filter((p) => p.email)
  .map((p) => ({ userName: p.email, email: p.email, displayName: p.name }));
process.stdout.write(JSON.stringify(users));
EOF
)"

pids=()
stop() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap stop EXIT
trap 'exit 0' INT TERM

node "$servers/scim_server.mjs" --port "$scim_port" --token "$token" --groups Engineering \
  --users "$users" >/dev/null &
pids+=($!)
node "$servers/webhook_receiver.mjs" --port "$hook_port" --secret "$secret" >/dev/null &
pids+=($!)

# Up when each answers its /control endpoint; a port in use ends its server at once.
for port_and_pid in "$scim_port/control/state:${pids[0]}" "$hook_port/control/deliveries:${pids[1]}"; do
  target="${port_and_pid%%:*}" pid="${port_and_pid##*:}"
  for _ in $(seq 100); do
    if ! kill -0 "$pid" 2>/dev/null; then
      echo "sandbox_connectors: the server for 127.0.0.1:${target%%/*} did not start (is the port in use?)" >&2
      exit 1
    fi
    if node -e 'fetch(process.argv[1]).then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))' \
        "http://127.0.0.1:$target"; then
      break
    fi
    sleep 0.2
  done
done

cat <<EOF
SCIM 2.0 server (Jira):        http://127.0.0.1:$scim_port/scim/v2  (group Engineering, $(node -e 'console.log(JSON.parse(process.argv[1]).length)' "$users") users)
webhook receiver (Deploy):     http://127.0.0.1:$hook_port/hook

In the terminal that runs Tollgate:

  export TOLLGATE_SANDBOX_SCIM_TOKEN='$token'
  export TOLLGATE_SANDBOX_WEBHOOK_SECRET='$secret'
  build/tollgate connectors test jira --config examples/acme.json
  build/tollgate serve --config examples/acme.json

Look inside:

  curl -s http://127.0.0.1:$scim_port/control/state         # users, and each group's members
  curl -s http://127.0.0.1:$hook_port/control/deliveries    # every signed event received

Ctrl-C stops both.
EOF
wait
