#!/usr/bin/env bash
# The online path against a local licagent-server over TLS (DESIGN §10):
#   (a) the activation round trip as a whole `licagent` process: `activate --key KEY` of a
#       machine that already holds its seat (the seat is reused) and one `refresh`, with
#       hyperfine (budget: ≤ 100 ms);
#   (b) the server's refresh throughput: wrk POSTs valid /v1/refresh bodies over keep-alive TLS
#       connections, for each server thread count and connection count (budget: ≥ 1,000
#       refreshes/s with p99 ≤ 50 ms on 2 cores). Every answer is checked: a run with a single
#       answer that is not 200 fails the script.
# Results and method: docs/performance.md ("The activation server").
#
#   bench/server_process.sh <build-dir> [output-dir]
#
# <build-dir> holds agent/cli/licagent, server/licagent-server and server/licagent-vendor. The
# agent must trust the key the server signs with: either a development build (dev, ci-gcc:
# LICAGENT_ALLOW_KEY_FILE=ON), for which the script makes a throw-away key, or, for figures
# worth reporting, a Release build with the key compiled in (as for bench/check_process.sh):
#
#   cmake --preset release && cmake --build build-release
#   build-release/server/licagent-vendor keygen --key-id bench --out /tmp/bench-vendor
#   cmake --preset release -DLICAGENT_TRUSTED_KEYS="$(cat /tmp/bench-vendor.pub)"
#   cmake --build build-release
#   KEY=/tmp/bench-vendor bench/server_process.sh build-release
#
# Environment: KEY (vendor key prefix, KEY.pem/KEY.pub) and KEY_ID (default "bench"); RUNS
# (hyperfine runs, default 100), WARMUP (default 5); SERVER_THREADS (the server's "threads"
# settings to try, default "4 8"), CONNECTIONS (wrk connections, default "16 32 64"),
# WRK_THREADS (default 2), DURATION (seconds per wrk run, default 20), ROUNDS (runs of each
# combination, default 2); ACCESS_LOG (default: a file, as in production; "" for none).
# The server and wrk share the machine's cores, as on a 2-core vendor box with its load
# generator. The server's rate limits are switched off: all load comes from one address.
#
# output-dir (default /tmp) receives licagent-server-hyperfine.json, licagent-server-wrk.txt
# (wrk's own output of every run) and licagent-server-summary.txt.
#
# Privacy: the license key and the machine's identifier stay in a temporary directory, removed
# at exit; only timings and counts are printed.
set -euo pipefail

if [[ $# -lt 1 || ! -x $1/agent/cli/licagent || ! -x $1/server/licagent-server ||
  ! -x $1/server/licagent-vendor ]]; then
  echo "usage: $0 <build-dir with agent/cli/licagent, server/licagent-server and" \
    "server/licagent-vendor> [output-dir]" >&2
  exit 2
fi
agent=$(readlink -f "$1/agent/cli/licagent")
server=$(readlink -f "$1/server/licagent-server")
vendor=$(readlink -f "$1/server/licagent-vendor")
out=$(mkdir -p "${2:-/tmp}" && readlink -f "${2:-/tmp}")
repo=$(cd "$(dirname "$0")/.." && pwd)
runs=${RUNS:-100}
warmup=${WARMUP:-5}
read -r -a server_threads <<<"${SERVER_THREADS:-4 8}"
read -r -a connections <<<"${CONNECTIONS:-16 32 64}"
wrk_threads=${WRK_THREADS:-2}
duration=${DURATION:-20}
rounds=${ROUNDS:-2}
json_out="$out/licagent-server-hyperfine.json"
wrk_out="$out/licagent-server-wrk.txt"
summary="$out/licagent-server-summary.txt"

bash "$repo/scripts/deps.sh" bench
for tool in hyperfine wrk jq openssl sqlite3 /usr/bin/time; do
  command -v "$tool" >/dev/null || { echo "$0: $tool is not installed" >&2; exit 3; }
done

work=$(mktemp -d)
pid=
stop_server() {
  [[ -n $pid ]] || return 0
  kill -TERM "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  pid=
}
trap 'stop_server; rm -rf "$work"' EXIT

key_id=${KEY_ID:-bench}
if [[ -n ${KEY:-} ]]; then
  key=$KEY
