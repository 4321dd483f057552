#!/usr/bin/env bash
# The C ABI's online calls against the real licagent-server over TLS on 127.0.0.1 (test PKI):
# starts the server with a fresh signing key that the agent trusts (LICAGENT_TRUSTED_KEYS_FILE,
# builds with LICAGENT_ALLOW_KEY_FILE), makes a one-seat license key, and runs the C program
# (case c) or the ctypes example (case ctypes) against it.
# Usage: capi_online_test.sh LICAGENT_SERVER LICAGENT_VENDOR C_API_ONLINE_TEST LIBLICAGENT PKI_DIR
#                            PRODUCT_ID CASE
set -uo pipefail
server=$1 vendor=$2 ctest_bin=$3 lib=$4 pki=$5 product=$6 case_name=$7
work=$(mktemp -d)
pid=
cleanup() {
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then kill -KILL "$pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT
fail() {
  echo "FAIL [$case_name]: $*" >&2
  [ -f "$work/server.err" ] && sed 's/^/server: /' "$work/server.err" >&2
  exit 1
}
cd "$work" || exit 1

# No configuration of the developer's own: the test's environment only.
export XDG_CONFIG_HOME="$work/config" LICAGENT_STATE_DIR="$work/default-state"
unset LICAGENT_SERVER_URL LICAGENT_CA_BUNDLE LICAGENT_PINNED_KEY LICAGENT_PROXY
unset HTTPS_PROXY https_proxy ALL_PROXY all_proxy

"$vendor" keygen --key-id capi-test --out vendor >/dev/null 2>&1 || fail "keygen"
export LICAGENT_TRUSTED_KEYS_FILE="$work/vendor.pub"
cat >server.json <<JSON
{"listen":"127.0.0.1:0","tls":{"certificate":"$pki/server.crt","private_key":"$pki/server.key"},
 "signing_key":{"file":"vendor.pem","key_id":"capi-test"},
 "storage":{"kind":"sqlite","path":"licagent.db"},"threads":2,
 "products":[{"id":"$product","grace_days":14,"seats":1}]}
JSON
key=$("$server" --config server.json credential create --product "$product" --customer "C ABI" \
  2>create.err) || fail "credential create: $(cat create.err)"
[[ $key =~ ^LK- ]] || fail "key '$key'"

"$server" --config server.json serve --port-file port 2>server.err &
pid=$!
for _ in $(seq 100); do [ -s port ] && break; sleep 0.1; done
[ -s port ] || fail "no port file after 10 s"
url="https://127.0.0.1:$(cat port)"
# A port where nothing listens.
down_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')

case "$case_name" in
  c)
    CAPI_TEST_KEY=$key LICAGENT_SERVER_URL=$url LICAGENT_CA_BUNDLE=$pki/ca.crt \
      "$ctest_bin" "$work/store" "$url" "$pki/ca.crt" "$(cat "$pki/server.pin")" \
      "https://127.0.0.1:$down_port" "$pki/other-ca.crt" || fail "c_api_online_test"
    ;;
  ctypes)
    CAPI_TEST_KEY=$key python3 "$(dirname "$0")/ctypes_test.py" "$lib" "$work/store" "$url" \
      "$pki/ca.crt" || fail "ctypes_test.py"
    ;;
  *) fail "unknown case" ;;
esac
# The key never reached a file the agent wrote.
if grep -rqa -- "$key" "$work/store" 2>/dev/null; then fail "the key is in the license cache"; fi

kill -TERM "$pid"
for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
kill -0 "$pid" 2>/dev/null && fail "the server still runs 10 s after SIGTERM"
wait "$pid" || fail "the server exited $? after SIGTERM"
pid=
echo "ok: $case_name"
