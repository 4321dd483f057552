// The offline check pipeline and license installation (docs/check.md).
#include "licagent/check.h"

#include <algorithm>
#include <cstdlib>
#include <string>
#include <utility>

#include "agent/check_internal.h"
#include "agent/identity_internal.h"
#include "agent/license_store.h"
#include "licagent_build_config.h"

namespace licagent {
namespace {

constexpr std::int64_t kDay = 86400;
// The clock mark is rewritten at most this often by checks (each write costs an fsync).
constexpr std::int64_t kMarkGranularity = 3600;

CheckResult Verdicted(Verdict verdict, std::string reason) {
  CheckResult r;
  r.verdict = verdict;
  r.reason = std::move(reason);
  return r;
}

std::string Duration(std::int64_t seconds) {
  if (seconds >= 2 * kDay) return std::to_string(seconds / kDay) + " days";
  if (seconds >= 7200) return std::to_string(seconds / 3600) + " hours";
  return std::to_string(std::max<std::int64_t>(seconds / 60, 0)) + " minutes";
}

bool HasFeature(const Entitlements& e, const std::string& name) {
  return e.features.find(name) != e.features.end();
}

}  // namespace

Result<LicenseStore> OpenStore(platform::Platform& p, const CheckConfig& config) {
  if (!config.store_dir.empty()) return LicenseStore(p, config.store_dir);
  auto dir = DefaultStoreDir(
      p, config.system_scope ? platform::StateScope::kSystem : platform::StateScope::kUser);
  if (!dir) return dir.error();
  return LicenseStore(p, *dir);
}

const char* ToString(Verdict verdict) noexcept {
  switch (verdict) {
    case Verdict::kValid:
      return "valid";
    case Verdict::kNoLicense:
      return "no-license";
    case Verdict::kInvalid:
      return "invalid";
    case Verdict::kNotYetValid:
      return "not-yet-valid";
    case Verdict::kExpired:
      return "expired";
    case Verdict::kRefreshOverdue:
      return "refresh-overdue";
    case Verdict::kFrozen:
      return "frozen";
    case Verdict::kReleased:
      return "released";
    case Verdict::kWrongMachine:
      return "wrong-machine";
    case Verdict::kClockTampered:
      return "clock-tampered";
    case Verdict::kEntitlementMissing:
      return "entitlement-missing";
    case Verdict::kSystemError:
      return "system-error";
  }
  return "system-error";
}

Result<Fingerprint> IdentityCache::Get(platform::Platform& p) {
  std::lock_guard<std::mutex> lock(mu_);
  const auto now = std::chrono::steady_clock::now();
  if (!fingerprint_ || now - fingerprint_at_ > kMaxAge) {
    auto fp = CollectFingerprint(p, BuiltinIdentityKey());
    if (!fp) return fp.error();
    fingerprint_ = std::move(*fp);
    fingerprint_at_ = now;
  }
  return *fingerprint_;
}

Result<Topology> IdentityCache::GetTopology(platform::Platform& p) {
  std::lock_guard<std::mutex> lock(mu_);
  const auto now = std::chrono::steady_clock::now();
  if (!topology_ || now - topology_at_ > kMaxAge) {
    auto t = p.LoadTopology();
    if (!t) return t.error();
    topology_ = std::move(*t);
    topology_at_ = now;
  }
  return *topology_;
}

CheckResult Judge(platform::Platform& p, const CheckConfig& config, const CheckRequest& request,
                  const LicensePayload& license, std::optional<std::int64_t> clock_mark,
                  std::int64_t now, IdentityCache* cache) {
  CheckResult r;
  r.license = license;
  auto fail = [&](Verdict v, std::string reason) {
    r.verdict = v;
    r.reason = std::move(reason);
    return r;
  };

  if (license.product_id != config.product_id) {
    return fail(Verdict::kInvalid, "the license is for product '" + license.product_id +
                                       "', this is '" + config.product_id + "'");
  }
  if (license.status == LicenseStatus::kFrozen) {
    return fail(Verdict::kFrozen, "the license " + license.license_id + " is frozen");
  }
  if (license.status == LicenseStatus::kReleased) {
    return fail(Verdict::kReleased, "the license " + license.license_id + " was released");
  }
  if (now < license.not_before) {
    return fail(Verdict::kNotYetValid,
                "the license is valid from " + FormatTime(license.not_before));
  }
  if (license.expires_at) {
    r.seconds_left = *license.expires_at - now;
    if (now >= *license.expires_at) {
      return fail(Verdict::kExpired, "the license expired at " + FormatTime(*license.expires_at));
    }
  }
  if (license.refresh_by) {
    r.grace_seconds_left = *license.refresh_by - now;
    if (now >= *license.refresh_by) {
      return fail(Verdict::kRefreshOverdue, "the license had to be refreshed by " +
                                                FormatTime(*license.refresh_by) +
                                                " (connect to the vendor server)");
    }
  }
  if (license.binding) {
    auto fp = cache ? cache->Get(p) : CollectFingerprint(p, BuiltinIdentityKey());
    if (!fp) return fail(Verdict::kSystemError, "cannot read this machine: " + fp.error().message);
    r.match = Match(license.binding->identifier, *fp, license.binding->policy);
    if (!r.match->accepted) {
      return fail(Verdict::kWrongMachine,
                  "the license is bound to another machine: " + r.match->reason);
    }
  }
  const std::int64_t trusted = std::max(clock_mark.value_or(0), license.server_time);
  if (now + config.clock_tolerance_seconds < trusted) {
    return fail(Verdict::kClockTampered, "the clock reads " + FormatTime(now) + " but " +
                                             FormatTime(trusted) +
                                             " was already seen: the clock was set back");
  }
  for (const std::string& feature : request.features) {
    if (!HasFeature(license.entitlements, feature)) {
      return fail(Verdict::kEntitlementMissing,
                  "the license does not include the feature '" + feature + "'");
    }
  }
  if (license.entitlements.max_cores || license.entitlements.max_sockets) {
    auto topology = cache ? cache->GetTopology(p) : p.LoadTopology();
    if (!topology) {
      return fail(Verdict::kSystemError, "cannot count CPU cores: " + topology.error().message);
    }
    r.topology = *topology;
    if (license.entitlements.max_sockets &&
        topology->packages > *license.entitlements.max_sockets) {
      return fail(Verdict::kEntitlementMissing,
                  "this machine has " + std::to_string(topology->packages) +
                      " CPU sockets, the license allows " +
                      std::to_string(*license.entitlements.max_sockets));
    }
    if (license.entitlements.max_cores && topology->cores > *license.entitlements.max_cores) {
      return fail(Verdict::kEntitlementMissing,
                  "this machine has " + std::to_string(topology->cores) +
                      " CPU cores, the license allows " +
                      std::to_string(*license.entitlements.max_cores));
    }
  }
  r.verdict = Verdict::kValid;
  r.reason = license.expires_at ? "valid for " + Duration(*r.seconds_left) + ", until " +
                                      FormatTime(*license.expires_at)
                                : "valid, perpetual";
  r.refresh_due = license.refresh_by && now - license.server_time >= kDay;
  return r;
}

namespace {

// The check of one cache directory: `config`'s.
CheckResult CheckStore(platform::Platform& p, const CheckConfig& config,
                       const CheckRequest& request, IdentityCache* cache) {
  auto store = OpenStore(p, config);
  if (!store) return Verdicted(Verdict::kSystemError, store.error().message);
  auto text = store->Read();
  if (!text) {
    if (text.error().code == ErrorCode::kNotFound) {
      return Verdicted(Verdict::kNoLicense, "no license is installed in " + store->dir().string());
    }
    if (text.error().code == ErrorCode::kCorrupt) {
      return Verdicted(Verdict::kInvalid, text.error().message);
    }
    return Verdicted(Verdict::kSystemError, text.error().message);
  }
  auto license = VerifyLicense(*text, config.trusted_keys);
  if (!license) return Verdicted(Verdict::kInvalid, license.error().message);

  auto mark = store->ClockMark();
  if (!mark && mark.error().code == ErrorCode::kCorrupt) {
    CheckResult r =
        Verdicted(Verdict::kClockTampered,
                  "the record of the latest time seen is damaged: " + mark.error().message);
    r.license = license->payload;
    return r;
  }
  if (!mark && mark.error().code != ErrorCode::kNotFound) {
    return Verdicted(Verdict::kSystemError, mark.error().message);
  }
  const std::optional<std::int64_t> seen = mark ? std::optional<std::int64_t>(*mark) : std::nullopt;
  const std::int64_t now = p.Now();
  CheckResult r = Judge(p, config, request, license->payload, seen, now, cache);
  if (r.verdict == Verdict::kValid && now > seen.value_or(0) + kMarkGranularity) {
    // Best effort: a read-only cache must not turn a valid license into a failure.
    (void)store->RaiseClockMark(now);
  }
  return r;
}

}  // namespace

CheckResult CheckWith(platform::Platform& p, const CheckConfig& config, const CheckRequest& request,
                      IdentityCache* cache) {
  CheckResult r = CheckStore(p, config, request, cache);
  r.system_scope = config.system_scope && config.store_dir.empty();
  if (r.verdict != Verdict::kNoLicense || config.system_scope || !config.store_dir.empty()) {
    return r;
  }
  // A user with no license of their own uses the machine-wide one: installers activate as root
  // into the system scope, and the product then runs as any user (docs/cache.md "Permissions").
  CheckConfig machine = config;
  machine.system_scope = true;
  CheckResult m = CheckStore(p, machine, request, cache);
  if (m.verdict == Verdict::kNoLicense) {
    r.reason += ", nor in the machine-wide cache";
    return r;
  }
  m.system_scope = true;
  return m;
}

CheckResult InstallWith(platform::Platform& p, const CheckConfig& config,
                        std::string_view license_text) {
  auto license = VerifyLicense(license_text, config.trusted_keys);
  if (!license) return Verdicted(Verdict::kInvalid, license.error().message);
  auto store = OpenStore(p, config);
  if (!store) return Verdicted(Verdict::kSystemError, store.error().message);
  auto mark = store->ClockMark();
  const std::optional<std::int64_t> seen = mark ? std::optional<std::int64_t>(*mark) : std::nullopt;

  // An older copy of the installed license must not replace a newer answer (e.g. undo a
  // freeze by reinstalling the file from before it).
  if (auto installed_text = store->Read()) {
    auto installed = VerifyLicense(*installed_text, config.trusted_keys);
    if (installed && installed->payload.license_id == license->payload.license_id &&
        license->payload.server_time < installed->payload.server_time) {
      CheckResult r =
          Verdicted(Verdict::kInvalid,
                    "the installed copy of license " + license->payload.license_id + " is newer (" +
                        FormatTime(installed->payload.server_time) + ") than this one");
      r.license = license->payload;
      return r;
    }
  }

  CheckResult r = Judge(p, config, {}, license->payload, seen, p.Now());
  const bool installable = r.verdict == Verdict::kValid || r.verdict == Verdict::kNotYetValid ||
                           r.verdict == Verdict::kFrozen || r.verdict == Verdict::kReleased;
  if (!installable) return r;
  if (Status s = store->Install(license_text); !s) {
    return Verdicted(Verdict::kSystemError, s.error().message);
  }
  if (Status s = store->RaiseClockMark(std::max(p.Now(), license->payload.server_time)); !s) {
    return Verdicted(Verdict::kSystemError, s.error().message);
  }
  return r;
}

CheckResult StoreServerAnswerWith(platform::Platform& p, const CheckConfig& config,
                                  const License& license) {
  auto store = OpenStore(p, config);
  if (!store) return Verdicted(Verdict::kSystemError, store.error().message);
  if (Status s = store->Install(license.armored); !s) {
    return Verdicted(Verdict::kSystemError, s.error().message);
  }
  const std::int64_t now = p.Now();
  // Best effort: a corrupt mark stays as it is and the next check reports it.
  (void)store->RaiseClockMark(std::max(now, license.payload.server_time));
  auto mark = store->ClockMark();
  const std::optional<std::int64_t> seen = mark ? std::optional<std::int64_t>(*mark) : std::nullopt;
  return Judge(p, config, {}, license.payload, seen, now);
}

Status UninstallWith(platform::Platform& p, const CheckConfig& config) {
  auto store = OpenStore(p, config);
  if (!store) return store.error();
  return store->Remove();
}

CheckResult Check(const CheckConfig& config, const CheckRequest& request) {
  static IdentityCache cache;
  return CheckWith(platform::Platform::Default(), config, request, &cache);
}

CheckResult Install(const CheckConfig& config, std::string_view license_text) {
  return InstallWith(platform::Platform::Default(), config, license_text);
}

Status Uninstall(const CheckConfig& config) {
  return UninstallWith(platform::Platform::Default(), config);
}

Result<CheckConfig> BuiltinCheckConfig() {
  CheckConfig config;
  config.product_id = LICAGENT_PRODUCT_ID;
  std::string keys = LICAGENT_TRUSTED_KEYS;
#if LICAGENT_ALLOW_KEY_FILE
  // Development and test builds only: production keys are compiled in (docs/check.md).
  if (const char* file = std::getenv("LICAGENT_TRUSTED_KEYS_FILE"); file && *file) {
    auto text = platform::Platform::Default().ReadFile(file, 64 * 1024);
    if (!text) return text.error();
    for (char& c : *text) {
      if (c == '\n' || c == '\r') c = ';';
    }
    keys += ";" + *text;
  }
#endif
  std::size_t pos = 0;
  while (pos <= keys.size()) {
    std::size_t end = keys.find(';', pos);
    if (end == std::string::npos) end = keys.size();
    const std::string item = keys.substr(pos, end - pos);
    if (!item.empty() && item[0] != '#') {
      auto key = ParsePublicKey(item);
      if (!key)
        return Error{ErrorCode::kInvalidArgument,
                     "trusted key '" + item + "': " + key.error().message};
      config.trusted_keys.push_back(*key);
    }
    pos = end + 1;
  }
  return config;
}

}  // namespace licagent
