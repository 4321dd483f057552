#!/usr/bin/env bash
# Black-box tests of licagent-vendor. Usage:
#   vendor_cli_test.sh PATH_TO_LICAGENT_VENDOR PATH_TO_LICAGENT TEST_DATA_DIR CASE
# Each case exits 0 on success and prints what went wrong otherwise.
set -uo pipefail
vendor=$1
agent=$2
data=$3
case_name=$4
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$tmp" || exit 1

fail() { echo "FAIL [$case_name]: $*" >&2; exit 1; }
# run EXPECTED_EXIT ARGS...: runs licagent-vendor, stdout to $tmp/out, stderr to $tmp/err.
run() {
  local want=$1; shift
  "$vendor" "$@" >"$tmp/out" 2>"$tmp/err"
  local got=$?
  [ "$got" -eq "$want" ] ||
    fail "licagent-vendor $* exited $got, expected $want; stderr: $(cat "$tmp/err")"
}
# json_check FILE PYTHON_EXPRESSION: the expression over d (the parsed file) must be true.
json_check() {
  python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); sys.exit(0 if eval(sys.argv[2]) else 1)' "$1" "$2" ||
    fail "JSON check failed: $2 on $(head -c 600 "$1")"
}
err_has() { grep -q -- "$1" "$tmp/err" || fail "stderr lacks '$1': $(cat "$tmp/err")"; }
raw_public_key() { openssl pkey -in "$1" -pubout -outform DER | tail -c 32 | base64 -w0; }

ID=HW1-52GV-5GYM-WQV0-E619-795N-RVBY-6HB0
keygen() { run 0 keygen --key-id "$1" --out "$tmp/$1"; }
# issue_basic KEY_ID OUT [MORE ARGS]: a bound license signed with $tmp/KEY_ID.pem.
issue_basic() {
  local key=$1 out=$2; shift 2
  run 0 issue --key "$tmp/$key.pem" --key-id "$key" --product acme-cad --customer "ACME GmbH" \
    --identifier "$ID" --days 365 --out "$out" "$@"
}

