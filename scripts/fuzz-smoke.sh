#!/usr/bin/env bash
# Fuzz smoke run for CI (docs/fuzzing.md): builds the libFuzzer targets in build-fuzz/ with clang,
# ASan and UBSan, then runs every fuzz/*_fuzz.cpp target for a bounded time on a scratch copy of
# its seed corpus (the repository is never written). Prints one line per target and exits
# non-zero if any target crashed, hung, ran out of memory or was not built.
#
# Environment:
#   FUZZ_SECONDS    seconds per target (default 20)
#   FUZZ_JOBS       targets run at once (default: number of CPUs, at most 4)
#   FUZZ_TARGETS    space-separated subset, e.g. "smbios_fuzz identifier_fuzz" (default: all)
# Crashing inputs are kept in build-fuzz/fuzz-artifacts/<target>/ (the `fuzz` preset's directory).
set -euo pipefail
exec </dev/null

cd "$(dirname "${BASH_SOURCE[0]}")/.."
root=$PWD
seconds=${FUZZ_SECONDS:-20}
build=$root/build-fuzz
cpus=$(getconf _NPROCESSORS_ONLN 2>/dev/null || echo 1)
parallel=${FUZZ_JOBS:-$((cpus < 4 ? cpus : 4))}
if ! [[ $seconds =~ ^[1-9][0-9]*$ ]]; then
  echo "fuzz-smoke: FUZZ_SECONDS must be a positive integer, got '$seconds'" >&2
  exit 2
fi
if ! [[ $parallel =~ ^[1-9][0-9]*$ ]]; then
  echo "fuzz-smoke: FUZZ_JOBS must be a positive integer, got '$parallel'" >&2
  exit 2
fi

if [[ -n ${FUZZ_TARGETS:-} ]]; then
  read -r -a targets <<<"$FUZZ_TARGETS"
else
  targets=()
  for src in fuzz/*_fuzz.cpp; do
    name=${src##*/}
    targets+=("${name%.cpp}")
  done
fi
if ((${#targets[@]} == 0)); then
  echo "fuzz-smoke: no fuzz targets found in fuzz/" >&2
  exit 2
fi

# Configure once; always build so a stale binary is never fuzzed (a no-op build is instant).
if [[ ! -f $build/build.ninja ]]; then
  echo "fuzz-smoke: configuring $build"
  cmake --preset fuzz >/dev/null
fi
echo "fuzz-smoke: building ${targets[*]}"
cmake --build "$build" --target "${targets[@]}" >/dev/null

work=$(mktemp -d "${TMPDIR:-/tmp}/licagent-fuzz.XXXXXX")
pids=()
cleanup() {
  # Only our own runners: each one's timeout(1) child passes the signal on to its fuzzer.
  for pid in "${pids[@]}"; do
    pkill -TERM -P "$pid" 2>/dev/null || true
    kill "$pid" 2>/dev/null || true
  done
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

# Runs one target in $work/<target>/; its exit status lands in $work/<target>/status.
run_target() {
  local t=$1 dir=$work/$1
  mkdir -p "$dir/corpus" "$dir/artifacts"
  if [[ -d fuzz/corpus/$t ]]; then cp -R "fuzz/corpus/$t/." "$dir/corpus/"; fi
  local status=0
  # The outer timeout only guards against a fuzzer that ignores -max_total_time.
  timeout --kill-after=10 $((seconds + 60)) "$build/fuzz/$t" \
    -max_total_time="$seconds" -rss_limit_mb=2048 -timeout=10 -print_final_stats=1 \
    -artifact_prefix="$dir/artifacts/" "$dir/corpus" >"$dir/log" 2>&1 || status=$?
  echo "$status" >"$dir/status"
}

missing=0
for t in "${targets[@]}"; do
  if [[ ! -x $build/fuzz/$t ]]; then
    echo "fuzz-smoke: $build/fuzz/$t was not built (is it in fuzz/CMakeLists.txt?)" >&2
    missing=1
  fi
done
((missing == 0)) || exit 1

echo "fuzz-smoke: ${#targets[@]} targets, ${seconds}s each, $parallel at a time"
for t in "${targets[@]}"; do
  while (($(jobs -rp | wc -l) >= parallel)); do wait -n || true; done
  run_target "$t" &
  pids+=("$!")
done
wait || true
pids=()

failed=0
for t in "${targets[@]}"; do
  dir=$work/$t
  status=$(cat "$dir/status" 2>/dev/null || echo "?")
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$dir/log" | tail -n 1)
  cov=$(grep -o 'cov: [0-9]*' "$dir/log" | tail -n 1 | cut -d' ' -f2 || true)
  corpus=$(find "$dir/corpus" -type f | wc -l)
  if [[ $status == 0 ]]; then
    result=ok
  else
    failed=1
    if grep -q 'ERROR: libFuzzer: timeout' "$dir/log"; then
      result="HANG (exit $status)"
    elif grep -q 'out-of-memory' "$dir/log"; then
      result="OUT OF MEMORY (exit $status)"
    else
      result="CRASH (exit $status)"
    fi
  fi
  printf '%-26s %12s execs  cov %-5s corpus %-5s %s\n' "$t" "${execs:-?}" "${cov:-?}" \
    "$corpus" "$result"
  if [[ $status != 0 ]]; then
    keep=$build/fuzz-artifacts/$t
    mkdir -p "$keep"
    cp "$dir/log" "$keep/log.txt"
    for a in "$dir"/artifacts/*; do
      [[ -e $a ]] || continue
      cp "$a" "$keep/"
      echo "  input $keep/${a##*/} ($(wc -c <"$a") bytes):" \
        "$(head -c 256 "$a" | od -An -tx1 -v | tr -d ' \n')"
    done
    echo "  --- report from the $t log (full log in $keep/log.txt) ---"
    # The sanitizer or libFuzzer report with its stack, without ASan's shadow-memory dump.
    awk '/ERROR: |runtime error:|==[0-9]+==/ { on = 1 } /^Shadow bytes around/ { on = 0 }
         on && n < 40 { print "  " $0; n++ }' "$dir/log"
  fi
done

if ((failed)); then
  echo "fuzz-smoke: FAILED (reproduce: $build/fuzz/<target> <input>; see docs/fuzzing.md)"
  exit 1
fi
echo "fuzz-smoke: all targets passed"
