/* licagent C ABI: the offline license check for C and every language with a C FFI (Python
 * ctypes, C#, Go, Rust, Java via JNA). Same verdicts as the C++ API (licagent/check.h).
 *
 * Thread-safe; never throws or aborts; no call touches the network. The product id and the
 * trusted keys are compiled into the library (docs/check.md). Strings are UTF-8, NUL-terminated.
 * The ABI is stable within major version 1: fields are only ever added at the end of
 * licagent_result, and its size is passed in so older callers keep working. */
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

/* The library version, e.g. "0.1.0". Static storage. */
LICAGENT_API const char* licagent_version(void);

#ifdef __cplusplus
}
#endif

#endif /* LICAGENT_LICAGENT_H_ */
