#!/usr/bin/env python3
"""The C ABI from Python with ctypes (the examples of docs/check.md and docs/activation.md,
run as tests).

Usage: ctypes_test.py PATH/TO/liblicagent.so STORE_DIR
       CAPI_TEST_KEY=LK-... ctypes_test.py PATH/TO/liblicagent.so STORE_DIR SERVER_URL CA_BUNDLE
The first form checks an empty store; the second activates, checks, refreshes and deactivates
against a real licagent-server (tests/capi/capi_online_test.sh starts it).
"""
import ctypes
import os
import sys


class Result(ctypes.Structure):
    _fields_ = [
        ("struct_size", ctypes.c_uint32),
        ("verdict", ctypes.c_int32),
        ("reason", ctypes.c_char * 512),
        ("license_id", ctypes.c_char * 72),
        ("has_expiry", ctypes.c_int32),
        ("expires_at", ctypes.c_int64),
        ("seconds_left", ctypes.c_int64),
        ("has_refresh_by", ctypes.c_int32),
        ("grace_seconds_left", ctypes.c_int64),
        ("match_score", ctypes.c_int32),
        ("match_possible", ctypes.c_int32),
        ("refresh_due", ctypes.c_int32),
        ("seats", ctypes.c_int32),
        ("seats_used", ctypes.c_int32),
        ("error_message", ctypes.c_char * 512),
        ("server_code", ctypes.c_char * 64),
    ]


class OnlineOptions(ctypes.Structure):
    _fields_ = [
        ("struct_size", ctypes.c_uint32),
        ("server_url", ctypes.c_char_p),
        ("ca_bundle", ctypes.c_char_p),
        ("pinned_public_key", ctypes.c_char_p),
        ("proxy", ctypes.c_char_p),
        ("timeout_ms", ctypes.c_int64),
    ]


ONLINE_OK, ONLINE_REFUSED, ONLINE_NO_LICENSE, ONLINE_INVALID_ARGUMENT = 0, 3, 4, 6
VALID, NO_LICENSE, RELEASED = 0, 1, 7


def load(path):
    lib = ctypes.CDLL(path)
    result_p = ctypes.POINTER(Result)
    options_p = ctypes.POINTER(OnlineOptions)
    lib.licagent_check.argtypes = [ctypes.c_char_p, ctypes.POINTER(ctypes.c_char_p),
                                   ctypes.c_size_t, result_p]
    lib.licagent_check.restype = ctypes.c_int
    lib.licagent_verdict_name.argtypes = [ctypes.c_int]
    lib.licagent_verdict_name.restype = ctypes.c_char_p
    lib.licagent_activate.argtypes = [ctypes.c_char_p, ctypes.c_char_p, options_p, result_p]
    lib.licagent_activate.restype = ctypes.c_int
    for name in ("licagent_refresh", "licagent_deactivate"):
        getattr(lib, name).argtypes = [ctypes.c_char_p, options_p, result_p]
        getattr(lib, name).restype = ctypes.c_int
    lib.licagent_online_status_name.argtypes = [ctypes.c_int]
    lib.licagent_online_status_name.restype = ctypes.c_char_p
    return lib


def offline(lib, store):
    result = Result(struct_size=ctypes.sizeof(Result))
    features = (ctypes.c_char_p * 1)(b"export")
    verdict = lib.licagent_check(store, features, 1, ctypes.byref(result))
    name = lib.licagent_verdict_name(verdict).decode()
    print(f"verdict {verdict} ({name}): {result.reason.decode()}")
    assert name == "no-license", name
    assert result.verdict == verdict
    assert b"no license" in result.reason
    assert result.error_message == b"" and result.server_code == b""


def online(lib, store, server, ca_bundle, key):
    def call(what, status, result):
        print(f"{what}: {lib.licagent_online_status_name(status).decode()}; "
              f"verdict {lib.licagent_verdict_name(result.verdict).decode()}: "
              f"{result.reason.decode()}; error: {result.error_message.decode()}; "
              f"server code: {result.server_code.decode()}")
        assert key not in result.error_message and key not in result.reason
        return status

    options = OnlineOptions(struct_size=ctypes.sizeof(OnlineOptions), server_url=server,
                            ca_bundle=ca_bundle, timeout_ms=30000)
    r = Result(struct_size=ctypes.sizeof(Result))

    bad = OnlineOptions(struct_size=4)
    assert call("bad size", lib.licagent_activate(store, key, ctypes.byref(bad), ctypes.byref(r)),
                r) == ONLINE_INVALID_ARGUMENT
    assert b"struct_size" in r.error_message

    status = lib.licagent_activate(store, b"LK-00000-00000-00000-00000-00000",
                                   ctypes.byref(options), ctypes.byref(r))
    assert call("unknown key", status, r) == ONLINE_REFUSED
    assert r.server_code == b"unknown_credential", r.server_code
    assert r.verdict == NO_LICENSE

    assert call("activate", lib.licagent_activate(store, key, ctypes.byref(options),
                                                  ctypes.byref(r)), r) == ONLINE_OK
    assert r.verdict == VALID and r.license_id.startswith(b"lic-"), r.license_id
    assert r.seats == 1 and r.seats_used == 1
    license_id = r.license_id

    assert lib.licagent_check(store, None, 0, ctypes.byref(r)) == VALID
    assert r.license_id == license_id

    assert call("refresh", lib.licagent_refresh(store, ctypes.byref(options), ctypes.byref(r)),
                r) == ONLINE_OK
    assert r.verdict == VALID and r.license_id == license_id

    assert call("deactivate", lib.licagent_deactivate(store, ctypes.byref(options),
                                                      ctypes.byref(r)), r) == ONLINE_OK
    assert r.verdict == RELEASED and r.license_id == license_id
    assert lib.licagent_check(store, None, 0, ctypes.byref(r)) == NO_LICENSE
    assert lib.licagent_refresh(store, ctypes.byref(options), ctypes.byref(r)) == ONLINE_NO_LICENSE


def main():
    lib = load(sys.argv[1])
    store = sys.argv[2].encode()
    if len(sys.argv) == 3:
        offline(lib, store)
    elif len(sys.argv) == 5:
        online(lib, store, sys.argv[3].encode(), sys.argv[4].encode(),
               os.environ["CAPI_TEST_KEY"].encode())
    else:
        sys.exit(__doc__)
    print("ctypes_test: ok")


if __name__ == "__main__":
    main()
