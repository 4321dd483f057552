#!/usr/bin/env bash
# The main job, from a fresh Debian 12 machine: install what is missing, build, show this
# machine's hardware identifier, then walk the offline license path as a vendor and a customer
# would: vendor keys → an agent built to trust them → a license issued for this machine →
# install → check. (Online activation joins with the activation server milestone.)
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh build
demo=build-release/demo
mkdir -p "$demo"
agent=build-release/agent/cli/licagent
vendor=build-release/server/licagent-vendor

step() { printf '\n== %s\n' "$*"; }

cmake --preset release >/dev/null
cmake --build build-release

step "vendor: licagent-vendor keygen (once; the private key stays with the vendor)"
[ -f "$demo/vendor.pem" ] || "$vendor" keygen --key-id demo-vendor --out "$demo/vendor"
cat "$demo/vendor.pub"

step "vendor: build the agent trusting that key (LICAGENT_TRUSTED_KEYS)"
cmake --preset release -DLICAGENT_PRODUCT_ID=licagent-demo \
  -DLICAGENT_TRUSTED_KEYS="$(cat "$demo/vendor.pub")" >/dev/null
cmake --build build-release | tail -1

export LICAGENT_STATE_DIR="$PWD/$demo/state"  # keep the demo's cache out of your home

step "customer: licagent fingerprint"
id=$("$agent" fingerprint -q)
"$agent" fingerprint

step "customer: licagent fingerprint --explain"
"$agent" fingerprint --explain

step "vendor: licagent-vendor issue (for the identifier the customer sent)"
"$vendor" issue --key "$demo/vendor.pem" --key-id demo-vendor --product licagent-demo \
  --customer "Demo customer" --identifier "$id" --days 365 --grace-days 30 \
  --feature export --max-cores 1024 --out "$demo/license.lic"
"$vendor" inspect "$demo/license.lic" --key "$demo/vendor.pub"

step "customer: licagent install, check, status"
"$agent" install "$demo/license.lic"
"$agent" check --feature export
echo "exit code $?"
"$agent" status
set +e
"$agent" check --feature cad-pro
echo "exit code $? (16: the license does not include cad-pro)"
