#!/usr/bin/env bash
# The online commands of the licagent CLI as a black box, without a server of their own: usage
# and configuration errors, a server that is down, exit codes and --json errors, the offline
# request round trip with licagent-vendor, the daily background refresh, and that the check
# never loads libcurl.
# Usage: online_cli_test.sh LICAGENT CASE [LICAGENT_VENDOR]
set -uo pipefail
agent=$1 case_name=$2 vendor=${3:-}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL [$case_name]: $*" >&2; exit 1; }
expect() {
  local want=$1; shift
  "$@" >"$tmp/out" 2>"$tmp/err"
  local got=$?
  [ "$got" -eq "$want" ] || fail "$* exited $got, expected $want: $(cat "$tmp/out" "$tmp/err")"
}
export LICAGENT_STATE_DIR="$tmp/state"
export XDG_CONFIG_HOME="$tmp/config"
unset LICAGENT_SERVER_URL LICAGENT_CA_BUNDLE LICAGENT_PINNED_KEY LICAGENT_PROXY
unset LICAGENT_NO_BACKGROUND_REFRESH
state=$LICAGENT_STATE_DIR
# A port where nothing listens: python binds and closes it.
closed_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }

# issue OUT [ARGS...]: a license for this machine signed by a fresh trusted key.
setup_vendor() {
  [ -x "$vendor" ] || fail "no licagent-vendor"
  "$vendor" keygen --key-id test-vendor --out "$tmp/vendor" >/dev/null || fail "keygen"
  export LICAGENT_TRUSTED_KEYS_FILE="$tmp/vendor.pub"
  id=$("$agent" fingerprint -q) || fail "fingerprint"
  product=$("$agent" --version | sed -n 's/.*(product \(.*\))$/\1/p')
}
issue() {
  local out=$1; shift
  "$vendor" issue --key "$tmp/vendor.pem" --key-id test-vendor --product "$product" \
    --customer "CI" "$@" --out "$out" >/dev/null 2>"$tmp/issue.err" \
    || fail "issue $*: $(cat "$tmp/issue.err")"
}
iso() { date -u -d "@$1" +%Y-%m-%dT%H:%M:%SZ; }

case "$case_name" in
  no-libcurl-on-check)
    readelf -d "$agent" | grep NEEDED >"$tmp/needed" || fail "readelf"
    if grep -qi curl "$tmp/needed"; then fail "libcurl is a NEEDED library: $(cat "$tmp/needed")"; fi
    LD_DEBUG=libs "$agent" check >/dev/null 2>"$tmp/ld"
    grep -q "calling init" "$tmp/ld" || fail "LD_DEBUG gave nothing to judge by"
    if grep -q "libcurl" "$tmp/ld"; then fail "licagent check loaded libcurl"; fi
    ;;
  usage)
    expect 2 "$agent" activate
    grep -q "exactly one of --key" "$tmp/err" || fail "activate without key: $(cat "$tmp/err")"
    expect 2 "$agent" activate --key LK-1 --code PL-1
    expect 2 "$agent" activate --key LK-1
    grep -q "no activation server is configured" "$tmp/err" || fail "no server: $(cat "$tmp/err")"
    expect 2 "$agent" activate --key LK-1 --server http://127.0.0.1:1
    grep -q "https://" "$tmp/err" || fail "http accepted: $(cat "$tmp/err")"
    expect 2 "$agent" request
    mkdir -p "$XDG_CONFIG_HOME/licagent"
    echo '{"server_url":"https://127.0.0.1:1","bogus":1}' >"$XDG_CONFIG_HOME/licagent/agent.json"
    expect 2 "$agent" activate --key LK-1
    grep -q 'unknown key "bogus"' "$tmp/err" || fail "strict config: $(cat "$tmp/err")"
    expect 2 "$agent" activate --key LK-1 --config "$tmp/missing.json"
    ;;
  server-down)
    port=$(closed_port)
    start=$(date +%s%N)
    LICAGENT_SERVER_URL="https://127.0.0.1:$port" expect 20 "$agent" activate --key LK-SECRET-KEY
    elapsed_ms=$((($(date +%s%N) - start) / 1000000))
    grep -q "Contacting https://127.0.0.1:$port/v1/activate" "$tmp/err" || fail "no progress: $(cat "$tmp/err")"
    grep -q "attempt 4 of 4" "$tmp/err" || fail "not 4 attempts: $(cat "$tmp/err")"
    grep -q "cannot connect" "$tmp/err" || fail "cause not named: $(cat "$tmp/err")"
    if grep -q "LK-SECRET-KEY" "$tmp/out" "$tmp/err"; then fail "the key was printed"; fi
    [ "$elapsed_ms" -lt 20000 ] || fail "took $elapsed_ms ms"
    [ ! -e "$state/license.lic" ] || fail "a license appeared"
    expect 20 "$agent" activate --key LK-1 --server "https://127.0.0.1:$port" --json --quiet
    [ ! -s "$tmp/err" ] || fail "--quiet printed: $(cat "$tmp/err")"
    python3 - "$tmp/out" <<'PY' || fail "--json error: $(cat "$tmp/out")"
