// The KooGallery callbacks applied to the store. Order for every request: method, signature
// (000001), parameters (000002), a stored answer for a retried event, then the effect. Only
// successful answers are recorded, so a failed event is tried afresh on the next retry.
#include "server/activation/market_callbacks.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <utility>

#include "server/activation/credential_key.h"
#include "server/vendor/files.h"

namespace licagent::server {
namespace {

namespace result = koogallery::result;
using koogallery::Activity;
using koogallery::CallbackAnswer;
using koogallery::CallbackEvent;

constexpr UnixTime kDay = 86400;
constexpr std::size_t kMaxKeyFile = 4096;

UnixTime ToUnix(std::chrono::system_clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
}

std::optional<UnixTime> ExpireOf(const CallbackEvent& event) {
  if (!event.expire_time) return std::nullopt;
  return ToUnix(*event.expire_time);
}

bool IsSpace(unsigned char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

}  // namespace

// What an event did: the answer's code, message and extra members.
struct MarketCallbacks::Outcome {
  std::string_view code = result::kSuccess;
  std::string message = "success.";
  std::vector<std::pair<std::string, std::string>> extra;
};

Result<vendor::SecretBytes> LoadCallbackKey(const std::string& path) {
  auto key = vendor::ReadSecretFile(path, kMaxKeyFile);
  if (!key) return key.error();
  std::size_t begin = 0;
  std::size_t end = key->size();
  while (begin < end && IsSpace(key->data()[begin])) ++begin;
  while (end > begin && IsSpace(key->data()[end - 1])) --end;
  if (begin == end) {
    return Error{ErrorCode::kInvalidArgument, path + ": the callback access key file is empty"};
  }
  std::memmove(key->data(), key->data() + begin, end - begin);
  key->set_size(end - begin);
  return key;
}

MarketCallbacks::MarketCallbacks(const ServerConfig& config, Store& store,
                                 const vendor::SigningKey& signing_key,
                                 vendor::SecretBytes access_key, Clock clock)
    : config_(config),
      callback_(*config.koogallery->callback),
      store_(store),
      signing_key_(signing_key),
      access_key_(std::move(access_key)),
      clock_(clock ? std::move(clock) : Clock([] { return std::chrono::system_clock::now(); })),
      // A timestamp may be up to a window ahead of the clock: keep nonces for two windows.
      nonces_(std::chrono::milliseconds(2000LL * callback_.window_seconds)),
      legacy_tokens_(std::chrono::milliseconds(
          2000LL * (callback_.legacy_window_seconds > 0 ? callback_.legacy_window_seconds : 300))) {
  if (config.koogallery->open_api) {
    utc_offset_ = std::chrono::minutes(config.koogallery->open_api->utc_offset_minutes);
  }
}

UnixTime MarketCallbacks::Now() const { return ToUnix(clock_()); }

CallbackReply MarketCallbacks::Answer(std::string body) const {
  CallbackReply r;
  r.result_code = koogallery::AnswerResultCode(body);
  r.body_sign = koogallery::BodySignHeaderValue(access_key_.view(), body);
  r.body = std::move(body);
  return r;
}

CallbackReply MarketCallbacks::Refusal(std::string_view message) const {
  return Answer(CallbackAnswer(result::kIllegalParameter, message));
}

CallbackReply MarketCallbacks::Handle(std::string_view method, std::string_view raw_query,
                                      std::string_view body) {
  const auto params = koogallery::ParseQueryString(raw_query);
  const auto param = [&](std::string_view name) -> std::string_view {
    for (const auto& [n, v] : params) {
      if (n == name) return v;
    }
    return {};
  };
  const auto now = clock_();
  if (method == "POST") {
    koogallery::CallbackVerifyOptions options;
    options.window = std::chrono::seconds(callback_.window_seconds);
    const auto auth = koogallery::VerifyCallback(
        access_key_.view(), {param("signature"), param("timestamp"), param("nonce"), body}, now,
        options, &nonces_);
    if (!auth) {
      return Answer(CallbackAnswer(result::kAuthFailed,
                                   std::string("authentication failed: ") + ToString(auth.error)));
    }
    auto event = koogallery::ParseCallbackBody(body, utc_offset_);
    if (!event) return Answer(CallbackAnswer(result::kIllegalParameter, event.error().message));
    return Dispatch(*event);
  }
  if (method == "GET" || method == "HEAD") {
    koogallery::LegacyVerifyOptions options;
    if (callback_.legacy_window_seconds > 0) {
      options.window = std::chrono::seconds(callback_.legacy_window_seconds);
    }
    auto auth = koogallery::VerifyLegacyAuthToken(access_key_.view(), params, now, options);
    // No nonce in this scheme: a byte-identical request repeats its authToken.
    if (auth == koogallery::LegacyAuthError::kNone &&
        !legacy_tokens_.Insert(std::string(param("authToken")), now)) {
      return Answer(
          CallbackAnswer(result::kAuthFailed, "authentication failed: replayed authToken"));
    }
    if (auth != koogallery::LegacyAuthError::kNone) {
      return Answer(CallbackAnswer(result::kAuthFailed,
                                   std::string("authentication failed: ") + ToString(auth)));
    }
    auto event = koogallery::ParseLegacyCallback(params, utc_offset_);
    if (!event) return Answer(CallbackAnswer(result::kIllegalParameter, event.error().message));
    return Dispatch(*event);
  }
  CallbackReply r =
      Answer(CallbackAnswer(result::kIllegalParameter, "the callback URL takes POST and GET, not " +
                                                           std::string(method.substr(0, 16))));
  r.status = 405;
  r.allow = "GET, POST";
  return r;
}

CallbackReply MarketCallbacks::Dispatch(const CallbackEvent& event) {
  const auto key = koogallery::IdempotencyKey(event);
  if (key) {
    auto stored = store_.FindMarketEvent(*key);
    if (stored) return Answer(std::move(*stored));
    if (stored.error().code != ErrorCode::kNotFound) {
      std::fprintf(stderr, "licagent-server: store failure (koogallery event): %s\n",
                   stored.error().message.c_str());
      return Answer(CallbackAnswer(result::kInternalError, "the server could not read its store"));
    }
  }
  Outcome outcome = Apply(event);
  std::string answer = CallbackAnswer(outcome.code, outcome.message, outcome.extra);
  if (key && outcome.code == result::kSuccess) {
    auto kept = store_.RecordMarketEvent(*key, ToString(event.activity), answer, Now());
    if (!kept) {
      std::fprintf(stderr, "licagent-server: store failure (koogallery event): %s\n",
                   kept.error().message.c_str());
      return Answer(CallbackAnswer(result::kInternalError, "the server could not write its store"));
    }
    answer = std::move(*kept);  // a concurrent duplicate may have answered first
  }
  return Answer(std::move(answer));
}

MarketCallbacks::Outcome MarketCallbacks::Apply(const CallbackEvent& event) {
  switch (event.activity) {
    case Activity::kRefreshLicenseCode:
    case Activity::kUpdateLicenseCodeStatus:
    case Activity::kReleaseLicenseCode:
      return LicenseCode(event);
    case Activity::kNewInstance:
      return NewInstance(event);
    case Activity::kRefreshInstance:
    case Activity::kUpdateInstanceStatus:
    case Activity::kReleaseInstance:
      return InstanceChange(event);
    case Activity::kGetLicenseAsync:
      return GetLicenseAsync(event);
    case Activity::kGetLicense:
      return GetLicense(event);
    case Activity::kRefreshLicense:
    case Activity::kExpireLicense:
    case Activity::kReleaseLicense:
      return LegacyChange(event);
  }
  return Outcome{result::kIllegalParameter, "unknown activity", {}};
}

namespace {

// The state a status/release event leads to from `current`. Released is final: the
// marketplace never revives a released resource, so a late FREEZE or UNFREEZE leaves it.
CredentialState NextState(const CallbackEvent& event, CredentialState current) {
  switch (event.activity) {
    case Activity::kReleaseLicenseCode:
    case Activity::kReleaseInstance:
    case Activity::kReleaseLicense:
      return CredentialState::kReleased;
    case Activity::kExpireLicense:
      return current == CredentialState::kReleased ? current : CredentialState::kFrozen;
    case Activity::kUpdateLicenseCodeStatus:
    case Activity::kUpdateInstanceStatus:
      if (current == CredentialState::kReleased) return current;
      return event.Field("status") == "FREEZE" ? CredentialState::kFrozen
                                               : CredentialState::kActive;
    default:
      return current;
  }
}

MarketCallbacks::Outcome StoreFailed(const Error& error, const char* what) {
  std::fprintf(stderr, "licagent-server: store failure (koogallery %s): %s\n", what,
               error.message.c_str());
  return {result::kInternalError, "the server could not read or write its store", {}};
}

}  // namespace

MarketCallbacks::Outcome MarketCallbacks::LicenseCode(const CallbackEvent& event) {
  const std::string& code = event.Field("license");
  auto credential = store_.FindCredentialByMarketCode(code);
  if (!credential && credential.error().code != ErrorCode::kNotFound) {
    return StoreFailed(credential.error(), "find code");
  }
  if (!credential) {
    // Not activated here yet (§5 has no purchase callback: the server learns of a code at its
    // first activation). Remembered, so that activation starts from it; a test request leaves
    // nothing behind.
    if (event.test) return {result::kSuccess, "test request: code not activated here", {}};
    PendingMarketCode pending;
    pending.code = code;
    pending.updated_at = Now();
    pending.market_product_id = event.Field("productId");
    if (event.activity == Activity::kRefreshLicenseCode) {
      pending.expires_at = ExpireOf(event);
    } else {
      auto previous = store_.FindPendingMarketCode(code);
      const CredentialState from =
          previous && previous->state ? *previous->state : CredentialState::kActive;
      pending.state = NextState(event, from);
    }
    if (auto s = store_.RememberMarketCode(pending); !s) return StoreFailed(s.error(), "remember");
    return {result::kSuccess, "success: code not activated yet, remembered for its activation", {}};
  }
  if (event.test && !(credential->market && credential->market->test)) {
    return {result::kSuccess, "test request: the real code was not changed", {}};
  }
  EntitlementUpdate update;
  if (event.activity == Activity::kRefreshLicenseCode) {
    update.expires_at = ExpireOf(event);
  } else {
    update.state = NextState(event, credential->state);
  }
  if (auto s = store_.UpdateEntitlement(credential->id, update); !s) {
    return StoreFailed(s.error(), "update code");
  }
  return {};
}

std::string MarketCallbacks::ProductFor(const std::string& market_product_id) const {
  const KooGalleryConfig& k = *config_.koogallery;
  if (!market_product_id.empty()) {
    const auto it = k.products.find(market_product_id);
    if (it != k.products.end()) return it->second;
  }
  return k.default_product;
}

MarketCallbacks::Outcome MarketCallbacks::NewInstance(const CallbackEvent& event) {
  const auto model = MarketInstance::Model::kOnline;
  const std::string& order = event.Field("orderId");
  const std::string& line = event.Field("orderLineId");
  auto existing = store_.FindMarketInstanceByOrder(model, event.test, order, line);
  if (existing) return {result::kSuccess, "success.", {{"instanceId", existing->instance_id}}};
  if (existing.error().code != ErrorCode::kNotFound) {
    return StoreFailed(existing.error(), "find instance");
  }
  // newInstance names no product: the instance sells koogallery.default_product until a
  // refreshInstance names a mapped productId.
  const std::string product = ProductFor("");
  if (product.empty()) {
    std::fprintf(stderr,
                 "licagent-server: koogallery newInstance refused: koogallery.default_product "
                 "is not set\n");
    return {result::kInternalError, "no product configured for marketplace instances", {}};
  }
  auto id = RandomId("kgi-", 8);
  if (!id) return {result::kInternalError, "no randomness", {}};
  MarketInstance instance;
  instance.instance_id = *id;
  instance.model = model;
  instance.test = event.test;
  instance.order_id = order;
  instance.order_line_id = line;
  instance.product_id = product;
  instance.created_at = instance.updated_at = Now();
  if (auto s = store_.CreateMarketInstance(instance); !s) {
    // A concurrent retry of the same order created it first.
    auto again = store_.FindMarketInstanceByOrder(model, event.test, order, line);
    if (!again) return StoreFailed(s.error(), "create instance");
    instance.instance_id = again->instance_id;
  }
  return {result::kSuccess, "success.", {{"instanceId", instance.instance_id}}};
}

MarketCallbacks::Outcome MarketCallbacks::InstanceChange(const CallbackEvent& event) {
  auto instance = store_.GetMarketInstance(event.Field("instanceId"));
  if (!instance && instance.error().code != ErrorCode::kNotFound) {
    return StoreFailed(instance.error(), "get instance");
  }
  if (!instance || instance->model != MarketInstance::Model::kOnline) {
    return {result::kNotFound, "no such instance", {}};
  }
  if (event.test && !instance->test) {
    return {result::kSuccess, "test request: the real instance was not changed", {}};
  }
  InstanceUpdate update;
  if (event.activity == Activity::kRefreshInstance) {
    update.expires_at = ExpireOf(event);
    if (const std::string& p = event.Field("productId"); !p.empty()) {
      update.market_product_id = p;
      const auto it = config_.koogallery->products.find(p);
      if (it != config_.koogallery->products.end()) update.product_id = it->second;
    }
  } else {
    update.state = NextState(event, instance->state);
  }
  if (auto s = store_.UpdateMarketInstance(instance->instance_id, update, Now()); !s) {
    return StoreFailed(s.error(), "update instance");
  }
  return {};
}

MarketCallbacks::Outcome MarketCallbacks::GetLicenseAsync(const CallbackEvent& event) {
  auto instance = store_.GetMarketInstance(event.Field("instanceId"));
  if (!instance && instance.error().code != ErrorCode::kNotFound) {
    return StoreFailed(instance.error(), "get instance");
  }
  if (!instance || instance->model != MarketInstance::Model::kOnline ||
      instance->state == CredentialState::kReleased) {
    return {result::kNotFound, "no such instance", {}};
  }
  if (event.test && !instance->test) {
    return {result::kSuccess, "test request: no license issued for a real instance", {}};
  }
  if (instance->state == CredentialState::kFrozen) {
    return {result::kOutsideValidity, "the instance is frozen", {}};
  }
  const std::string& fingerprint = event.Field("deviceFingerprint");
  if (fingerprint.empty()) {
    return {result::kNeedsFingerprint, "a device fingerprint is required", {}};
  }
  auto identifier = IdentifierFromKooGalleryFingerprint(fingerprint);
  if (!identifier) return {result::kNeedsFingerprint, identifier.error().message, {}};
  const ProductConfig* product = config_.FindProduct(instance->product_id);
  if (product == nullptr) {
    return {result::kInternalError, "the instance's product is not configured", {}};
  }
  const UnixTime now = Now();
  std::optional<UnixTime> expires = ExpireOf(event);
  if (!expires) expires = instance->expires_at;
  if (expires && *expires <= now) {
    return {result::kOutsideValidity, "the instance's validity has ended", {}};
  }
  auto license_id = RandomId("lic-", 8);
  if (!license_id) return {result::kInternalError, "no randomness", {}};
  LicensePayload p;
  p.license_id = *license_id;
  p.product_id = product->id;
  p.key_id = config_.signing_key_id;
  p.order_id = instance->order_id;
  p.instance_id = instance->instance_id;
  p.customer = instance->customer_id.empty() ? instance->instance_id : instance->customer_id;
  p.binding = Binding{*identifier, product->match};
  p.issued_at = now;
  p.server_time = now;
  // From effectiveTime, but at least a day back for a customer clock behind the server's.
  p.not_before = now - kDay;
  if (event.effective_time) p.not_before = std::min(p.not_before, ToUnix(*event.effective_time));
  if (expires && p.not_before >= *expires) p.not_before = *expires - 1;
  p.expires_at = expires;
  // No refresh_by: there is no seat to refresh; ISCDesk asks again (a new eventId) when the
  // software starts.
  p.status = LicenseStatus::kActive;
  p.entitlements.seats = 1;
  auto license = vendor::IssueLicense(signing_key_, p);
  if (!license) {
    std::fprintf(stderr, "licagent-server: signing failed: %s\n", license.error().message.c_str());
    return {result::kInternalError, "the server could not sign the license", {}};
  }
  return {result::kSuccess, "success.", {{"license", *license}}};
}

MarketCallbacks::Outcome MarketCallbacks::GetLicense(const CallbackEvent& event) {
  const auto model = MarketInstance::Model::kLegacy;
  const std::string& order = event.Field("orderId");
  if (auto existing = store_.FindMarketInstanceByOrder(model, event.test, order, ""); existing) {
    // Created, but its answer (the key) was not recorded: the key cannot be shown again.
    std::fprintf(stderr,
                 "licagent-server: koogallery getLicense: instance %s of this order has no "
                 "recorded answer; release it and deliver a new key by hand\n",
                 existing->instance_id.c_str());
    return {result::kInternalError, "the instance exists but its license was lost", {}};
  }
  std::string product_id = ProductFor(event.Field("productId"));
  if (config_.koogallery->products.count(event.Field("productId")) == 0 &&
      config_.koogallery->products.count(event.Field("skuCode")) != 0) {
    product_id = config_.koogallery->products.at(event.Field("skuCode"));
  }
  const ProductConfig* product = config_.FindProduct(product_id);
  if (product == nullptr) {
    std::fprintf(stderr,
                 "licagent-server: koogallery getLicense refused: no licagent product for "
                 "marketplace product '%s' (koogallery.products, default_product)\n",
                 event.Field("productId").c_str());
    return {result::kInternalError, "no product configured for this marketplace product", {}};
  }
  const UnixTime now = Now();
  Credential c;
  auto id = RandomId("cred-", 8);
  auto instance_id = RandomId("kgi-", 8);
  auto key = NewCredentialKey();
  if (!id || !instance_id || !key) return {result::kInternalError, "no randomness", {}};
  const auto key_hash = CredentialKeyHash(key->view());
  if (!key_hash) return {result::kInternalError, "bad key", {}};
  c.id = *id;
  c.product_id = product->id;
  c.customer =
      event.Field("customerName").empty() ? event.Field("customerId") : event.Field("customerName");
  if (event.test) c.customer = "KooGallery test order " + order;
  c.seats = product->seats;
  if (const std::string& amount = event.Field("amount"); !amount.empty()) {
    // At most 10 digits (parsed): no overflow in 64 bits.
    c.seats =
        static_cast<int>(std::clamp(std::strtoll(amount.c_str(), nullptr, 10), 1LL, 1000000LL));
  }
  c.expires_at = ExpireOf(event);
  if (!c.expires_at && product->default_validity_days > 0) {
    c.expires_at = now + static_cast<UnixTime>(product->default_validity_days) * kDay;
  }
  // A test order's key works for a day at most: it must not become a free real license.
  if (event.test) c.expires_at = std::min(c.expires_at.value_or(now + kDay), now + kDay);
  c.state = CredentialState::kActive;
  c.created_at = now;
  if (auto s = store_.CreateCredential(c, *key_hash); !s) {
    return StoreFailed(s.error(), "create credential");
  }
  MarketInstance instance;
  instance.instance_id = *instance_id;
  instance.model = model;
  instance.test = event.test;
  instance.order_id = order;
  instance.market_product_id = event.Field("productId");
  instance.product_id = product->id;
  instance.customer_id = event.Field("customerId");
  instance.credential_id = c.id;
  instance.expires_at = c.expires_at;
  instance.created_at = instance.updated_at = now;
  if (auto s = store_.CreateMarketInstance(instance); !s) {
    // The key was never delivered: retire its credential (best effort; logged either way).
    if (auto released = store_.SetCredentialState(c.id, CredentialState::kReleased); !released) {
      std::fprintf(stderr, "licagent-server: cannot retire %s: %s\n", c.id.c_str(),
                   released.error().message.c_str());
    }
    return StoreFailed(s.error(), "create instance");
  }
  // The key travels in the answer, which is recorded so that a retry gets the same key: the one
  // place a license key is kept in the database (docs/koogallery.md).
  return {result::kSuccess,
          "success.",
          {{"instanceId", instance.instance_id}, {"license", std::string(key->view())}}};
}

MarketCallbacks::Outcome MarketCallbacks::LegacyChange(const CallbackEvent& event) {
  auto instance = store_.GetMarketInstance(event.Field("instanceId"));
  if (!instance && instance.error().code != ErrorCode::kNotFound) {
    return StoreFailed(instance.error(), "get instance");
  }
  if (!instance || instance->model != MarketInstance::Model::kLegacy) {
    return {result::kNotFound, "no such instance", {}};
  }
  if (event.test && !instance->test) {
    return {result::kSuccess, "test request: the real instance was not changed", {}};
  }
  InstanceUpdate update;
  EntitlementUpdate entitlement;
  if (event.activity == Activity::kRefreshLicense) {
    update.expires_at = ExpireOf(event);
    entitlement.expires_at = ExpireOf(event);
  } else {
    update.state = NextState(event, instance->state);
    entitlement.state = update.state;
  }
  const UnixTime now = Now();
  if (auto s = store_.UpdateMarketInstance(instance->instance_id, update, now); !s) {
    return StoreFailed(s.error(), "update instance");
  }
  if (!instance->credential_id.empty()) {
    if (auto s = store_.UpdateEntitlement(instance->credential_id, entitlement); !s) {
      return StoreFailed(s.error(), "update credential");
    }
  }
  return {};
}

}  // namespace licagent::server
