// The online client: activate, refresh, deactivate, offline requests and the background
// refresh (docs/activation.md), on top of the protocol (docs/protocol.md) and the cache.
#include "licagent/online.h"

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <thread>

#include "agent/check_internal.h"
#include "agent/crypto.h"
#include "agent/http_client.h"
#include "agent/identity_internal.h"
#include "agent/license_store.h"
#include "agent/online_internal.h"
#include "licagent/protocol.h"
#include "licagent_build_config.h"

namespace licagent {
namespace {

using std::chrono::milliseconds;
using Clock = std::chrono::steady_clock;

constexpr std::int64_t kDay = 86400;

Error Untrusted(std::string message) { return Error{ErrorCode::kUntrusted, std::move(message)}; }

std::string Url(const OnlineConfig& config, std::string_view path) {
  return config.server_url + std::string(path);
}

Status RequireServer(const OnlineConfig& config) {
  if (config.server_url.empty()) {
    return Error{ErrorCode::kInvalidArgument,
                 "no activation server is configured: pass --server URL, set " +
                     std::string(kServerUrlEnv) + ", or put \"server_url\" in " + kConfigFileName +
                     " (docs/activation.md)"};
  }
  return ValidateOnlineConfig(config);
}

bool IsTransientStatus(long status) { return status == 429 || (status >= 500 && status <= 599); }

// The server's refusal as the agent's Error, naming the server.
Error RefusalFrom(const std::string& url, const http::Response& response) {
  Error e = protocol::ErrorFromAnswer(response.status, response.body);
  e.message = url + " answered " + std::to_string(response.status) + ": " + e.message;
  return e;
}

// Everything an online call checks in a 200 answer before anything is stored.
struct Expected {
  const CheckConfig* check_config;
  const std::string* nonce;
  const std::string* license_id;  // refresh and deactivate: the seat's license
  const Fingerprint* machine;
};

struct Accepted {
  License license;
  protocol::LicenseAnswer answer;
};

Result<Accepted> Accept(const std::string& url, const http::Response& response,
                        const Expected& expected) {
  if (response.status != 200) return RefusalFrom(url, response);
  auto answer = protocol::ParseLicenseAnswer(response.body);
  if (!answer) {
    return Error{ErrorCode::kUnavailable,
                 "the answer of " + url + " is malformed: " + answer.error().message};
  }
  auto license = VerifyLicense(answer->license, expected.check_config->trusted_keys);
  if (!license) {
    return Untrusted(
        "the license sent by " + url +
        " does not verify against this product's trusted keys: " + license.error().message);
  }
  const LicensePayload& p = license->payload;
  if (!p.nonce || *p.nonce != *expected.nonce) {
    return Untrusted("the license sent by " + url +
                     " does not answer this request (its nonce is not the one sent): a replayed "
                     "or misdirected answer");
  }
  if (p.product_id != expected.check_config->product_id) {
    return Untrusted("the license sent by " + url + " is for product '" + p.product_id +
                     "', this is '" + expected.check_config->product_id + "'");
  }
  if (expected.license_id != nullptr && p.license_id != *expected.license_id) {
    return Untrusted("the license sent by " + url + " is " + p.license_id + ", not " +
                     *expected.license_id);
  }
  if (p.binding) {
    const MatchResult m = Match(p.binding->identifier, *expected.machine, p.binding->policy);
    if (!m.accepted) {
      return Untrusted("the license sent by " + url + " is bound to another machine: " + m.reason);
    }
  }
  return Accepted{std::move(*license), std::move(*answer)};
}

// The installed license, verified, for refresh and deactivate.
Result<License> InstalledLicense(platform::Platform& p, const CheckConfig& config) {
  auto store = OpenStore(p, config);
  if (!store) return store.error();
  auto text = store->Read();
  if (!text) {
    if (text.error().code == ErrorCode::kNotFound) {
      return Error{ErrorCode::kNotFound,
                   "no license is installed in " + store->dir().string() + " (activate first)"};
    }
    return text.error();
  }
  auto license = VerifyLicense(*text, config.trusted_keys);
  if (!license) {
    return Error{license.error().code,
                 "the installed license does not verify: " + license.error().message};
  }
  if (license->payload.product_id != config.product_id) {
    return Error{ErrorCode::kCorrupt,
                 "the installed license is for product '" + license->payload.product_id + "'"};
  }
  return license;
}

struct Prepared {
  Fingerprint machine;
  std::string nonce;
};

Result<Prepared> Prepare(platform::Platform& p) {
  auto fp = CollectFingerprint(p, BuiltinIdentityKey());
  if (!fp) return fp.error();
  auto nonce = protocol::NewNonce();
  if (!nonce) return nonce.error();
  return Prepared{std::move(*fp), std::move(*nonce)};
}

Result<OnlineResult> StoreAnswer(platform::Platform& p, const CheckConfig& check_config,
                                 Accepted accepted) {
  OnlineResult out;
  out.check = StoreServerAnswerWith(p, check_config, accepted.license);
  if (out.check.verdict == Verdict::kSystemError) {
    return Error{ErrorCode::kIoError,
                 "the server's license could not be stored: " + out.check.reason};
  }
  out.seats = accepted.answer.seats;
  out.seats_used = accepted.answer.seats_used;
  return out;
}

// A seat request (refresh, deactivate) for the installed license.
Result<Accepted> SeatCall(platform::Platform& p, const CheckConfig& check_config,
                          const OnlineConfig& online, std::string_view path,
                          const ProgressCallback& progress) {
  LICAGENT_RETURN_IF_ERROR(RequireServer(online));
  auto installed = InstalledLicense(p, check_config);
  if (!installed) return installed.error();
  auto prepared = Prepare(p);
  if (!prepared) return prepared.error();
  protocol::SeatRequest request;
  request.product_id = check_config.product_id;
  request.license_id = installed->payload.license_id;
  request.machine = protocol::MachineOf(prepared->machine);
  request.nonce = prepared->nonce;
  request.agent_version = LICAGENT_VERSION;
  auto response = Exchange(online, path, protocol::Serialize(request), progress);
  if (!response) return response.error();
  return Accept(Url(online, path), *response,
                Expected{&check_config, &prepared->nonce, &request.license_id, &prepared->machine});
}

// Uniform in [0, bound] from the crypto library's CSPRNG (backoff jitter need not be secret, but
// this way there is one source of randomness).
std::int64_t RandomBelow(std::int64_t bound) {
  if (bound <= 0) return 0;
  if (!crypto::Ready()) return bound / 2;
  const auto upper = static_cast<std::uint32_t>(std::min<std::int64_t>(bound, 0x7FFFFFFF));
  return static_cast<std::int64_t>(crypto::RandomUniform(upper + 1));
}

}  // namespace

milliseconds Backoff(const OnlineConfig& config, int attempt) {
  std::int64_t cap = config.backoff_base_ms;
  for (int i = 1; i < attempt && cap < config.backoff_max_ms; ++i) cap *= 2;
  cap = std::min(cap, config.backoff_max_ms);
  return milliseconds(RandomBelow(cap));
}

Result<http::Response> Exchange(const OnlineConfig& config, std::string_view path,
                                const std::string& body, const ProgressCallback& progress) {
  LICAGENT_RETURN_IF_ERROR(RequireServer(config));
  const std::string url = Url(config, path);
  const auto deadline = Clock::now() + milliseconds(config.total_timeout_ms);
  const int attempts = std::clamp(config.max_attempts, 1, 10);
  Error last{ErrorCode::kUnavailable, "the server " + url + " was not contacted in time"};
  for (int attempt = 1; attempt <= attempts; ++attempt) {
    const auto left = std::chrono::duration_cast<milliseconds>(deadline - Clock::now()).count();
    if (left <= 0) break;
    if (progress) {
      progress(OnlineProgress{
          OnlineProgress::Stage::kAttempt, attempt, attempts, url, milliseconds(0), {}});
    }
    http::Outcome outcome =
        http::Post(config, url, body, std::min<std::int64_t>(config.attempt_timeout_ms, left));
    std::optional<std::int64_t> retry_after;
    if (outcome.response) {
      if (!IsTransientStatus(outcome.response->status)) return std::move(*outcome.response);
      last = RefusalFrom(url, *outcome.response);
      retry_after = outcome.response->retry_after_seconds;
    } else {
      last = outcome.failure.error;
      if (!outcome.failure.transient) return last;
    }
    if (attempt == attempts) {
      if (attempts > 1)
        last.message += " (gave up after " + std::to_string(attempts) + " attempts)";
      return last;
    }
    milliseconds wait = Backoff(config, attempt);
    if (retry_after) {
      const std::int64_t asked = *retry_after * 1000;
      if (asked > config.retry_after_max_ms) {
        last.message +=
            " (the server asks to wait " + std::to_string(*retry_after) + " s before trying again)";
        return last;
      }
      wait = std::max(wait, milliseconds(asked));
    }
    if (Clock::now() + wait >= deadline) {
      last.message += " (gave up after " + std::to_string(attempt) + " of " +
                      std::to_string(attempts) + " attempts: out of time)";
      return last;
    }
    if (progress) {
      progress(OnlineProgress{OnlineProgress::Stage::kWaiting, attempt, attempts, url, wait,
                              last.message});
    }
    std::this_thread::sleep_for(wait);
  }
  last.message += " (out of time)";
  return last;
}

Result<OnlineResult> ActivateWith(platform::Platform& p, const CheckConfig& check_config,
                                  const OnlineConfig& online, std::string_view credential,
                                  const ProgressCallback& progress) {
  LICAGENT_RETURN_IF_ERROR(RequireServer(online));
  if (credential.empty() || credential.size() > 128) {
    return Error{ErrorCode::kInvalidArgument, "the credential must have 1 to 128 characters"};
  }
  for (char c : credential) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
      return Error{ErrorCode::kInvalidArgument, "the credential has a control character"};
    }
  }
  auto prepared = Prepare(p);
  if (!prepared) return prepared.error();
  protocol::ActivateRequest request;
  request.product_id = check_config.product_id;
  request.credential = std::string(credential);
  request.machine = protocol::MachineOf(prepared->machine);
  request.nonce = prepared->nonce;
  request.agent_version = LICAGENT_VERSION;
  std::string body = protocol::Serialize(request);
  auto response = Exchange(online, "/v1/activate", body, progress);
  crypto::SecureWipe(body.data(), body.size());
  crypto::SecureWipe(request.credential.data(), request.credential.size());
  if (!response) return response.error();
  auto accepted = Accept(Url(online, "/v1/activate"), *response,
                         Expected{&check_config, &prepared->nonce, nullptr, &prepared->machine});
  if (!accepted) return accepted.error();
  return StoreAnswer(p, check_config, std::move(*accepted));
}

