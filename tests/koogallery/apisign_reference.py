#!/usr/bin/env python3
"""Independent SDK-HMAC-SHA256 signer (reference/koogallery.md §3.1), written the way Huawei's
Python core SDK signer parses requests (urllib.parse, hashlib, hmac), to cross-check the C++
implementation. Prints the canonical request, the string to sign and the Authorization value
as JSON.

usage: apisign_reference.py METHOD URL DATE AK SK BODY [HEADER: VALUE ...]
"""
import hashlib
import hmac
import json
import sys
from urllib.parse import quote, unquote, urlsplit, parse_qsl


def enc(s):
    return quote(s, safe="~")  # unreserved A-Za-z0-9-_.~ kept, upper-case %XY otherwise


def sign(method, url, date, ak, sk, body, headers):
    u = urlsplit(url)
    hdrs = {}
    for name, value in headers:
        hdrs.setdefault(name.lower(), []).append(value)
    hdrs.setdefault("x-sdk-date", [date])
    if "host" not in hdrs:
        host = u.netloc.lower()
        default = ":443" if u.scheme == "https" else ":80"
        if host.endswith(default):
            host = host[: -len(default)]
        hdrs["host"] = [host]
    hdrs.pop("authorization", None)
    uri = "/".join(enc(seg) for seg in unquote(u.path).split("/"))
    if not uri.endswith("/"):
        uri += "/"
    params = sorted(parse_qsl(u.query, keep_blank_values=True))
    query = "&".join(enc(k) + "=" + enc(v) for k, v in params)
    names = sorted(hdrs)
    canon_headers = "".join(
        "".join(n + ":" + v.strip() + "\n" for v in sorted(hdrs[n])) for n in names)
    signed = ";".join(names)
    if "x-sdk-content-sha256" in hdrs:
        payload = hdrs["x-sdk-content-sha256"][0].strip()
    else:
        payload = hashlib.sha256(body.encode()).hexdigest()
    canonical = "\n".join([method.upper(), uri, query, canon_headers, signed, payload])
    sts = "SDK-HMAC-SHA256\n" + date + "\n" + hashlib.sha256(canonical.encode()).hexdigest()
    sig = hmac.new(sk.encode(), sts.encode(), hashlib.sha256).hexdigest()
    auth = "SDK-HMAC-SHA256 Access=%s, SignedHeaders=%s, Signature=%s" % (ak, signed, sig)
    return {"canonical_request": canonical, "string_to_sign": sts, "signature": sig,
            "signed_headers": signed, "authorization": auth}


if __name__ == "__main__":
    if len(sys.argv) < 7:
        sys.exit(__doc__)
    method, url, date, ak, sk, body = sys.argv[1:7]
    headers = [tuple(h.split(":", 1)) for h in sys.argv[7:]]
    print(json.dumps(sign(method, url, date, ak, sk, body, headers), indent=1))
