// Endpoint logic. Order of checks for a seat request: request shape, agent version, product,
// credential (rate limit, existence, state, term), environment class, then the seat itself.
#include "server/activation/service.h"

#include <algorithm>
#include <chrono>
#include <cstdarg>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <thread>
#include <utility>

#include "server/activation/credential_key.h"

namespace licagent::server {
namespace {

using protocol::RemoteError;

constexpr UnixTime kDay = 86400;
// After a failed marketplace query, the code is not queried again for this long.
constexpr UnixTime kMarketRetrySeconds = 300;
// What a client is told to wait when the marketplace could not answer.
constexpr int kMarketRetryAfter = 30;
// How long a first use of an already active code waits for another server process's credential.
constexpr std::chrono::seconds kOtherProcessWait{3};
constexpr std::int64_t kMaxMarketSeats = 1 << 20;

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

// A line for the vendor's operator on standard error. Never given a secret.
[[gnu::format(printf, 1, 2)]] void MarketLog(const char* format, ...) {
  char line[1024];
  va_list args;
  va_start(args, format);
  std::vsnprintf(line, sizeof line, format, args);
  va_end(args);
  std::fprintf(stderr, "licagent-server: koogallery: %s\n", line);
}

std::optional<UnixTime> UnixOf(const std::optional<koogallery::MarketTime>& t) {
  if (!t || !t->utc) return std::nullopt;
  return std::chrono::duration_cast<std::chrono::seconds>(t->utc->time_since_epoch()).count();
}

// What the marketplace's status and expiry mean for a credential (docs/koogallery.md "Status
// and expiry"): ALIVE active, FROZEN frozen, RELEASED released; EXPIRED is an ordinary end of
// term when the expiry has passed (the credential expires with it), otherwise the code is
// suspended before its term ended (the marketplace reports frozen codes as EXPIRED): frozen.
// An unknown status leaves the state alone.
void ApplyMarketStatus(koogallery::CodeStatus status, std::optional<UnixTime> expiry, UnixTime now,
                       EntitlementUpdate& update) {
  using koogallery::CodeStatus;
  if (expiry) update.expires_at = expiry;
  switch (status) {
    case CodeStatus::kAlive:
      update.state = CredentialState::kActive;
      break;
    case CodeStatus::kFrozen:
      update.state = CredentialState::kFrozen;
      break;
    case CodeStatus::kReleased:
      update.state = CredentialState::kReleased;
      break;
    case CodeStatus::kExpired:
      if (!expiry || *expiry > now) update.state = CredentialState::kFrozen;
      break;
    case CodeStatus::kUnknown:
      break;
  }
}

std::string Describe(const koogallery::MarketAnswer& a) {
  std::string d = koogallery::ToString(a.outcome);
  d += " (HTTP " + std::to_string(a.http_status);
  if (!a.error_code.empty()) d += ", error_code " + a.error_code;
  if (!a.error_msg.empty()) d += ", \"" + a.error_msg.substr(0, 200) + "\"";
  if (!a.request_id.empty()) d += ", request_id " + a.request_id;
  return d + ")";
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
                                     const vendor::SigningKey& key, Clock clock,
                                     Marketplace* marketplace)
    : config_(config),
      store_(store),
      key_(key),
      clock_(clock ? std::move(clock) : Clock(SystemNow)),
      per_credential_(config.rate_limit.activations_per_credential_per_minute),
      per_address_(config.rate_limit.requests_per_address_per_minute),
      market_(config.koogallery && config.koogallery->open_api ? marketplace : nullptr) {}

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
  if (credential.market) {  // a KooGallery authorization code (docs/license-format.md)
    p.authorization_code = credential.market->code;
    if (!credential.market->order_id.empty() && credential.market->order_id.size() <= 64) {
      p.order_id = credential.market->order_id;
    }
  }
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
  // A license key, or else a KooGallery authorization code (docs/koogallery.md).
  auto key_hash = CredentialKeyHash(charge.credential);
  std::optional<std::string> code;
  if (!key_hash) {
    code = NormalizeAuthorizationCode(charge.credential);
    if (!code) {
      return ErrorReply(RemoteError::kUnknownCredential,
                        "this is not a license key (LK- and 25 characters) or a KooGallery "
                        "authorization code (PL and up to 62 letters and digits)");
    }
    key_hash = AuthorizationCodeHash(*code);
  }
  const std::string noun = code ? "authorization code" : "license key";
  if (const int wait = per_credential_.Take(*key_hash); wait != 0) {
    Reply r = ErrorReply(RemoteError::kRateLimited, "too many activations of this " + noun +
                                                        "; retry in " + Plural(wait, "second"));
    r.retry_after = wait;
    return r;
  }
  const UnixTime now = clock_();
  bool created = false;
  Result<Credential> credential = Error{ErrorCode::kNotFound, ""};
  if (code) {
    auto resolved = ResolveCode(*code, now, created);
    if (auto* refusal = std::get_if<Reply>(&resolved)) return std::move(*refusal);
    credential = std::get<Credential>(std::move(resolved));
    if (!created) SyncIfDue(*credential, now);  // a use of the code: the daily query
  } else {
    credential = store_.FindCredentialByKeyHash(*key_hash);
    if (!credential && credential.error().code != ErrorCode::kNotFound) {
      return StoreFailure(credential.error(), "find credential");
    }
  }
  if (!credential || credential->product_id != product->id) {
    return ErrorReply(RemoteError::kUnknownCredential,
                      credential && code
                          ? "this " + noun + " is for product '" + credential->product_id +
                                "', not '" + product->id + "'"
                          : "no such " + noun + " for product '" + product->id + "'");
  }
  const auto with_id = [&](Reply r) {
    r.credential_id = credential->id;
    return r;
  };
  switch (credential->state) {
    case CredentialState::kFrozen:
      return with_id(ErrorReply(RemoteError::kCredentialFrozen,
                                code ? "KooGallery froze this authorization code: renew it in "
                                       "KooGallery"
                                     : "the vendor froze this license key"));
    case CredentialState::kReleased:
      return with_id(
          ErrorReply(RemoteError::kCredentialReleased, "this " + noun + " was released (revoked)"));
    case CredentialState::kActive:
      break;
  }
  if (credential->expires_at && *credential->expires_at <= now) {
    return with_id(
        ErrorReply(RemoteError::kCredentialExpired, "this " + noun + " expired at " +
                                                        FormatTime(*credential->expires_at) +
                                                        (code ? ": renew it in KooGallery" : "")));
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
    return with_id(ErrorReply(RemoteError::kSeatLimit, "all " + Plural(grant->seats, "seat") +
                                                           " of this " + noun +
                                                           " are in use by other machines"));
  }
  if (created) {  // the code's first use: report it like the daily sync does
    Credential used = *credential;
    used.seats_used = grant->seats_used;
    ReportUsage(used);
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
    // A code-backed credential: the first refresh after the interval asks the marketplace.
    SyncIfDue(*credential, now);
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

// ---------------------------------------------------------------------------------------------
// Authorization codes (docs/koogallery.md "What the vendor server does").

std::mutex& ActivationService::CodeLock(const std::string& code) {
  return code_locks_[std::hash<std::string>{}(code) % code_locks_.size()];
}

Reply ActivationService::MarketRefusal(const koogallery::MarketAnswer& answer,
                                       const std::string& masked, const char* call) const {
  using koogallery::MarketOutcome;
  switch (answer.outcome) {
    case MarketOutcome::kNotClaimed:
      return ErrorReply(RemoteError::kCodeNotClaimed,
                        "this authorization code has not been received yet: claim it in "
                        "KooGallery first (我的云商店 → 服务监管 / My KooGallery → service "
                        "supervision), then activate again");
    case MarketOutcome::kUnknownCode:
    case MarketOutcome::kInvalidCodeInBatch:
      return ErrorReply(RemoteError::kUnknownCredential,
                        "KooGallery does not know this authorization code");
    case MarketOutcome::kInvalidState:
      return ErrorReply(RemoteError::kCredentialExpired,
                        "KooGallery reports this authorization code as no longer usable (expired "
                        "or released): renew it in KooGallery");
    case MarketOutcome::kAuthFailure:
      MarketLog(
          "%s of %s: the marketplace refused this server's credentials: %s; check "
          "koogallery.open_api.access_key, the SK in secret_key_file, the SK's permissions "
          "and the clock",
          call, masked.c_str(), Describe(answer).c_str());
      return ErrorReply(RemoteError::kInternal,
                        "vendor server misconfigured: the marketplace refused its credentials; "
                        "contact the vendor");
    case MarketOutcome::kInvalidRequest:
      MarketLog("%s of %s: the marketplace refused the request as invalid: %s", call,
                masked.c_str(), Describe(answer).c_str());
      return ErrorReply(RemoteError::kInternal,
                        "vendor server misconfigured: the marketplace refused its request; "
                        "contact the vendor");
    case MarketOutcome::kSuccess:  // without the data it should carry
    case MarketOutcome::kAlreadyActive:
    case MarketOutcome::kNotActivated:
    case MarketOutcome::kTransient:
    case MarketOutcome::kUnknownError:
    case MarketOutcome::kMalformedResponse:
      break;
  }
  MarketLog("%s of %s failed: %s", call, masked.c_str(), Describe(answer).c_str());
  Reply r = ErrorReply(RemoteError::kUnavailable,
                       "KooGallery could not confirm this authorization code right now; try "
                       "again later");
  r.retry_after = kMarketRetryAfter;
  return r;
}

Reply ActivationService::MarketTransportFailure(const Error& error, const std::string& masked,
                                                const char* call) const {
  MarketLog("%s of %s: no answer from the marketplace: %s", call, masked.c_str(),
            error.message.c_str());
  if (error.code == ErrorCode::kUnavailable) {
    Reply r = ErrorReply(RemoteError::kUnavailable,
                         "KooGallery cannot be reached from the vendor's server; try again later");
    r.retry_after = kMarketRetryAfter;
    return r;
  }
  return ErrorReply(RemoteError::kInternal,
                    "vendor server misconfigured: it cannot talk to the marketplace "
                    "(" +
                        std::string(ToString(error.code)) + "); contact the vendor");
}

std::variant<Credential, Reply> ActivationService::ResolveCode(const std::string& code,
                                                               UnixTime now, bool& created) {
  using koogallery::MarketOutcome;
  auto found = store_.FindCredentialByMarketCode(code);
  if (found) return std::move(*found);
  if (found.error().code != ErrorCode::kNotFound) {
    return StoreFailure(found.error(), "find credential");
  }
  if (market_ == nullptr) {
    return ErrorReply(RemoteError::kUnknownCredential,
                      "this server does not accept KooGallery authorization codes");
  }
  // One marketplace activation per code in this process; other processes are kept out by the
  // unique market code in the store (a second insert fails, and the first one's is read).
  std::lock_guard<std::mutex> lock(CodeLock(code));
  found = store_.FindCredentialByMarketCode(code);
  if (found) return std::move(*found);
  if (found.error().code != ErrorCode::kNotFound) {
    return StoreFailure(found.error(), "find credential");
  }
  const std::string masked = MaskCode(code);
  auto activated = market_->Activate(code);
  if (!activated) return MarketTransportFailure(activated.error(), masked, "activate");
  if (activated->outcome != MarketOutcome::kSuccess &&
      activated->outcome != MarketOutcome::kAlreadyActive) {
    return MarketRefusal(*activated, masked, "activate");
  }
  // The query is authoritative for status and expiry; the activation's are an estimate, used
  // only when the query could not be made (then the next use queries again).
  auto queried = market_->Query(code);
  const bool query_ok = queried && queried->outcome == MarketOutcome::kSuccess && queried->info;
  const bool have_estimate =
      activated->outcome == MarketOutcome::kSuccess && activated->info.has_value();
  if (!query_ok) {
    const bool retryable = !queried ? queried.error().code == ErrorCode::kUnavailable
                                    : (koogallery::IsRetryable(queried->outcome) ||
                                       queried->outcome == MarketOutcome::kNotActivated ||
                                       queried->outcome == MarketOutcome::kSuccess);
    if (!(retryable && have_estimate)) {
      return queried ? MarketRefusal(*queried, masked, "query")
                     : MarketTransportFailure(queried.error(), masked, "query");
    }
    MarketLog(
        "query of %s after its activation failed (%s); using the activation's estimate "
        "until the next use",
        masked.c_str(), queried ? Describe(*queried).c_str() : queried.error().message.c_str());
  }
  const koogallery::LicenseInfo* info = query_ok ? &*queried->info : nullptr;
  const koogallery::LicenseCodeInfo* code_info =
      info && info->code_info ? &*info->code_info : (activated->info ? &*activated->info : nullptr);

  // Already active and no seat count known (only the activation's answer carries `amount`): most
  // likely another server process activated it a moment ago and is storing its credential now.
  // Its record is waited for (bounded) rather than racing it with a one-seat guess.
  const bool amount_known = code_info && code_info->amount && *code_info->amount >= 1;
  if (activated->outcome == MarketOutcome::kAlreadyActive && !amount_known) {
    const auto deadline = std::chrono::steady_clock::now() + kOtherProcessWait;
    while (std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
      found = store_.FindCredentialByMarketCode(code);
      if (found) return std::move(*found);
      if (found.error().code != ErrorCode::kNotFound) {
        return StoreFailure(found.error(), "find credential");
      }
    }
  }

  // Which of our products: koogallery.products, else default_product.
  const KooGalleryConfig& kg = *config_.koogallery;
  const std::string market_product = code_info ? code_info->product_id : "";
  std::string product_id = kg.default_product;
  if (auto it = kg.products.find(market_product);
      !market_product.empty() && it != kg.products.end()) {
    product_id = it->second;
  }
  if (product_id.empty() && activated->outcome == MarketOutcome::kAlreadyActive) {
    // Activated, but the marketplace did not say for which product: most likely by another
    // server process that is creating the credential right now. Its record, or try again.
    found = store_.FindCredentialByMarketCode(code);
    if (found) return std::move(*found);
    MarketLog(
        "%s is already active and its answers name no product; if no other server "
        "activated it just now, set koogallery.default_product",
        masked.c_str());
    Reply r = ErrorReply(RemoteError::kUnavailable,
                         "this authorization code is being activated; try again shortly");
    r.retry_after = 5;
    return r;
  }
  if (product_id.empty()) {
    MarketLog(
        "%s is for the marketplace product '%s', which is not in koogallery.products, and "
        "there is no koogallery.default_product",
        masked.c_str(), market_product.c_str());
    return ErrorReply(RemoteError::kUnknownCredential,
                      "this authorization code is for a KooGallery product this server does not "
                      "serve");
  }

  Credential c;
  auto id = RandomId("cred-", 8);
  if (!id) return ErrorReply(RemoteError::kInternal, "no randomness");
  c.id = *id;
  c.product_id = product_id;
  c.seats = 1;
  if (amount_known) c.seats = static_cast<int>(std::min(*code_info->amount, kMaxMarketSeats));
  EntitlementUpdate market;
  if (info) {
    auto expiry = UnixOf(info->expire_time);
    if (!expiry && info->code_info) expiry = UnixOf(info->code_info->expire_time);
    ApplyMarketStatus(info->status, expiry, now, market);
  } else {
    ApplyMarketStatus(code_info->status, UnixOf(code_info->expire_time), now, market);
  }
  c.expires_at = market.expires_at.value_or(std::nullopt);
  c.state = market.state.value_or(CredentialState::kActive);
  c.created_at = now;
  MarketLink link;
  link.code = code;
  link.order_id = code_info ? code_info->order_id : "";
  link.synced_at = query_ok ? now : 0;
  c.market = link;
  if (!link.order_id.empty()) c.customer = "KooGallery order " + link.order_id;
  if (auto stored = store_.CreateCredential(c, AuthorizationCodeHash(code)); !stored) {
    found = store_.FindCredentialByMarketCode(code);  // another server process was first
    if (!found) return StoreFailure(stored.error(), "create credential");
    // Only this process saw the activation's `amount`: a record made without it is corrected.
    if (amount_known && found->seats != c.seats) {
      EntitlementUpdate seats;
      seats.seats = c.seats;
      if (store_.UpdateEntitlement(found->id, seats)) {
        MarketLog("%s: %s had %s; the activation says %s", masked.c_str(), found->id.c_str(),
                  Plural(found->seats, "seat").c_str(), Plural(c.seats, "seat").c_str());
        if (auto again = store_.GetCredential(found->id)) found = std::move(again);
      }
    }
    return std::move(*found);
  }
  created = true;
  MarketLog("activated %s as %s: product %s, %s, %s, %s", masked.c_str(), c.id.c_str(),
            c.product_id.c_str(), Plural(c.seats, "seat").c_str(), ToString(c.state),
            c.expires_at ? ("expires " + FormatTime(*c.expires_at)).c_str() : "no expiry given");
  return c;
}

void ActivationService::SyncIfDue(Credential& credential, UnixTime now) {
  using koogallery::MarketOutcome;
  if (market_ == nullptr || !credential.market) return;
  const UnixTime interval =
      static_cast<UnixTime>(config_.koogallery->open_api->query_interval_hours) * 3600;
  const auto due = [&](const Credential& c) {
    return c.market && now - c.market->synced_at >= interval;
  };
  if (!due(credential)) return;
  const std::string code = credential.market->code;
  {
    std::lock_guard<std::mutex> lock(sync_mu_);
    auto it = sync_retry_at_.find(code);
    if (it != sync_retry_at_.end() && now < it->second) return;
  }
  // Concurrent refreshes of one code: one queries, the others serve the stored entitlement.
  std::unique_lock<std::mutex> lock(CodeLock(code), std::try_to_lock);
  if (!lock.owns_lock()) return;
  auto fresh = store_.GetCredential(credential.id);
  if (!fresh) {
    MarketLog("sync of %s: %s", MaskCode(code).c_str(), fresh.error().message.c_str());
    return;
  }
  credential = std::move(*fresh);
  if (interval > 0 && !due(credential)) return;  // another request has just synced it
  const std::string masked = MaskCode(code);
  const auto retry_later = [&](const std::string& why) {
    MarketLog("sync of %s failed (%s); serving the stored entitlement, next try in %lld s",
              masked.c_str(), why.c_str(), static_cast<long long>(kMarketRetrySeconds));
    std::lock_guard<std::mutex> guard(sync_mu_);
    sync_retry_at_[code] = now + kMarketRetrySeconds;
  };
  auto queried = market_->Query(code);
  if (!queried) return retry_later(queried.error().message);
  EntitlementUpdate update;
  update.market_synced_at = now;
  const MarketOutcome outcome = queried->outcome;
  if (outcome == MarketOutcome::kSuccess && queried->info) {
    const koogallery::LicenseInfo& info = *queried->info;
    auto expiry = UnixOf(info.expire_time);
    if (!expiry && info.code_info) expiry = UnixOf(info.code_info->expire_time);
    ApplyMarketStatus(info.status, expiry, now, update);
    if (info.status == koogallery::CodeStatus::kUnknown) {
      MarketLog("sync of %s: unknown status '%s' (state kept)", masked.c_str(),
                info.status_text.c_str());
    }
    if (info.code_info && info.code_info->amount && *info.code_info->amount >= 1) {
      update.seats = static_cast<int>(std::min(*info.code_info->amount, kMaxMarketSeats));
    }
  } else if (koogallery::IsRetryable(outcome) || outcome == MarketOutcome::kAuthFailure ||
             outcome == MarketOutcome::kSuccess || outcome == MarketOutcome::kUnknownError) {
    return retry_later(Describe(*queried));
  } else {
    // A definite answer that says nothing usable (unknown code, invalid state, not activated):
    // logged for the vendor, the entitlement kept, asked again after the interval.
    MarketLog("sync of %s: %s; the stored entitlement is kept", masked.c_str(),
              Describe(*queried).c_str());
  }
  if (auto updated = store_.UpdateEntitlement(credential.id, update); !updated) {
    return retry_later(updated.error().message);
  }
  {
    std::lock_guard<std::mutex> guard(sync_mu_);
    sync_retry_at_.erase(code);
  }
  if (auto again = store_.GetCredential(credential.id)) credential = std::move(*again);
  if (outcome == MarketOutcome::kSuccess) {
    MarketLog("synced %s (%s): %s, %s", masked.c_str(), credential.id.c_str(),
              ToString(credential.state),
              credential.expires_at ? ("expires " + FormatTime(*credential.expires_at)).c_str()
                                    : "no expiry");
    ReportUsage(credential);
  }
}

void ActivationService::ReportUsage(const Credential& credential) {
  if (market_ == nullptr || !credential.market || !config_.koogallery->open_api->report_usage) {
    return;
  }
  const std::string masked = MaskCode(credential.market->code);
  auto reported = market_->ReportUsage(credential.market->code, credential.seats_used);
  if (!reported) {
    MarketLog("usage report of %s: %s", masked.c_str(), reported.error().message.c_str());
  } else if (reported->outcome != koogallery::MarketOutcome::kSuccess) {
    MarketLog("usage report of %s: %s", masked.c_str(), Describe(*reported).c_str());
  }
}

Reply ActivationService::Health(bool shutting_down) {
  if (shutting_down) return ErrorReply(RemoteError::kUnavailable, "the server is shutting down");
  nlohmann::json j = {
      {"status", "ok"}, {"version", LICAGENT_SERVER_VERSION}, {"time", FormatTime(clock_())}};
  Reply r;
  r.body = j.dump();
  return r;
}

}  // namespace licagent::server
