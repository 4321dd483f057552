#!/usr/bin/env bash
# The main job, from a fresh Debian 12 machine: install what is missing, build, then walk the
# whole chain on this one machine as a vendor and a customer would:
#   vendor keys → an agent built to trust them → a local activation server (HTTPS on 127.0.0.1
#   with a generated test CA, embedded SQLite) and the KooGallery marketplace simulator → a
#   customer buys and claims an authorization code → fingerprint → activate --code (the server
#   activates it with the marketplace) → check → renewal callback → refresh → server stopped →
#   check still valid offline → refresh fails gracefully → server back → deactivate → and the
#   air-gapped path with a license key: request → vendor answers the file → install.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh build
demo=$PWD/build-release/demo
rm -rf "$demo/state" "$demo/server" "$demo/market"
mkdir -p "$demo/server"
agent=build-release/agent/cli/licagent
vendor=build-release/server/licagent-vendor
server=build-release/server/licagent-server
market=build-release/server/licagent-marketsim

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

step "vendor: a local activation server and the KooGallery marketplace simulator (test CA, 127.0.0.1)"
bash tests/tls/make-test-pki.sh "$demo/pki" >/dev/null
cp "$demo/vendor.pem" "$demo/server/vendor.pem"
# Secrets of the demo only: the marketplace AK/SK and the seller-center callback key.
printf 'DEMO-SK-0123456789abcdefghijklmn\n' >"$demo/server/koogallery-sk"
printf 'demo-callback-key-0123456789\n' >"$demo/server/callback-key"
chmod 600 "$demo/server/koogallery-sk" "$demo/server/callback-key"
admin_token=demo-admin-token-0123456789
# The marketplace calls the vendor back, so the server's port is chosen first.
server_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')
mkdir -p "$demo/market"
cat >"$demo/market/market.json" <<JSON
{"listen": "127.0.0.1:0",
 "tls": {"certificate": "$demo/pki/server.crt", "private_key": "$demo/pki/server.key"},
 "state_file": "market-state.json", "access_log": "access.log",
 "admin_token": "$admin_token",
 "credentials": [{"access_key": "DEMO-AK", "secret_key": "DEMO-SK-0123456789abcdefghijklmn"}],
 "vendor": {"url": "https://127.0.0.1:$server_port/koogallery/callback",
            "key": "demo-callback-key-0123456789", "ca_bundle": "$demo/pki/ca.crt"},
 "retry": {"license_code": {"retries": 3, "interval_ms": 500}}}
JSON
market_pid=
"$market" --config "$demo/market/market.json" serve --port-file "$demo/market/port" \
  2>>"$demo/market/market.err" &
market_pid=$!
for _ in $(seq 100); do [ -s "$demo/market/port" ] && break; sleep 0.1; done
[ -s "$demo/market/port" ] || { cat "$demo/market/market.err" >&2; exit 1; }
market_url="https://127.0.0.1:$(cat "$demo/market/port")"
echo "licagent-marketsim listening on $market_url (pid $market_pid)"
# The simulator's admin API stands in for the buyer's console and the seller center.
market_admin() {
  printf '$ POST %s/admin/%s %s\n' "$market_url" "$1" "${2:-{\}}" >&2
  curl -sS --fail-with-body --cacert "$demo/pki/ca.crt" -H "Authorization: Bearer $admin_token" \
    -H 'Content-Type: application/json' -d "${2:-{\}}" "$market_url/admin/$1"
}

cat >"$demo/server/server.json" <<JSON
{"listen": "127.0.0.1:$server_port",
 "tls": {"certificate": "$demo/pki/server.crt", "private_key": "$demo/pki/server.key"},
 "signing_key": {"file": "vendor.pem", "key_id": "demo-vendor"},
 "storage": {"kind": "sqlite", "path": "licagent.db"},
 "access_log": "access.log",
 "products": [{"id": "licagent-demo", "default_validity_days": 365, "grace_days": 14,
               "seats": 2}],
 "koogallery": {
   "open_api": {"access_key": "DEMO-AK", "secret_key_file": "koogallery-sk",
                "hosts": ["127.0.0.1:$(cat "$demo/market/port")"], "ca_bundle": "$demo/pki/ca.crt"},
   "callback": {"path": "/koogallery/callback", "access_key_file": "callback-key"},
   "products": {"OFFI-LICAGENT-DEMO": "licagent-demo"}}}
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
stop_all() {
  stop_server
  [ -z "$market_pid" ] || { kill -TERM "$market_pid" && wait "$market_pid" || true; }
}
trap stop_all EXIT
start_server

step "marketplace: a customer buys licagent-demo on KooGallery (2 seats, 30 days), claims the code"
code=$(market_admin codes '{"product_id":"OFFI-LICAGENT-DEMO","amount":2,"valid_days":30}' |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["code"])')
echo "authorization code: $code"
market_admin "codes/$code/claim" >/dev/null

export LICAGENT_STATE_DIR="$demo/state"  # keep the demo's cache out of your home
export LICAGENT_CA_BUNDLE="$demo/pki/ca.crt"
export LICAGENT_NO_BACKGROUND_REFRESH=1

step "customer: licagent fingerprint"
run "$agent" fingerprint

step "customer: licagent activate --code (the vendor server activates the code with the marketplace)"
run "$agent" activate --code "$code"

step "customer: licagent check, status (offline, every start of the product)"
run "$agent" check
run "$agent" status
expect 16 "$agent" check --feature cad-pro

step "vendor: the server's view"
run "${admin[@]}" credential list
run "${admin[@]}" seat list

step "marketplace: the customer renews for a year; its callback reaches the vendor server"
market_admin "codes/$code/renew" '{"valid_days":365,"wait_ms":20000}' |
  python3 -c 'import json,sys; d=json.load(sys.stdin)["deliveries"][0]; print(d["activity"], d["state"], d["reply"])'
run "$agent" refresh
run "$agent" status

step "the server goes away: the check does not need it"
stop_server
run "$agent" check
expect 20 "$agent" refresh
run "$agent" check

step "the server is back: refresh, then deactivate (the seat is free again)"
start_server
run "$agent" refresh
run "$agent" deactivate
expect 10 "$agent" check

step "air-gapped machine: licagent request → vendor answers the file → licagent install"
key=$("${admin[@]}" credential create --product licagent-demo --customer "Demo customer" \
  --feature export --max-cores 1024)
echo "license key for the customer (sold outside the marketplace): $key"
run "$agent" request --out "$demo/request.json"
cat "$demo/request.json"
run "$vendor" issue --key "$demo/vendor.pem" --key-id demo-vendor --product licagent-demo \
  --customer "Demo customer" --request "$demo/request.json" --days 365 --grace-days 30 \
  --feature export --out "$demo/license.lic"
run "$agent" install "$demo/license.lic"
run "$agent" check --feature export

printf '\ndemo: every step behaved as expected\n'
