#!/usr/bin/env bash
# Builds the licagent Windows installer (.msi) from installer/windows/licagent.wxs with Debian's
# wixl (docs/windows.md, "The MSI"). Runs on Linux; needs the Debian packages wixl and msitools.
#
# Usage: scripts/build-msi.sh --cli PATH/licagent.exe --out FILE.msi [options]
#   --cli FILE           the Windows licagent.exe to ship (required)
#   --product-name NAME  installer and folder name         (default: licagent)
#   --manufacturer NAME                                     (default: licagent)
#   --upgrade-code GUID  the vendor's own, fixed for all versions of the product
#   --product-id ID      the product id compiled into the CLI (shown in Add/Remove Programs)
#   --server-url URL     default of the LICAGENT_SERVER_URL property (https://..., may be empty)
#   --version X.Y.Z      default: the project version in CMakeLists.txt
#   --notice FILE        the notice/license text installed as doc\NOTICE.txt
# The `msi` target calls this with the LICAGENT_MSI_* cache variables; in the mingw build --cli
# defaults to the cross-built licagent.exe, stripped.
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
cli="" out=""
product_name="licagent" manufacturer="licagent"
# The demo product's UpgradeCode. Vendors must use their own: Windows treats every MSI with this
# code as a version of the same product.
upgrade_code="6C1CA6E7-0D2B-4F5B-9A43-3B6E2C7D9A10"
product_id="licagent-demo" server_url="" notice="$root/installer/windows/NOTICE.txt"
version="$(sed -nE 's/^project\(licagent VERSION ([0-9.]+).*/\1/p' "$root/CMakeLists.txt")"

die() { echo "build-msi: $*" >&2; exit 2; }
while [ $# -gt 0 ]; do
  [ $# -ge 2 ] || die "$1 needs a value"
  case "$1" in
    --cli) cli=$2 ;;
    --out) out=$2 ;;
    --product-name) product_name=$2 ;;
    --manufacturer) manufacturer=$2 ;;
    --upgrade-code) upgrade_code=$2 ;;
    --product-id) product_id=$2 ;;
    --server-url) server_url=$2 ;;
    --version) version=$2 ;;
    --notice) notice=$2 ;;
    *) die "unknown option $1 (see the usage at the top of $0)" ;;
  esac
  shift 2
done

[ -n "$cli" ] || die "--cli PATH/licagent.exe is required (the mingw build's, or a native Windows build)"
[ -n "$out" ] || die "--out FILE.msi is required"
[ -f "$cli" ] || die "$cli: no such file"
[ -f "$notice" ] || die "$notice: no such file"
[[ "$upgrade_code" =~ ^[0-9A-Fa-f]{8}-([0-9A-Fa-f]{4}-){3}[0-9A-Fa-f]{12}$ ]] ||
  die "--upgrade-code must be a GUID, not '$upgrade_code'"
[[ "$version" =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]] || die "--version must be X.Y.Z, not '$version'"
[ -z "$server_url" ] || [[ "$server_url" == https://* ]] ||
  die "--server-url must start with https://, not '$server_url'"
# Names become XML attribute values and Windows folder names.
for v in "$product_name" "$manufacturer" "$product_id"; do
  [[ -n "$v" && ! "$v" =~ [\"\<\>\&\\/:*?|$] ]] || die "'$v': empty or has a character not allowed in a name"
done
command -v wixl >/dev/null || die "wixl not found (Debian package wixl)"
command -v msibuild >/dev/null || die "msibuild not found (Debian package msitools)"

# wixl takes File sources relative to the directory it runs in (absolute ones fail): stage them.
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
cp "$cli" "$stage/licagent.exe"
cp "$root/README.md" "$root/docs/windows.md" "$root/docs/identity.md" "$root/docs/cache.md" "$stage/"
cp "$notice" "$stage/NOTICE.txt"
cp "$root/installer/windows/licagent.wxs" "$stage/"

mkdir -p "$(dirname "$out")"
out=$(realpath "$out")
# wixl warns on stderr about attributes it ignores (Secure, Platform and the like); its status
# says whether the MSI was built.
(cd "$stage" && wixl --arch x64 -D "ProductName=$product_name" -D "Manufacturer=$manufacturer" \
   -D "UpgradeCode=$upgrade_code" -D "ProductId=$product_id" -D "ServerUrl=$server_url" \
   -D "Version=$version" \
   -o "$out" licagent.wxs)
# wixl drops HideTarget (+8192: the command line with the credential stays out of the log) and
# marks immediate actions no-impersonate (+2048, meaningless there): set the types it should have.
msibuild "$out" -q "UPDATE \`CustomAction\` SET \`Type\` = 11346 WHERE \`Action\` = 'LicagentActivate'"
for action in LicagentDefaultServer LicagentUseCode LicagentUseKey LicagentUseServer; do
  msibuild "$out" -q "UPDATE \`CustomAction\` SET \`Type\` = 51 WHERE \`Action\` = '$action'"
done
# Public properties the elevated part of the installation may receive (licagent.wxs explains).
secure=$(msiinfo export "$out" Property | tr -d '\r' | sed -nE 's/^SecureCustomProperties\t(.*)$/\1/p')
msibuild "$out" -q "UPDATE \`Property\` SET \`Value\` = '${secure:+$secure;}LICAGENT_CODE;LICAGENT_KEY;LICAGENT_SERVER_URL;LICAGENT_DEACTIVATE' WHERE \`Property\` = 'SecureCustomProperties'"
echo "build-msi: wrote $out ($product_name $version, product $product_id)"
