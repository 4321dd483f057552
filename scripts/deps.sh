#!/usr/bin/env bash
# Installs the Debian 12 packages licagent needs that are missing, and nothing else.
# Usage: scripts/deps.sh build   (compile the library, CLI and demo)
#        scripts/deps.sh test    (everything CI runs: sanitizers, Windows cross-build, fuzzing)
#        scripts/deps.sh bench   (test + what bench/server_process.sh uses: wrk, sqlite3, GNU time)
set -euo pipefail

build_pkgs=(cmake ninja-build g++ pkg-config libssl-dev libhwloc-dev nlohmann-json3-dev
            libcurl4-openssl-dev libcli11-dev libsodium-dev libsqlite3-dev libcpp-httplib-dev)
test_pkgs=("${build_pkgs[@]}" catch2 python3 clang clang-format libclang-rt-14-dev
           libbenchmark-dev hyperfine g++-mingw-w64-x86-64-posix libgcrypt-mingw-w64-dev
           libgpg-error-mingw-w64-dev wine wine64 wixl msitools
           shellcheck lintian rpm)
bench_pkgs=("${test_pkgs[@]}" wrk sqlite3 time)

case "${1:-build}" in
  build) wanted=("${build_pkgs[@]}") ;;
  test) wanted=("${test_pkgs[@]}") ;;
  bench) wanted=("${bench_pkgs[@]}") ;;
  *) echo "usage: $0 build|test|bench" >&2; exit 2 ;;
esac

missing=()
for p in "${wanted[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "licagent: installing missing Debian packages: ${missing[*]}"
sudo=()
[ "$(id -u)" -eq 0 ] || sudo=(sudo)
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get -o DPkg::Lock::Timeout=300 update -qq
"${sudo[@]}" apt-get -o DPkg::Lock::Timeout=300 install -y -qq --no-install-recommends \
  "${missing[@]}" >/dev/null
