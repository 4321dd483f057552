// The License 2.0 open API as the marketplace serves it (reference/koogallery.md §4.1-§4.3):
// the gateway's SDK-HMAC-SHA256 check (server/koogallery/signing.h, 15-minute window), then
// activate v1/v2, heartbeat (query) v1/v2 and software-usage-info, answering with the real
// field names and error codes. Unknown request fields are ignored. Thread-safe.
#pragma once

#include <mutex>
#include <string>
#include <vector>

#include "server/koogallery/signing.h"
#include "server/marketsim/book.h"
#include "server/marketsim/config.h"
#include "server/marketsim/result_codes.h"

namespace licagent::marketsim {

inline constexpr std::string_view kApiPrefix = "/api/mkp-openapi-public/";
inline constexpr std::string_view kActivateV1Path =
    "/api/mkp-openapi-public/global/v1/license/activate";
inline constexpr std::string_view kActivateV2Path =
    "/api/mkp-openapi-public/global/v2/license/activate";
inline constexpr std::string_view kHeartbeatV1Path =
    "/api/mkp-openapi-public/global/v1/license/heartbeat";
inline constexpr std::string_view kHeartbeatV2Path =
    "/api/mkp-openapi-public/global/v2/license/heartbeat";
inline constexpr std::string_view kUsagePath =
    "/api/mkp-openapi-public/global/v2/license/software-usage-info";

struct HttpRequest {
  std::string method;
  std::string path;       // raw, as sent
  std::string raw_query;  // after '?', "" when none
  koogallery::Headers headers;
  std::string body;
  std::string remote_addr;
};

struct HttpReply {
  int status = 200;
  std::string body;
  std::string error_code;  // for the access log
};

class OpenApi {
 public:
  OpenApi(const Config& config, Book& book, Clock clock)
      : config_(config), book_(book), clock_(std::move(clock)) {}

  // Answers one request under kApiPrefix. Never throws.
  HttpReply Handle(const HttpRequest& request);

  // The next `count` authenticated open-API calls answer `code` (92020001 internal error, a
  // 5xx-style fault...) instead of being served: makes every error reachable from tests.
  void InjectFault(ApiCode code, int count);

 private:
  HttpReply Serve(const HttpRequest& request, const Credential& credential);

  const Config& config_;
  Book& book_;
  Clock clock_;
  std::mutex faults_mu_;
  std::vector<ApiCode> faults_;
};

// {"error_code":…,"error_msg":…} (+ "data" when given), with the code's HTTP status.
HttpReply ApiReply(ApiCode code, const std::string& data_json = "");

}  // namespace licagent::marketsim
