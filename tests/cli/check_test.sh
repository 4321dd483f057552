#!/usr/bin/env bash
# End-to-end license tests with real processes: the vendor signs with licagent-vendor
# (OpenSSL), the agent installs and checks (libsodium), through a real cache directory.
# Usage: check_test.sh LICAGENT LICAGENT_VENDOR C_API_TEST CASE
# Needs an agent built with LICAGENT_ALLOW_KEY_FILE (the test presets) to trust a fresh key.
set -uo pipefail
agent=$1 vendor=$2 capi=$3 case_name=$4
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL [$case_name]: $*" >&2; exit 1; }
# expect CODE CMD...: runs CMD, output in $tmp/out and $tmp/err, and checks its exit code.
expect() {
  local want=$1; shift
  "$@" >"$tmp/out" 2>"$tmp/err"
  local got=$?
  [ "$got" -eq "$want" ] || fail "$* exited $got, expected $want: $(cat "$tmp/out" "$tmp/err")"
}

export LICAGENT_STATE_DIR="$tmp/state"
state=$LICAGENT_STATE_DIR
"$vendor" keygen --key-id test-vendor --out "$tmp/vendor" >/dev/null || fail "keygen"
export LICAGENT_TRUSTED_KEYS_FILE="$tmp/vendor.pub"
id=$("$agent" fingerprint -q) || fail "fingerprint"
product=$("$agent" --version | sed -n 's/.*(product \(.*\))$/\1/p')
[ -n "$product" ] || fail "no product id in licagent --version"
# issue OUT [ARGS...]: a license for this machine unless ARGS say otherwise.
issue() {
  local out=$1; shift
  "$vendor" issue --key "$tmp/vendor.pem" --key-id test-vendor --product "$product" \
    --customer "CI" "$@" --out "$out" >/dev/null 2>"$tmp/issue.err" \
    || fail "issue $*: $(cat "$tmp/issue.err")"
}
now=$(date +%s)
iso() { date -u -d "@$1" +%Y-%m-%dT%H:%M:%SZ; }

case "$case_name" in
  lifecycle)
    expect 10 "$agent" check
    grep -q "no-license" "$tmp/out" || fail "no-license not said"
    issue "$tmp/l.lic" --identifier "$id" --days 30 --grace-days 7 --feature export --feature render=gpu
    expect 0 "$agent" install "$tmp/l.lic"
    [ "$(stat -c %a "$state/license.lic")" = 600 ] || fail "license file is not 0600"
    expect 0 "$agent" check
    grep -Eq "^valid: valid for (29|30) days" "$tmp/out" || fail "check output: $(cat "$tmp/out")"
    expect 0 "$agent" check --feature export --feature render
    expect 16 "$agent" check --feature cad-pro
    expect 0 "$agent" status --json
    python3 - "$tmp/out" <<'PY' || fail "status --json: $(cat "$tmp/out")"