else
  key=$work/vendor
  "$vendor" keygen --key-id "$key_id" --out "$key" >/dev/null 2>&1
  export LICAGENT_TRUSTED_KEYS_FILE=$key.pub  # honoured only by LICAGENT_ALLOW_KEY_FILE builds
fi

# The test PKI of tests/tls (a CA and a P-256 certificate for 127.0.0.1).
bash "$repo/tests/tls/make-test-pki.sh" "$work/pki" >/dev/null
mkdir -p "$work/server"
cp "$key.pem" "$work/server/vendor.pem"
chmod 600 "$work/server/vendor.pem"
access_log=${ACCESS_LOG-access.log}
write_config() {  # write_config THREADS
  cat >"$work/server/server.json" <<JSON
{"listen": "127.0.0.1:0",
 "tls": {"certificate": "$work/pki/server.crt", "private_key": "$work/pki/server.key"},
 "signing_key": {"file": "vendor.pem", "key_id": "$key_id"},
 "storage": {"kind": "sqlite", "path": "licagent.db"},
 "access_log": "$access_log",
 "threads": $1,
 "rate_limit": {"activations_per_credential_per_minute": 0,
                "requests_per_address_per_minute": 0},
 "products": [{"id": "${PRODUCT:-licagent-demo}", "default_validity_days": 365,
               "grace_days": 14, "seats": 2}]}
JSON
}
admin=("$server" --config "$work/server/server.json")
start_server() {  # start_server THREADS
  write_config "$1"
  rm -f "$work/server/port"
  "${admin[@]}" serve --port-file "$work/server/port" 2>>"$work/server/server.err" &
  pid=$!
  for _ in $(seq 100); do [[ -s $work/server/port ]] && break; sleep 0.1; done
  [[ -s $work/server/port ]] || { cat "$work/server/server.err" >&2; exit 4; }
  url="https://127.0.0.1:$(cat "$work/server/port")"
  export LICAGENT_SERVER_URL=$url
}

write_config "${server_threads[0]}"
license_key=$("${admin[@]}" credential create --product "${PRODUCT:-licagent-demo}" \
  --customer bench --feature export 2>/dev/null)
export LICAGENT_STATE_DIR=$work/state LICAGENT_CA_BUNDLE=$work/pki/ca.crt
export LICAGENT_NO_BACKGROUND_REFRESH=1
start_server "${server_threads[0]}"
"$agent" activate --key "$license_key" -q || {
  echo "$0: the first activation failed (does the build trust the key?); server log:" >&2
  cat "$work/server/server.err" >&2
  exit 4
}
load() { cut -d' ' -f1-3 /proc/loadavg; }
# The server's CPU time so far (user + system, in clock ticks): CPU per request is the figure
# that the other load on a shared machine disturbs least.
cpu_ticks() { awk '{sub(/^.*\) /, ""); print $12 + $13}' "/proc/$pid/stat"; }
ms() { awk -v us="$1" 'BEGIN {printf "%.1f", us / 1000}'; }

# (a) Whole processes, no shell (-N). The machine holds its seat, so each activation reuses it.
cases=("activate --key (seat reused)|activate -q --key $license_key" "refresh|refresh -q")
hf_load=()
for i in "${!cases[@]}"; do
  c=${cases[$i]}
  hf_load+=("$(load)")
  hyperfine -N --warmup "$warmup" --runs "$runs" --export-json "$work/hf.$i.json" \
    --style basic -n "${c%%|*}" "$agent ${c#*|}" >/dev/null
done
jq -s '{results: map(.results[0] | del(.command))}' "$work"/hf.*.json >"$json_out"
"$agent" check --feature export >/dev/null

