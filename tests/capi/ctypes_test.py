#!/usr/bin/env python3
"""The C ABI from Python with ctypes (the example of docs/check.md, run as a test).

Usage: ctypes_test.py PATH/TO/liblicagent.so STORE_DIR
"""
import ctypes
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
    ]


def main():
    lib = ctypes.CDLL(sys.argv[1])
    lib.licagent_check.argtypes = [ctypes.c_char_p, ctypes.POINTER(ctypes.c_char_p),
                                   ctypes.c_size_t, ctypes.POINTER(Result)]
    lib.licagent_check.restype = ctypes.c_int
    lib.licagent_verdict_name.argtypes = [ctypes.c_int]
    lib.licagent_verdict_name.restype = ctypes.c_char_p

    result = Result(struct_size=ctypes.sizeof(Result))
    features = (ctypes.c_char_p * 1)(b"export")
    verdict = lib.licagent_check(sys.argv[2].encode(), features, 1, ctypes.byref(result))
    name = lib.licagent_verdict_name(verdict).decode()
    print(f"verdict {verdict} ({name}): {result.reason.decode()}")
    assert name == "no-license", name
    assert result.verdict == verdict
    assert b"no license" in result.reason
    print("ctypes_test: ok")


if __name__ == "__main__":
    main()
