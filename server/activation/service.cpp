// Endpoint logic. Order of checks for a seat request: request shape, agent version, product,
// credential (rate limit, existence, state, term), environment class, then the seat itself.
#include "server/activation/service.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <utility>

#include "server/activation/credential_key.h"

namespace licagent::server {
namespace {

using protocol::RemoteError;

constexpr UnixTime kDay = 86400;

UnixTime SystemNow() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

bool Allowed(const ProductConfig& product, Environment environment) {
  for (Environment e : product.environments) {
    if (e == environment) return true;
  }
  return false;
}

std::string Plural(int n, const char* what) {
  return std::to_string(n) + " " + what + (n == 1 ? "" : "s");
}

}  // namespace

struct ActivationService::Charge {
  std::string credential;  // the key as sent
  std::string product_id;
  protocol::Machine machine;
  std::string nonce;
  std::string agent_version;  // empty for offline requests
};

Reply ErrorReply(RemoteError error, std::string_view message) {
  Reply r;
  r.status = protocol::HttpStatus(error);
  r.body = protocol::SerializeError(error, message);
  r.error_code = protocol::ToString(error);
  return r;
}

ActivationService::ActivationService(const ServerConfig& config, Store& store,
                                     const vendor::SigningKey& key, Clock clock)
    : config_(config),
      store_(store),
      key_(key),
      clock_(clock ? std::move(clock) : Clock(SystemNow)),
      per_credential_(config.rate_limit.activations_per_credential_per_minute),
      per_address_(config.rate_limit.requests_per_address_per_minute) {}

std::optional<Reply> ActivationService::LimitAddress(const std::string& address) {
  const int wait = per_address_.Take(address);
  if (wait == 0) return std::nullopt;
  Reply r = ErrorReply(RemoteError::kRateLimited,
                       "too many requests from this address; retry in " + Plural(wait, "second"));
  r.retry_after = wait;
  return r;
}

std::optional<Reply> ActivationService::CheckVersion(const std::string& agent_version) const {
  if (!config_.min_agent_version) return std::nullopt;
  const auto have = ParseVersion(agent_version);
  const auto need = ParseVersion(*config_.min_agent_version);
  if (!have)
    return ErrorReply(RemoteError::kMalformedRequest, "agent_version: not MAJOR.MINOR.PATCH");
  if (need && *have < *need) {
    return ErrorReply(RemoteError::kUnsupportedVersion,
                      "agent version " + agent_version + " is older than this server's minimum " +
                          *config_.min_agent_version + "; update the product");
  }
  return std::nullopt;
}

Reply ActivationService::StoreFailure(const Error& error, std::string_view what) const {
  // The detail may name files: it goes to the operator, not to the client.
  std::fprintf(stderr, "licagent-server: store failure (%.*s): %s\n", static_cast<int>(what.size()),
               what.data(), error.message.c_str());
  return ErrorReply(RemoteError::kInternal, "the server could not read or write its store");
}

Result<std::string> ActivationService::Sign(const Credential& credential, const Seat& seat,
                                            const ProductConfig& product, LicenseStatus status,
                                            const std::optional<std::string>& nonce,
                                            UnixTime now) const {
  auto identifier = ParseIdentifier(seat.identifier);
  if (!identifier) return identifier.error();
  LicensePayload p;
  p.license_id = seat.license_id;
  p.product_id = credential.product_id;
  p.key_id = config_.signing_key_id;
  p.customer = credential.customer.empty() ? credential.id : credential.customer;
  p.binding = Binding{*identifier, product.match};
  p.issued_at = now;
  // The window opens when the credential's term began, and at least a day before now, so that
  // a customer clock a little behind the server's does not find a fresh license "not yet
  // valid" (docs/server.md "Licenses").
  p.not_before = std::min(credential.created_at, now - kDay);
  p.expires_at = credential.expires_at;
  // A revocation of an expired credential still needs a well-formed window (expires_at after
  // not_before); active licenses of expired credentials are refused before this.
  if (p.expires_at && *p.expires_at <= now) p.not_before = *p.expires_at - 1;
  p.refresh_by = now + static_cast<UnixTime>(product.grace_days) * kDay;
  p.status = status;
  p.entitlements.features = credential.features;
  p.entitlements.max_cores = credential.max_cores;
  p.entitlements.max_sockets = credential.max_sockets;
  p.entitlements.seats = credential.seats;
  p.server_time = now;
  p.nonce = nonce;
  return vendor::IssueLicense(key_, p);
}

Reply ActivationService::LicenseReply(const std::string& license, int seats, int seats_used) const {
  protocol::LicenseAnswer answer;
  answer.license = license;
  answer.seats = seats;
  answer.seats_used = seats_used;
  Reply r;
  r.status = 200;
  r.body = protocol::Serialize(answer);
  return r;
}

Reply ActivationService::ChargeSeat(const Charge& charge) {
  const ProductConfig* product = config_.FindProduct(charge.product_id);
  if (product == nullptr) {
    return ErrorReply(RemoteError::kUnknownProduct,
                      "this server has no product '" + charge.product_id + "'");
  }
  const auto key_hash = CredentialKeyHash(charge.credential);
  if (!key_hash) {
    return ErrorReply(RemoteError::kUnknownCredential,
                      "this is not a license key (LK- and 25 characters)");
  }
  if (const int wait = per_credential_.Take(*key_hash); wait != 0) {
    Reply r =
        ErrorReply(RemoteError::kRateLimited,
                   "too many activations of this license key; retry in " + Plural(wait, "second"));
    r.retry_after = wait;
    return r;
  }
  auto credential = store_.FindCredentialByKeyHash(*key_hash);
  if (!credential && credential.error().code != ErrorCode::kNotFound) {
    return StoreFailure(credential.error(), "find credential");
  }
  if (!credential || credential->product_id != product->id) {
    return ErrorReply(RemoteError::kUnknownCredential,
                      "no such license key for product '" + product->id + "'");
  }
  const auto with_id = [&](Reply r) {
    r.credential_id = credential->id;
    return r;
  };
  const UnixTime now = clock_();
  switch (credential->state) {
    case CredentialState::kFrozen:
      return with_id(
          ErrorReply(RemoteError::kCredentialFrozen, "the vendor froze this license key"));
    case CredentialState::kReleased:
      return with_id(
          ErrorReply(RemoteError::kCredentialReleased, "this license key was released (revoked)"));
    case CredentialState::kActive:
      break;
  }
  if (credential->expires_at && *credential->expires_at <= now) {
    return with_id(
        ErrorReply(RemoteError::kCredentialExpired,
                   "this license key expired at " + FormatTime(*credential->expires_at)));
  }
  const Environment environment = charge.machine.identifier.environment;
  if (!Allowed(*product, environment)) {
    return with_id(ErrorReply(RemoteError::kEnvironmentNotAllowed,
                              std::string("product '") + product->id +
                                  "' cannot be activated in a " + ToString(environment) +
                                  " environment"));
  }
  auto license_id = RandomId("lic-", 8);
  if (!license_id) return with_id(ErrorReply(RemoteError::kInternal, "no randomness"));
  Seat candidate;
  candidate.license_id = *license_id;
  candidate.credential_id = credential->id;
  candidate.identifier = charge.machine.identifier.ToString();
  candidate.candidates = charge.machine.candidates;
  candidate.environment = ToString(environment);
  candidate.created_at = now;
  candidate.last_seen_at = now;
  candidate.agent_version = charge.agent_version;
  const Fingerprint machine = protocol::FingerprintOf(charge.machine);
  const MatchPolicy policy = product->match;
  auto grant = store_.AcquireSeat(candidate, [&](const Seat& seat) {
    auto stored = ParseIdentifier(seat.identifier);
    return stored && Match(*stored, machine, policy).accepted;
  });
  if (!grant) return with_id(StoreFailure(grant.error(), "acquire seat"));
  if (grant->outcome == SeatGrant::Outcome::kFull) {
    return with_id(ErrorReply(RemoteError::kSeatLimit,
                              "all " + Plural(grant->seats, "seat") +
                                  " of this license key are in use by other machines"));
  }
  auto license =
      Sign(*credential, grant->seat, *product, LicenseStatus::kActive, charge.nonce, now);
  if (!license) {
    std::fprintf(stderr, "licagent-server: signing failed: %s\n", license.error().message.c_str());
    return with_id(ErrorReply(RemoteError::kInternal, "the server could not sign the license"));
  }
  Reply r = with_id(LicenseReply(*license, grant->seats, grant->seats_used));
  r.license_id = grant->seat.license_id;
  return r;
}

Reply ActivationService::Activate(std::string_view body) {
  auto request = protocol::ParseActivateRequest(body);
  if (!request) return ErrorReply(RemoteError::kMalformedRequest, request.error().message);
  if (auto refused = CheckVersion(request->agent_version)) return *refused;
  return ChargeSeat(Charge{request->credential, request->product_id, request->machine,
                           request->nonce, request->agent_version});
}

Reply ActivationService::Offline(std::string_view body) {
  auto outer = protocol::ParseOfflineAnswerRequest(body);
  if (!outer) return ErrorReply(RemoteError::kMalformedRequest, outer.error().message);
  // Another request_format is a newer agent, not a broken file: say so.
  const auto peek = nlohmann::json::parse(outer->request, nullptr, false);
  if (peek.is_object()) {
    const auto it = peek.find("request_format");
    if (it != peek.end() && it->is_number_integer() && it->get<std::int64_t>() != 1) {
      return ErrorReply(RemoteError::kUnsupportedVersion,
                        "request: request_format " + it->dump() + " is not supported (only 1)");
    }
  }
  auto request = protocol::ParseOfflineRequest(outer->request);
  if (!request)
    return ErrorReply(RemoteError::kMalformedRequest, "request: " + request.error().message);
  Charge charge;
  charge.credential = outer->credential;
  charge.product_id = request->product_id;
  charge.machine.identifier = request->identifier;
  // An offline request carries only the identifier: each slot accepts just its own tag.
  for (std::size_t i = 0; i < charge.machine.candidates.size(); ++i) {
    if (request->identifier.tags[i] != 0)
      charge.machine.candidates[i] = {request->identifier.tags[i]};
  }
  charge.nonce = request->nonce;
  return ChargeSeat(charge);
}

Reply ActivationService::SeatCommand(std::string_view body, bool deactivate) {
  auto request = protocol::ParseSeatRequest(body);
  if (!request) return ErrorReply(RemoteError::kMalformedRequest, request.error().message);
  if (auto refused = CheckVersion(request->agent_version)) return *refused;
  const ProductConfig* product = config_.FindProduct(request->product_id);
  if (product == nullptr) {
    return ErrorReply(RemoteError::kUnknownProduct,
                      "this server has no product '" + request->product_id + "'");
  }
  const auto no_license = [&] {
    Reply r = ErrorReply(RemoteError::kUnknownLicense,
                         "no seat '" + request->license_id + "' for product '" + product->id + "'");
    return r;
  };
  auto seat = store_.GetSeat(request->license_id);
  if (!seat && seat.error().code != ErrorCode::kNotFound)
    return StoreFailure(seat.error(), "get seat");
  if (!seat) return no_license();
  auto credential = store_.GetCredential(seat->credential_id);
  if (!credential && credential.error().code != ErrorCode::kNotFound) {
    return StoreFailure(credential.error(), "get credential");
  }
  if (!credential || credential->product_id != product->id) return no_license();
  const auto with_ids = [&](Reply r) {
    r.credential_id = credential->id;
    r.license_id = seat->license_id;
    return r;
  };
  auto stored = ParseIdentifier(seat->identifier);
  const MatchResult match =
      stored ? Match(*stored, protocol::FingerprintOf(request->machine), product->match)
             : MatchResult{};
  if (!match.accepted) {
    return with_ids(ErrorReply(RemoteError::kWrongMachine,
                               "this machine does not match the one holding " + seat->license_id +
                                   (match.reason.empty() ? "" : ": " + match.reason)));
  }
  const UnixTime now = clock_();
  LicenseStatus status = LicenseStatus::kActive;
  if (deactivate) {
    auto released = store_.ReleaseSeat(seat->license_id, now);
    if (!released) return with_ids(StoreFailure(released.error(), "release seat"));
    *seat = std::move(*released);
    status = LicenseStatus::kReleased;
  } else {
    if (seat->state == SeatState::kReleased || credential->state == CredentialState::kReleased) {
      status = LicenseStatus::kReleased;
    } else if (credential->state == CredentialState::kFrozen) {
      status = LicenseStatus::kFrozen;
    } else if (credential->expires_at && *credential->expires_at <= now) {
      return with_ids(
          ErrorReply(RemoteError::kCredentialExpired,
                     "this license key expired at " + FormatTime(*credential->expires_at)));
    }
    if (auto touched = store_.TouchSeat(seat->license_id, now, request->agent_version); !touched) {
      return with_ids(StoreFailure(touched.error(), "touch seat"));
    }
  }
  auto license = Sign(*credential, *seat, *product, status, request->nonce, now);
  if (!license) {
    std::fprintf(stderr, "licagent-server: signing failed: %s\n", license.error().message.c_str());
    return with_ids(ErrorReply(RemoteError::kInternal, "the server could not sign the license"));
  }
  // seats_used: a released seat has just been given back.
  int used = credential->seats_used;
  if (deactivate) {
    auto fresh = store_.GetCredential(credential->id);
    if (fresh) used = fresh->seats_used;
  }
  return with_ids(LicenseReply(*license, credential->seats, used));
}

Reply ActivationService::Refresh(std::string_view body) { return SeatCommand(body, false); }

Reply ActivationService::Deactivate(std::string_view body) { return SeatCommand(body, true); }

Reply ActivationService::Health(bool shutting_down) {
  if (shutting_down) return ErrorReply(RemoteError::kUnavailable, "the server is shutting down");
  nlohmann::json j = {
      {"status", "ok"}, {"version", LICAGENT_SERVER_VERSION}, {"time", FormatTime(clock_())}};
  Reply r;
  r.body = j.dump();
  return r;
}

}  // namespace licagent::server