Result<OnlineResult> RefreshWith(platform::Platform& p, const CheckConfig& check_config,
                                 const OnlineConfig& online, const ProgressCallback& progress) {
  auto accepted = SeatCall(p, check_config, online, "/v1/refresh", progress);
  if (!accepted) return accepted.error();
  return StoreAnswer(p, check_config, std::move(*accepted));
}

Result<LicensePayload> DeactivateWith(platform::Platform& p, const CheckConfig& check_config,
                                      const OnlineConfig& online,
                                      const ProgressCallback& progress) {
  const std::string url = Url(online, "/v1/deactivate");
  auto accepted = SeatCall(p, check_config, online, "/v1/deactivate", progress);
  if (!accepted) return accepted.error();
  if (accepted->license.payload.status != LicenseStatus::kReleased) {
    return Error{ErrorCode::kUnavailable,
                 "the server " + url + " answered deactivate with a license that is " +
                     ToString(accepted->license.payload.status) + ", not released"};
  }
  auto store = OpenStore(p, check_config);
  if (!store) return store.error();
  (void)store->RaiseClockMark(std::max(p.Now(), accepted->license.payload.server_time));
  LICAGENT_RETURN_IF_ERROR(UninstallWith(p, check_config));
  return std::move(accepted->license.payload);
}

