#!/usr/bin/env bash
# Whole-process cost of `licagent fingerprint`: wall time (hyperfine), peak RSS and, when strace
# is installed, system-call counts. Results and method: docs/performance.md.
#
#   bench/fingerprint_process.sh <path/to/licagent> [output-dir]
#
# output-dir (default /tmp) receives licagent-process-hyperfine.json (hyperfine --export-json),
# licagent-process-hyperfine.md and licagent-process-summary.txt. Environment: RUNS (default
# 300), WARMUP (default 30), RSS_RUNS (default 10).
#
# Privacy: `--format koogallery` prints RAW MACs and serials. Every command's output goes to
# /dev/null (hyperfine discards it by default; the RSS and strace runs redirect it), so nothing
# from this machine but timings, sizes and counts is printed or stored.
set -euo pipefail

if [[ $# -lt 1 || ! -x $1 ]]; then
  echo "usage: $0 <path/to/licagent> [output-dir]" >&2
  exit 2
fi
bin=$(readlink -f "$1")
out=${2:-/tmp}
runs=${RUNS:-300}
warmup=${WARMUP:-30}
rss_runs=${RSS_RUNS:-10}
mkdir -p "$out"
json="$out/licagent-process-hyperfine.json"
markdown="$out/licagent-process-hyperfine.md"
summary="$out/licagent-process-summary.txt"

command -v hyperfine >/dev/null || { echo "$0: hyperfine is not installed" >&2; exit 3; }

# name|arguments (after the binary). The first two are baselines: a bare process start, and
# licagent's own start (dynamic loading of libcrypto, libhwloc, libstdc++ ...; CLI11 setup).
cases=(
  "process start (/bin/true)|"
  "licagent --version|--version"
  "fingerprint -q|fingerprint -q"
  "fingerprint --json|fingerprint --json"
  "fingerprint --explain (hwloc)|fingerprint --explain"
  "fingerprint --format koogallery|fingerprint --format koogallery"
)

command_line() {  # name|args -> the command hyperfine runs (no shell: -N)
  local args=${1#*|}
  if [[ -z $args ]]; then
    echo "/bin/true"
  else
    echo "'$bin' $args"
  fi
}

hyperfine_args=(-N --warmup "$warmup" --runs "$runs" --export-json "$json"
                --export-markdown "$markdown" --style basic)
for c in "${cases[@]}"; do
  hyperfine_args+=(-n "${c%%|*}" "$(command_line "$c")")
done
hyperfine "${hyperfine_args[@]}"

# Peak resident set size of one process, in KiB.
if [[ -x /usr/bin/time ]]; then
  rss_method="GNU time (/usr/bin/time -f %M), max RSS of the process"
  peak_rss_kib() {
    local f
    f=$(mktemp)
    /usr/bin/time -o "$f" -f '%M' "$@" >/dev/null 2>&1 || true
    tail -n 1 "$f"
    rm -f "$f"
  }
elif command -v python3 >/dev/null; then
  rss_method="python3 getrusage(RUSAGE_CHILDREN).ru_maxrss (no /usr/bin/time)"
  peak_rss_kib() {
    python3 -c 'import resource, subprocess, sys
subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)' "$@"
  }
else
  rss_method="none (neither /usr/bin/time nor python3)"
  peak_rss_kib() { echo "n/a"; }
fi

median() { sort -n | awk '{v[NR]=$1} END {if (NR==0) print "n/a"; else if (NR%2) print v[(NR+1)/2]; else print (v[NR/2]+v[NR/2+1])/2}'; }

run_case() {  # name|args -> runs the command with its arguments split on spaces
  local args=${1#*|}
  if [[ -z $args ]]; then
    "$2" /bin/true
  else
    # shellcheck disable=SC2086  # the arguments are fixed words from the table above
    "$2" "$bin" $args
  fi
}

{
  echo "licagent whole-process figures, $(date -u +%Y-%m-%dT%H:%MZ)"
  echo "binary: $bin ($(stat -c %s "$bin") bytes)"
  echo "host: $(nproc) CPU(s), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), kernel $(uname -r)"
  echo "hyperfine: $runs runs after $warmup warm-up runs, no shell (-N); JSON: $json"
  echo "peak RSS: $rss_method, median of $rss_runs runs"
  echo
  printf '%-34s %10s %10s %10s %10s %12s %10s\n' "command" "median ms" "mean ms" "min ms" \
    "stddev ms" "peak RSS KiB" "syscalls"
  for i in "${!cases[@]}"; do
    c=${cases[$i]}
    name=${c%%|*}
    read -r med mean min sd < <(jq -r --argjson i "$i" \
      '.results[$i] | [.median, .mean, .min, .stddev] | map(. * 1000 * 1000 | round / 1000) | @tsv' \
      "$json")
    rss=$(for _ in $(seq "$rss_runs"); do run_case "$c" peak_rss_kib; done | median)
    calls="n/a"
    if command -v strace >/dev/null; then
      f=$(mktemp)
      strace_run() { strace -f -c -o "$f" "$@" >/dev/null 2>&1 || true; }
      run_case "$c" strace_run
      calls=$(awk '$NF == "total" {print $(NF-2)}' "$f")
      rm -f "$f"
    fi
    printf '%-34s %10s %10s %10s %10s %12s %10s\n' "$name" "$med" "$mean" "$min" "$sd" "$rss" \
      "$calls"
  done
} | tee "$summary"
echo "wrote $json, $markdown and $summary"
