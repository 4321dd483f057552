#!/usr/bin/env bash
# Design property (DESIGN §10, docs/performance.md): the check path does not pay to load what it
# does not use. hwloc (CPU topology) and libcurl (network commands) are loaded with dlopen when a
# command needs them, so none of the given binaries may have them in DT_NEEDED.
# Usage: linkage_test.sh BINARY...
set -uo pipefail
command -v readelf >/dev/null || { echo "readelf is not installed (binutils)" >&2; exit 1; }
status=0
for bin in "$@"; do
  needed=$(readelf -d "$bin" | awk '/\(NEEDED\)/ {gsub(/[][]/, "", $NF); print $NF}') || {
    echo "FAIL: readelf -d $bin" >&2
    status=1
    continue
  }
  [ -n "$needed" ] || { echo "FAIL: $bin has no DT_NEEDED entries (not dynamic?)" >&2; status=1; }
  for lib in $needed; do
    case "$lib" in
      libhwloc.so* | libudev.so* | libcurl*.so*)
        echo "FAIL: $bin links $lib (load it at run time with platform::LoadSymbol)" >&2
        status=1
        ;;
    esac
  done
  # shellcheck disable=SC2086  # one line, the names split on purpose
  echo "$bin:" $needed
done
exit $status
