// Callbacks from the marketplace to the vendor's production URL (reference/koogallery.md §5-§7):
// the License 2.0 and online-license (model B) POSTs signed with signature/timestamp/nonce
// (§3.2), the legacy GETs signed with authToken whose replies must carry a valid Body-Sign
// (§3.4), each delivered by one worker thread with the marketplace's retry schedule, and kept
// in memory (with every attempt) for the admin endpoints and the tests to inspect.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "server/marketsim/config.h"

namespace licagent::marketsim {

enum class CallbackModel {
  kSigned,  // POST JSON, ?signature=&timestamp=&nonce= (License 2.0, model B)
  kLegacy,  // GET, query parameters + timeStamp + authToken, reply signed with Body-Sign
};

// Deliberate faults, for testing the vendor's rejection paths.
enum class Tamper {
  kNone,
  kBadSignature,    // a signature / authToken that does not verify
  kStaleTimestamp,  // timestamp (timeStamp) 10 minutes in the past, correctly signed
  kReplay,          // copies share one nonce + timestamp: byte-identical requests
};
std::optional<Tamper> ParseTamper(std::string_view name);  // "none", "bad_signature", ...

struct ActivityInfo {
  CallbackModel model;
  RetryPolicy RetryConfig::*retry;  // its family's schedule
  bool async_ok;                    // resultCode 000004 ("processing") counts as delivered
  bool fresh_business_id;           // a new businessId on every request, retries included
};
// The activities of §5 (refreshLicenseCode, updateLicenseCodeStatus, releaseLicenseCode), §6
// (newInstance, refreshInstance, updateInstanceStatus, releaseInstance, getLicenseAsync) and §7
// (getLicense, refreshLicense, expireLicense, releaseLicense); nullopt for anything else.
std::optional<ActivityInfo> LookupActivity(std::string_view activity);

struct CallbackSpec {
  nlohmann::json fields;  // the body (or query parameters), "activity" included
  RetryPolicy retry;
  Tamper tamper = Tamper::kNone;
  // Set for kReplay copies: the shared nonce and timestamp.
  std::string fixed_nonce;
  std::string fixed_timestamp;
};

struct Attempt {
  std::int64_t at_ms = 0;  // UNIX milliseconds
  int http_status = 0;     // 0: no HTTP answer
  std::string result_code;
  std::string error;  // why it counts as failed; "" when delivered
};

enum class DeliveryState { kPending, kDelivered, kFailed };

struct Delivery {
  std::uint64_t id = 0;
  CallbackSpec spec;
  CallbackModel model = CallbackModel::kSigned;
  bool async_ok = false;
  bool fresh_business_id = false;
  DeliveryState state = DeliveryState::kPending;
  std::vector<Attempt> attempts;
  std::string last_reply;  // body of the last HTTP answer
  std::chrono::steady_clock::time_point next;
};

nlohmann::json ToJson(const Delivery& delivery);

// One attempt on the wire.
struct WireRequest {
  std::string method;  // POST or GET
  std::string target;  // path?query
  std::string body;    // POST only
};

// Builds an attempt: `base_target` is the production URL's path[?query]; `now_ms` UNIX ms.
WireRequest PrepareAttempt(const Delivery& delivery, const std::string& base_target,
                           const std::string& key, std::int64_t now_ms);

struct WireResponse {
  int status = 0;  // 0: transport failure
  std::string body;
  std::string body_sign;  // the Body-Sign header, "" when absent
  std::string error;      // transport failure
};

// Whether an answer counts as delivered (HTTP 200, a resultCode of 000000 — or 000004 where
// asynchronous answers are allowed — and, for legacy GETs, a Body-Sign that verifies).
// Fills `attempt`'s status, result_code and error.
bool Judge(const Delivery& delivery, const WireResponse& response, const std::string& key,
           Attempt& attempt);

using Transport = std::function<WireResponse(const WireRequest&)>;

// HTTPS to the configured vendor URL (TLS >= 1.2, certificate verified against ca_bundle,
// vendor.timeout_ms for connect/read/write).
Transport HttpsTransport(const VendorConfig& vendor);

// "path?query" of an https:// URL; "" if it is not one.
std::string UrlTarget(const std::string& url);

class Dispatcher {
 public:
  using MillisClock = std::function<std::int64_t()>;  // UNIX ms, for the signatures

  Dispatcher(VendorConfig vendor, Transport transport, MillisClock clock);
  ~Dispatcher();
  Dispatcher(const Dispatcher&) = delete;
  Dispatcher& operator=(const Dispatcher&) = delete;

  void Start();
  // Abandons pending retries and joins the worker.
  void Stop();

  std::uint64_t Enqueue(CallbackSpec spec);
  std::optional<Delivery> Get(std::uint64_t id) const;
  std::vector<Delivery> List() const;
  // Blocks until every delivery in `ids` is no longer pending, `timeout` passes or Stop().
  void Wait(const std::vector<std::uint64_t>& ids, std::chrono::milliseconds timeout) const;

 private:
  void Run();

  const VendorConfig vendor_;
  const std::string base_target_;
  Transport transport_;
  MillisClock clock_;
  mutable std::mutex mu_;
  mutable std::condition_variable cv_;
  std::map<std::uint64_t, Delivery> deliveries_;
  std::uint64_t next_id_ = 1;
  bool stop_ = false;
  std::thread worker_;
};

}  // namespace licagent::marketsim
