// The KooGallery open API for License 2.0 (reference/koogallery.md §4): request builders,
// strict-but-tolerant response parsers and a client that signs with SDK-HMAC-SHA256 and talks
// through a Transport (so it runs against canned responses in tests, and libcurl or
// cpp-httplib with strict TLS in the server). Decisions are made on `error_code`, never on the
// HTTP status; unknown fields and codes are tolerated (§4.5). See docs/koogallery.md.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "licagent/result.h"
#include "server/koogallery/signing.h"

namespace licagent::koogallery {

inline constexpr std::string_view kPrimaryHost = "mkt.myhuaweicloud.com";
inline constexpr std::string_view kFallbackHost = "mkt.myhuaweicloud.cn";  // "retry with .cn"
inline constexpr std::string_view kActivateV1Path =
    "/api/mkp-openapi-public/global/v1/license/activate";
inline constexpr std::string_view kActivateV2Path =
    "/api/mkp-openapi-public/global/v2/license/activate";
inline constexpr std::string_view kQueryV1Path =
    "/api/mkp-openapi-public/global/v1/license/heartbeat";
inline constexpr std::string_view kQueryV2Path =
    "/api/mkp-openapi-public/global/v2/license/heartbeat";
inline constexpr std::string_view kUsagePath =
    "/api/mkp-openapi-public/global/v2/license/software-usage-info";
inline constexpr std::size_t kMaxBatch = 100;  // codes per v2 call, reports per usage call

enum class Operation { kActivate, kQuery, kUsage };

// What a marketplace answer means for the vendor server (and, through it, the agent). A closed
// set: every code of §4.6, the gateway's and any unknown code land in exactly one.
enum class MarketOutcome {
  kSuccess,             // 92020000
  kAlreadyActive,       // 92020003 on activate: treat as activated, then query to confirm
  kInvalidState,        // 92020003 elsewhere: the code is in a state that forbids the call
  kNotClaimed,          // 92020004: the buyer has not received (领取) the code yet
  kUnknownCode,         // 92020005: no such code
  kNotActivated,        // 92020011: query/usage before activation
  kInvalidCodeInBatch,  // 92020020: at least one code of a batch is invalid
  kInvalidRequest,      // 92020002, 95000001-95000004: our request is wrong (a bug or bad input)
  kAuthFailure,         // APIGW.030x, 92020001 "Unauthorized": AK/SK, clock or permission problem
  kTransient,           // 92020001 internal error, gateway throttling, 5xx without a code: retry
  kUnknownError,        // any other code: a generic failure (§4.5)
  kMalformedResponse,   // no parseable envelope
};
const char* ToString(MarketOutcome outcome) noexcept;
// True for outcomes worth retrying later unchanged (kTransient, kMalformedResponse).
bool IsRetryable(MarketOutcome outcome) noexcept;

// Maps an answer to an outcome. `error_msg` and `http_status` are consulted only to split the
// reused code 92020001 (auth failure when the message says "unauthorized" or the status is
// 401/403, else an internal error) and to classify an answer without any error_code (5xx →
// kTransient, otherwise kMalformedResponse).
MarketOutcome ClassifyResult(Operation op, std::string_view error_code, std::string_view error_msg,
                             int http_status);

// Status of an authorization code as the marketplace reports it.
enum class CodeStatus { kAlive, kExpired, kReleased, kFrozen, kUnknown };
CodeStatus ParseCodeStatus(std::string_view status) noexcept;  // case-insensitive
const char* ToString(CodeStatus status) noexcept;

// A marketplace time (yyyyMMddHHmmss). `raw` as sent; `utc` when it parses, read in the
// marketplace's time zone (MarketClock::utc_offset, UTC by default — [UNKNOWN] in the docs).
struct MarketTime {
  std::string raw;
  std::optional<std::chrono::system_clock::time_point> utc;
};
// Parses yyyyMMddHHmmss (also tolerated: 13-digit epoch milliseconds and 10-digit seconds).
MarketTime ParseMarketTime(std::string_view text, std::chrono::minutes utc_offset);

// `license_code_info` of activate: a JSON document sent as a string.
struct LicenseCodeInfo {
  std::string status_text;  // e.g. "ALIVE"
  CodeStatus status = CodeStatus::kUnknown;
  MarketTime expire_time;  // an estimate: the query answer is authoritative
  std::string product_id;
  std::string order_id;
  std::optional<std::int64_t> amount;  // number of seats; a JSON number (digit strings tolerated)
};

// One code's data from query (`LicenseInfo`; new fields may appear at any time).
struct LicenseInfo {
  std::string license_code;
  std::string status_text;
  CodeStatus status = CodeStatus::kUnknown;
  MarketTime activate_time;
  std::optional<MarketTime> expire_time;     // key not documented: expire_time/expireTime/…
  std::optional<LicenseCodeInfo> code_info;  // if the answer embeds a license_code_info
  std::vector<std::string> unknown_fields;   // names of fields not understood (for logs)
};

// The envelope every answer shares.
struct MarketAnswer {
  MarketOutcome outcome = MarketOutcome::kMalformedResponse;
  int http_status = 0;
  std::string error_code;  // "" if absent
  std::string error_msg;
  std::string request_id;  // gateway answers carry one
};

struct ActivateAnswer : MarketAnswer {
  std::optional<LicenseCodeInfo> info;  // v1 success
};

// v2 activate and v2 query: per-code entries when the answer has a recognisable list
// ([UNKNOWN] shape: data itself, or data.{license_list,licenses,results,items,list}).
struct BatchEntry {
  std::string license;
  std::string error_code;  // per-code code, if given
  std::string error_msg;
  std::optional<LicenseCodeInfo> code_info;
  std::optional<LicenseInfo> info;
};
struct BatchAnswer : MarketAnswer {
  std::vector<BatchEntry> entries;
};

struct QueryAnswer : MarketAnswer {
  std::optional<LicenseInfo> info;  // v1 success
};

struct UsageAnswer : MarketAnswer {
  std::vector<std::string> failed_licenses;  // from data.check_fail_* ([UNKNOWN] shape)
};

// Parsers: never throw, never fail — a body that is not the envelope is kMalformedResponse (or
// kTransient for a 5xx). `utc_offset` is the marketplace time zone for times in the answer.
ActivateAnswer ParseActivateV1Response(int http_status, std::string_view body,
                                       std::chrono::minutes utc_offset = {});
BatchAnswer ParseBatchResponse(Operation op, int http_status, std::string_view body,
                               std::chrono::minutes utc_offset = {});
QueryAnswer ParseQueryV1Response(int http_status, std::string_view body,
                                 std::chrono::minutes utc_offset = {});
UsageAnswer ParseUsageResponse(int http_status, std::string_view body);
// license_code_info's string, parsed (an object is tolerated too). nullopt if not JSON.
std::optional<LicenseCodeInfo> ParseLicenseCodeInfo(std::string_view json_text,
                                                    std::chrono::minutes utc_offset = {});

// Request bodies. Errors: kInvalidArgument (empty or over-long code, more than kMaxBatch codes,
// a real_effect_time that is not yyyyMMddHHmmss, a usage entry without exactly one of id and
// active_num).
Result<std::string> BuildActivateV1Body(std::string_view license,
                                        std::string_view real_effect_time = {});
Result<std::string> BuildActivateV2Body(const std::vector<std::string>& licenses,
                                        std::string_view real_effect_time = {});
struct HeartbeatInfo {
  std::string third_party_account;  // e.g. the device code
  std::string ip;                   // optional
};
Result<std::string> BuildQueryV1Body(std::string_view license,
                                     const std::optional<HeartbeatInfo>& heartbeat = {});
Result<std::string> BuildQueryV2Body(const std::vector<std::string>& licenses);
struct SoftwareUsage {
  std::optional<std::string> id;           // a client login id (device code)
  std::optional<std::int64_t> active_num;  // or a count of active clients
};
struct UsageReport {
  std::string license;
  std::vector<SoftwareUsage> usage;
};
Result<std::string> BuildUsageBody(const std::vector<UsageReport>& reports);

// ---------------------------------------------------------------------------------------------

struct HttpRequest {
  std::string method;
  std::string url;  // absolute https URL
  Headers headers;  // signed; includes Host, X-Sdk-Date, Authorization
  std::string body;
};
struct HttpResponse {
  int status = 0;
  std::string body;
};

// Sends one request. Implementations verify the server certificate strictly (never disable
// verification) and return kUnavailable when no answer arrived (DNS, connect, TLS, timeout).
class Transport {
 public:
  virtual ~Transport() = default;
  virtual Result<HttpResponse> Send(const HttpRequest& request) = 0;
};

struct OpenApiConfig {
  std::string access_key;
  std::string secret_key;  // wiped when the client is destroyed
  // Tried in order; the next host only when the previous one gave no answer (transport error)
  // or a 502/503/504 without an error_code. Each attempt is signed for its own Host.
  std::vector<std::string> hosts = {std::string(kPrimaryHost), std::string(kFallbackHost)};
  std::chrono::minutes utc_offset{0};  // the marketplace's time zone for expire_time
  std::function<std::chrono::system_clock::time_point()> clock = [] {
    return std::chrono::system_clock::now();
  };
};

// Signs and sends open-API calls. Not thread-safe if the Transport is not; holds the SK.
class OpenApiClient {
 public:
  OpenApiClient(OpenApiConfig config, Transport& transport);
  ~OpenApiClient();
  OpenApiClient(const OpenApiClient&) = delete;
  OpenApiClient& operator=(const OpenApiClient&) = delete;

  // Errors: kInvalidArgument from the builders; kUnavailable when no host answered. A
  // marketplace answer, success or not, is a value: look at its outcome.
  Result<ActivateAnswer> ActivateV1(std::string_view license,
                                    std::string_view real_effect_time = {});
  Result<BatchAnswer> ActivateV2(const std::vector<std::string>& licenses,
                                 std::string_view real_effect_time = {});
  Result<QueryAnswer> QueryV1(std::string_view license,
                              const std::optional<HeartbeatInfo>& heartbeat = {});
  Result<BatchAnswer> QueryV2(const std::vector<std::string>& licenses);
  Result<UsageAnswer> ReportUsage(const std::vector<UsageReport>& reports);

  // The signed request for `path` on `host` (exposed for tests and `apisign`-like tooling).
  Result<HttpRequest> BuildRequest(std::string_view host, std::string_view path,
                                   std::string_view body) const;

 private:
  Result<HttpResponse> Post(std::string_view path, const std::string& body);

  OpenApiConfig config_;
  Transport& transport_;
};

}  // namespace licagent::koogallery