import json, sys
d = json.load(open(sys.argv[1]))
assert d["verdict"] == "valid" and d["valid"] and d["exit_code"] == 0, d
assert d["license"]["features"] == {"export": "", "render": "gpu"}, d
assert d["match"]["accepted"] and d["seconds_left"] > 29 * 86400, d
PY
    expect 0 "$capi" "$state" "$tmp/l.lic" valid
    expect 0 "$agent" uninstall
    expect 10 "$agent" check
    [ -f "$state/clock.mark" ] || fail "uninstall removed the clock mark"
    ;;
  tampered)
    issue "$tmp/l.lic" --identifier "$id" --days 30
    expect 0 "$agent" install "$tmp/l.lic"
    cp "$state/license.lic" "$tmp/installed"
    sed '6s/^./A/;6s/^AA/BA/' "$tmp/l.lic" >"$tmp/bad.lic"
    cmp -s "$tmp/l.lic" "$tmp/bad.lic" && fail "tampering changed nothing"
    expect 11 "$agent" install "$tmp/bad.lic"
    cmp -s "$state/license.lic" "$tmp/installed" || fail "a refused install changed the cache"
    expect 0 "$agent" check
    cp "$tmp/bad.lic" "$state/license.lic"
    expect 11 "$agent" check
    : >"$state/license.lic"
    expect 11 "$agent" check
    head -c 100000 /dev/urandom >"$state/license.lic"
    expect 11 "$agent" check
    ;;
  untrusted-key)
    "$vendor" keygen --key-id test-vendor --out "$tmp/other" >/dev/null || fail "keygen"
    "$vendor" issue --key "$tmp/other.pem" --key-id test-vendor --product "$product" --customer x \
      --identifier "$id" --days 3 --out "$tmp/l.lic" >/dev/null 2>&1 || fail "issue"
    expect 11 "$agent" install "$tmp/l.lic"
    grep -q "does not verify" "$tmp/out" || fail "reason: $(cat "$tmp/out")"
    LICAGENT_TRUSTED_KEYS_FILE= expect 11 "$agent" install "$tmp/l.lic"
    ;;
  wrong-product)
    "$vendor" issue --key "$tmp/vendor.pem" --key-id test-vendor --product other-product \
      --customer x --identifier "$id" --days 3 --out "$tmp/l.lic" >/dev/null || fail "issue"
    expect 11 "$agent" install "$tmp/l.lic"
    grep -q "other-product" "$tmp/out" || fail "reason: $(cat "$tmp/out")"
    ;;
  wrong-machine)
    issue "$tmp/l.lic" --identifier HW1-52GV-5GYM-WQV0-E619-795N-RVBY-6HB0 --days 3
    expect 14 "$agent" install "$tmp/l.lic"
    expect 10 "$agent" check
    ;;
  validity)
    issue "$tmp/future.lic" --identifier "$id" --not-before "$(iso $((now + 86400)))" --days 30
    expect 12 "$agent" install "$tmp/future.lic"  # installed, not yet valid
    grep -q "not-yet-valid" "$tmp/out" || fail "$(cat "$tmp/out")"
    expect 12 "$agent" check
    issue "$tmp/old.lic" --identifier "$id" --issued-at "$(iso $((now - 40 * 86400)))" \
      --server-time "$(iso $((now - 40 * 86400)))" --not-before "$(iso $((now - 40 * 86400)))" \
      --expires "$(iso $((now - 86400)))"
    expect 12 "$agent" install "$tmp/old.lic"
    grep -q "^expired" "$tmp/out" || fail "$(cat "$tmp/out")"
    cp "$tmp/old.lic" "$state/license.lic"
    expect 12 "$agent" check
    issue "$tmp/grace.lic" --identifier "$id" --issued-at "$(iso $((now - 10 * 86400)))" \
      --server-time "$(iso $((now - 10 * 86400)))" --not-before "$(iso $((now - 10 * 86400)))" \
      --days 30 --refresh-by "$(iso $((now - 60)))"
    cp "$tmp/grace.lic" "$state/license.lic"
    expect 12 "$agent" check
    grep -q "refresh-overdue" "$tmp/out" || fail "$(cat "$tmp/out")"
    ;;
  frozen)
    issue "$tmp/l.lic" --identifier "$id" --days 30 --license-id L-FROZEN \
      --server-time "$(iso $((now - 600)))" --issued-at "$(iso $((now - 600)))" \
      --not-before "$(iso $((now - 600)))"
    expect 0 "$agent" install "$tmp/l.lic"
    issue "$tmp/f.lic" --identifier "$id" --days 30 --license-id L-FROZEN --status frozen
    expect 13 "$agent" install "$tmp/f.lic"
    expect 13 "$agent" check
    expect 11 "$agent" install "$tmp/l.lic"  # the older active copy cannot undo the freeze
    expect 13 "$agent" check
    issue "$tmp/r.lic" --identifier "$id" --days 30 --status released
    cp "$tmp/r.lic" "$state/license.lic"
    expect 13 "$agent" check
    ;;
  clock)
    issue "$tmp/l.lic" --identifier "$id" --days 30
    expect 0 "$agent" install "$tmp/l.lic"
    printf '%s\n' $((now + 7 * 86400)) >"$state/clock.mark"
    expect 15 "$agent" check
    grep -q "set back" "$tmp/out" || fail "$(cat "$tmp/out")"
    printf 'garbage\n' >"$state/clock.mark"
    expect 15 "$agent" check
    printf '%s\n' $((now + 86400)) >"$state/clock.mark"  # within the 48 h tolerance
    expect 0 "$agent" check
    ;;
  entitlements)
    issue "$tmp/l.lic" --identifier "$id" --days 30 --max-cores 1024 --max-sockets 64
    expect 0 "$agent" install "$tmp/l.lic"
    expect 0 "$agent" check --json
    grep -q '"cores"' "$tmp/out" || fail "no topology counted"
    issue "$tmp/small.lic" --identifier "$id" --days 30 --max-sockets 1 --max-cores 1
    cp "$tmp/small.lic" "$state/license.lic"
    expect 16 "$agent" check
    grep -q "CPU cores" "$tmp/out" || fail "$(cat "$tmp/out")"
    ;;
  concurrent)
    # 32 processes at once: 16 install the same license over and over, 16 check. Every check
    # sees a complete license and every process exits 0. Bounded: 32 × 10 runs.
    issue "$tmp/l.lic" --identifier "$id" --days 30
    expect 0 "$agent" install "$tmp/l.lic"
    pids=()
    for i in $(seq 1 32); do
      (
        for _ in $(seq 1 10); do
          if [ $((i % 2)) -eq 0 ]; then
            "$agent" install "$tmp/l.lic" >/dev/null || exit 1
          else
            "$agent" check >/dev/null || exit 1
          fi
        done
      ) &
      pids+=($!)
    done
    for p in "${pids[@]}"; do wait "$p" || fail "a concurrent process failed"; done
    expect 0 "$agent" check
    ls "$state" | grep -v -E '^(license\.lic|clock\.mark|\.lock)$' && fail "temporary files left"
    ;;
  *) fail "unknown case" ;;
esac
echo "ok [$case_name]"