case "$case_name" in
  keygen-files)
    keygen acme-2026
    [ "$(stat -c '%a' acme-2026.pem)" = 600 ] || fail "PEM mode is $(stat -c '%a' acme-2026.pem)"
    grep -q '^-----BEGIN PRIVATE KEY-----$' acme-2026.pem || fail "not PKCS#8 PEM"
    grep -Eq '^acme-2026:[A-Za-z0-9+/]{43}=$' acme-2026.pub || fail "bad .pub: $(cat acme-2026.pub)"
    [ "$(cat out)" = "$(cat acme-2026.pub)" ] || fail "stdout is not the public key line"
    err_has "docs/vendor.md"
    # The private key never appears in the output.
    body=$(sed -n 2p acme-2026.pem)
    if grep -qF -- "$body" out err || grep -q PRIVATE out; then fail "private key printed"; fi
    ;;
  keygen-refuses-overwrite)
    keygen acme-2026
    before=$(sha256sum acme-2026.pem acme-2026.pub)
    run 2 keygen --key-id acme-2026 --out "$tmp/acme-2026"
    err_has "already exists"
    [ "$(sha256sum acme-2026.pem acme-2026.pub)" = "$before" ] || fail "existing key changed"
    # Only the .pub is there: still refused, and no .pem is left behind.
    echo "x:y" >only.pub
    run 2 keygen --key-id only --out "$tmp/only"
    [ ! -e only.pem ] || fail "a .pem was written next to an existing .pub"
    # A symlink (even dangling) is never followed.
    ln -s "$tmp/target.pem" link.pem
    run 2 keygen --key-id link --out "$tmp/link"
    [ ! -e target.pem ] || fail "keygen followed a symlink"
    run 2 keygen --key-id acme-2027 --out "$tmp/acme-2027.pem"
    err_has "prefix"
    ;;
  keygen-openssl-compatible)
    keygen acme-2026
    openssl pkey -in acme-2026.pem -noout 2>err || fail "openssl pkey cannot read it: $(cat err)"
    openssl pkey -in acme-2026.pem -text -noout | grep -q ED25519 || fail "not an Ed25519 key"
    [ "acme-2026:$(raw_public_key acme-2026.pem)" = "$(cat acme-2026.pub)" ] ||
      fail ".pub does not hold the key's public bytes"
    keygen acme-2027
    [ "$(cut -d: -f2 acme-2026.pub)" != "$(cut -d: -f2 acme-2027.pub)" ] ||
      fail "two keygens gave the same key"
    ;;
  issue-inspect)
    keygen acme-2026
    issue_basic acme-2026 l.lic --feature export
    err_has "issued license L-"
    run 0 inspect l.lic --key acme-2026.pub
    grep -Eq '^Signature +valid \(key acme-2026\)$' out || fail "human output: $(cat out)"
    for label in "Key id" "License id" "Product" "Customer" "Status" "Issued at" "Not before" \
                 "Expires at" "Refresh by" "Server time" "Binding" "Match policy" "Features" \
                 "Max cores" "Max sockets" "Seats" "Authorization code" "Order id" \
                 "Instance id" "Nonce"; do
      grep -Eq "^ *$label +" out || fail "human output lacks '$label'"
    done
    grep -Eq '^Refresh by +no refresh needed$' out || fail "refresh-by absent not explained"
    run 0 inspect l.lic --json --key "$(cat acme-2026.pub)"
    cp out l.json
    json_check l.json 'd["signature"]=="valid" and d["key_id"]=="acme-2026" and d["product_id"]=="acme-cad" and d["customer"]=="ACME GmbH" and d["binding"]["identifier"]=="'"$ID"'" and d["license_id"].startswith("L-") and len(d["license_id"])==18 and d["format"]==1 and d["status"]=="active" and d["entitlements"]=={"features":{"export":""}}'
    run 0 inspect l.lic --json
    json_check out 'd["signature"]=="unchecked"'
    run 0 inspect l.lic
    grep -Eq '^Signature +unchecked' out || fail "no 'unchecked' without --key"
    ;;
  issue-for-fingerprint)
    keygen acme-2026
    id=$("$agent" fingerprint -q) || fail "licagent fingerprint -q failed"
    run 0 issue --key acme-2026.pem --key-id acme-2026 --product acme-cad --customer "This box" \
      --identifier "$id" --out l.lic
    run 0 inspect l.lic --key acme-2026.pub --json
    json_check out 'd["binding"]["identifier"]=="'"$id"'" and "expires_at" not in d'
    run 0 inspect l.lic --key acme-2026.pub
    grep -Eq "^Binding +$id\$" out || fail "human output does not name $id"
    grep -Eq '^Expires at +perpetual$' out || fail "perpetual not shown"
    # The agent agrees the bound identifier is this machine.
    "$agent" fingerprint --match "$id" >/dev/null || fail "licagent says $id is another machine"
    ;;
  all-fields-round-trip)
    keygen acme-2026
    run 0 issue --key acme-2026.pem --key-id acme-2026 --product acme-cad \
      --customer "ACME GmbH, Müller & Söhne" --identifier "$(echo "$ID" | tr 'A-Z-' 'a-z ')" \
      --license-id L-0042 --issued-at 2026-11-24T08:00:00Z --server-time 2026-11-24T08:00:05Z \
      --not-before 2026-12-01T00:00:00Z --expires 2027-12-01T00:00:00Z \
      --refresh-by 2027-01-01T00:00:00Z --status frozen --feature export \
      --feature render=gpu=fast --feature seats.extra=2 --max-cores 64 --max-sockets 4 \
      --seats 10 --code PL0123456789 --order-id CS2611240000 --instance-id inst-7 \
      --nonce n-0123 --threshold-percent 75 --min-matched 3 --no-require-hardware \
      --environment exact --out l.lic
    run 0 inspect l.lic --key acme-2026.pub --json
    python3 - out "$ID" <<'PY' || fail "round trip differs: $(cat out)"
