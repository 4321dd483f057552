#!/usr/bin/env bash
# Whole-process cost of `licagent check` (DESIGN §10: ≤ 3 ms median, peak RSS ≤ 8 MB): wall time
# (hyperfine), peak RSS and, when strace is installed, system-call counts. Results and method:
# docs/performance.md ("The offline check").
#
#   bench/check_process.sh <build-dir> [output-dir]
#
# <build-dir> holds agent/cli/licagent and server/licagent-vendor. The agent must trust the
# vendor key the licenses are signed with. Either a development build (dev, ci-gcc:
# LICAGENT_ALLOW_KEY_FILE=ON), for which the script makes a throw-away key, or, for figures worth
# reporting, a Release build with a key compiled in:
#
#   cmake --preset release && cmake --build build-release       # builds licagent-vendor
#   build-release/server/licagent-vendor keygen --key-id bench --out /tmp/bench-vendor
#   cmake --preset release -DLICAGENT_TRUSTED_KEYS="$(cat /tmp/bench-vendor.pub)"
#   cmake --build build-release
#   KEY=/tmp/bench-vendor bench/check_process.sh build-release
#
# KEY: the vendor key prefix (KEY.pem, KEY.pub), key id KEY_ID (default "bench"); product
# PRODUCT (default licagent-demo). Two licenses bound to this machine are issued and installed
# in temporary state directories (LICAGENT_STATE_DIR): one plain, one with a core limit (which
# loads hwloc). output-dir (default /tmp) receives licagent-check-hyperfine.json and
# licagent-check-summary.txt. Environment: RUNS (default 300), WARMUP (default 30), RSS_RUNS
# (default 10).
#
# Privacy: every command's output goes to /dev/null; only timings, sizes and counts are printed.
set -euo pipefail

if [[ $# -lt 1 || ! -x $1/agent/cli/licagent || ! -x $1/server/licagent-vendor ]]; then
  echo "usage: $0 <build-dir with agent/cli/licagent and server/licagent-vendor> [output-dir]" >&2
  exit 2
fi
bin=$(readlink -f "$1/agent/cli/licagent")
vendor=$(readlink -f "$1/server/licagent-vendor")
out=${2:-/tmp}
runs=${RUNS:-300}
warmup=${WARMUP:-30}
rss_runs=${RSS_RUNS:-10}
mkdir -p "$out"
json="$out/licagent-check-hyperfine.json"
summary="$out/licagent-check-summary.txt"
command -v hyperfine >/dev/null || { echo "$0: hyperfine is not installed" >&2; exit 3; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
key_id=${KEY_ID:-bench}
if [[ -n ${KEY:-} ]]; then
  key=$KEY
else
  key=$work/vendor
  "$vendor" keygen --key-id "$key_id" --out "$key" >/dev/null 2>&1
  export LICAGENT_TRUSTED_KEYS_FILE=$key.pub  # honoured only by LICAGENT_ALLOW_KEY_FILE builds
fi
id=$("$bin" fingerprint -q)
issue() {  # issue NAME EXTRA-ARGS...
  local name=$1; shift
  "$vendor" issue --key "$key.pem" --key-id "$key_id" --product "${PRODUCT:-licagent-demo}" \
    --customer bench --identifier "$id" --days 30 --grace-days 30 --feature export "$@" \
    --out "$work/$name.lic" >/dev/null 2>&1
  LICAGENT_STATE_DIR=$work/$name "$bin" install "$work/$name.lic" >/dev/null
  LICAGENT_STATE_DIR=$work/$name "$bin" check --feature export >/dev/null || {
    echo "$0: the $name license does not check as valid (does the build trust the key?)" >&2
    exit 4
  }
}
issue plain
issue cores --max-cores 1024

# name|state|arguments (after the binary). The state (LICAGENT_STATE_DIR) is exported for each
# case's own hyperfine run, so nothing but the measured command is executed.
cases=(
  "process start (/bin/true)|plain|"
  "licagent --version|plain|--version"
  "check --feature export|plain|check --feature export"
  "check, license with a core limit (hwloc)|cores|check --feature export"
  "fingerprint -q|plain|fingerprint -q"
)
state_of() { local rest=${1#*|}; echo "$work/${rest%%|*}"; }
args_of() { local rest=${1#*|}; echo "${rest#*|}"; }
command_line() {  # the command hyperfine runs (no shell: -N)
  local args
  args=$(args_of "$1")
  if [[ -z $args ]]; then echo "/bin/true"; else echo "$bin $args"; fi
}
for i in "${!cases[@]}"; do
  c=${cases[$i]}
  LICAGENT_STATE_DIR=$(state_of "$c") hyperfine -N --warmup "$warmup" --runs "$runs" \
    --export-json "$out/licagent-check-hyperfine.$i.json" --style basic -n "${c%%|*}" \
    "$(command_line "$c")" >/dev/null
done
parts=()
for i in "${!cases[@]}"; do parts+=("$out/licagent-check-hyperfine.$i.json"); done
jq -s '{results: map(.results[0])}' "${parts[@]}" >"$json"
rm -f "${parts[@]}"

peak_rss_kib() {
  local f
  f=$(mktemp)
  /usr/bin/time -o "$f" -f '%M' "$@" >/dev/null 2>&1 || true
  tail -n 1 "$f"
  rm -f "$f"
}
median() { sort -n | awk '{v[NR]=$1} END {if (NR==0) print "n/a"; else if (NR%2) print v[(NR+1)/2]; else print (v[NR/2]+v[NR/2+1])/2}'; }

{
  echo "licagent check, whole process, $(date -u +%Y-%m-%dT%H:%MZ), load average $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "binary: $bin ($(stat -c %s "$bin") bytes; needs: $(readelf -d "$bin" | awk '/\(NEEDED\)/ {gsub(/[][]/, "", $NF); printf "%s ", $NF}'))"
  echo "hyperfine: $runs runs after $warmup warm-up runs, no shell (-N); JSON: $json"
  echo "peak RSS: /usr/bin/time -f %M, median of $rss_runs runs"
  echo
  printf '%-42s %9s %9s %9s %9s %9s %10s\n' "command" "median ms" "mean ms" "min ms" "user+sys" \
    "RSS KiB" "syscalls"
  for i in "${!cases[@]}"; do
    c=${cases[$i]}
    name=${c%%|*}
    read -r -a cmd <<<"$(command_line "$c")"
    export LICAGENT_STATE_DIR
    LICAGENT_STATE_DIR=$(state_of "$c")
    read -r med mean min cpu < <(jq -r --argjson i "$i" \
      '.results[$i] | [.median, .mean, .min, .user + .system] | map(. * 1000 * 1000 | round / 1000) | @tsv' \
      "$json")
    rss="n/a"
    if [[ -x /usr/bin/time ]]; then
      rss=$(for _ in $(seq "$rss_runs"); do peak_rss_kib "${cmd[@]}"; done | median)
    fi
    calls="n/a"
    if command -v strace >/dev/null; then
      f=$(mktemp)
      strace -f -c -o "$f" "${cmd[@]}" >/dev/null 2>&1 || true
      calls=$(awk '$NF == "total" {print $(NF-2)}' "$f")
      rm -f "$f"
    fi
    printf '%-42s %9s %9s %9s %9s %9s %10s\n' "$name" "$med" "$mean" "$min" "$cpu" "$rss" "$calls"
  done
} | tee "$summary"
echo "wrote $json and $summary"
