#!/usr/bin/env bash
# Windows job of the Linux CI: cross-compile the Windows platform layer, the parsers, the CLI and
# their tests with mingw-w64, then run them under Wine through ctest (docs/windows.md).
# Needs g++-mingw-w64-x86-64-posix, wine, wine64 and catch2 installed. Exits non-zero on any
# build or test failure. The build directory is the `mingw` preset's, build-mingw.
set -euo pipefail

cd "$(dirname "$0")/.."
# windows:online runs licagent.exe against the native licagent-server: the GCC build's (which
# scripts/test.sh has made by now), built here if this script runs on its own.
native="$PWD/build-ci-gcc"
if [ ! -x "$native/server/licagent-server" ] || [ ! -x "$native/server/licagent-vendor" ]; then
  cmake --preset ci-gcc >/dev/null
  cmake --build "$native" --target licagent_server licagent_vendor_cli
fi
cmake --preset mingw -DLICAGENT_NATIVE_BUILD_DIR="$native" >/dev/null
build="$PWD/build-mingw"
cmake --build "$build"

# Wine trap 1: a crash can exit 0 when winedbg starts; with winedbg disabled it exits 5.
# mscoree/mshtml are disabled so that booting the prefix does not ask for Mono or Gecko.
export WINEPREFIX="$build/wineprefix" WINEARCH=win64 WINEDEBUG=-all \
       WINEDLLOVERRIDES="winedbg.exe=d;mscoree,mshtml="
unset DISPLAY
if [ ! -d "$WINEPREFIX" ]; then
  wineboot -i </dev/null >/dev/null 2>&1
  wineserver -w
fi
# Wine trap 2: Wine's background services inherit the first test's stderr pipe and ctest waits
# for it forever. A persistent wineserver and a booted prefix started here keep them off it.
wineserver -p
trap 'wineserver -k || true' EXIT
wineboot </dev/null >/dev/null 2>&1

# ctest prints its "N% tests passed, M tests failed out of K" summary; its status is ours.
ctest --test-dir "$build" --output-on-failure --timeout 300 </dev/null