Result<std::string> MakeOfflineRequestWith(platform::Platform& p, const CheckConfig& check_config) {
  auto prepared = Prepare(p);
  if (!prepared) return prepared.error();
  protocol::OfflineRequest request;
  request.product_id = check_config.product_id;
  request.identifier = prepared->machine.identifier;
  request.nonce = prepared->nonce;
  request.created_at = p.Now();
  auto store = OpenStore(p, check_config);
  if (!store) return store.error();
  LICAGENT_RETURN_IF_ERROR(
      store->WriteSmallFile(LicenseStore::kPendingRequestFile,
                            request.nonce + " " + std::to_string(request.created_at) + "\n"));
  return protocol::Serialize(request);
}

std::optional<PendingRequest> PendingOfflineRequestWith(platform::Platform& p,
                                                        const CheckConfig& check_config) {
  auto store = OpenStore(p, check_config);
  if (!store) return std::nullopt;
  auto text = store->ReadSmallFile(LicenseStore::kPendingRequestFile);
  if (!text) return std::nullopt;
  const std::size_t space = text->find(' ');
  if (space == std::string::npos || text->empty() || text->back() != '\n') return std::nullopt;
  PendingRequest pending;
  pending.nonce = text->substr(0, space);
  auto created = ParseClockMark(text->substr(space + 1));
  if (!created || !protocol::ValidNonce(pending.nonce)) return std::nullopt;
  pending.created_at = *created;
  return pending;
}

