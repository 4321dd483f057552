// Internals of the online client shared with unit tests; not installed.
#pragma once

#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "agent/http_client.h"
#include "licagent/online.h"
#include "platform/platform.h"

namespace licagent {

// Where LoadOnlineConfig looks, so that tests can point it elsewhere.
struct ConfigSources {
  // Reads an environment variable; nullopt when unset.
  std::function<std::optional<std::string>(const char* name)> env;
  platform::Platform* platform = nullptr;  // reads the configuration file
  // The standard files, in the order tried (the first that exists is read, whole).
  std::vector<std::filesystem::path> default_files;
  std::string compiled_server_url;  // LICAGENT_SERVER_URL
};
Result<OnlineConfig> LoadOnlineConfigFrom(const OnlineSettings& settings,
                                          const ConfigSources& sources);

// Applies agent.json text (strict: an object of known keys, no duplicates, right types and
// ranges) over `config`, which keeps the keys the file lacks. Errors name `origin`.
Status ApplyConfigFile(std::string_view text, const std::string& origin, OnlineConfig* config);

// Checks the values of a merged configuration (https URL, pin syntax, ranges).
Status ValidateOnlineConfig(const OnlineConfig& config);

// One online exchange with retries (docs/activation.md "Retries"): POSTs `body` to
// <server_url><path> up to max_attempts times while failures are transient, within
// total_timeout_ms. Returns the last answer (any status but 429/5xx, or those when attempts
// run out are turned into the Error) or the last error.
Result<http::Response> Exchange(const OnlineConfig& config, std::string_view path,
                                const std::string& body, const ProgressCallback& progress);

// The backoff before attempt `attempt` + 1 (full jitter: random in [0, cap]).
std::chrono::milliseconds Backoff(const OnlineConfig& config, int attempt);

Result<OnlineResult> ActivateWith(platform::Platform& p, const CheckConfig& check_config,
                                  const OnlineConfig& online, std::string_view credential,
                                  const ProgressCallback& progress);
Result<OnlineResult> RefreshWith(platform::Platform& p, const CheckConfig& check_config,
                                 const OnlineConfig& online, const ProgressCallback& progress);
Result<LicensePayload> DeactivateWith(platform::Platform& p, const CheckConfig& check_config,
                                      const OnlineConfig& online, const ProgressCallback& progress);
Result<std::string> MakeOfflineRequestWith(platform::Platform& p, const CheckConfig& check_config);
std::optional<PendingRequest> PendingOfflineRequestWith(platform::Platform& p,
                                                        const CheckConfig& check_config);

// The background-refresh decision and stamp, without starting anything: true (and the stamp
// written) when a refresh should start now.
bool ClaimBackgroundRefresh(platform::Platform& p, const CheckConfig& check_config,
                            const CheckResult& result);

}  // namespace licagent