import json, sys
d = json.load(open(sys.argv[1]))
e = d["error"]
assert e["code"] == "unavailable" and e["remote_code"] is None and "cannot connect" in e["message"], d
PY
    ;;
  no-license)
    expect 10 "$agent" refresh --server https://127.0.0.1:1
    expect 10 "$agent" deactivate --server https://127.0.0.1:1 --json
    grep -q '"not_found"' "$tmp/out" || fail "deactivate --json: $(cat "$tmp/out")"
    ;;
  offline-request)
    setup_vendor
    expect 0 "$agent" request --out "$tmp/req.json"
    [ -s "$tmp/req.json" ] || fail "no request file"
    [ -f "$state/request.pending" ] || fail "pending nonce not remembered"
    # An unrelated license: installed, with a note that it does not answer the request.
    issue "$tmp/other.lic" --identifier "$id" --days 30
    expect 0 "$agent" install "$tmp/other.lic"
    grep -q "does not answer the offline request" "$tmp/err" || fail "no note: $(cat "$tmp/err")"
    issue "$tmp/answer.lic" --request "$tmp/req.json" --days 30
    expect 0 "$agent" install "$tmp/answer.lic"
    grep -q "answers the offline request made here" "$tmp/out" || fail "not recognised: $(cat "$tmp/out")"
    [ ! -f "$state/request.pending" ] || fail "pending request not forgotten"
    expect 0 "$agent" check
    ;;
  background-refresh)
    setup_vendor
    now=$(date +%s)
    issue "$tmp/l.lic" --identifier "$id" --days 30 --grace-days 10 \
      --issued-at "$(iso $((now - 2 * 86400)))" --server-time "$(iso $((now - 2 * 86400)))"
    expect 0 "$agent" install "$tmp/l.lic"
    port=$(closed_port)
    export LICAGENT_SERVER_URL="https://127.0.0.1:$port"
    expect 0 "$agent" check --no-background-refresh
    [ ! -f "$state/refresh.stamp" ] || fail "--no-background-refresh started one"
    LICAGENT_NO_BACKGROUND_REFRESH=1 expect 0 "$agent" check
    [ ! -f "$state/refresh.stamp" ] || fail "LICAGENT_NO_BACKGROUND_REFRESH started one"
    expect 0 "$agent" check --json
    grep -q '"refresh_due": true' "$tmp/out" || fail "not refresh-due: $(cat "$tmp/out")"
    [ -f "$state/refresh.stamp" ] || fail "no background refresh stamp"
    stamp=$(cat "$state/refresh.stamp")
    sleep 1
    expect 0 "$agent" check
    [ "$(cat "$state/refresh.stamp")" = "$stamp" ] || fail "a second refresh started within a day"
    # The detached refresh fails (server down) and must leave the license alone.
    for _ in $(seq 1 100); do
      pgrep -f "licagent refresh --quiet" >/dev/null || break
      sleep 0.1
    done
    expect 0 "$agent" check --no-background-refresh
    cmp -s "$tmp/l.lic" "$state/license.lic" || fail "the failed refresh changed the license"
    ;;
  *)
    fail "unknown case"
    ;;
esac
