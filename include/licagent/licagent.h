/* licagent C ABI: the offline license check, and activation, refresh and deactivation with the
 * vendor's server, for C and every language with a C FFI (Python ctypes, C#, Go, Rust, Java via
 * JNA or FFM). Same verdicts as the C++ API (licagent/check.h, licagent/online.h).
 *
 * Thread-safe; never throws or aborts. Only licagent_activate, licagent_refresh and
 * licagent_deactivate touch the network (docs/activation.md "From C and other languages"). The
 * product id and the trusted keys are compiled into the library (docs/check.md). Strings are
 * UTF-8, NUL-terminated. The ABI is stable within major version 1: fields are only ever added at
 * the end of licagent_result and licagent_online_options, and their sizes are passed in so older
 * callers keep working. */
#ifndef LICAGENT_LICAGENT_H_
#define LICAGENT_LICAGENT_H_

#include <stddef.h>
#include <stdint.h>

#if defined(_WIN32)
#define LICAGENT_API __declspec(dllexport)
#else
#define LICAGENT_API __attribute__((visibility("default")))
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* Verdicts. The numbers are part of the ABI. */
enum {
  LICAGENT_VALID = 0,
  LICAGENT_NO_LICENSE = 1,
  LICAGENT_INVALID = 2,
  LICAGENT_NOT_YET_VALID = 3,
  LICAGENT_EXPIRED = 4,
  LICAGENT_REFRESH_OVERDUE = 5,
  LICAGENT_FROZEN = 6,
  LICAGENT_RELEASED = 7,
  LICAGENT_WRONG_MACHINE = 8,
  LICAGENT_CLOCK_TAMPERED = 9,
  LICAGENT_ENTITLEMENT_MISSING = 10,
  LICAGENT_SYSTEM_ERROR = 11
};

/* What a check found. Zero it and set struct_size = sizeof(licagent_result) before a call. */
typedef struct licagent_result {
  uint32_t struct_size;       /* in: sizeof(licagent_result) as the caller compiled it */
  int32_t verdict;            /* LICAGENT_* */
  char reason[512];           /* one sentence for humans, truncated to fit */
  char license_id[72];        /* empty when no license verified */
  int32_t has_expiry;         /* 1 if the license expires */
  int64_t expires_at;         /* Unix seconds, UTC, when has_expiry */
  int64_t seconds_left;       /* until expires_at, when has_expiry */
  int32_t has_refresh_by;     /* 1 if the license must be refreshed online */
  int64_t grace_seconds_left; /* until refresh_by, when has_refresh_by */
  int32_t match_score;        /* machine match score, when the license is machine-bound */
  int32_t match_possible;     /* its denominator; 0 for floating licenses */
  int32_t refresh_due;        /* 1 if the daily online refresh should be attempted */
  /* Added with the online calls (a caller compiled before gets the fields above only). */
  int32_t seats;           /* online calls: the credential's seats, 0 if the server did not say */
  int32_t seats_used;      /* online calls: seats in use, 0 if the server did not say */
  char error_message[512]; /* online calls: why the call failed, for humans; else empty */
  char server_code[64];    /* online calls: the server's error code ("seat_limit"), or empty */
} licagent_result;

/* Checks the installed license. `store_dir` NULL = the default per-user cache, or the
 * machine-wide one when the user has no license installed (docs/cache.md "Permissions");
 * `features`/`feature_count` the features the caller needs (may be NULL/0). Returns the
 * verdict; fills `result` when it is not NULL. */
LICAGENT_API int licagent_check(const char* store_dir, const char* const* features,
                                size_t feature_count, licagent_result* result);

/* Verifies `license_text` (`length` bytes) and installs it in the cache, replacing the
 * previous license. Returns the verdict of the new license (LICAGENT_VALID when installed and
 * valid; frozen/released/not-yet-valid licenses are installed too; other verdicts install
 * nothing). */
LICAGENT_API int licagent_install(const char* store_dir, const char* license_text, size_t length,
                                  licagent_result* result);

/* "valid", "no-license", ... ; "unknown" for a number outside the enum. Static storage. */
LICAGENT_API const char* licagent_verdict_name(int verdict);

