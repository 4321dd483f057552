#!/usr/bin/env bash
# Makes a throw-away PKI for TLS tests and the demo, with the openssl command line:
#   ca.crt            the test CA (trust this one)
#   server.crt/.key   the server's certificate for 127.0.0.1 and localhost, signed by ca
#   server.pin        curl's pin of the server's public key: sha256//BASE64
#   other-ca.crt      a second CA nobody trusts
#   other-server.crt/.key  a certificate for the same names, signed by other-ca
# Usage: tests/tls/make-test-pki.sh OUTDIR   (OUTDIR is created; existing files are replaced)
# Certificates are valid for 30 days from now, so generated ones never expire in a test run.
set -euo pipefail
out=${1:?usage: $0 OUTDIR}
mkdir -p "$out"
cd "$out"
umask 077

make_ca() {  # name, common name
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 30 \
    -subj "/CN=$2" -keyout "$1.key" -out "$1.crt" \
    -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign \
    2>/dev/null
}

make_server() {  # name, ca name
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=localhost" \
    -keyout "$1.key" -out "$1.csr" 2>/dev/null
  openssl x509 -req -in "$1.csr" -CA "$2.crt" -CAkey "$2.key" -CAcreateserial -days 30 \
    -out "$1.crt" -extfile <(printf '%s\n' \
      "subjectAltName=IP:127.0.0.1,DNS:localhost" \
      "basicConstraints=critical,CA:FALSE" \
      "keyUsage=critical,digitalSignature" \
      "extendedKeyUsage=serverAuth") 2>/dev/null
  rm -f "$1.csr"
}

make_ca ca "licagent test CA"
make_server server ca
make_ca other-ca "licagent other test CA"
make_server other-server other-ca
printf 'sha256//%s\n' "$(openssl pkey -in server.key -pubout -outform der |
  openssl dgst -sha256 -binary | openssl base64 -A)" >server.pin
# Certificates are public; keys stay owner-only.
chmod 644 ./*.crt server.pin