import json, sys
d = json.load(open(sys.argv[1]))
want = {
    "format": 1, "license_id": "L-0042", "product_id": "acme-cad", "key_id": "acme-2026",
    "authorization_code": "PL0123456789", "order_id": "CS2611240000", "instance_id": "inst-7",
    "customer": "ACME GmbH, Müller & Söhne",
    "binding": {"identifier": sys.argv[2],
                "tags": ["A1B2", "C3D4", "E5F6", "0718", "293A", "4B5C", "6D7E"],
                "policy": {"threshold_percent": 75, "min_matched": 3,
                           "require_hardware": False, "environment": "exact"}},
    "issued_at": "2026-11-24T08:00:00Z", "not_before": "2026-12-01T00:00:00Z",
    "expires_at": "2027-12-01T00:00:00Z", "refresh_by": "2027-01-01T00:00:00Z",
    "status": "frozen",
    "entitlements": {"features": {"export": "", "render": "gpu=fast", "seats.extra": "2"},
                     "max_cores": 64, "max_sockets": 4, "seats": 10},
    "server_time": "2026-11-24T08:00:05Z", "nonce": "n-0123",
    "signature": "valid",
}
if d != want:
    for k in sorted(set(d) | set(want)):
        if d.get(k) != want.get(k):
            print(f"{k}: got {d.get(k)!r}, want {want.get(k)!r}", file=sys.stderr)
    sys.exit(1)
