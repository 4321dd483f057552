// Internals of the check shared with unit tests, which pass a FakePlatform; not installed.
#pragma once

#include <chrono>
#include <mutex>
#include <optional>

#include "licagent/check.h"
#include "platform/platform.h"

namespace licagent {

// This process's fingerprint and CPU topology, re-read from the platform when older than five
// minutes, so a product that checks repeatedly does not re-read the hardware (or reload hwloc)
// on every call. Thread-safe.
class IdentityCache {
 public:
  static constexpr std::chrono::seconds kMaxAge{300};
  Result<Fingerprint> Get(platform::Platform& p);
  Result<Topology> GetTopology(platform::Platform& p);

 private:
  std::mutex mu_;
  std::optional<Fingerprint> fingerprint_;
  std::chrono::steady_clock::time_point fingerprint_at_;
  std::optional<Topology> topology_;
  std::chrono::steady_clock::time_point topology_at_;
};

// Judges a verified license at `now` on the machine `p` describes, against the latest trusted
// time seen (`clock_mark`). Touches no file.
CheckResult Judge(platform::Platform& p, const CheckConfig& config, const CheckRequest& request,
                  const LicensePayload& license, std::optional<std::int64_t> clock_mark,
                  std::int64_t now, IdentityCache* cache = nullptr);

// `cache` nullptr: the machine is read on every call (tests change it between calls).
CheckResult CheckWith(platform::Platform& p, const CheckConfig& config, const CheckRequest& request,
                      IdentityCache* cache = nullptr);
CheckResult InstallWith(platform::Platform& p, const CheckConfig& config,
                        std::string_view license_text);
Status UninstallWith(platform::Platform& p, const CheckConfig& config);

}  // namespace licagent
