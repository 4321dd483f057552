#!/usr/bin/env bash
# The C ABI's shared library exports exactly the functions licagent.h declares (LICAGENT_API),
# nothing of the C++ inside (agent/licagent_c.map).
# Usage: exports_test.sh LIBLICAGENT LICAGENT_H
set -uo pipefail
lib=$1 header=$2
command -v nm >/dev/null || { echo "nm is not installed (binutils)" >&2; exit 1; }
declared=$(tr '\n' ' ' <"$header" | grep -o 'LICAGENT_API [^(]*(' | grep -o 'licagent_[a-z_]*' | sort)
exported=$(nm -D --defined-only "$lib" | awk '$2 ~ /^[TtWwDdBbRrVvi]$/ {print $3}' | sort) || {
  echo "FAIL: nm -D $lib" >&2
  exit 1
}
[ "$(wc -l <<<"$declared")" -ge 8 ] || { echo "FAIL: found only: $declared" >&2; exit 1; }
if [ "$declared" != "$exported" ]; then
  echo "FAIL: $lib exports other symbols than licagent.h declares:" >&2
  diff <(echo "$declared") <(echo "$exported") >&2
  exit 1
fi
echo "ok: $(tr "\n" " " <<<"$exported")"
