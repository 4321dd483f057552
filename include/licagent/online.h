// Talking to the vendor's activation server (docs/activation.md, docs/protocol.md): activate a
// credential, refresh and deactivate the installed license, and write an offline request.
// HTTPS through libcurl, which is loaded at run time on the first online call only, so that
// programs that only check never load it; on Windows through WinHTTP. Thread-safe; no exceptions.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "licagent/check.h"
#include "licagent/license.h"
#include "licagent/result.h"

namespace licagent {

struct OnlineConfig {
  // "https://host[:port][/prefix]"; requests go to <server_url>/v1/... Only https is accepted.
  std::string server_url;
  // A PEM file of CA certificates to trust instead of the system store. Empty: system store.
  std::string ca_bundle;
  // Optional public-key pin(s) of the server, in curl's form: "sha256//BASE64[;sha256//...]".
  std::string pinned_public_key;
  // Empty: the environment's HTTPS_PROXY / https_proxy / ALL_PROXY and NO_PROXY (libcurl reads
  // them; on Windows, Windows' proxy settings). "none" or "direct": no proxy, whatever the
  // environment says. Else a proxy URL (on Windows an http:// one without credentials).
  std::string proxy;
  std::int64_t connect_timeout_ms = 5000;
  // One HTTP exchange at most (connect, TLS, request, answer).
  std::int64_t attempt_timeout_ms = 10000;
  // The whole call at most: every attempt and every wait between attempts.
  std::int64_t total_timeout_ms = 20000;
  // Attempts for transient failures (connection trouble, timeouts, 429, 5xx); 1 = no retry.
  int max_attempts = 4;
  // Exponential backoff with full jitter: before attempt n+1 a random wait in
  // [0, min(backoff_max_ms, backoff_base_ms * 2^(n-1))], or the server's Retry-After if later
  // (up to retry_after_max_ms).
  std::int64_t backoff_base_ms = 500;
  std::int64_t backoff_max_ms = 8000;
  std::int64_t retry_after_max_ms = 30000;
};

// Settings given on the command line (or by a program); unset fields fall through to the
// environment, then the configuration file, then the compiled default (docs/activation.md
// "Configuration").
struct OnlineSettings {
  std::optional<std::string> server_url;
  std::optional<std::string> ca_bundle;
  std::optional<std::string> pinned_public_key;
  std::optional<std::string> proxy;
  // A configuration file to read instead of the standard ones; it must exist.
  std::optional<std::string> config_file;
};

// Environment variables read by LoadOnlineConfig.
inline constexpr const char* kServerUrlEnv = "LICAGENT_SERVER_URL";
inline constexpr const char* kCaBundleEnv = "LICAGENT_CA_BUNDLE";
inline constexpr const char* kPinnedKeyEnv = "LICAGENT_PINNED_KEY";
inline constexpr const char* kProxyEnv = "LICAGENT_PROXY";
// The configuration file's name in platform::ConfigDir (user scope, then system scope).
inline constexpr const char* kConfigFileName = "agent.json";

// Flags > environment > configuration file (`settings.config_file`, else the user's
// agent.json when not `system_scope`, else the system-wide one) > compiled default
// (LICAGENT_SERVER_URL). A malformed file, an unknown or duplicate key, a non-https server URL
// or a malformed pin → kInvalidArgument naming the source. A missing server URL is not an
// error here (an offline request needs none); online calls refuse it.
Result<OnlineConfig> LoadOnlineConfig(const OnlineSettings& settings, bool system_scope = false);

// What a long call reports while it runs, for a progress line.
struct OnlineProgress {
  enum class Stage {
    kAttempt,  // attempt `attempt` of `max_attempts` is starting
    kWaiting,  // attempt `attempt` failed transiently (`reason`); waiting `wait` before the next
  };
  Stage stage = Stage::kAttempt;
  int attempt = 1;
  int max_attempts = 1;
  std::string server;  // the URL being contacted (never a credential)
  std::chrono::milliseconds wait{0};
  std::string reason;
};
using ProgressCallback = std::function<void(const OnlineProgress&)>;

// The outcome of an online call that installed a license: the server's numbers (informational)
// and the verdict of the installed license, as Check() would give it now.
struct OnlineResult {
  CheckResult check;
  std::optional<int> seats;
  std::optional<int> seats_used;
};

// POST /v1/activate: binds `credential` (a license key LK-..., or a marketplace code) to this
// machine and installs the verified answer. Errors: kUnavailable, kUntrusted, kRejected (with
// remote_code), kInvalidArgument (configuration), kUnsupported (no libcurl; a proxy WinHTTP cannot
// use). On any error the cache is unchanged. The credential is never logged.
Result<OnlineResult> Activate(const CheckConfig& check_config, const OnlineConfig& online,
                              std::string_view credential, const ProgressCallback& progress = {});

// POST /v1/refresh for the installed license. The verified answer replaces the cached license,
// also when it says frozen or released (the next check then fails with that verdict). Nothing
// installed, or an installed license that does not verify: Error kNotFound / kCorrupt, and no
// request is sent. A failure leaves the cache as it was.
Result<OnlineResult> Refresh(const CheckConfig& check_config, const OnlineConfig& online,
                             const ProgressCallback& progress = {});

// POST /v1/deactivate: gives the seat back; on the server's verified "released" answer the
// cached license is removed. Returns the released license. Errors as for Refresh.
Result<LicensePayload> Deactivate(const CheckConfig& check_config, const OnlineConfig& online,
                                  const ProgressCallback& progress = {});

// The offline request file for this machine (docs/license-format.md "Offline request"), with a
// fresh nonce that is remembered in the cache directory so that installing the answer can tell
// it answers this request.
Result<std::string> MakeOfflineRequest(const CheckConfig& check_config);

// The offline request last made on this machine and not yet answered.
struct PendingRequest {
  std::string nonce;
  UnixTime created_at = 0;
};
std::optional<PendingRequest> PendingOfflineRequest(const CheckConfig& check_config);
// Forgets the pending request if `license` answers it (same nonce); true if it did.
bool ResolvePendingRequest(const CheckConfig& check_config, const LicensePayload& license);

// After a check: starts `program args...` detached when `result` is valid and refresh_due and
// no background refresh was started in the last 24 hours (a stamp file in the cache directory
// records each start, written before it). `program` empty: this executable (right for the
// licagent CLI). Best effort: returns whether a refresh was started; never affects the check.
bool MaybeStartBackgroundRefresh(const CheckConfig& check_config, const CheckResult& result,
                                 const std::string& program, const std::vector<std::string>& args);

}  // namespace licagent