PY
    # --days counts from --not-before, --grace-days from the issue time.
    run 0 issue --key acme-2026.pem --key-id acme-2026 --product p --customer c --floating \
      --issued-at 2026-11-24T08:00:00Z --not-before 2026-12-01T00:00:00Z --days 10 \
      --grace-days 10 --out d.lic
    run 0 inspect d.lic --json
    json_check out 'd["expires_at"]=="2026-12-11T00:00:00Z" and d["refresh_by"]=="2026-12-04T08:00:00Z"'
    ;;
  openssl-verifies)
    keygen acme-2026
    issue_basic acme-2026 l.lic
    # Rebuild the signed message from the armour and verify with the openssl CLI.
    sed -n 's/^Signature: //p' l.lic | base64 -d >sig.bin
    sed -n '5,$p' l.lic | grep -v '^-----END' | tr -d '\n' | base64 -d >payload.bin
    { printf 'licagent-license-v1\nacme-2026\n'; cat payload.bin; } >msg.bin
    openssl pkey -in acme-2026.pem -pubout -out pub.pem
    openssl pkeyutl -verify -pubin -inkey pub.pem -rawin -in msg.bin -sigfile sig.bin >v.txt 2>&1 ||
      fail "openssl does not verify the signature: $(cat v.txt)"
    ;;
  openssl-key-accepted)
    openssl genpkey -algorithm ed25519 -out ossl.pem 2>/dev/null || fail "openssl genpkey"
    chmod 600 ossl.pem
    run 0 issue --key ossl.pem --key-id ossl-1 --product p --customer c --floating --out l.lic
    run 0 inspect l.lic --key "ossl-1:$(raw_public_key ossl.pem)"
    # A group-readable key works but is warned about.
    chmod 640 ossl.pem
    run 0 issue --key ossl.pem --key-id ossl-1 --product p --customer c --floating --out l.lic
    err_has "chmod 600"
    # Encrypted keys are refused with a reason.
    openssl genpkey -algorithm ed25519 -aes256 -pass pass:secret -out enc.pem 2>/dev/null
    run 2 issue --key enc.pem --key-id e --product p --customer c --floating --out l.lic
    err_has "encrypted"
    openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out ec.pem 2>/dev/null
    run 2 issue --key ec.pem --key-id e --product p --customer c --floating --out l.lic
    err_has "not an Ed25519 key"
    run 3 issue --key missing.pem --key-id e --product p --customer c --floating --out l.lic
    ;;
  key-id-mismatch)
    keygen acme-2026
    run 2 issue --key acme-2026.pem --key-id acme-2027 --product p --customer c --floating \
      --out l.lic
    err_has "names this key 'acme-2026'"
    [ ! -e l.lic ] || fail "a license was written"
    ;;
  wrong-key)
    keygen acme-2026
    keygen other
    issue_basic acme-2026 l.lic
    # Another key under the same id: the signature does not verify.
    run 11 inspect l.lic --key "acme-2026:$(cut -d: -f2 other.pub)"
    err_has "does not verify"
    grep -Eq '^Signature +INVALID' out || fail "human output does not say INVALID"
    run 11 inspect l.lic --key other.pub --json
    json_check out 'd["signature"]=="invalid" and "signature_error" in d and d["key_id"]=="acme-2026"'
    # Several keys, one of them right: valid.
    cat other.pub acme-2026.pub >both.pub
    run 0 inspect l.lic --key both.pub
    run 0 inspect l.lic --key other.pub --key acme-2026.pub
    ;;
  tampered)
    keygen acme-2026
    issue_basic acme-2026 l.lic
    # Flip one payload character (base64 stays valid and canonical).
    line=$(sed -n 5p l.lic)
    c=${line:10:1}
    [ "$c" = A ] && r=B || r=A
    sed "5s/^\(.\{10\}\)./\1$r/" l.lic >t.lic
    cmp -s l.lic t.lic && fail "tampering did not change the file"
    run 11 inspect t.lic --key acme-2026.pub
    run 11 inspect t.lic --key acme-2026.pub --json
    json_check out '"error" in d or d["signature"]=="invalid"'
    head -c 300 l.lic >cut.lic
    run 11 inspect cut.lic --key acme-2026.pub
    err_has "malformed"
    run 11 inspect cut.lic
    printf 'garbage\n' >g.lic
    run 11 inspect g.lic --json
    json_check out 'd["error"]["code"]=="corrupt"'
    head -c 70000 /dev/zero >big.lic
    run 11 inspect big.lic
    ;;
  floating-required)
    keygen acme-2026
    run 2 issue --key acme-2026.pem --key-id acme-2026 --product p --customer c --out l.lic
    err_has "--floating"
    [ ! -e l.lic ] || fail "a license was written"
    run 2 issue --key acme-2026.pem --key-id acme-2026 --product p --customer c --floating \
      --identifier "$ID" --out l.lic
    run 2 issue --key acme-2026.pem --key-id acme-2026 --product p --customer c --floating \
      --threshold-percent 70 --out l.lic
    run 0 issue --key acme-2026.pem --key-id acme-2026 --product p --customer c --floating \
      --out l.lic
    run 0 inspect l.lic --key acme-2026.pub --json
    json_check out '"binding" not in d'
    run 0 inspect l.lic
    grep -Eq '^Binding +floating' out || fail "floating not shown"
    ;;
  bad-time)
    keygen acme-2026
    for args in "--expires 2027-01-01" "--expires 2027-01-01T00:00:00+01:00" \
                "--not-before yesterday" "--refresh-by 2027-02-30T00:00:00Z" \
                "--issued-at 2026-11-24T24:00:00Z" "--server-time 0" "--days 0" \
                "--grace-days -1" "--days 10 --expires 2030-01-01T00:00:00Z"; do
      # shellcheck disable=SC2086
      run 2 issue --key acme-2026.pem --key-id acme-2026 --product p --customer c --floating \
        --out l.lic $args
    done
    run 2 issue --key acme-2026.pem --key-id acme-2026 --product p --customer c --floating \
      --not-before 2027-01-01T00:00:00Z --expires 2026-12-01T00:00:00Z --out l.lic
    err_has "before it becomes valid"
    run 2 issue --key acme-2026.pem --key-id acme-2026 --product p --customer c --floating \
      --not-before 2027-01-01T00:00:00Z --refresh-by 2026-12-01T00:00:00Z --out l.lic
    [ ! -e l.lic ] || fail "a license was written"
    ;;
  usage-errors)
    keygen acme-2026
    run 2
    run 2 frobnicate
    run 2 issue --key acme-2026.pem
    run 2 issue --key acme-2026.pem --key-id acme-2026 --product p --customer c --floating
    run 2 issue --key acme-2026.pem --key-id "bad id" --product p --customer c --floating --out l.lic
    run 2 issue --key acme-2026.pem --key-id acme-2026 --product p --customer c --floating \
      --status revoked --out l.lic
    run 2 issue --key acme-2026.pem --key-id acme-2026 --product p --customer "" --floating \
      --out l.lic
    err_has "customer"
    run 2 issue --key acme-2026.pem --key-id acme-2026 --product p --customer c --floating \
      --feature "bad name" --out l.lic
    run 2 issue --key acme-2026.pem --key-id acme-2026 --product p --customer c --floating \
      --feature a --feature a=1 --out l.lic
    err_has "twice"
    run 2 issue --key acme-2026.pem --key-id acme-2026 --product p --customer c --floating \
      --max-cores 0 --out l.lic
    run 4 issue --key acme-2026.pem --key-id acme-2026 --product p --customer c \
      --identifier HW1-52GV-5GYM-WQV0-E619-795N-RVBY-6HB1 --out l.lic
    err_has "identifier"
    run 3 inspect missing.lic
    run 2 inspect
    run 3 inspect missing.lic --key nokey
    err_has "--key nokey"
    run 2 inspect missing.lic --key "k:not-base64"
    run 0 --version
    grep -q '^licagent-vendor ' out || fail "--version: $(cat out)"
    run 3 issue --key acme-2026.pem --key-id acme-2026 --product p --customer c --floating \
      --out "$tmp/no/such/dir/l.lic"
    ;;
  request)
    keygen acme-2026
    printf '{"request_format":1,"product_id":"acme-cad","identifier":"%s","nonce":"n-5f2a9c","created_at":"2026-11-24T10:00:00Z"}\n' "$ID" >req.json
    run 0 issue --key acme-2026.pem --key-id acme-2026 --product acme-cad --customer c \
      --request req.json --days 30 --out l.lic
    run 0 inspect l.lic --key acme-2026.pub --json
    json_check out 'd["binding"]["identifier"]=="'"$ID"'" and d["nonce"]=="n-5f2a9c"'
    run 2 issue --key acme-2026.pem --key-id acme-2026 --product acme-cad --customer c \
      --request req.json --nonce other --out l2.lic
    run 2 issue --key acme-2026.pem --key-id acme-2026 --product acme-cad --customer c \
      --request req.json --identifier "$ID" --out l2.lic
    [ ! -e l2.lic ] || fail "a license was written"
    ;;
  request-other-product)
    keygen acme-2026
    printf '{"request_format":1,"product_id":"other-app","identifier":"%s","nonce":"n-1","created_at":"2026-11-24T10:00:00Z"}' "$ID" >req.json
    run 2 issue --key acme-2026.pem --key-id acme-2026 --product acme-cad --customer c \
      --request req.json --out l.lic
    err_has "other-app"
    [ ! -e l.lic ] || fail "a license was written"
    ;;
  request-malformed)
    keygen acme-2026
    printf '{"request_format":1,"product_id":"acme-cad","identifier":"%s","nonce":"n-1","created_at":"2026-11-24T10:00:00Z","hostname":"x"}' "$ID" >req.json
    run 2 issue --key acme-2026.pem --key-id acme-2026 --product acme-cad --customer c \
      --request req.json --out l.lic
    err_has "unknown field hostname"
    printf '{"request_format":2}' >req2.json
    run 2 issue --key acme-2026.pem --key-id acme-2026 --product acme-cad --customer c \
      --request req2.json --out l.lic
    run 3 issue --key acme-2026.pem --key-id acme-2026 --product acme-cad --customer c \
      --request missing.json --out l.lic
    ;;
  inspect-vectors)
    lic=$data/licenses
    run 0 inspect "$lic/valid.lic" --key "$lic/vendor-2026.pub"
    run 0 inspect "$lic/valid.lic" --key "$lic/vendor-2026.pub" --json
    python3 - out "$lic/valid.json" <<'PY' || fail "--json differs from valid.json"
