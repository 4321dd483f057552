#!/usr/bin/env bash
# The main job, from a fresh Debian 12 machine: install what is missing, build, and show this
# machine's hardware identifier and its explanation.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh build
cmake --preset release >/dev/null
cmake --build build-release
bin=build-release/agent/cli/licagent

echo
echo "== licagent fingerprint"
"$bin" fingerprint
echo
echo "== licagent fingerprint --explain"
"$bin" fingerprint --explain
echo
echo "== does the identifier match this machine? (licagent fingerprint --match)"
"$bin" fingerprint --match "$("$bin" fingerprint -q)"
