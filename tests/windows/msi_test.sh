#!/usr/bin/env bash
# ctest windows:msi: builds the MSI with scripts/build-msi.sh around the licagent.exe test double
# (msi_cli_standin.cpp records its arguments), inspects it with msiinfo, then installs,
# re-installs with a failing activation and uninstalls it with Wine's msiexec; then builds one
# around the real cross-built licagent.exe, installs it, runs the installed CLI and uninstalls it
# (docs/windows.md, "The MSI"). Usage: msi_test.sh STANDIN_EXE WORK_DIR LICAGENT_EXE
# Wine's environment (WINEPREFIX, a running wineserver) comes from scripts/ci-windows.sh.
set -euo pipefail
standin=$1
work=$2
real_cli=$3
root="$(cd "$(dirname "$0")/../.." && pwd)"
rm -rf "$work"
mkdir -p "$work"
msi="$work/licagent-test.msi"
fail() { echo "windows:msi: FAILED: $*" >&2; exit 1; }

bash "$root/scripts/build-msi.sh" --cli "$standin" --out "$msi" --product-name "Licagent Test" \
  --manufacturer "Example Vendor" --upgrade-code 0E7D5C1A-6B5E-4E47-9C1B-2B9F0D4A7E31 \
  --product-id example-product --server-url https://licensing.example.com \
  2> >(grep -v GLib-GObject-WARNING >&2)

table() { msiinfo export "$msi" "$1" | tr -d '\r'; }  # IDT rows end in CRLF
row() {  # row TABLE REGEX: the table has a row matching REGEX (tab-separated columns)
  local rows
  rows=$(table "$1")  # not piped into grep -q, whose early exit would fail the pipe
  grep -qE "$2" <<<"$rows" || fail "table $1 has no row matching '$2'"
}
tables=$(msiinfo tables "$msi")
for t in File Property CustomAction InstallExecuteSequence Upgrade; do
  grep -qx "$t" <<<"$tables" || fail "no $t table"
done
for f in licagent.exe README.md windows.md identity.md cache.md NOTICE.txt; do
  row File "	${f//./\\.}	"
done
[ "$(table File | tail -n +4 | wc -l)" -eq 6 ] || fail "expected exactly 6 files"
row File "^LicagentExe	Cli	licagent\\.exe	$(stat -c %s "$standin")	"
row Property '^ProductName	Licagent Test$'
row Property '^Manufacturer	Example Vendor$'
row Property '^UpgradeCode	\{0E7D5C1A-6B5E-4E47-9C1B-2B9F0D4A7E31\}$'
row Property '^SecureCustomProperties	.*LICAGENT_CODE;LICAGENT_KEY;LICAGENT_SERVER_URL;LICAGENT_DEACTIVATE$'
row Property '^MsiHiddenProperties	LICAGENT_CODE;LICAGENT_KEY;LicagentCredential$'
# 11346 = exe from the installed file (18) + ignore the exit code (64) + deferred (1024) +
# no impersonation (2048) + hidden target (8192).
row CustomAction '^LicagentActivate	11346	LicagentExe	activate --system \[LicagentCredential\] \[LicagentServer\]'
row CustomAction '^LicagentDefaultServer	51	LICAGENT_SERVER_URL	https://licensing\.example\.com'
row CustomAction '^LicagentUseCode	51	LicagentCredential	--code "\[LICAGENT_CODE\]"'
row CustomAction '^LicagentUseKey	51	LicagentCredential	--key "\[LICAGENT_KEY\]"'
row CustomAction '^LicagentDeactivate	3154	LicagentExe	deactivate --system --quiet \[LicagentServer\]'
# The deferred actions sit between InstallInitialize (1500) and InstallFinalize (6600).
row InstallExecuteSequence '^LicagentActivate	LicagentCredential AND NOT REMOVE	4001$'
row InstallExecuteSequence '^LicagentDeactivate	.*REMOVE = "ALL".*	3499$'
grep -q 'Template: x64;1033' <<<"$(msiinfo suminfo "$msi")" || fail "not an x64 package"
echo "windows:msi: tables File, Property, CustomAction and InstallExecuteSequence as expected"

