#!/usr/bin/env bash
# licagent-marketsim as a black box with curl: admin authentication, the gateway's answers to
# unsigned or misrouted requests, configuration errors and exit codes.
# Usage: marketsim_test.sh LICAGENT_MARKETSIM PKI_DIR CASE
set -euo pipefail
sim=$1 pki=$2 case=$3
work=$(mktemp -d)
pid=
cleanup() {
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then kill -KILL "$pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; [ -f "$work/sim.err" ] && sed 's/^/marketsim: /' "$work/sim.err" >&2; exit 1; }
cd "$work"
token=admin-token-0123456789abcdef

write_config() {  # extra top-level JSON members
  cat >marketsim.json <<JSON
{"listen":"127.0.0.1:0","tls":{"certificate":"$pki/server.crt","private_key":"$pki/server.key"},
 "state_file":"state.json","access_log":"access.log","threads":2,$1
 "credentials":[{"access_key":"AK-TEST","secret_key":"SK-TEST-0123456789"}]}
JSON
}

start() {
  rm -f port
  "$sim" --config marketsim.json serve --port-file port 2>sim.err &
  pid=$!
  for _ in $(seq 100); do [ -s port ] && break; sleep 0.1; done
  [ -s port ] || fail "no port file after 10 s"
  port=$(cat port)
}

stop() {
  kill -TERM "$pid"
  for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -0 "$pid" 2>/dev/null && fail "still running 10 s after SIGTERM"
  wait "$pid" || fail "exit code $? after SIGTERM"
  pid=
}

# Prints the body, then the HTTP status on its own line.
call() {  # method path [body] [curl args...]
  local method=$1 path=$2 body=${3:-}
  shift 3 || shift $#
  local args=(-sS --cacert "$pki/ca.crt" -X "$method" -w '\n%{http_code}' "$@")
  [ -n "$body" ] && args+=(-H 'Content-Type: application/json' --data-binary "$body")
  curl "${args[@]}" "https://127.0.0.1:$port$path"
}
expect() {  # output, status, substring
  [ "$(tail -n1 <<<"$1")" = "$2" ] || fail "status $(tail -n1 <<<"$1"), expected $2: $1"
  grep -qF -- "$3" <<<"$1" || fail "no '$3' in: $1"
}

case $case in
  admin-auth)
    write_config "\"admin_token\":\"$token\","
    start
    expect "$(call GET /admin/codes)" 401 '"error":"unauthorized"'
    expect "$(call GET /admin/codes '' -H "Authorization: Bearer wrong-token-0123456789")" 401 unauthorized
    out=$(call POST /admin/codes '{"product_id":"p1","amount":3,"valid_days":10}' -H "Authorization: Bearer $token")
    expect "$out" 201 '"state":"unclaimed"'
    code=$(head -n1 <<<"$out" | sed 's/.*"code":"\(PL[0-9A-Z]*\)".*/\1/')
    [[ $code =~ ^PL[0-9A-Z]{14}$ ]] || fail "code '$code'"
    expect "$(call POST "/admin/codes/$code/claim" '{}' -H "Authorization: Bearer $token")" 200 '"state":"claimed"'
    expect "$(call POST "/admin/codes/$code/claim" '{}' -H "Authorization: Bearer $token")" 409 illegal_transition
    expect "$(call GET /admin/codes '' -H "Authorization: Bearer $token")" 200 "\"code\":\"$code\""
    expect "$(call GET /admin/codes/PLNONE '' -H "Authorization: Bearer $token")" 404 not_found
    stop
    grep -q "\"code\": \"$code\"" state.json || fail "state.json lacks the code"
    [ "$(stat -c %a state.json)" = 600 ] || fail "state.json mode $(stat -c %a state.json)"
    grep -q SK-TEST access.log sim.err && fail "a secret key reached a log"
    grep -q '"path":"/admin/codes"' access.log || fail "no access log line"
    ;;
  gateway)
    write_config ""
    start
    # No token configured: admin answers loopback clients.
    expect "$(call POST /admin/codes '{"product_id":"p1","claimed":true}')" 201 '"state":"claimed"'
    expect "$(call POST /api/mkp-openapi-public/global/v1/license/activate '{"license":"PL1"}')" 401 '"error_code":"APIGW.0301"'
    expect "$(call POST /api/mkp-openapi-public/global/v1/license/activate '{"license":"PL1"}' \
      -H 'X-Sdk-Date: 20200101T000000Z' \
      -H 'Authorization: SDK-HMAC-SHA256 Access=AK-TEST, SignedHeaders=host;x-sdk-date, Signature=00')" \
      401 '"error_code":"APIGW.0303"'
    expect "$(call POST /api/mkp-openapi-public/global/v9/nothing '{}')" 404 '"error_code":"APIGW.0101"'
    expect "$(call POST /admin/faults '{"error_code":"92020001","count":1}')" 200 injected
    stop
    ;;
  config-errors)
    set +e
    "$sim" --config missing.json check-config 2>err; rc=$?
    [ $rc = 3 ] || fail "missing config: exit $rc"
    echo '{"listen":"127.0.0.1:0"}' >bad.json
    "$sim" --config bad.json check-config 2>err; rc=$?
    [ $rc = 2 ] || fail "bad config: exit $rc"
    grep -q 'tls' err || fail "no mention of tls: $(cat err)"
    "$sim" --bogus 2>/dev/null; rc=$?
    [ $rc = 2 ] || fail "usage: exit $rc"
    write_config '"frozen_query_status":"EXPIRED",'
    "$sim" --config marketsim.json check-config; rc=$?
    [ $rc = 0 ] || fail "good config: exit $rc"
    echo '{"version":1,"codes":[{"code":"PL1"}]}' >state.json
    "$sim" --config marketsim.json serve 2>err; rc=$?
    [ $rc = 3 ] || fail "corrupt state file: exit $rc"
    ;;
  *) fail "unknown case $case" ;;
esac
echo "ok $case"
