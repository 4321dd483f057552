#!/bin/bash
# Builds the licagent macOS installer: a component package (pkgbuild) holding the CLI in
# /usr/local/bin and the docs in /usr/local/share/doc/licagent, wrapped in a product archive
# (productbuild) with distribution.xml. Runs on macOS only (pkgbuild and productbuild ship with
# Xcode's command line tools); docs/macos.md says what was and was not verified.
#
# Usage: installer/macos/build-pkg.sh --cli PATH/licagent --out FILE.pkg [options]
#   --identifier ID        package identifier          (default: org.licagent.agent)
#   --title NAME           installer title              (default: licagent)
#   --version X.Y.Z        default: the project version in CMakeLists.txt
#   --sign IDENTITY        "Developer ID Installer: ..." to sign the product archive
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
cli="" out="" identifier="org.licagent.agent" title="licagent" sign=""
version="$(sed -nE 's/^project\(licagent VERSION ([0-9.]+).*/\1/p' "$root/CMakeLists.txt")"

die() { echo "build-pkg: $*" >&2; exit 2; }
while [ $# -gt 0 ]; do
  [ $# -ge 2 ] || die "$1 needs a value"
  case "$1" in
    --cli) cli=$2 ;;
    --out) out=$2 ;;
    --identifier) identifier=$2 ;;
    --title) title=$2 ;;
    --version) version=$2 ;;
    --sign) sign=$2 ;;
    *) die "unknown option $1 (see the usage at the top of $0)" ;;
  esac
  shift 2
done
{ [ -n "$cli" ] && [ -f "$cli" ]; } || die "--cli PATH/licagent (a macOS build of the CLI) is required"
[ -n "$out" ] || die "--out FILE.pkg is required"
[[ "$identifier" =~ ^[A-Za-z0-9.-]+$ ]] || die "--identifier: letters, digits, dots and dashes only"
[[ "$version" =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]] || die "--version must be X.Y.Z, not '$version'"
[[ -n "$title" && ! "$title" =~ [\<\>\&\"] ]] || die "--title: empty or has a character not allowed"
{ command -v pkgbuild >/dev/null && command -v productbuild >/dev/null; } ||
  die "pkgbuild/productbuild not found: this runs on macOS with Xcode's command line tools"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
install -d "$work/root/usr/local/bin" "$work/root/usr/local/share/doc/licagent"
install -m 0755 "$cli" "$work/root/usr/local/bin/licagent"
install -m 0644 "$root/README.md" "$root/docs/macos.md" "$root/docs/identity.md" \
  "$root/docs/cache.md" "$work/root/usr/local/share/doc/licagent/"
install -d "$work/scripts"
install -m 0755 "$here/scripts/postinstall" "$work/scripts/postinstall"

pkgbuild --root "$work/root" --scripts "$work/scripts" --identifier "$identifier" \
  --version "$version" --install-location / "$work/licagent-component.pkg"
sed -e "s|@TITLE@|$title|g" -e "s|@IDENTIFIER@|$identifier|g" -e "s|@VERSION@|$version|g" \
  "$here/distribution.xml" >"$work/distribution.xml"
sign_args=()
[ -z "$sign" ] || sign_args=(--sign "$sign")
productbuild --distribution "$work/distribution.xml" --package-path "$work" \
  "${sign_args[@]}" "$out"
echo "build-pkg: wrote $out ($title $version, $identifier)"