import json, sys
d = json.load(open(sys.argv[1]))
want = json.load(open(sys.argv[2]))
assert d.pop("signature") == "valid"
assert d == want, (d, want)
PY
    run 0 inspect "$lic/rotated.lic" --key "$lic/vendor-2026.pub" --key "$lic/vendor-2027.pub"
    run 11 inspect "$lic/rotated.lic" --key "$lic/vendor-2026.pub"
    err_has "not among the keys given"
    run 11 inspect "$lic/wrong-key.lic" --key "$lic/vendor-2026.pub" --key "$lic/vendor-2027.pub"
    run 11 inspect "$lic/tampered.lic" --key "$lic/vendor-2026.pub"
    run 11 inspect "$lic/truncated.lic" --key "$lic/vendor-2026.pub"
    run 0 inspect "$lic/floating-perpetual.lic" --key "$lic/vendor-2026.pub"
    grep -Eq '^Expires at +perpetual$' out || fail "perpetual not shown"
    grep -Eq '^Binding +floating' out || fail "floating not shown"
    ;;
  stdout-output)
    keygen acme-2026
    run 0 issue --key acme-2026.pem --key-id acme-2026 --product p --customer c --floating --out -
    head -1 out | grep -q '^-----BEGIN LICAGENT LICENSE-----$' || fail "no license on stdout"
    cp out s.lic
    run 0 inspect s.lic --key acme-2026.pub
    "$vendor" inspect --key acme-2026.pub - <s.lic >out 2>err || fail "inspect - (stdin): $(cat err)"
    grep -Eq '^File +- \(standard input\)$' out || fail "inspect - did not read standard input"
    # Replacing an existing output leaves no temporary files.
    issue_basic acme-2026 l.lic
    issue_basic acme-2026 l.lic
    leftovers=(*.tmp-* .*.tmp-*)
    if [ -e "${leftovers[0]}" ] || [ -e "${leftovers[1]}" ]; then
      fail "temporary files left: $(ls -a)"
    fi
    ;;
  apisign-vector)
    # reference/koogallery.md §3.1.4, byte for byte.
    run 0 apisign --method GET \
      --url 'https://service.region.example.com/v1/77b6a44cba5143ab91d13ab9a8ff44fd/vpcs?limit=2&marker=13551d6b-755d-4757-b956-536f674975c0' \
      --header 'Content-Type: application/json' --header 'Host: service.region.example.com' \
      --date 20191115T033655Z --ak AKEXAMPLE --sk MFyfvK41ba2giqM7Uio6PznpdUKGpownRZlmVmHc
    cat >want <<'WANT'
