// The offline license check run at every start of the vendor's product, and installing a
// license into the local cache. No network, ever. Thread-safe.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "licagent/identity.h"
#include "licagent/license.h"
#include "licagent/result.h"

namespace licagent {

// The outcome of a check. A closed set: every value has its own CLI exit code
// (README "Exit codes") and C constant (licagent.h).
enum class Verdict {
  kValid = 0,
  kNoLicense,           // nothing installed
  kInvalid,             // corrupt, tampered, unknown key, or for another product
  kNotYetValid,         // before not_before
  kExpired,             // at or after expires_at
  kRefreshOverdue,      // refresh_by passed: the offline grace is over
  kFrozen,              // the vendor (or the marketplace) froze it
  kReleased,            // the seat was given back / the code released
  kWrongMachine,        // bound to another machine
  kClockTampered,       // the clock is behind a time this machine has already seen
  kEntitlementMissing,  // a requested feature, or too many cores/sockets
  kSystemError,         // the cache or the OS failed; not a judgement on the license
};
// "valid", "no-license", "invalid", "not-yet-valid", "expired", "refresh-overdue", "frozen",
// "released", "wrong-machine", "clock-tampered", "entitlement-missing", "system-error".
const char* ToString(Verdict verdict) noexcept;

// Where the cache lives and what the product trusts.
struct CheckConfig {
  std::string product_id;
  std::vector<PublicKey> trusted_keys;
  // The cache directory. Empty: the platform's default for `system_scope`.
  std::string store_dir;
  bool system_scope = false;
  // How far the clock may be behind the latest trusted time seen before the check calls it
  // tampering (time zones, NTP corrections, a dead RTC battery after a short outage).
  std::int64_t clock_tolerance_seconds = 48 * 3600;
};

// The configuration compiled into this build: LICAGENT_PRODUCT_ID, LICAGENT_TRUSTED_KEYS, and,
// only in builds with LICAGENT_ALLOW_KEY_FILE, keys added from the file named by the
// environment variable LICAGENT_TRUSTED_KEYS_FILE (development and tests; docs/check.md).
Result<CheckConfig> BuiltinCheckConfig();

struct CheckRequest {
  std::vector<std::string> features;  // features the caller needs
};

struct CheckResult {
  Verdict verdict = Verdict::kSystemError;
  std::string reason;                              // one sentence for humans
  std::optional<LicensePayload> license;           // when a license verified
  std::optional<std::int64_t> seconds_left;        // until expires_at (absent: perpetual)
  std::optional<std::int64_t> grace_seconds_left;  // until refresh_by (absent: no refresh needed)
  std::optional<MatchResult> match;                // when the license is machine-bound
  std::optional<Topology> topology;                // when cores/sockets were counted
  bool refresh_due = false;  // valid, but a daily refresh should be attempted (online.h)
  // The license judged is the machine-wide one (`system_scope`, or a user check that found no
  // license of its own and fell back to the machine-wide cache).
  bool system_scope = false;
};

// Runs the check pipeline: present → parses → signature → product → status → not-before /
// expires-at → refresh-by → machine match → clock → entitlements (docs/check.md).
// With neither `store_dir` nor `system_scope`, a user who has no license installed gets the
// verdict on the machine-wide license instead (`CheckResult::system_scope`).
CheckResult Check(const CheckConfig& config, const CheckRequest& request = {});

// Verifies `license_text` (signature, product, not for another machine, not expired or frozen)
// and installs it atomically, replacing the previous license. The verdict says why it was
// refused; nothing is written then.
CheckResult Install(const CheckConfig& config, std::string_view license_text);

// Removes the installed license (the clock mark stays).
Status Uninstall(const CheckConfig& config);

}  // namespace licagent
