#!/usr/bin/env bash
# The main job, from a fresh Debian 12 machine: install what is missing, build, then walk the
# whole chain on this one machine as a vendor and a customer would:
#   vendor keys → an agent built to trust them → a local activation server (HTTPS on 127.0.0.1
#   with a generated test CA, embedded SQLite) → a license key → fingerprint → activate →
#   check → server stopped → check still valid offline → refresh fails gracefully → server back
#   → deactivate → and the air-gapped path: request → vendor answers the file → install.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh build
demo=$PWD/build-release/demo
rm -rf "$demo/state" "$demo/server"
mkdir -p "$demo/server"
agent=build-release/agent/cli/licagent
vendor=build-release/server/licagent-vendor
server=build-release/server/licagent-server

step() { printf '\n== %s\n' "$*"; }
run() { printf '$ %s\n' "$*"; "$@"; }
# Runs a command that is expected to fail with exit code $1.
expect() {
  local want=$1
  shift
  printf '$ %s\n' "$*"
  set +e
  "$@"
  local got=$?
  set -e
  echo "(exit code $got, expected $want)"
  [ "$got" -eq "$want" ] || { echo "demo: unexpected exit code" >&2; exit 1; }
}

cmake --preset release >/dev/null
cmake --build build-release

step "vendor: licagent-vendor keygen (once; the private key stays with the vendor)"
[ -f "$demo/vendor.pem" ] || "$vendor" keygen --key-id demo-vendor --out "$demo/vendor"
cat "$demo/vendor.pub"

step "vendor: build the agent trusting that key (LICAGENT_TRUSTED_KEYS)"
cmake --preset release -DLICAGENT_PRODUCT_ID=licagent-demo \
  -DLICAGENT_TRUSTED_KEYS="$(cat "$demo/vendor.pub")" >/dev/null
cmake --build build-release | tail -1

step "vendor: a local activation server (test CA, certificate for 127.0.0.1, SQLite store)"
bash tests/tls/make-test-pki.sh "$demo/pki" >/dev/null
cp "$demo/vendor.pem" "$demo/server/vendor.pem"
cat >"$demo/server/server.json" <<JSON
{"listen": "127.0.0.1:0",
 "tls": {"certificate": "$demo/pki/server.crt", "private_key": "$demo/pki/server.key"},
 "signing_key": {"file": "vendor.pem", "key_id": "demo-vendor"},
 "storage": {"kind": "sqlite", "path": "licagent.db"},
 "access_log": "access.log",
 "products": [{"id": "licagent-demo", "default_validity_days": 365, "grace_days": 14,
               "seats": 2}]}
JSON
cat "$demo/server/server.json"
admin=("$server" --config "$demo/server/server.json")

pid=
start_server() {
  rm -f "$demo/server/port"
  "${admin[@]}" serve --port-file "$demo/server/port" 2>>"$demo/server/server.err" &
  pid=$!
  for _ in $(seq 100); do [ -s "$demo/server/port" ] && break; sleep 0.1; done
  [ -s "$demo/server/port" ] || { cat "$demo/server/server.err" >&2; exit 1; }
  # The agent finds its server and the CA through the environment (or agent.json, or flags).
  export LICAGENT_SERVER_URL="https://127.0.0.1:$(cat "$demo/server/port")"
  echo "licagent-server listening on $LICAGENT_SERVER_URL (pid $pid)"
}
stop_server() {
  [ -n "$pid" ] || return 0
  kill -TERM "$pid" && wait "$pid" || true
  echo "licagent-server stopped"
  pid=
}
trap stop_server EXIT

key=$("${admin[@]}" credential create --product licagent-demo --customer "Demo customer" \
  --feature export --max-cores 1024)
echo "license key for the customer: $key"
start_server

export LICAGENT_STATE_DIR="$demo/state"  # keep the demo's cache out of your home
export LICAGENT_CA_BUNDLE="$demo/pki/ca.crt"
export LICAGENT_NO_BACKGROUND_REFRESH=1

step "customer: licagent fingerprint"
run "$agent" fingerprint

step "customer: licagent activate (HTTPS to the vendor server, signed answer cached)"
run "$agent" activate --key "$key"

step "customer: licagent check, status (offline, every start of the product)"
run "$agent" check --feature export
run "$agent" status
expect 16 "$agent" check --feature cad-pro

step "vendor: the server's view"
run "${admin[@]}" seat list

step "the server goes away: the check does not need it"
stop_server
run "$agent" check --feature export
expect 20 "$agent" refresh
run "$agent" check --feature export

step "the server is back: refresh, then deactivate (the seat is free again)"
start_server
run "$agent" refresh
run "$agent" deactivate
expect 10 "$agent" check

step "air-gapped machine: licagent request → vendor answers the file → licagent install"
run "$agent" request --out "$demo/request.json"
cat "$demo/request.json"
run "$vendor" issue --key "$demo/vendor.pem" --key-id demo-vendor --product licagent-demo \
  --customer "Demo customer" --request "$demo/request.json" --days 365 --grace-days 30 \
  --feature export --out "$demo/license.lic"
run "$agent" install "$demo/license.lic"
run "$agent" check --feature export

printf '\ndemo: every step behaved as expected\n'
