#!/usr/bin/env bash
# Black-box tests of the licagent CLI. Usage: cli_test.sh PATH_TO_LICAGENT CASE
# Each case exits 0 on success and prints what went wrong otherwise.
set -uo pipefail
bin=$1
case_name=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

fail() { echo "FAIL [$case_name]: $*" >&2; exit 1; }
# run EXPECTED_EXIT ARGS...: runs licagent, stdout to $tmp/out, stderr to $tmp/err.
run() {
  local want=$1; shift
  "$bin" "$@" >"$tmp/out" 2>"$tmp/err"
  local got=$?
  [ "$got" -eq "$want" ] || fail "licagent $* exited $got, expected $want; stderr: $(cat "$tmp/err")"
}
hw1_re='^HW1(-[0-9A-HJKMNP-TV-Z]{4}){7}$'

case "$case_name" in
  identifier-format)
    run 0 fingerprint --quiet
    grep -Eq "$hw1_re" "$tmp/out" || fail "not an identifier: $(cat "$tmp/out")"
    [ "$(wc -l <"$tmp/out")" -eq 1 ] || fail "expected exactly one line"
    [ ! -s "$tmp/err" ] || fail "--quiet printed on stderr"
    ;;
  stable-across-processes)
    first=$("$bin" fingerprint -q) || fail "first run"
    for i in 1 2 3 4 5; do
      again=$("$bin" fingerprint -q) || fail "run $i"
      [ "$again" = "$first" ] || fail "run $i gave $again, first gave $first"
    done
    ;;
  hwloc-env-ignored)
    "$bin" fingerprint --json --explain >"$tmp/plain.json" || fail "plain run"
    printf '<?xml version="1.0"?><topology version="2.0"><object type="Machine" os_index="0" cpuset="0xff" complete_cpuset="0xff" allowed_cpuset="0xff"><info name="DMIProductUUID" value="deadbeef-0000-1111-2222-333344445555"/></object></topology>' >"$tmp/fake.xml"
    HWLOC_XMLFILE="$tmp/fake.xml" HWLOC_SYNTHETIC="pack:64 core:8 pu:2" HWLOC_FSROOT="$tmp" \
      HWLOC_COMPONENTS=synthetic HWLOC_THISSYSTEM=1 \
      "$bin" fingerprint --json --explain >"$tmp/spoofed.json" || fail "spoofed run"
    diff "$tmp/plain.json" "$tmp/spoofed.json" >&2 || fail "HWLOC_* variables changed the output"
    grep -q '"packages"' "$tmp/plain.json" || fail "no topology in --json --explain"
    ;;
  json-no-raw-values)
    run 0 fingerprint --json --explain
    python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert len(d["slots"])==7; assert d["identifier"].startswith("HW1-")' "$tmp/out" \
      || fail "invalid JSON: $(head -c 300 "$tmp/out")"
    # Raw values of this machine must not appear anywhere in the output.
    secrets=()
    [ -r /etc/machine-id ] && secrets+=("$(cat /etc/machine-id)")
    for a in /sys/class/net/*/address; do
      mac=$(cat "$a"); [ "$mac" = "00:00:00:00:00:00" ] && continue
      secrets+=("$mac" "${mac//:/}")
    done
    for s in /sys/block/*/serial /sys/block/*/device/serial; do
      [ -r "$s" ] && v=$(tr -d ' ' <"$s") && [ -n "$v" ] && secrets+=("$v")
    done
    secrets+=("$(stat -f -c '%i' /)")
    for s in "${secrets[@]}"; do
      [ ${#s} -ge 6 ] || continue
      if grep -qiF -- "$s" "$tmp/out"; then fail "raw value leaked into --json output"; fi
    done
    ;;
  explain)
    run 0 fingerprint --explain
    for word in Identifier Environment Strength platform_uuid platform_serial nic disk \
                os_install_id boot_volume cpu "Sources tried" "CPU topology"; do
      grep -q "$word" "$tmp/out" || fail "--explain lacks '$word'"
    done
    ;;
  match-self)
    id=$("$bin" fingerprint -q) || fail "fingerprint"
    run 0 fingerprint --match "$id"
    grep -q '^MATCH' "$tmp/out" || fail "expected MATCH: $(cat "$tmp/out")"
    # Typed by a person: lower case, spaces instead of dashes.
    typed=$(echo "$id" | tr 'A-Z-' 'a-z ')
    run 0 fingerprint --match "$typed"
    run 0 fingerprint --match "$id" --json
    python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["accepted"] is True' "$tmp/out" \
      || fail "--json match not accepted"
    ;;
  match-other)
    # A bare-metal identifier with seven foreign tags (valid checksum) is another machine.
    run 14 fingerprint --match HW1-52GV-5GYM-WQV0-E619-795N-RVBY-6HB0
    grep -q '^NO MATCH' "$tmp/out" || fail "expected NO MATCH: $(cat "$tmp/out")"
    ;;
  malformed-identifier)
    run 4 fingerprint --match HW1-52GV-5GYM-WQV0-E619-795N-RVBY-6HB1
    grep -q "checksum mismatch" "$tmp/err" || fail "no checksum message: $(cat "$tmp/err")"
    run 4 fingerprint --match HW1-52GV-5GYM
    grep -q "wrong length" "$tmp/err" || fail "no length message"
    run 4 fingerprint --match HW9-52GV-5GYM-WQV0-E619-795N-RVBY-6HB0
    grep -q "unknown identifier version 9" "$tmp/err" || fail "no version message"
    run 4 fingerprint --match HW1-52GV-5GYM-WQU0-E619-795N-RVBY-6HB0 --json
    grep -q '"malformed_identifier"' "$tmp/out" || fail "no JSON error code"
    ;;
  usage-error)
    run 2 fingerprint --no-such-flag
    run 2 fingerprint --format xml
    run 2
    run 2 no-such-command
    run 2 fingerprint --format koogallery --match HW1-52GV-5GYM-WQV0-E619-795N-RVBY-6HB0
    run 0 --help
    run 0 --version
    grep -q '^licagent ' "$tmp/out" || fail "--version output"
    ;;
  koogallery-format)
    run 0 fingerprint --format koogallery
    line=$(cat "$tmp/out")
    [[ "$line" =~ ^[^|a-z]*\|[^|a-z]*\|[^|a-z]*\|[0-9A-F]{16}$ ]] || fail "bad format: $line"
    mac=$(cut -d'|' -f1 <<<"$line")
    [ -z "$mac" ] || [[ "$mac" =~ ^([0-9A-F]{2}:){5}[0-9A-F]{2}(,([0-9A-F]{2}:){5}[0-9A-F]{2})*$ ]] \
      || fail "bad MAC list: $mac"
    second=$("$bin" fingerprint --format koogallery) || fail "second run"
    [ "$second" = "$line" ] || fail "not stable across runs"
    ;;
  koogallery-help-warns)
    run 0 fingerprint --help
    grep -q "RAW" "$tmp/out" || fail "--help does not warn that koogallery carries raw values"
    ;;
  *)
    fail "unknown case"
    ;;
esac
echo "ok [$case_name]"
