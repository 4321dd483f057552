#!/usr/bin/env bash
# The whole test suite, as CI runs it (.ci/run calls this): install what is missing, then
#   1. layout and formatting checks,
#   2. GCC build with warnings as errors + every test, then the Linux packages built from it
#      (.deb, .rpm, .tar.gz), lintian, and as root install/activate/remove/purge of the .debs,
#   3. Clang build with ASan+UBSan + the same tests,
#   4. Windows cross-build (mingw-w64) + its tests under Wine,
#   5. a bounded libFuzzer run of every parser.
# Stops at the first failure; the last line totals the tests.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh test

log=$(mktemp)
trap 'rm -f "$log"' EXIT
step() { printf '\n==== %s\n' "$*"; }

step "layout: no OS headers or OS #ifdefs in agent/ or include/ (but the C ABI's export macro)"
if grep -rnE '#include <(unistd|windows|winsock2|iphlpapi|fcntl|dirent|hwloc|cpuid|IOKit|CoreFoundation)[./]|#include <(sys|linux|net|mach)/|_WIN32|__linux__|__APPLE__' \
     agent include | grep -v '^include/licagent/licagent.h:.*defined(_WIN32)'; then
  echo "agent/ and include/ must not touch the OS: move this to platform/" >&2
  exit 1
fi

step "clang-format"
mapfile -t sources < <(git ls-files --cached --others --exclude-standard -- '*.cpp' '*.h' '*.hpp')
clang-format --dry-run -Werror "${sources[@]}"
echo "${#sources[@]} files formatted"

step "GCC, warnings as errors"
cmake --preset ci-gcc >/dev/null
cmake --build build-ci-gcc
ctest --test-dir build-ci-gcc --output-on-failure --timeout 300 -j2 </dev/null | tee -a "$log"

step "Linux packages: CPack, lintian, install-time activation, remove and purge (.deb), erase (.rpm)"
bash tests/package/package_test.sh build-ci-gcc | tee -a "$log"

step "Clang, ASan + UBSan"
cmake --preset ci-asan >/dev/null
cmake --build build-ci-asan
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  ctest --test-dir build-ci-asan --output-on-failure --timeout 300 -j2 </dev/null | tee -a "$log"

step "Windows cross-build (mingw-w64) and tests under Wine"
bash scripts/ci-windows.sh | tee -a "$log"

step "libFuzzer smoke run"
bash scripts/fuzz-smoke.sh

passed=0
failed=0
while read -r p f; do
  passed=$((passed + p - f))
  failed=$((failed + f))
done < <(sed -nE 's/.*tests passed, ([0-9]+) tests failed out of ([0-9]+).*/\2 \1/p' "$log")
echo
echo "licagent: ${passed} passed, ${failed} failed"
[ "$failed" -eq 0 ]