--- canonical request ---
GET
/v1/77b6a44cba5143ab91d13ab9a8ff44fd/vpcs/
limit=2&marker=13551d6b-755d-4757-b956-536f674975c0
content-type:application/json
host:service.region.example.com
x-sdk-date:20191115T033655Z

content-type;host;x-sdk-date
e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855
--- string to sign ---
SDK-HMAC-SHA256
20191115T033655Z
b25362e603ee30f4f25e7858e8a7160fd36e803bb2dfe206278659d71a9bcd7a
--- headers to send ---
Authorization: SDK-HMAC-SHA256 Access=AKEXAMPLE, SignedHeaders=content-type;host;x-sdk-date, Signature=7be6668032f70418fcc22abc52071e57aff61b84a1d2381bb430d6870f4f6ebe
Content-Type: application/json
Host: service.region.example.com
X-Sdk-Date: 20191115T033655Z
--- request ---
GET /v1/77b6a44cba5143ab91d13ab9a8ff44fd/vpcs?limit=2&marker=13551d6b-755d-4757-b956-536f674975c0
WANT
    diff -u want out >diff || fail "output differs: $(cat diff)"
    # The same from --sk-file and --json (the canonical request exactly, no trailing newline).
    printf 'MFyfvK41ba2giqM7Uio6PznpdUKGpownRZlmVmHc\n' >sk && chmod 600 sk
    run 0 apisign --method GET --json \
      --url 'https://service.region.example.com/v1/77b6a44cba5143ab91d13ab9a8ff44fd/vpcs?limit=2&marker=13551d6b-755d-4757-b956-536f674975c0' \
      --header 'Content-Type: application/json' --date 20191115T033655Z --ak AKEXAMPLE --sk-file sk
    json_check out 'd["signature"] == "7be6668032f70418fcc22abc52071e57aff61b84a1d2381bb430d6870f4f6ebe"'
    json_check out 'd["canonical_request"].endswith("\n\ncontent-type;host;x-sdk-date\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")'
    ;;
  apisign-reference)
    # Against the independent Python signer (tests/koogallery/apisign_reference.py) on requests
    # that exercise encodings, query sorting, header trimming, repeated headers and bodies.
    ref="$data/../koogallery/apisign_reference.py"
    printf '{"usage_info":[{"license":"PL1","software_usage_Info":[{"id":"dev \xe4\xb8\xad"}]}]}\n' >body.json
    check_ref() {  # METHOD URL DATE BODY_FILE HEADERS...
      local method=$1 url=$2 date=$3 bodyf=$4; shift 4
      local hargs=() h
      for h in "$@"; do hargs+=(--header "$h"); done
      run 0 apisign --json --method "$method" --url "$url" --date "$date" --ak AK-REF \
        --sk 'sk/with+odd=chars' --body-file "$bodyf" "${hargs[@]}"
      python3 "$ref" "$method" "$url" "$date" AK-REF 'sk/with+odd=chars' "$(cat "$bodyf"; printf x)" "$@" >ref.json ||
        fail "reference signer failed"
      python3 - ref.json out "$bodyf" <<'PY' || fail "differs from the Python reference for $method $url: $(cat out)"
import json, sys, hashlib
ref = json.load(open(sys.argv[1])); got = json.load(open(sys.argv[2]))
# The reference got the body with an extra 'x' (so the shell keeps trailing newlines): redo
# its last line with the real body hash before comparing.
body = open(sys.argv[3], "rb").read()
lines = ref["canonical_request"].split("\n")
if lines[-1] != "UNSIGNED-PAYLOAD":
    lines[-1] = hashlib.sha256(body).hexdigest()
canonical = "\n".join(lines)
assert got["canonical_request"] == canonical, (got["canonical_request"], canonical)
assert got["string_to_sign"].split("\n")[2] == hashlib.sha256(canonical.encode()).hexdigest()
assert got["signed_headers"] == ref["signed_headers"]
PY
    }
    : >empty
    check_ref POST 'https://mkt.myhuaweicloud.com/api/mkp-openapi-public/global/v2/license/software-usage-info' \
      20250102T030405Z body.json 'Content-Type: application/json' 'x-stage: RELEASE'
    check_ref GET 'https://Example.com:8443/a%20b/c~d/%E4%B8%AD?z=1&A=2&a=3&b=x+y&c=%2F%3D&empty&d=&a=1&tilde=~-._' \
      20231231T235959Z empty 'X-Custom:   spaced value  ' 'X-Multi: b' 'X-Multi: a'
    check_ref PUT 'http://10.0.0.1:80/v1/' 20200229T000000Z body.json 'CONTENT-type: application/json'
    ;;
  apisign-secret)
    # The SK is never printed, on success or failure, and is scrubbed from the command line.
    secret=Sk-Very-Secret-0123456789
    run 0 apisign --method POST --url https://mkt.myhuaweicloud.com/x --ak AK1 --sk "$secret" \
      --date 20240101T000000Z --body '{}'
    if grep -qF "$secret" out err; then fail "SK printed"; fi
    grep -q '^X-Sdk-Date: 20240101T000000Z$' out || fail "no X-Sdk-Date: $(cat out)"
    run 2 apisign --method POST --url 'not a url' --ak AK1 --sk "$secret" --date 20240101T000000Z
    if grep -qF "$secret" out err; then fail "SK printed on error"; fi
    run 2 apisign --method POST --url https://h/x --ak AK1 "--sk=$secret" --date bad
    if grep -qF "$secret" out err; then fail "SK printed on error"; fi
    # While it runs, /proc/PID/cmdline shows x's instead of the SK.
    (sleep 1; echo '{}') |
      "$vendor" apisign --method POST --url https://h/x --ak AK1 --sk "$secret" --body-file - \
        >out 2>err &
    pid=$!
    sleep 0.5
    cmdline=$(tr '\0' ' ' </proc/$pid/cmdline)
    wait $pid || fail "apisign with a body from standard input failed: $(cat err)"
    case "$cmdline" in *"$secret"*) fail "SK visible in /proc/PID/cmdline: $cmdline" ;; esac
    case "$cmdline" in *xxxxxxxx*) ;; *) fail "SK not scrubbed: $cmdline" ;; esac
    # The default date is now, in the right format.
    grep -Eq '^X-Sdk-Date: 20[0-9]{6}T[0-9]{6}Z$' out || fail "default date: $(cat out)"
    ;;
  apisign-usage)
    run 2 apisign --method GET --url https://h/x --ak AK1
    err_has "--sk or --sk-file"
    run 2 apisign --method GET --url https://h/x --ak AK1 --sk s --date 20191115T033655
    err_has "yyyyMMddTHHmmssZ"
    run 2 apisign --method GET --url https://h/x --ak AK1 --sk s --body a --body-file b
    run 2 apisign --method GET --url https://h/x --ak AK1 --sk s --sk-file f
    run 2 apisign --method GET --url https://h/x --ak AK1 --sk s --header 'NoColon'
    err_has "Name: value"
    run 2 apisign --method GET --url https://h/x --ak AK1 --sk s --header 'X-Sdk-Date: 20200101T000000Z' \
      --date 20191115T033655Z
    run 3 apisign --method GET --url https://h/x --ak AK1 --sk s --body-file /no/such/file
    run 3 apisign --method GET --url https://h/x --ak AK1 --sk-file /no/such/file
    ;;
  *)
    fail "unknown case"
    ;;
esac
exit 0