# Installing under Wine: each msiexec run takes 2-5 s.
dir="$(winepath -u 'C:\Program Files\Licagent Test' 2>/dev/null)"
calls="$dir/activation-calls.txt"
msiexec() { timeout 120 wine msiexec "$@" /qn </dev/null; }
trap 'timeout 120 wine msiexec /x "$(winepath -w "$msi")" /qn </dev/null >/dev/null 2>&1 || true' EXIT
rm -f "$calls"
w_msi="$(winepath -w "$msi")"
calls_text() { tr -d '\r' <"$calls"; }  # written in text mode: CRLF

msiexec /i "$w_msi" LICAGENT_CODE=AUTH-CODE-1 || fail "install exited $?"
{ [ -f "$dir/licagent.exe" ] && [ -f "$dir/doc/NOTICE.txt" ]; } || fail "files not installed in $dir"
expected=$'call\nactivate\n--system\n--code\nAUTH-CODE-1\n--server\nhttps://licensing.example.com'
[ "$(calls_text)" = "$expected" ] || fail "activation call: $(calls_text 2>&1)"

# A failing activation (the double exits 75) still installs; a key with another server.
rm -f "$calls"
msiexec /i "$w_msi" REINSTALL=ALL REINSTALLMODE=vomus LICAGENT_KEY=FAIL \
  LICAGENT_SERVER_URL=https://other.example.com || fail "install with a failing activation exited $?"
expected=$'call\nactivate\n--system\n--key\nFAIL\n--server\nhttps://other.example.com'
[ "$(calls_text)" = "$expected" ] || fail "failing activation call: $(calls_text 2>&1)"

# No credential: no activation. Uninstall with deactivation, then nothing is left but the log.
rm -f "$calls"
msiexec /x "$w_msi" LICAGENT_DEACTIVATE=1 || fail "uninstall exited $?"
expected=$'call\ndeactivate\n--system\n--quiet\n--server\nhttps://licensing.example.com'
[ "$(calls_text)" = "$expected" ] || fail "deactivation: $(calls_text 2>&1)"
{ [ ! -e "$dir/licagent.exe" ] && [ ! -e "$dir/doc" ]; } || fail "files left after uninstall"
rm -rf "$dir"
trap - EXIT
echo "windows:msi: install with a code, with a failing key, and uninstall under Wine as expected"

# The real CLI (stripped like the `msi` target does): in the File table, installed, and running.
x86_64-w64-mingw32-strip -o "$work/licagent.exe" "$real_cli" || fail "cannot strip $real_cli"
msi="$work/licagent-real.msi"
bash "$root/scripts/build-msi.sh" --cli "$work/licagent.exe" --out "$msi" \
  --product-name "Licagent Test" --manufacturer "Example Vendor" \
  --upgrade-code 0E7D5C1A-6B5E-4E47-9C1B-2B9F0D4A7E31 --product-id example-product \
  2> >(grep -v GLib-GObject-WARNING >&2)
row File "^LicagentExe	Cli	licagent\\.exe	$(stat -c %s "$work/licagent.exe")	"
w_msi="$(winepath -w "$msi")"
trap 'timeout 120 wine msiexec /x "$(winepath -w "$msi")" /qn </dev/null >/dev/null 2>&1 || true' EXIT
msiexec /i "$w_msi" || fail "install of the real CLI exited $?"
cmp -s "$dir/licagent.exe" "$work/licagent.exe" || fail "the installed licagent.exe is not the real CLI"
version=$(timeout 120 wine "$dir/licagent.exe" --version </dev/null | tr -d '\r') ||
  fail "the installed licagent.exe --version exited $?"
[[ "$version" =~ ^licagent\ [0-9.]+\ \(product\ .+\)$ ]] || fail "installed --version: $version"
msiexec /x "$w_msi" || fail "uninstall of the real CLI exited $?"
[ ! -e "$dir/licagent.exe" ] || fail "licagent.exe left after uninstall"
rm -rf "$dir"
trap - EXIT
echo "windows:msi: the real licagent.exe packaged, installed (--version: $version) and removed"
