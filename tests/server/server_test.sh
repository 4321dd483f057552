#!/usr/bin/env bash
# licagent-server as a black box: the real process over TLS on an ephemeral port (curl as the
# client), and the admin commands' output and exit codes.
# Usage: server_test.sh LICAGENT_SERVER LICAGENT_VENDOR PKI_DIR CASE
set -euo pipefail
server=$1 vendor=$2 pki=$3 case=$4
work=$(mktemp -d)
pid=
cleanup() {
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then kill -KILL "$pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; [ -f "$work/server.err" ] && sed 's/^/server: /' "$work/server.err" >&2; exit 1; }
cd "$work"

"$vendor" keygen --key-id test-2026 --out vendor >/dev/null 2>&1 || fail "keygen"
cat >server.json <<JSON
{"listen":"127.0.0.1:0","tls":{"certificate":"$pki/server.crt","private_key":"$pki/server.key"},
 "signing_key":{"file":"vendor.pem","key_id":"test-2026"},
 "storage":{"kind":"sqlite","path":"licagent.db"},"access_log":"access.log","threads":2,
 "min_agent_version":"0.1.0",
 "products":[{"id":"licagent-demo","grace_days":14,"seats":1}]}
JSON
srv() { "$server" --config server.json "$@"; }

start() {
  rm -f port
  "$server" --config server.json serve --port-file port 2>server.err &
  pid=$!
  for _ in $(seq 100); do [ -s port ] && break; sleep 0.1; done
  [ -s port ] || fail "no port file after 10 s"
  port=$(cat port)
  [[ $port =~ ^[0-9]+$ ]] && [ "$port" -gt 0 ] || fail "port file holds '$port'"
}

stop() {
  kill -TERM "$pid"
  for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -0 "$pid" 2>/dev/null && fail "still running 10 s after SIGTERM"
  wait "$pid" || fail "exit code $? after SIGTERM"
  pid=
}

# POST/GET with the test CA; prints the body, then the HTTP status on its own line.
call() {  # method path [body]
  local args=(-sS --cacert "$pki/ca.crt" -X "$1" -w '\n%{http_code}')
  [ $# -ge 3 ] && args+=(-H 'Content-Type: application/json' --data-binary "$3")
  curl "${args[@]}" "https://127.0.0.1:$port$2"
}

# A machine: the identifier and its tags as candidates (environment vm+container).
activate_body() {  # key
  printf '{"product_id":"licagent-demo","credential":"%s","identifier":"HW1-4G00-0000-N0N0-007Q-MGEC-K3TV-C4KG","environment":"vm+container","candidates":{"nic":[43050],"os_install_id":[63396],"boot_volume":[7369],"cpu":[36699]},"nonce":"5f2a9c0d7e31b4a85f2a9c0d7e31b4a8","agent_version":"0.1.0"}' "$1"
}

case $case in
  smoke)
    key=$(srv credential create --product licagent-demo --customer "Smoke Test" 2>create.err)
    [[ $key =~ ^LK-[0-9A-Z]{5}(-[0-9A-Z]{5}){4}$ ]] || fail "key '$key'"
    start
    out=$(call GET /v1/health)
    [ "$(tail -n1 <<<"$out")" = 200 ] || fail "health: $out"
    grep -q '"status":"ok"' <<<"$out" || fail "health body: $out"

    out=$(call POST /v1/activate "$(activate_body "$key")")
    [ "$(tail -n1 <<<"$out")" = 200 ] || fail "activate: $out"
    grep -q 'BEGIN LICAGENT LICENSE' <<<"$out" || fail "no license: $out"
    grep -q '"seats_used":1' <<<"$out" || fail "seats_used: $out"
    # The license verifies with the vendor's own inspect and names the seat.
    head -n -1 <<<"$out" | python3 -c 'import json,sys; sys.stdout.write(json.load(sys.stdin)["license"])' >lic.txt
    "$vendor" inspect --key "$(cat vendor.pub)" lic.txt >inspect.txt 2>&1 || fail "inspect: $(cat inspect.txt)"
    grep -q 'lic-' inspect.txt || fail "no lic- id: $(cat inspect.txt)"

    # Errors are JSON with the documented codes.
    out=$(call GET /v1/activate); grep -q '"method_not_allowed"' <<<"$out" && [ "$(tail -n1 <<<"$out")" = 405 ] || fail "405: $out"
    out=$(call GET /nope); grep -q '"not_found"' <<<"$out" && [ "$(tail -n1 <<<"$out")" = 404 ] || fail "404: $out"
    out=$(call POST /v1/activate '{"x":'); grep -q '"malformed_request"' <<<"$out" || fail "400: $out"
    out=$(call POST /v1/activate "$(head -c 20000 /dev/zero | tr '\0' ' ')")
    grep -q '"too_large"' <<<"$out" && [ "$(tail -n1 <<<"$out")" = 413 ] || fail "413: $out"
    out=$(call POST /v1/activate "$(activate_body LK-00000-00000-00000-00000-00000)")
    grep -q '"unknown_credential"' <<<"$out" || fail "unknown credential: $out"

    # Only TLS 1.2+, and only with the right CA.
    curl -sS --tls-max 1.1 --cacert "$pki/ca.crt" "https://127.0.0.1:$port/v1/health" 2>/dev/null && fail "TLS 1.1 accepted"
    curl -sS --cacert "$pki/other-ca.crt" "https://127.0.0.1:$port/v1/health" 2>/dev/null && fail "untrusted CA accepted"

    # Admin commands work while the server runs.
    srv seat list --json | grep -q '"state": "active"' || fail "seat list"

    stop
    grep -q 'stopped' server.err || fail "no clean stop message"
    # The access log: one JSON line per request, credential ids but never the key.
    [ "$(wc -l <access.log)" -ge 7 ] || fail "access log has $(wc -l <access.log) lines"
    python3 -c 'import json,sys; [json.loads(l) for l in open("access.log")]' || fail "access log is not JSON lines"
    grep -q '"credential_id":"cred-' access.log || fail "no credential id in the access log"
    grep -q "$key" access.log && fail "the key is in the access log"
    grep -aq "$key" licagent.db* && fail "the key is in the database"
    [ "$(stat -c %a licagent.db)" = 600 ] || fail "database mode $(stat -c %a licagent.db)"
    # The seat survived the stop.
    srv seat list | grep -q active || fail "seat lost"
    ;;
  admin)
    set +e
    key=$(srv credential create --product licagent-demo --seats 3 --expires 2099-01-31 --feature export --feature render=gpu --max-cores 8 --json 2>/dev/null)
    [ $? = 0 ] || fail "create"
    set -e
    id=$(python3 -c 'import json,sys; d=json.loads(sys.argv[1]); assert d["key"].startswith("LK-"); assert d["seats"]==3; assert d["expires_at"]=="2099-01-31T00:00:00Z"; assert d["features"]=={"export":"","render":"gpu"}; print(d["id"])' "$key") || fail "create --json: $key"
    srv credential list | grep -q "$id" || fail "list"
    srv credential list --json | grep -q '"key"' && fail "list shows keys"
    srv credential freeze "$id" 2>/dev/null
    srv credential list --json | grep -q '"state": "frozen"' || fail "freeze"
    srv credential unfreeze "$id" 2>/dev/null
    srv credential release "$id" 2>/dev/null
    srv credential list --json | grep -q '"state": "released"' || fail "release"
    srv seat list --credential "$id" --json | grep -q '^\[\]' || fail "seat list of a new credential"
    expect() {  # exit-code command...
      local want=$1; shift
      set +e; "$@" >/dev/null 2>err.txt; local got=$?; set -e
      [ "$got" = "$want" ] || fail "$* exited $got, expected $want: $(cat err.txt)"
    }
    expect 5 srv credential freeze cred-0000000000000000
    expect 5 srv seat release lic-0000000000000000
    expect 5 srv seat list --credential cred-0000000000000000
    expect 2 srv credential create --product no-such-product
    expect 2 srv credential create --product licagent-demo --expires tomorrow
    expect 2 srv credential create --product licagent-demo --feature 'bad name'
    expect 2 srv credential create
    expect 2 srv frobnicate
    expect 3 "$server" --config missing.json credential list
    printf '{"listen":"127.0.0.1:0","listn":1}' >bad.json
    expect 2 "$server" --config bad.json credential list
    grep -q 'listn: unknown key' err.txt || fail "unknown key not named: $(cat err.txt)"
    # A port in use is a system error.
    sed 's/127.0.0.1:0/127.0.0.1:1/' server.json >priv.json
    if [ "$(id -u)" != 0 ]; then expect 3 "$server" --config priv.json serve; fi
    ;;
  *) fail "unknown case $case" ;;
esac
echo "ok: $case"