/* What an online call returns. The numbers are part of the ABI. */
enum {
  LICAGENT_ONLINE_OK = 0,
  LICAGENT_ONLINE_UNAVAILABLE = 1,      /* the server could not be reached or failed (network,
                                           proxy, timeout, 5xx, rate limit): try again later */
  LICAGENT_ONLINE_UNTRUSTED = 2,        /* the server's certificate, pinned key, or its license's
                                           signature or nonce did not verify */
  LICAGENT_ONLINE_REFUSED = 3,          /* the server refused; server_code says why, e.g.
                                           "unknown_credential", "seat_limit" */
  LICAGENT_ONLINE_NO_LICENSE = 4,       /* refresh, deactivate: no license is installed */
  LICAGENT_ONLINE_INVALID_LICENSE = 5,  /* refresh, deactivate: the installed one does not verify */
  LICAGENT_ONLINE_INVALID_ARGUMENT = 6, /* a bad argument or options size, or a bad configuration
                                           (server URL, pin, agent.json); no server configured */
  LICAGENT_ONLINE_UNSUPPORTED = 7,      /* no libcurl on this machine; a proxy WinHTTP cannot use */
  LICAGENT_ONLINE_IO_ERROR = 8,         /* the license cache could not be read or written */
  LICAGENT_ONLINE_INTERNAL_ERROR = 9    /* a bug */
};

/* How to reach the server. Zero it and set struct_size = sizeof(licagent_online_options); a size
 * this library does not know is LICAGENT_ONLINE_INVALID_ARGUMENT. A NULL or empty string (and a
 * NULL options pointer for all of them) means the usual order: $LICAGENT_SERVER_URL,
 * $LICAGENT_CA_BUNDLE, $LICAGENT_PINNED_KEY, $LICAGENT_PROXY, then agent.json, then the built-in
 * server URL (docs/activation.md "Configuration"); a string given here wins over all of them. */
typedef struct licagent_online_options {
  uint32_t struct_size;          /* in: sizeof(licagent_online_options) */
  const char* server_url;        /* "https://host[:port][/prefix]" */
  const char* ca_bundle;         /* a PEM file of CAs to trust instead of the system store */
  const char* pinned_public_key; /* "sha256//BASE64[;sha256//BASE64...]" */
  const char* proxy;             /* a proxy URL, or "none" for a direct connection */
  int64_t timeout_ms;            /* the whole call at most, retries included; 0: as configured
                                    (default 20 s), else 1 to 3600000 */
} licagent_online_options;

/* Activates this machine with `credential` (a license key LK-..., or a marketplace code) and
 * installs the verified license in `store_dir` (NULL: the default per-user cache). The
 * credential is read where it is, never copied into a message, and the library's own copies are
 * wiped. Returns LICAGENT_ONLINE_*. On success `result` is the new license's check (as
 * licagent_check gives it) plus seats/seats_used; on failure nothing was installed and `result`
 * is the check of the cache as it is, plus error_message and server_code. */
LICAGENT_API int licagent_activate(const char* store_dir, const char* credential,
                                   const licagent_online_options* options, licagent_result* result);

/* Renews the installed license with the server. The server's verified answer replaces it, also
 * when it says frozen or released (LICAGENT_ONLINE_OK with that verdict in `result`). Results as
 * for licagent_activate. */
LICAGENT_API int licagent_refresh(const char* store_dir, const licagent_online_options* options,
                                  licagent_result* result);

/* Gives this machine's seat back; on the server's verified answer the license is removed. On
 * success `result` has verdict LICAGENT_RELEASED and the released license's id (a later
 * licagent_check says no-license). Failures as for licagent_activate. */
LICAGENT_API int licagent_deactivate(const char* store_dir, const licagent_online_options* options,
                                     licagent_result* result);

/* "ok", "unavailable", "untrusted", "refused", ... ; "unknown" for a number outside the enum. */
LICAGENT_API const char* licagent_online_status_name(int status);

/* The library version, e.g. "0.1.0". Static storage. */
LICAGENT_API const char* licagent_version(void);

#ifdef __cplusplus
}
#endif

#endif /* LICAGENT_LICAGENT_H_ */
