#!/usr/bin/env bash
# Regenerates the license test vectors with the openssl command line, an Ed25519
# implementation independent of the agent's (libsodium). Deterministic: Ed25519 signatures are,
# and the keys are fixed PEM files here. Usage: bash make-vectors.sh (from this directory).
set -euo pipefail
cd "$(dirname "$0")"

b64() { base64 -w0; }
# armor KEY_ID PRIVATE_PEM PAYLOAD_FILE: prints the armoured license.
armor() {
  local msg sig
  msg=$(mktemp)
  { printf 'licagent-license-v1\n%s\n' "$1"; cat "$3"; } >"$msg"
  sig=$(openssl pkeyutl -sign -rawin -inkey "$2" -in "$msg" | b64)
  rm -f "$msg"
  printf -- '-----BEGIN LICAGENT LICENSE-----\nKey-Id: %s\nSignature: %s\n\n' "$1" "$sig"
  b64 <"$3" | fold -w 64
  printf '\n-----END LICAGENT LICENSE-----\n'
}
pubkey() {  # pubkey KEY_ID PEM: KEY_ID:base64 of the raw 32-byte public key
  printf '%s:%s\n' "$1" "$(openssl pkey -in "$2" -pubout -outform DER | tail -c 32 | b64)"
}

[ -f vendor-2026.pem ] || openssl genpkey -algorithm ed25519 -out vendor-2026.pem
[ -f vendor-2027.pem ] || openssl genpkey -algorithm ed25519 -out vendor-2027.pem
pubkey vendor-2026 vendor-2026.pem >vendor-2026.pub
pubkey vendor-2027 vendor-2027.pem >vendor-2027.pub

armor vendor-2026 vendor-2026.pem valid.json >valid.lic
armor vendor-2027 vendor-2027.pem rotated.json >rotated.lic
armor vendor-2026 vendor-2026.pem floating-perpetual.json >floating-perpetual.lic
# Signed by the 2027 key but naming vendor-2026 in the envelope: must not verify.
sed 's/^Key-Id: vendor-2027$/Key-Id: vendor-2026/' rotated.lic >wrong-key.lic
# A payload byte changed after signing.
sed '5s/^e/f/' valid.lic >tampered.lic
head -c 200 valid.lic >truncated.lic
