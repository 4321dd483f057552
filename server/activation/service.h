// The activation service: what each endpoint of docs/protocol.md does, independent of HTTP.
// The HTTP layer (http_server.h) hands it request bodies and sends back its replies. Every
// method is thread-safe and never throws for bad input: refusals are Replies.
#pragma once

#include <array>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <variant>

#include "licagent/license.h"
#include "licagent/protocol.h"
#include "server/activation/config.h"
#include "server/activation/marketplace.h"
#include "server/activation/rate_limiter.h"
#include "server/activation/store.h"
#include "server/vendor/signer.h"

namespace licagent::server {

// An HTTP answer and what the access log records about it.
struct Reply {
  int status = 200;
  std::string body;           // JSON
  int retry_after = 0;        // seconds, for 429; 0 = no Retry-After header
  std::string error_code;     // docs/protocol.md code of a refusal; empty on success
  std::string credential_id;  // never the key
  std::string license_id;
};

// A refusal with the protocol's JSON error body and HTTP status.
Reply ErrorReply(protocol::RemoteError error, std::string_view message);

class ActivationService {
 public:
  using Clock = std::function<UnixTime()>;

  // Keeps references: `config`, `store`, `key` and `marketplace` must outlive the service.
  // `clock` defaults to the system clock. `marketplace` (KooGallery's open API) is needed for
  // authorization codes (docs/koogallery.md "What the vendor server does"); null = codes are
  // refused, and code-backed credentials are served from the store without syncing.
  ActivationService(const ServerConfig& config, Store& store, const vendor::SigningKey& key,
                    Clock clock = nullptr, Marketplace* marketplace = nullptr);

  Reply Activate(std::string_view body);    // POST /v1/activate
  Reply Refresh(std::string_view body);     // POST /v1/refresh
  Reply Deactivate(std::string_view body);  // POST /v1/deactivate
  Reply Offline(std::string_view body);     // POST /v1/offline
  Reply Health(bool shutting_down);         // GET /v1/health

  // The per-address limit, taken for every request. A 429 Reply if `address` is over it,
  // nullopt otherwise.
  std::optional<Reply> LimitAddress(const std::string& address);

 private:
  struct Charge;  // a seat request: credential key, product, machine, nonce, version
  Reply ChargeSeat(const Charge& charge);
  Reply SeatCommand(std::string_view body, bool deactivate);
  std::optional<Reply> CheckVersion(const std::string& agent_version) const;
  Result<std::string> Sign(const Credential& credential, const Seat& seat,
                           const ProductConfig& product, LicenseStatus status,
                           const std::optional<std::string>& nonce, UnixTime now) const;
  Reply LicenseReply(const std::string& license, int seats, int seats_used) const;
  Reply StoreFailure(const Error& error, std::string_view what) const;

  // KooGallery authorization codes (service.cpp, "Authorization codes").
  // The credential of `code`; the first time, activates and queries it with the marketplace and
  // creates it (`created` set). A Reply is a refusal.
  std::variant<Credential, Reply> ResolveCode(const std::string& code, UnixTime now, bool& created);
  // Queries the marketplace for a code-backed credential last synced over the interval ago,
  // updates the stored entitlement and `credential`, reports usage. Never fails the request.
  void SyncIfDue(Credential& credential, UnixTime now);
  void ReportUsage(const Credential& credential);
  Reply MarketRefusal(const koogallery::MarketAnswer& answer, const std::string& masked,
                      const char* call) const;
  Reply MarketTransportFailure(const Error& error, const std::string& masked,
                               const char* call) const;
  std::mutex& CodeLock(const std::string& code);

  const ServerConfig& config_;
  Store& store_;
  const vendor::SigningKey& key_;
  Clock clock_;
  RateLimiter per_credential_;
  RateLimiter per_address_;
  Marketplace* market_;
  // One marketplace activation per code, one query per code at a time (striped by code).
  std::array<std::mutex, 64> code_locks_;
  std::mutex sync_mu_;
  std::map<std::string, UnixTime> sync_retry_at_;  // code → no sync before (after a failure)
};

}  // namespace licagent::server
