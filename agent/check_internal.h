// Internals of the check shared with unit tests, which pass a FakePlatform; not installed.
#pragma once

#include <chrono>
#include <mutex>
#include <optional>

#include "agent/license_store.h"
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

// Stores a license that the vendor server sent in answer to this agent's own request, after
// the caller checked it (signature, echoed nonce, product, license id, machine): it replaces
// the installed license whatever its verdict (a frozen, released or expired answer is the
// server's word on this seat, and must reach the next check), also when the installed copy has
// a later server_time. The clock mark is raised to the answer's server_time (a trusted time)
// or now, whichever is later. Returns the verdict of the stored license now; kSystemError (and
// the cache unchanged) when it cannot be written.
CheckResult StoreServerAnswerWith(platform::Platform& p, const CheckConfig& config,
                                  const License& license);

// The cache of `config` (config.store_dir, else the platform's default for its scope).
Result<LicenseStore> OpenStore(platform::Platform& p, const CheckConfig& config);

}  // namespace licagent
