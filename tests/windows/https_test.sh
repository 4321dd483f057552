#!/usr/bin/env bash
# ctest windows:https: the WinHTTP transport (platform/windows/https_windows.cpp) under Wine
# against real HTTPS servers on 127.0.0.1 (docs/windows.md "Online commands"). Starts the
# fixtures of https_fixture.py — a server with the test CA's certificate, one with another CA's,
# one with a certificate for another host name, an HTTP CONNECT proxy — runs the [https] cases of
# windows_tests.exe, then checks the fixtures' logs: no request the client had to refuse (paths
# "/untrusted…") ever delivered its body, and the proxy tunnelled.
# Usage: https_test.sh WINDOWS_TESTS_EXE WORK_DIR
# Wine's environment (WINEPREFIX, a running wineserver) comes from scripts/ci-windows.sh.
set -uo pipefail
exe=$1
work=$2
here="$(cd "$(dirname "$0")" && pwd)"
fixture="$here/https_fixture.py"
rm -rf "$work"
mkdir -p "$work"
pids=()
cleanup() { [ ${#pids[@]} -eq 0 ] || kill "${pids[@]}" 2>/dev/null; }
trap cleanup EXIT
fail() { echo "windows:https: FAILED: $*" >&2; exit 1; }

bash "$here/../tls/make-test-pki.sh" "$work/pki" >/dev/null || fail "test PKI"
# A certificate from the test CA for a name that is not 127.0.0.1.
(
  cd "$work/pki" || exit 1
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=wrong.example" \
    -keyout wrong-host.key -out wrong-host.csr 2>/dev/null &&
    openssl x509 -req -in wrong-host.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 30 \
      -out wrong-host.crt -extfile <(printf '%s\n' "subjectAltName=DNS:wrong.example" \
        "extendedKeyUsage=serverAuth") 2>/dev/null
) || fail "wrong-host certificate"

# start NAME ARGS...: one fixture, its port in $work/NAME.port, its log in $work/NAME.log.
start() {
  local name=$1
  shift
  python3 "$fixture" "$@" "$work/$name.port" "$work/$name.log" 2>"$work/$name.err" &
  pids+=($!)
  for _ in $(seq 100); do [ -s "$work/$name.port" ] && return 0; sleep 0.1; done
  fail "fixture $name did not start: $(cat "$work/$name.err")"
}
start good server "$work/pki/server.crt" "$work/pki/server.key"
start other-ca server "$work/pki/other-server.crt" "$work/pki/other-server.key"
start wrong-host server "$work/pki/wrong-host.crt" "$work/pki/wrong-host.key"
start proxy proxy
python3 "$fixture" closed-port "$work/closed.port" || fail "closed port"
touch "$work/good.log" "$work/other-ca.log" "$work/wrong-host.log" "$work/proxy.log"

LICAGENT_TEST_PKI="$(winepath -w "$work/pki")"
LICAGENT_TEST_HTTPS_PORT=$(cat "$work/good.port")
LICAGENT_TEST_HTTPS_OTHER_CA_PORT=$(cat "$work/other-ca.port")
LICAGENT_TEST_HTTPS_WRONG_HOST_PORT=$(cat "$work/wrong-host.port")
LICAGENT_TEST_PROXY_PORT=$(cat "$work/proxy.port")
LICAGENT_TEST_CLOSED_PORT=$(cat "$work/closed.port")
export LICAGENT_TEST_PKI LICAGENT_TEST_HTTPS_PORT LICAGENT_TEST_HTTPS_OTHER_CA_PORT \
  LICAGENT_TEST_HTTPS_WRONG_HOST_PORT LICAGENT_TEST_PROXY_PORT LICAGENT_TEST_CLOSED_PORT

timeout 240 wine "$exe" "[https]" </dev/null
rc=$?
[ "$rc" -eq 0 ] || fail "windows_tests [https] exited $rc"

# The client refused these servers after the handshake: their bodies must never have arrived.
if grep -h '"path": "/untrusted' "$work"/good.log "$work"/other-ca.log "$work"/wrong-host.log; then
  fail "a body reached a server the client did not trust (above)"
fi
grep -q '"path": "/echo"' "$work/good.log" || fail "the server never saw /echo"
grep -q "\"connect\": \"localhost:$LICAGENT_TEST_HTTPS_PORT\"" "$work/proxy.log" ||
  fail "the proxy tunnelled nothing: $(cat "$work/proxy.log")"
echo "windows:https: the [https] cases passed; no untrusted server got a body; the proxy tunnelled"
