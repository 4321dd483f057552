#!/usr/bin/env bash
# ctest windows:cli: the cross-built licagent.exe under Wine (docs/windows.md). --version,
# fingerprint, check without a license, then install and check of a license signed by the openssl
# command line with the committed test key tests/data/licenses/vendor-2026.pem, trusted through
# LICAGENT_TRUSTED_KEYS_FILE (the mingw preset builds with LICAGENT_ALLOW_KEY_FILE), and a
# tampered copy of it. Usage: cli_test.sh LICAGENT_EXE WORK_DIR
# Wine's environment (WINEPREFIX, a running wineserver) comes from scripts/ci-windows.sh.
set -uo pipefail
exe=$1
work=$2
root="$(cd "$(dirname "$0")/../.." && pwd)"
data="$root/tests/data/licenses"
rm -rf "$work"
mkdir -p "$work/state"
fail() { echo "windows:cli: FAILED: $*" >&2; exit 1; }
# shellcheck source=tests/windows/wine_cli.sh
source "$(dirname "$0")/wine_cli.sh"
LICAGENT_STATE_DIR="$(winepath -w "$work/state")"
LICAGENT_TRUSTED_KEYS_FILE="$(winepath -w "$data/vendor-2026.pub")"
export LICAGENT_STATE_DIR LICAGENT_TRUSTED_KEYS_FILE

expect 0 --version
product=$(sed -n 's/^licagent .* (product \(.*\))$/\1/p' "$work/out.txt")
[ -n "$product" ] || fail "no product id in --version: $(cat "$work/out.txt")"
expect 0 fingerprint -q
grep -Eqx 'HW1(-[0-9A-Z]{4}){7}' "$work/out.txt" || fail "fingerprint: $(cat "$work/out.txt")"
expect 10 check
grep -q "no-license" "$work/out.txt" || fail "check without a license: $(cat "$work/out.txt")"

# A floating, perpetual license for this product: the payload of the committed vector (canonical
# JSON, keys sorted) with the product replaced, armoured as make-vectors.sh does.
sed "s/\"product_id\":\"acme-cad\"/\"product_id\":\"$product\"/" \
  "$data/floating-perpetual.json" >"$work/payload.json"
{ printf 'licagent-license-v1\nvendor-2026\n'; cat "$work/payload.json"; } >"$work/message"
signature=$(openssl pkeyutl -sign -rawin -inkey "$data/vendor-2026.pem" -in "$work/message" |
  base64 -w0) || fail "openssl could not sign"
{
  printf -- '-----BEGIN LICAGENT LICENSE-----\nKey-Id: vendor-2026\nSignature: %s\n\n' "$signature"
  base64 -w0 <"$work/payload.json" | fold -w 64
  printf '\n-----END LICAGENT LICENSE-----\n'
} >"$work/good.lic"
# A payload byte changed after signing: line 5, the payload's first, is base64 of '{"...'.
sed '5s/^e/f/' "$work/good.lic" >"$work/bad.lic"
cmp -s "$work/good.lic" "$work/bad.lic" && fail "could not tamper with the license"

expect 11 install "$(winepath -w "$work/bad.lic")"
expect 0 install "$(winepath -w "$work/good.lic")"
expect 0 check
grep -q "^valid" "$work/out.txt" || fail "check output: $(cat "$work/out.txt")"
expect 0 uninstall
expect 10 check
echo "windows:cli: --version, fingerprint, check, install (good and tampered), uninstall as expected"
