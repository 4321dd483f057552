// The C ABI over the C++ check (include/licagent/licagent.h). Nothing may throw across it.
#include <algorithm>
#include <cstring>
#include <exception>
#include <string>
#include <vector>

#include "licagent/check.h"
#include "licagent/licagent.h"
#include "licagent_build_config.h"

namespace {

using licagent::CheckResult;
using licagent::Verdict;

static_assert(static_cast<int>(Verdict::kValid) == LICAGENT_VALID);
static_assert(static_cast<int>(Verdict::kNoLicense) == LICAGENT_NO_LICENSE);
static_assert(static_cast<int>(Verdict::kInvalid) == LICAGENT_INVALID);
static_assert(static_cast<int>(Verdict::kNotYetValid) == LICAGENT_NOT_YET_VALID);
static_assert(static_cast<int>(Verdict::kExpired) == LICAGENT_EXPIRED);
static_assert(static_cast<int>(Verdict::kRefreshOverdue) == LICAGENT_REFRESH_OVERDUE);
static_assert(static_cast<int>(Verdict::kFrozen) == LICAGENT_FROZEN);
static_assert(static_cast<int>(Verdict::kReleased) == LICAGENT_RELEASED);
static_assert(static_cast<int>(Verdict::kWrongMachine) == LICAGENT_WRONG_MACHINE);
static_assert(static_cast<int>(Verdict::kClockTampered) == LICAGENT_CLOCK_TAMPERED);
static_assert(static_cast<int>(Verdict::kEntitlementMissing) == LICAGENT_ENTITLEMENT_MISSING);
static_assert(static_cast<int>(Verdict::kSystemError) == LICAGENT_SYSTEM_ERROR);

template <std::size_t N>
void Copy(char (&dst)[N], const std::string& src) {
  const std::size_t n = std::min(src.size(), N - 1);
  std::memcpy(dst, src.data(), n);
  dst[n] = '\0';
}

// Fills what the caller's struct has room for (older callers pass a smaller struct_size).
void Fill(const CheckResult& r, licagent_result* out) {
  if (out == nullptr || out->struct_size < sizeof(licagent_result)) return;
  licagent_result f{};
  f.struct_size = sizeof(licagent_result);
  f.verdict = static_cast<int32_t>(r.verdict);
  Copy(f.reason, r.reason);
  if (r.license) {
    Copy(f.license_id, r.license->license_id);
    if (r.license->expires_at) {
      f.has_expiry = 1;
      f.expires_at = *r.license->expires_at;
    }
    f.has_refresh_by = r.license->refresh_by ? 1 : 0;
  }
  if (r.seconds_left) f.seconds_left = *r.seconds_left;
  if (r.grace_seconds_left) f.grace_seconds_left = *r.grace_seconds_left;
  if (r.match) {
    f.match_score = r.match->score;
    f.match_possible = r.match->possible;
  }
  f.refresh_due = r.refresh_due ? 1 : 0;
  *out = f;
}

int SystemError(licagent_result* out, const std::string& why) {
  CheckResult r;
  r.verdict = Verdict::kSystemError;
  r.reason = why;
  Fill(r, out);
  return LICAGENT_SYSTEM_ERROR;
}

licagent::Result<licagent::CheckConfig> Config(const char* store_dir) {
  auto config = licagent::BuiltinCheckConfig();
  if (config && store_dir != nullptr) config->store_dir = store_dir;
  return config;
}

}  // namespace

extern "C" {

int licagent_check(const char* store_dir, const char* const* features, size_t feature_count,
                   licagent_result* result) {
  try {
    auto config = Config(store_dir);
    if (!config) return SystemError(result, config.error().message);
    licagent::CheckRequest request;
    for (size_t i = 0; features != nullptr && i < feature_count; ++i) {
      if (features[i] != nullptr) request.features.emplace_back(features[i]);
    }
    const CheckResult r = licagent::Check(*config, request);
    Fill(r, result);
    return static_cast<int>(r.verdict);
  } catch (const std::exception& e) {
    return SystemError(result, std::string("internal error: ") + e.what());
  } catch (...) {
    return SystemError(result, "internal error");
  }
}

int licagent_install(const char* store_dir, const char* license_text, size_t length,
                     licagent_result* result) {
  try {
    if (license_text == nullptr) return SystemError(result, "no license text given");
    auto config = Config(store_dir);
    if (!config) return SystemError(result, config.error().message);
    const CheckResult r = licagent::Install(*config, std::string_view(license_text, length));
    Fill(r, result);
    return static_cast<int>(r.verdict);
  } catch (const std::exception& e) {
    return SystemError(result, std::string("internal error: ") + e.what());
  } catch (...) {
    return SystemError(result, "internal error");
  }
}

const char* licagent_verdict_name(int verdict) {
  if (verdict < LICAGENT_VALID || verdict > LICAGENT_SYSTEM_ERROR) return "unknown";
  return licagent::ToString(static_cast<Verdict>(verdict));
}

const char* licagent_version(void) { return LICAGENT_VERSION; }

}  // extern "C"
