#!/usr/bin/env bash
# ctest windows:online: the cross-built licagent.exe under Wine against a real licagent-server
# (the native build's) over TLS on the loopback (docs/windows.md "Online commands"): activate with
# a license key, offline check, refresh, deactivate; a wrong pinned key and a server that is down
# change nothing; then the MSI's install-time activation and uninstall-time deactivation against
# the same server. Usage: online_test.sh LICAGENT_EXE WORK_DIR NATIVE_BUILD_DIR
#   NATIVE_BUILD_DIR holds server/licagent-server and server/licagent-vendor (a Linux build).
# Wine's environment (WINEPREFIX, a running wineserver) comes from scripts/ci-windows.sh.
set -uo pipefail
exe=$1
work=$2
native=$3
root="$(cd "$(dirname "$0")/../.." && pwd)"
server=$native/server/licagent-server
vendor=$native/server/licagent-vendor
rm -rf "$work"
mkdir -p "$work/state" "$work/server"
server_pid=
cleanup() { [ -z "$server_pid" ] || kill "$server_pid" 2>/dev/null; }
trap cleanup EXIT
fail() { echo "windows:online: FAILED: $*" >&2; exit 1; }
{ [ -x "$server" ] && [ -x "$vendor" ]; } ||
  fail "no licagent-server/licagent-vendor in $native (scripts/ci-windows.sh builds them)"

# shellcheck source=tests/windows/wine_cli.sh
source "$(dirname "$0")/wine_cli.sh"
seats_in_use() {
  "$server" --config "$work/server/server.json" seat list --json |
    python3 -c 'import json,sys; print(sum(s["state"] == "active" for s in json.load(sys.stdin)))'
}

# A vendor key the test build trusts (LICAGENT_TRUSTED_KEYS_FILE: the mingw preset has
# LICAGENT_ALLOW_KEY_FILE), the test CA, and a server with a license key for this product.
"$vendor" keygen --key-id win-test --out "$work/vendor" >/dev/null || fail "keygen"
bash "$root/tests/tls/make-test-pki.sh" "$work/pki" >/dev/null || fail "test PKI"
expect 0 --version
product=$(sed -n 's/^licagent .* (product \(.*\))$/\1/p' "$work/out.txt")
[ -n "$product" ] || fail "no product id in --version"
cat >"$work/server/server.json" <<JSON
{"listen": "127.0.0.1:0",
 "tls": {"certificate": "$work/pki/server.crt", "private_key": "$work/pki/server.key"},
 "signing_key": {"file": "$work/vendor.pem", "key_id": "win-test"},
 "storage": {"kind": "sqlite", "path": "$work/server/licagent.db"},
 "products": [{"id": "$product", "default_validity_days": 30, "grace_days": 7, "seats": 2}]}
JSON
"$server" --config "$work/server/server.json" credential create --product "$product" \
  --customer "windows test" >"$work/key" || fail "credential create"
key=$(cat "$work/key")
"$server" --config "$work/server/server.json" serve --port-file "$work/server/port" \
  >"$work/server/access.log" 2>"$work/server/server.err" &
server_pid=$!
for _ in $(seq 100); do [ -s "$work/server/port" ] && break; sleep 0.1; done
[ -s "$work/server/port" ] || fail "the server did not start: $(cat "$work/server/server.err")"
url="https://127.0.0.1:$(cat "$work/server/port")"

LICAGENT_STATE_DIR="$(winepath -w "$work/state")"
LICAGENT_TRUSTED_KEYS_FILE="$(winepath -w "$work/vendor.pub")"
LICAGENT_CA_BUNDLE="$(winepath -w "$work/pki/ca.crt")"
export LICAGENT_STATE_DIR LICAGENT_TRUSTED_KEYS_FILE LICAGENT_CA_BUNDLE
export LICAGENT_NO_BACKGROUND_REFRESH=1

# Refused before anything is sent: a pinned key that is not the server's; then a server that is
# down. Neither takes a seat or writes a license.
expect 21 activate --key "$key" --server "$url" \
  --pin "sha256//AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="
grep -q "pinned key" "$work/out.txt" || fail "wrong pin: $(cat "$work/out.txt")"
[ "$(seats_in_use)" = 0 ] || fail "a seat was taken through an untrusted connection"
expect 20 activate --key "$key" --server "https://127.0.0.1:1"
expect 10 check

expect 0 activate --key "$key" --server "$url" --pin "$(cat "$work/pki/server.pin")"
[ "$(seats_in_use)" = 1 ] || fail "activation took $(seats_in_use) seats"
expect 0 check
grep -q "^valid" "$work/out.txt" || fail "check after activation: $(cat "$work/out.txt")"
expect 0 refresh --server "$url"
expect 0 deactivate --server "$url"
[ "$(seats_in_use)" = 0 ] || fail "deactivation left a seat in use"
expect 10 check
echo "windows:online: activate (wrong pin 21, server down 20, then 0), check, refresh, deactivate"

# The MSI's install-time activation (installer/windows/licagent.wxs) with the real CLI against the
# same server: msiexec's custom action inherits the environment above (trusted key, CA bundle,
# state folder). With the server down the install still succeeds, without a license.
x86_64-w64-mingw32-strip -o "$work/licagent.exe" "$exe" || fail "cannot strip $exe"
msi="$work/licagent-online.msi"
bash "$root/scripts/build-msi.sh" --cli "$work/licagent.exe" --out "$msi" \
  --product-name "Licagent Online Test" --manufacturer "Example Vendor" \
  --upgrade-code 5B0C7E2D-3F4A-4C1B-8E6D-9A2F1C3B4D5E --product-id "$product" \
  2> >(grep -v GLib-GObject-WARNING >&2) || fail "build-msi.sh"
w_msi="$(winepath -w "$msi")"
dir="$(winepath -u 'C:\Program Files\Licagent Online Test' 2>/dev/null)"
msiexec() { timeout 120 wine msiexec "$@" /qn </dev/null >>"$work/msiexec.log" 2>&1; }
trap 'msiexec /x "$w_msi"; cleanup' EXIT
installed() {  # installed EXPECTED_STATUS ARGS...: the installed licagent.exe
  local want=$1
  shift
  exe="$dir/licagent.exe" expect "$want" "$@"
}

msiexec /i "$w_msi" LICAGENT_KEY="$key" LICAGENT_SERVER_URL="https://127.0.0.1:1" ||
  fail "install with the server down exited $?"
[ -f "$dir/licagent.exe" ] || fail "not installed in $dir"
installed 10 check
msiexec /x "$w_msi" || fail "uninstall exited $?"

msiexec /i "$w_msi" LICAGENT_KEY="$key" LICAGENT_SERVER_URL="$url" ||
  fail "install with activation exited $?"
installed 0 check
grep -q "^valid" "$work/out.txt" || fail "check after the MSI's activation: $(cat "$work/out.txt")"
[ "$(seats_in_use)" = 1 ] || fail "the MSI's activation took $(seats_in_use) seats"
msiexec /x "$w_msi" LICAGENT_DEACTIVATE=1 LICAGENT_SERVER_URL="$url" ||
  fail "uninstall with deactivation exited $?"
[ "$(seats_in_use)" = 0 ] || fail "the MSI's deactivation left a seat in use"
[ ! -e "$dir/licagent.exe" ] || fail "licagent.exe left after uninstall"
expect 10 check
rm -rf "$dir"
echo "windows:online: MSI install with the server down (no license), with activation (valid," \
  "one seat), uninstall with deactivation (seat released)"