bool ClaimBackgroundRefresh(platform::Platform& p, const CheckConfig& check_config,
                            const CheckResult& result) {
  if (result.verdict != Verdict::kValid || !result.refresh_due) return false;
  // A user check that fell back to the machine-wide license refreshes that one, which only its
  // owner (root) can write: for anyone else the stamp cannot be written and nothing starts.
  CheckConfig config = check_config;
  if (result.system_scope && config.store_dir.empty()) config.system_scope = true;
  auto store = OpenStore(p, config);
  if (!store) return false;
  const std::int64_t now = p.Now();
  if (auto text = store->ReadSmallFile(LicenseStore::kRefreshStampFile)) {
    auto stamp = ParseClockMark(*text);
    // A stamp from the future (the clock went back) does not block refreshes for long.
    if (stamp && *stamp <= now + kDay && now - *stamp < kDay) return false;
  }
  // Written before the attempt: a refresh that hangs or crashes is not restarted by every check.
  return store->WriteSmallFile(LicenseStore::kRefreshStampFile, FormatClockMark(now)).has_value();
}

Result<OnlineResult> Activate(const CheckConfig& check_config, const OnlineConfig& online,
                              std::string_view credential, const ProgressCallback& progress) {
  return ActivateWith(platform::Platform::Default(), check_config, online, credential, progress);
}

Result<OnlineResult> Refresh(const CheckConfig& check_config, const OnlineConfig& online,
                             const ProgressCallback& progress) {
  return RefreshWith(platform::Platform::Default(), check_config, online, progress);
}

Result<LicensePayload> Deactivate(const CheckConfig& check_config, const OnlineConfig& online,
                                  const ProgressCallback& progress) {
  return DeactivateWith(platform::Platform::Default(), check_config, online, progress);
}

Result<std::string> MakeOfflineRequest(const CheckConfig& check_config) {
  return MakeOfflineRequestWith(platform::Platform::Default(), check_config);
}

std::optional<PendingRequest> PendingOfflineRequest(const CheckConfig& check_config) {
  return PendingOfflineRequestWith(platform::Platform::Default(), check_config);
}

bool ResolvePendingRequest(const CheckConfig& check_config, const LicensePayload& license) {
  auto pending = PendingOfflineRequest(check_config);
  if (!pending || !license.nonce || *license.nonce != pending->nonce) return false;
  auto store = OpenStore(platform::Platform::Default(), check_config);
  if (store) (void)store->RemoveSmallFile(LicenseStore::kPendingRequestFile);
  return true;
}

bool MaybeStartBackgroundRefresh(const CheckConfig& check_config, const CheckResult& result,
                                 const std::string& program, const std::vector<std::string>& args) {
  if (const char* off = std::getenv("LICAGENT_NO_BACKGROUND_REFRESH");
      off != nullptr && *off != '\0' && std::string_view(off) != "0") {
    return false;
  }
  if (!ClaimBackgroundRefresh(platform::Platform::Default(), check_config, result)) return false;
  std::vector<std::string> argv;
  if (program.empty()) {
    auto self = platform::CurrentExecutable();
    if (!self) return false;
    argv.push_back(self->string());
  } else {
    argv.push_back(program);
  }
  argv.insert(argv.end(), args.begin(), args.end());
  return platform::SpawnDetached(argv).has_value();
}

}  // namespace licagent