# (b) Refresh bodies as the agent sends them: this machine's identifier, environment and
# candidate tags (fingerprint --json prints them in hex), a license id, and a fresh 32-hex nonce
# per request. A production server refreshes a different seat each time (each machine once a
# day): SQLite skips the write, and its fsync, of an UPDATE that changes nothing, so hammering
# the one seat whose last_seen_at already holds this second would measure a server that hardly
# writes. SEATS copies of this machine's seat (same identifier, own license ids
# lic-bench-00000001...) are therefore added to the store, 5 to a credential (a credential's
# refresh counts its active seats), and wrk walks through them.
seats=${SEATS:-20000}
license_id=$("$agent" status --json | jq -r '.license.license_id')
sqlite3 "$work/server/licagent.db" <<SQL
.timeout 10000
BEGIN IMMEDIATE;
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ($seats + 4) / 5)
INSERT INTO credentials (id, key_hash, product_id, customer, seats, features, max_cores,
                         max_sockets, expires_at, state, created_at)
  SELECT printf('cred-bench-%06d', i), printf('bench-%06d', i), product_id, customer, 5,
         features, max_cores, max_sockets, expires_at, state, created_at
  FROM credentials, n
  WHERE id = (SELECT credential_id FROM seats WHERE license_id = '$license_id');
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $seats)
INSERT INTO seats (license_id, credential_id, identifier, candidates, environment, state,
                   created_at, last_seen_at, agent_version)
  SELECT printf('lic-bench-%08d', i), printf('cred-bench-%06d', (i - 1) / 5 + 1), identifier,
         candidates, environment, 'active', created_at, last_seen_at, agent_version
  FROM seats, n WHERE license_id = '$license_id';
COMMIT;
SQL
version=$("$agent" --version | awk '{print $2}')
"$agent" fingerprint --json | jq -c --arg product "${PRODUCT:-licagent-demo}" \
  --arg version "$version" '
  def hex: ascii_downcase | explode
    | reduce .[] as $c (0; . * 16 + (if $c >= 97 then $c - 87 else $c - 48 end));
  {product_id: $product, license_id: "LICENSE", identifier: .identifier,
   environment: .environment,
   candidates: ([.slots[] | select(.present) | {key: .slot, value: (.candidates | map(hex))}]
                | from_entries),
   nonce: "NONCE", agent_version: $version}' >"$work/body.json"
part1=$(sed 's/"LICENSE".*//' "$work/body.json")
part2=$(sed 's/.*"LICENSE"//; s/"NONCE".*//' "$work/body.json")
part3=$(sed 's/.*"NONCE"//' "$work/body.json")
lua_quote() { printf '%s' "$1" | sed 's/\\/\\\\/g; s/"/\\"/g'; }
cat >"$work/refresh.lua" <<LUA
-- POST /v1/refresh for seat after seat, with a fresh nonce each time; count every answer that
-- is not 200.
local part1 = "$(lua_quote "$part1")"
local part2 = "$(lua_quote "$part2")"
local part3 = "$(lua_quote "$part3")"
local seats = $seats
local headers = {["Content-Type"] = "application/json"}
local threads = {}
function setup(thread)
  thread:set("first", #threads * 7919)
  table.insert(threads, thread)
end
function init(args)
  non200 = 0
  sample = ""
  next_seat = first
  math.randomseed(os.time() + first)
end
function request()
  next_seat = next_seat % seats + 1
  local nonce = string.format("%04x%04x%04x%04x%04x%04x%04x%04x",
    math.random(0, 65535), math.random(0, 65535), math.random(0, 65535), math.random(0, 65535),
    math.random(0, 65535), math.random(0, 65535), math.random(0, 65535), math.random(0, 65535))
  local body = part1 .. string.format('"lic-bench-%08d"', next_seat) .. part2 .. '"' .. nonce
    .. '"' .. part3
  return wrk.format("POST", "/v1/refresh", headers, body)
end
function response(status, headers, body)
  if status ~= 200 then
    non200 = non200 + 1
    if sample == "" then sample = status .. " " .. string.sub(body, 1, 200) end
  end
end
function done(summary, latency, requests)
  local bad, first = 0, ""
  for _, t in ipairs(threads) do
    bad = bad + t:get("non200")
    if first == "" then first = t:get("sample") end
  end
  local e = summary.errors
  io.write(string.format(
    "LICAGENT requests=%d duration_us=%d non200=%d connect=%d read=%d write=%d timeout=%d "
      .. "p50_us=%d p90_us=%d p99_us=%d p999_us=%d max_us=%d mean_us=%d\n",
    summary.requests, summary.duration, bad, e.connect, e.read, e.write, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99),
    latency:percentile(99.9), latency.max, latency.mean))
  if first ~= "" then io.write("LICAGENT first non-200: " .. first .. "\n") end
end
LUA

