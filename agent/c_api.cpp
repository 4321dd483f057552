// The C ABI over the C++ check (include/licagent/licagent.h). Nothing may throw across it.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <exception>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "licagent/check.h"
#include "licagent/licagent.h"
#include "licagent/online.h"
#include "licagent_build_config.h"

namespace {

using licagent::CheckConfig;
using licagent::CheckResult;
using licagent::Error;
using licagent::ErrorCode;
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

// licagent_result as the first release had it (every field up to refresh_due, padded): callers
// compiled against it get those fields.
constexpr std::size_t kResultV1Size =
    (offsetof(licagent_result, seats) + alignof(licagent_result) - 1) / alignof(licagent_result) *
    alignof(licagent_result);

// Writes `f` into what the caller's struct has room for: all of it, or the first release's
// fields for a caller compiled against that; nothing for a size no release had.
void Store(licagent_result f, licagent_result* out) {
  if (out == nullptr) return;
  if (out->struct_size >= sizeof(licagent_result)) {
    f.struct_size = sizeof(licagent_result);
    *out = f;
  } else if (out->struct_size >= kResultV1Size) {
    f.struct_size = static_cast<uint32_t>(kResultV1Size);
    std::memcpy(static_cast<void*>(out), &f, kResultV1Size);
  }
}

licagent_result Fields(const CheckResult& r) {
  licagent_result f{};
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
  return f;
}

void Fill(const CheckResult& r, licagent_result* out) { Store(Fields(r), out); }

int SystemError(licagent_result* out, const std::string& why) {
  CheckResult r;
  r.verdict = Verdict::kSystemError;
  r.reason = why;
  Fill(r, out);
  return LICAGENT_SYSTEM_ERROR;
}

licagent::Result<CheckConfig> Config(const char* store_dir) {
  auto config = licagent::BuiltinCheckConfig();
  if (config && store_dir != nullptr) config->store_dir = store_dir;
  return config;
}

// The one mapping of the C++ error codes to LICAGENT_ONLINE_*.
int OnlineStatus(ErrorCode code) {
  switch (code) {  // no default: -Wswitch flags a new ErrorCode
    case ErrorCode::kUnavailable:
      return LICAGENT_ONLINE_UNAVAILABLE;
    case ErrorCode::kUntrusted:
      return LICAGENT_ONLINE_UNTRUSTED;
    case ErrorCode::kRejected:
      return LICAGENT_ONLINE_REFUSED;
    case ErrorCode::kNotFound:  // refresh or deactivate with nothing installed
      return LICAGENT_ONLINE_NO_LICENSE;
    case ErrorCode::kCorrupt:
    case ErrorCode::kBadSignature:
      return LICAGENT_ONLINE_INVALID_LICENSE;
    case ErrorCode::kInvalidArgument:
    case ErrorCode::kMalformedIdentifier:
      return LICAGENT_ONLINE_INVALID_ARGUMENT;
    case ErrorCode::kUnsupported:
      return LICAGENT_ONLINE_UNSUPPORTED;
    case ErrorCode::kPermissionDenied:
    case ErrorCode::kIoError:
      return LICAGENT_ONLINE_IO_ERROR;
    case ErrorCode::kInternal:
      return LICAGENT_ONLINE_INTERNAL_ERROR;
  }
  return LICAGENT_ONLINE_INTERNAL_ERROR;
}

// A failed online call: the cache is as it was, so `out` gets its check (when the configuration
// loaded), plus why the call failed. Returns the status.
int OnlineFailure(const CheckConfig* config, const Error& error, licagent_result* out) {
  licagent_result f{};
  if (out != nullptr) {
    if (config != nullptr) {
      f = Fields(licagent::Check(*config));
    } else {
      CheckResult r;
      r.reason = "the license cache was not read: " + error.message;
      f = Fields(r);
    }
    Copy(f.error_message, error.message);
    Copy(f.server_code, error.remote_code);
  }
  Store(f, out);
  return OnlineStatus(error.code);
}

// An exception reached the C boundary: reported without throwing again (if building the
// message fails too, a fixed one).
int InternalFailure(const char* what, licagent_result* out) noexcept {
  try {
    return OnlineFailure(nullptr, {ErrorCode::kInternal, std::string("internal error: ") + what},
                         out);
  } catch (...) {
    licagent_result f{};
    f.verdict = LICAGENT_SYSTEM_ERROR;
    std::snprintf(f.error_message, sizeof f.error_message, "internal error");
    Store(f, out);
    return LICAGENT_ONLINE_INTERNAL_ERROR;
  }
}

constexpr std::int64_t kMaxTimeoutMs = 3600000;

// The server's configuration as `licagent activate` builds it from its flags: the options' strings
// as the flags (unset: environment, agent.json, compiled default), then the timeout.
licagent::Result<licagent::OnlineConfig> LoadOnline(const licagent_online_options* options) {
  licagent::OnlineSettings settings;
  if (options != nullptr) {
    if (options->struct_size != sizeof(licagent_online_options)) {
      return Error{ErrorCode::kInvalidArgument,
                   "licagent_online_options.struct_size is " +
                       std::to_string(options->struct_size) + ", this library knows only " +
                       std::to_string(sizeof(licagent_online_options)) +
                       " (set it to sizeof(licagent_online_options))"};
    }
    if (options->timeout_ms < 0 || options->timeout_ms > kMaxTimeoutMs) {
      return Error{
          ErrorCode::kInvalidArgument,
          "licagent_online_options.timeout_ms must be from 0 to " + std::to_string(kMaxTimeoutMs)};
    }
    const auto set = [](std::optional<std::string>* field, const char* value) {
      if (value != nullptr && *value != '\0') *field = value;
    };
    set(&settings.server_url, options->server_url);
    set(&settings.ca_bundle, options->ca_bundle);
    set(&settings.pinned_public_key, options->pinned_public_key);
    set(&settings.proxy, options->proxy);
  }
  auto online = licagent::LoadOnlineConfig(settings);
  if (online && options != nullptr && options->timeout_ms > 0) {
    online->total_timeout_ms = options->timeout_ms;
  }
  return online;
}

// Loads the configurations and runs `call(check_config, online_config)`, which returns the
// status; what surrounds it (configuration errors, exceptions) is the same for all online calls.
template <typename Call>
int Online(const char* store_dir, const licagent_online_options* options, licagent_result* out,
           const Call& call) {
  try {
    auto config = Config(store_dir);
    if (!config) return OnlineFailure(nullptr, config.error(), out);
    auto online = LoadOnline(options);
    if (!online) return OnlineFailure(&*config, online.error(), out);
    return call(*config, *online);
  } catch (const std::exception& e) {
    return InternalFailure(e.what(), out);
  } catch (...) {
    return InternalFailure("unknown exception", out);
  }
}

int OnlineSuccess(const licagent::OnlineResult& r, licagent_result* out) {
  licagent_result f = Fields(r.check);
  f.seats = r.seats.value_or(0);
  f.seats_used = r.seats_used.value_or(0);
  Store(f, out);
  return LICAGENT_ONLINE_OK;
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

int licagent_activate(const char* store_dir, const char* credential,
                      const licagent_online_options* options, licagent_result* result) {
  return Online(store_dir, options, result,
                [&](const CheckConfig& config, const licagent::OnlineConfig& online) -> int {
                  if (credential == nullptr) {
                    return OnlineFailure(
                        &config, {ErrorCode::kInvalidArgument, "no credential given"}, result);
                  }
                  // Passed through as it is: only the request built from it holds a copy, wiped
                  // after sending.
                  auto r = licagent::Activate(config, online, std::string_view(credential));
                  return r ? OnlineSuccess(*r, result) : OnlineFailure(&config, r.error(), result);
                });
}

int licagent_refresh(const char* store_dir, const licagent_online_options* options,
                     licagent_result* result) {
  return Online(store_dir, options, result,
                [&](const CheckConfig& config, const licagent::OnlineConfig& online) -> int {
                  auto r = licagent::Refresh(config, online);
                  return r ? OnlineSuccess(*r, result) : OnlineFailure(&config, r.error(), result);
                });
}

int licagent_deactivate(const char* store_dir, const licagent_online_options* options,
                        licagent_result* result) {
  return Online(store_dir, options, result,
                [&](const CheckConfig& config, const licagent::OnlineConfig& online) -> int {
                  auto r = licagent::Deactivate(config, online);
                  if (!r) return OnlineFailure(&config, r.error(), result);
                  CheckResult released;
                  released.verdict = Verdict::kReleased;
                  released.reason =
                      "the seat was given back and the license removed from this machine";
                  released.license = std::move(*r);
                  Fill(released, result);
                  return LICAGENT_ONLINE_OK;
                });
}

const char* licagent_online_status_name(int status) {
  switch (status) {
    case LICAGENT_ONLINE_OK:
      return "ok";
    case LICAGENT_ONLINE_UNAVAILABLE:
      return "unavailable";
    case LICAGENT_ONLINE_UNTRUSTED:
      return "untrusted";
    case LICAGENT_ONLINE_REFUSED:
      return "refused";
    case LICAGENT_ONLINE_NO_LICENSE:
      return "no-license";
    case LICAGENT_ONLINE_INVALID_LICENSE:
      return "invalid-license";
    case LICAGENT_ONLINE_INVALID_ARGUMENT:
      return "invalid-argument";
    case LICAGENT_ONLINE_UNSUPPORTED:
      return "unsupported";
    case LICAGENT_ONLINE_IO_ERROR:
      return "io-error";
    case LICAGENT_ONLINE_INTERNAL_ERROR:
      return "internal-error";
    default:
      return "unknown";
  }
}

const char* licagent_verdict_name(int verdict) {
  if (verdict < LICAGENT_VALID || verdict > LICAGENT_SYSTEM_ERROR) return "unknown";
  return licagent::ToString(static_cast<Verdict>(verdict));
}

const char* licagent_version(void) { return LICAGENT_VERSION; }

}  // extern "C"
