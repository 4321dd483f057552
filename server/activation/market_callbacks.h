// The KooGallery production interface of licagent-server (docs/koogallery.md "Callbacks"):
// every marketplace callback arrives at one URL (koogallery.callback.path) and is verified
// (§3.2 signature/timestamp/nonce for POSTs, §3.4 authToken for legacy GETs), parsed
// (server/koogallery/callbacks.h), answered from the store when it is a retry of an event
// already answered, and otherwise applied to the store: authorization-code credentials (License
// 2.0), online-license instances with fingerprint-bound licenses (model B) and legacy instances
// backed by a license key (model C). Thread-safe; never throws for bad input; never calls the
// marketplace, so it answers well within the marketplace's 5 s.
#pragma once

#include <chrono>
#include <functional>
#include <string>
#include <string_view>

#include "server/activation/config.h"
#include "server/activation/store.h"
#include "server/koogallery/callbacks.h"
#include "server/koogallery/signing.h"
#include "server/vendor/secret_bytes.h"
#include "server/vendor/signer.h"

namespace licagent::server {

// What the HTTP layer sends back.
struct CallbackReply {
  int status = 200;         // 200 for every request the handler answered (auth failures too)
  std::string body;         // {"resultCode":"…","resultMsg":"…",…}
  std::string body_sign;    // the Body-Sign header value (on every reply)
  std::string result_code;  // for the access log
  std::string allow;        // the Allow header of a 405
};

// Reads the callback access key ("Key") from `path` into wiped memory: at most 4 KiB, surrounding
// white space (a trailing newline) removed. kInvalidArgument if it is empty; file errors as
// vendor::ReadSecretFile.
Result<vendor::SecretBytes> LoadCallbackKey(const std::string& path);

class MarketCallbacks {
 public:
  using Clock = std::function<std::chrono::system_clock::time_point()>;

  // Keeps references: `config` (with koogallery.callback set), `store` and `signing_key` must
  // outlive it. `access_key` is the seller-center Key, kept in wiped memory. `clock` defaults to
  // the system clock.
  MarketCallbacks(const ServerConfig& config, Store& store, const vendor::SigningKey& signing_key,
                  vendor::SecretBytes access_key, Clock clock = nullptr);

  // One request to the callback path: `raw_query` as sent (after '?'), `body` byte-exact.
  // POST: a signed License 2.0 / model-B callback; GET (or HEAD): a legacy callback; anything
  // else 405.
  CallbackReply Handle(std::string_view method, std::string_view raw_query, std::string_view body);

  // A 000002 answer (signed like every other) for a request the HTTP layer refused before the
  // handler saw it (a body over the HTTP limit, a malformed request).
  CallbackReply Refusal(std::string_view message) const;

  struct Outcome;  // what an event did: the answer's code, message and extra members

 private:
  CallbackReply Answer(std::string body) const;
  CallbackReply Dispatch(const koogallery::CallbackEvent& event);
  Outcome Apply(const koogallery::CallbackEvent& event);
  Outcome LicenseCode(const koogallery::CallbackEvent& event);
  Outcome NewInstance(const koogallery::CallbackEvent& event);
  Outcome InstanceChange(const koogallery::CallbackEvent& event);
  Outcome GetLicenseAsync(const koogallery::CallbackEvent& event);
  Outcome GetLicense(const koogallery::CallbackEvent& event);
  Outcome LegacyChange(const koogallery::CallbackEvent& event);
  std::string ProductFor(const std::string& market_product_id) const;
  UnixTime Now() const;

  const ServerConfig& config_;
  const KooGalleryCallbackConfig& callback_;
  Store& store_;
  const vendor::SigningKey& signing_key_;
  vendor::SecretBytes access_key_;
  Clock clock_;
  std::chrono::minutes utc_offset_{0};
  koogallery::NonceCache nonces_;         // §3.2 nonces
  koogallery::NonceCache legacy_tokens_;  // legacy authTokens (no nonce in that scheme)
};

}  // namespace licagent::server