: >"$wrk_out"
rows=()
failed=0
for t in "${server_threads[@]}"; do
  stop_server
  start_server "$t"
  for c in "${connections[@]}"; do
    for r in $(seq "$rounds"); do
      before=$(load)
      ticks=$(cpu_ticks)
      printf '== server threads %s, wrk -t%s -c%s -d%ss, round %s, load %s\n' "$t" \
        "$wrk_threads" "$c" "$duration" "$r" "$before" >>"$wrk_out"
      /usr/bin/time -o "$work/wrk.cpu" -f '%U %S' wrk -t"$wrk_threads" -c"$c" -d"${duration}s" \
        --latency -s "$work/refresh.lua" "$url/v1/refresh" >"$work/wrk.txt" 2>&1 || true
      ticks=$(($(cpu_ticks) - ticks))
      cat "$work/wrk.txt" >>"$wrk_out"
      line=$(grep '^LICAGENT requests=' "$work/wrk.txt" || true)
      if [[ -z $line ]]; then
        echo "$0: wrk printed no result (see $wrk_out)" >&2
        failed=1
        continue
      fi
      declare -A v=()
      for kv in ${line#LICAGENT }; do v[${kv%%=*}]=${kv#*=}; done
      [[ ${v[non200]} -eq 0 && ${v[requests]} -gt 0 ]] || failed=1
      rows+=("$(printf '%7s %5s %5s %9.0f %8s %8s %8s %8s %8s %7s %7s %7s %7s  %s' "$t" "$c" "$r" \
        "$(awk -v n="${v[requests]}" -v d="${v[duration_us]}" 'BEGIN {print n / (d / 1e6)}')" \
        "$(ms "${v[p50_us]}")" "$(ms "${v[p90_us]}")" "$(ms "${v[p99_us]}")" \
        "$(ms "${v[p999_us]}")" "$(ms "${v[max_us]}")" "${v[non200]}" \
        "$((v[connect] + v[read] + v[write] + v[timeout]))" \
        "$(awk -v t="$ticks" -v hz="$(getconf CLK_TCK)" -v n="${v[requests]}" \
          'BEGIN {printf "%.0f", t / hz * 1e6 / n}')" \
        "$(awk -v n="${v[requests]}" '{printf "%.0f", ($1 + $2) * 1e6 / n}' "$work/wrk.cpu")" \
        "$before")")
      unset v
    done
  done
done
stop_server

{
  echo "licagent-server, $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) CPUs"
  echo "agent: $agent; server: $server ($(stat -c %s "$server") bytes)"
  echo
  echo "(a) whole process over TLS to 127.0.0.1, hyperfine -N, $runs runs after $warmup warm-up"
  printf '%-30s %9s %9s %9s %9s %9s  %s\n' "command" "median ms" "mean ms" "min ms" "max ms" \
    "user+sys" "load average before"
  for i in "${!cases[@]}"; do
    read -r med mean min max cpu < <(jq -r --argjson i "$i" \
      '.results[$i] | [.median, .mean, .min, .max, .user + .system]
       | map(. * 1000 * 100 | round / 100) | @tsv' "$json_out")
    printf '%-30s %9s %9s %9s %9s %9s  %s\n' "${cases[$i]%%|*}" "$med" "$mean" "$min" "$max" \
      "$cpu" "${hf_load[$i]}"
  done
  echo
  echo "(b) POST /v1/refresh over keep-alive TLS, wrk -t$wrk_threads -d${duration}s --latency;"
  echo "    latencies in ms; errors = socket errors (connect+read+write+timeout); CPU us ="
  echo "    the server's CPU time (user + system) per refresh, wrk us = wrk's"
  printf '%7s %5s %5s %9s %8s %8s %8s %8s %8s %7s %7s %7s %7s  %s\n' "threads" "conns" "round" \
    "req/s" "p50" "p90" "p99" "p99.9" "max" "non-200" "errors" "CPU us" "wrk us" \
    "load average before"
  printf '%s\n' "${rows[@]}"
} | tee "$summary"
echo "wrote $json_out, $wrk_out and $summary"
if [[ $failed -ne 0 ]]; then
  echo "$0: some wrk runs had answers other than 200 or no result: the figures are not valid" >&2
  exit 1
fi
