// server/koogallery/open_api.h on canned marketplace answers (reference/koogallery.md §4): the
// builders' bodies, every §4.6 code's outcome, tolerant parsing, signing and the .cn fallback
// through a fake Transport that also verifies the signature as the gateway would.
#include <deque>
#include <string>
#include <vector>

#include "server/koogallery/open_api.h"
#include "tests/catch.h"

namespace licagent::koogallery {
namespace {

using std::chrono::hours;
using Clock = std::chrono::system_clock;

TEST_CASE("Builders produce the documented request bodies", "[koogallery-api]") {
  CHECK(BuildActivateV1Body("PLXXXXXX").value() == R"({"license":"PLXXXXXX"})");
  CHECK(BuildActivateV1Body("PLXXXXXX", "20260102153555").value() ==
        R"({"license":"PLXXXXXX","real_effect_time":"20260102153555"})");
  CHECK(BuildActivateV2Body({"PL001", "PL002"}).value() == R"({"license_list":["PL001","PL002"]})");
  CHECK(
      BuildQueryV1Body("PLXXXXXX", HeartbeatInfo{"myaccount1", "192.168.1.51"}).value() ==
      R"({"heartbeatInfo":{"ip":"192.168.1.51","thirdPartyAccount":"myaccount1"},"license":"PLXXXXXX"})");
  CHECK(BuildQueryV1Body("PLXXXXXX").value() == R"({"license":"PLXXXXXX"})");
  CHECK(BuildQueryV2Body({"PL1"}).value() == R"({"license_list":["PL1"]})");
  CHECK(BuildUsageBody({{"PLXXXXXX", {{std::string("account1"), std::nullopt}}}}).value() ==
        R"({"usage_info":[{"license":"PLXXXXXX","software_usage_Info":[{"id":"account1"}]}]})");
  CHECK(BuildUsageBody({{"PLXXXXXX", {{std::nullopt, 100}}}}).value() ==
        R"({"usage_info":[{"license":"PLXXXXXX","software_usage_Info":[{"active_num":100}]}]})");
}

TEST_CASE("Builders refuse what the marketplace would refuse", "[koogallery-api]") {
  CHECK_FALSE(BuildActivateV1Body("").has_value());
  CHECK_FALSE(BuildActivateV1Body(std::string(65, 'P')).has_value());
  CHECK_FALSE(BuildActivateV1Body("PL1", "2026-01-02").has_value());
  CHECK_FALSE(BuildActivateV1Body("PL1", "20261302153555").has_value());
  CHECK_FALSE(BuildActivateV2Body({}).has_value());
  CHECK_FALSE(BuildActivateV2Body(std::vector<std::string>(101, "PL1")).has_value());
  CHECK(BuildActivateV2Body(std::vector<std::string>(100, "PL1")).has_value());
  CHECK_FALSE(BuildQueryV1Body("PL1", HeartbeatInfo{"", ""}).has_value());
  CHECK_FALSE(BuildUsageBody({{"PL1", {{std::string("a"), 1}}}}).has_value());         // both
  CHECK_FALSE(BuildUsageBody({{"PL1", {{std::nullopt, std::nullopt}}}}).has_value());  // neither
  CHECK_FALSE(BuildUsageBody({{"PL1", {}}}).has_value());
  auto e = BuildUsageBody({});
  REQUIRE_FALSE(e.has_value());
  CHECK(e.error().code == ErrorCode::kInvalidArgument);
}

TEST_CASE("Every §4.6 code maps to one outcome, whatever the HTTP status", "[koogallery-api]") {
  using O = MarketOutcome;
  const auto A = Operation::kActivate;
  const auto Q = Operation::kQuery;
  CHECK(ClassifyResult(A, "92020000", "Success", 200) == O::kSuccess);
  CHECK(ClassifyResult(A, "92020001", "internal error", 200) == O::kTransient);
  CHECK(ClassifyResult(A, "92020001", "internal error", 500) == O::kTransient);
  CHECK(ClassifyResult(A, "92020001", "Unauthorized", 200) == O::kAuthFailure);
  CHECK(ClassifyResult(A, "92020001", "", 403) == O::kAuthFailure);
  CHECK(ClassifyResult(A, "92020002", "invalid param", 400) == O::kInvalidRequest);
  CHECK(ClassifyResult(A, "92020002", "invalid param", 200) == O::kInvalidRequest);
  CHECK(ClassifyResult(A, "92020003", "illegal state", 200) == O::kAlreadyActive);
  CHECK(ClassifyResult(Q, "92020003", "illegal state", 200) == O::kInvalidState);
  CHECK(ClassifyResult(Operation::kUsage, "92020003", "", 200) == O::kInvalidState);
  CHECK(ClassifyResult(A, "92020004", "can not active before user received.", 200) ==
        O::kNotClaimed);
  CHECK(ClassifyResult(A, "92020005", "license code notexist", 200) == O::kUnknownCode);
  CHECK(ClassifyResult(Q, "92020011", "license code has been not activated.", 200) ==
        O::kNotActivated);
  CHECK(ClassifyResult(A, "92020020", "Invalid license code exists.", 200) ==
        O::kInvalidCodeInBatch);
  for (const char* c : {"95000001", "95000002", "95000003", "95000004"}) {
    CHECK(ClassifyResult(A, c, "", 400) == O::kInvalidRequest);
  }
  CHECK(ClassifyResult(A, "APIGW.0301", "Incorrect IAM authentication information", 401) ==
        O::kAuthFailure);
  CHECK(ClassifyResult(A, "APIGW.0303", "", 401) == O::kAuthFailure);
  CHECK(ClassifyResult(A, "APIGW.0308", "throttled", 429) == O::kTransient);
  CHECK(ClassifyResult(A, "APIGW.0999", "", 400) == O::kUnknownError);
  CHECK(ClassifyResult(A, "92029999", "new code", 200) == O::kUnknownError);
  CHECK(ClassifyResult(A, "", "", 502) == O::kTransient);
  CHECK(ClassifyResult(A, "", "", 200) == O::kMalformedResponse);
  // A success code is a success even with an odd status; a failure code even with 200.
  CHECK(ClassifyResult(A, "92020000", "", 500) == O::kSuccess);
  CHECK(IsRetryable(O::kTransient));
  CHECK_FALSE(IsRetryable(O::kNotClaimed));
}

TEST_CASE("Activate v1: license_code_info is a JSON string, parsed a second time",
          "[koogallery-api]") {
  const std::string body =
      R"({"error_code":"92020000","error_msg":"Success","data":{"license_code_info":)"
      R"("{\"status\":\"ALIVE\",\"expire_time\":\"20230726121646\",\"product_id\":\"12345\",)"
      R"(\"amount\":2,\"order_id\":\"CS123\"}","new_field":[1,2]},"another":true})";
  const ActivateAnswer a = ParseActivateV1Response(200, body);
  CHECK(a.outcome == MarketOutcome::kSuccess);
  REQUIRE(a.info.has_value());
  CHECK(a.info->status == CodeStatus::kAlive);
  CHECK(a.info->status_text == "ALIVE");
  CHECK(a.info->product_id == "12345");
  CHECK(a.info->order_id == "CS123");
  CHECK(a.info->amount == 2);
  CHECK(a.info->expire_time.raw == "20230726121646");
  REQUIRE(a.info->expire_time.utc.has_value());
  CHECK(FormatSdkDate(*a.info->expire_time.utc) == "20230726T121646Z");
  // In UTC+8 the same wall-clock time is eight hours earlier in UTC.
  const ActivateAnswer cn = ParseActivateV1Response(200, body, hours(8));
  CHECK(FormatSdkDate(*cn.info->expire_time.utc) == "20230726T041646Z");

  SECTION("an object instead of a string, amount as a string: tolerated") {
    const ActivateAnswer b = ParseActivateV1Response(
        200, R"({"error_code":"92020000","error_msg":"ok","data":{"license_code_info":)"
             R"({"status":"EXPIRED","amount":"3"}}})");
    REQUIRE(b.info.has_value());
    CHECK(b.info->status == CodeStatus::kExpired);
    CHECK(b.info->amount == 3);
    CHECK_FALSE(b.info->expire_time.utc.has_value());
  }
  SECTION("license_code_info not JSON: success without info") {
    const ActivateAnswer b = ParseActivateV1Response(
        200, R"({"error_code":"92020000","error_msg":"ok","data":{"license_code_info":"{oops"}})");
    CHECK(b.outcome == MarketOutcome::kSuccess);
    CHECK_FALSE(b.info.has_value());
  }
}

TEST_CASE("Activate v1 failures decided on error_code", "[koogallery-api]") {
  auto parse = [](int status, const char* body) { return ParseActivateV1Response(status, body); };
  CHECK(
      parse(200, R"({"error_code":"92020004","error_msg":"can not active before user received."})")
          .outcome == MarketOutcome::kNotClaimed);
  CHECK(parse(200, R"({"error_code":"92020003","error_msg":"illegal state"})").outcome ==
        MarketOutcome::kAlreadyActive);
  CHECK(parse(200, R"({"error_code":"92020005","error_msg":"license code not exist"})").outcome ==
        MarketOutcome::kUnknownCode);
  const ActivateAnswer gw = parse(
      401, R"({"error_msg":"Incorrect IAM authentication information: verify aksk signature fail",)"
           R"("error_code":"APIGW.0301","request_id":"7f9c"})");
  CHECK(gw.outcome == MarketOutcome::kAuthFailure);
  CHECK(gw.request_id == "7f9c");
  CHECK(gw.http_status == 401);
  CHECK(parse(200, R"({"error_code":92020000,"error_msg":"numeric code"})").outcome ==
        MarketOutcome::kSuccess);
  CHECK(parse(200, "<html>maintenance</html>").outcome == MarketOutcome::kMalformedResponse);
  CHECK(parse(503, "").outcome == MarketOutcome::kTransient);
  CHECK(parse(200, "[]").outcome == MarketOutcome::kMalformedResponse);
  CHECK(parse(200, R"({"error_code":["x"]})").outcome == MarketOutcome::kMalformedResponse);
}

TEST_CASE("Query v1: LicenseInfo with unknown fields and an expiry under any known name",
          "[koogallery-api]") {
  const QueryAnswer q = ParseQueryV1Response(
      200, R"({"error_code":"92020000","error_msg":"Success","data":{"license_code":"PLXXXXXX",)"
           R"("status":"ALIVE","activate_time":"20230626121646","expire_time":"20240626121646",)"
           R"("future":{"x":1}}})");
  CHECK(q.outcome == MarketOutcome::kSuccess);
  REQUIRE(q.info.has_value());
  CHECK(q.info->license_code == "PLXXXXXX");
  CHECK(q.info->status == CodeStatus::kAlive);
  CHECK(q.info->activate_time.utc.has_value());
  REQUIRE(q.info->expire_time.has_value());
  CHECK(q.info->expire_time->raw == "20240626121646");
  CHECK(q.info->unknown_fields == std::vector<std::string>{"future"});

  const QueryAnswer r = ParseQueryV1Response(
      200, R"({"error_code":"92020000","error_msg":"","data":{"license_code":"PL1",)"
           R"("status":"RELEASED","activate_time":1687781806000,"expireTime":"20240101000000"}})");
  REQUIRE(r.info.has_value());
  CHECK(r.info->status == CodeStatus::kReleased);
  CHECK(r.info->activate_time.utc.has_value());  // epoch milliseconds tolerated
  CHECK(r.info->expire_time->raw == "20240101000000");

  const QueryAnswer f = ParseQueryV1Response(
      200,
      R"({"error_code":"92020000","error_msg":"","data":{"license_code":"PL1","status":"FROZEN"}})");
  CHECK(f.info->status == CodeStatus::kFrozen);
  CHECK_FALSE(f.info->expire_time.has_value());
  const QueryAnswer u = ParseQueryV1Response(
      200, R"({"error_code":"92020000","error_msg":"","data":{"status":"SOMETHING_NEW"}})");
  CHECK(u.info->status == CodeStatus::kUnknown);
  CHECK(u.info->status_text == "SOMETHING_NEW");

  // Found by koogallery_api_fuzz: years outside system_clock's range stay unparsed.
  CHECK_FALSE(ParseMarketTime("10120313060823", {}).utc.has_value());
  CHECK_FALSE(ParseMarketTime("9999999999999", {}).utc.has_value());
  CHECK_FALSE(ParseMarketTime("9999999999", {}).utc.has_value());
  CHECK(ParseMarketTime("20991231235959", {}).utc.has_value());

  CHECK(ParseQueryV1Response(200, R"({"error_code":"92020011","error_msg":"not activated"})")
            .outcome == MarketOutcome::kNotActivated);
}

TEST_CASE("Batch answers: per-code entries wherever the list is", "[koogallery-api]") {
  const BatchAnswer a = ParseBatchResponse(
      Operation::kActivate, 200,
      R"({"error_code":"92020000","error_msg":"ok","data":[{"license":"PL1","license_code_info":)"
      R"("{\"status\":\"ALIVE\",\"amount\":1}"},{"license":"PL2","error_code":"92020004"}]})");
  CHECK(a.outcome == MarketOutcome::kSuccess);
  REQUIRE(a.entries.size() == 2);
  CHECK(a.entries[0].license == "PL1");
  REQUIRE(a.entries[0].code_info.has_value());
  CHECK(a.entries[0].code_info->amount == 1);
  CHECK(a.entries[1].error_code == "92020004");

  const BatchAnswer q = ParseBatchResponse(
      Operation::kQuery, 200,
      R"({"error_code":"92020000","error_msg":"ok","data":{"license_list":[{"license_code":"PL1",)"
      R"("status":"EXPIRED"}],"total":1}})");
  REQUIRE(q.entries.size() == 1);
  REQUIRE(q.entries[0].info.has_value());
  CHECK(q.entries[0].info->status == CodeStatus::kExpired);

  const BatchAnswer bad = ParseBatchResponse(
      Operation::kActivate, 200,
      R"({"error_code":"92020020","error_msg":"Invalid license code exists.","data":{"check_fail":["PL9"]}})");
  CHECK(bad.outcome == MarketOutcome::kInvalidCodeInBatch);
  CHECK(ParseBatchResponse(Operation::kQuery, 200, R"({"error_code":"92020000","data":7})")
            .entries.empty());
}

TEST_CASE("Usage statistics answer: check_fail list tolerated in any form", "[koogallery-api]") {
  const UsageAnswer a = ParseUsageResponse(
      200, R"({"error_code":"92020000","error_msg":"ok","data":{"check_fail_license":["PL1",)"
           R"({"license":"PL2","reason":"x"},7]}})");
  CHECK(a.outcome == MarketOutcome::kSuccess);
  CHECK(a.failed_licenses == std::vector<std::string>{"PL1", "PL2"});
  CHECK(ParseUsageResponse(200, R"({"error_code":"92020000","error_msg":"ok"})")
            .failed_licenses.empty());
}

// ---------------------------------------------------------------------------------------------

// Answers from a queue; checks every request's signature as the gateway would.
class FakeTransport : public Transport {
 public:
  Result<HttpResponse> Send(const HttpRequest& request) override {
    requests.push_back(request);
    const std::size_t path_start = request.url.find('/', 8);
    IncomingApiRequest in;
    in.method = request.method;
    in.path = std::string_view(request.url).substr(path_start);
    in.headers = request.headers;
    in.body = request.body;
    auto lookup = [](std::string_view ak) -> std::optional<std::string> {
      if (ak == "AK-TEST") return std::string("SK-TEST");
      return std::nullopt;
    };
    verdicts.push_back(VerifyApiRequest(in, lookup, now).error);
    if (answers.empty()) return Error{ErrorCode::kInternal, "no canned answer"};
    auto a = std::move(answers.front());
    answers.pop_front();
    return a;
  }
  std::deque<Result<HttpResponse>> answers;
  std::vector<HttpRequest> requests;
  std::vector<ApiAuthError> verdicts;
  Clock::time_point now = ParseSdkDate("20250102T030405Z").value();
};

OpenApiConfig Config(const FakeTransport& t) {
  OpenApiConfig c;
  c.access_key = "AK-TEST";
  c.secret_key = "SK-TEST";
  const auto now = t.now;
  c.clock = [now] { return now; };
  return c;
}

TEST_CASE("OpenApiClient signs each call and parses the answer", "[koogallery-api]") {
  FakeTransport t;
  t.answers.push_back(HttpResponse{
      200, R"({"error_code":"92020000","error_msg":"Success","data":{"license_code_info":)"
           R"("{\"status\":\"ALIVE\",\"expire_time\":\"20260101000000\",\"amount\":5}"}})"});
  OpenApiClient client(Config(t), t);
  auto a = client.ActivateV1("PLXXXXXX");
  REQUIRE(a.has_value());
  CHECK(a->outcome == MarketOutcome::kSuccess);
  CHECK(a->info->amount == 5);
  REQUIRE(t.requests.size() == 1);
  CHECK(t.requests[0].url ==
        "https://mkt.myhuaweicloud.com/api/mkp-openapi-public/global/v1/license/activate");
  CHECK(t.requests[0].body == R"({"license":"PLXXXXXX"})");
  CHECK(t.requests[0].headers.find("content-type")->second == "application/json");
  CHECK(t.requests[0].headers.find("x-sdk-date")->second == "20250102T030405Z");
  CHECK(t.verdicts[0] == ApiAuthError::kNone);

  t.answers.push_back(HttpResponse{200, R"({"error_code":"92020004","error_msg":"not received"})"});
  auto b = client.QueryV1("PLXXXXXX", HeartbeatInfo{"HW1-DEVICE", ""});
  REQUIRE(b.has_value());
  CHECK(b->outcome == MarketOutcome::kNotClaimed);
  CHECK(t.requests[1].url.find("/global/v1/license/heartbeat") != std::string::npos);

  t.answers.push_back(HttpResponse{200, R"({"error_code":"92020000","error_msg":"ok"})"});
  auto u = client.ReportUsage({{"PLXXXXXX", {{std::string("HW1-DEVICE"), std::nullopt}}}});
  REQUIRE(u.has_value());
  CHECK(u->outcome == MarketOutcome::kSuccess);
  CHECK(t.verdicts[2] == ApiAuthError::kNone);

  auto bad = client.ActivateV1("");
  REQUIRE_FALSE(bad.has_value());
  CHECK(bad.error().code == ErrorCode::kInvalidArgument);
  CHECK(t.requests.size() == 3);  // nothing sent
}

TEST_CASE("OpenApiClient falls back to .cn, re-signed, only when .com gives no answer",
          "[koogallery-api]") {
  FakeTransport t;
  OpenApiClient client(Config(t), t);
  SECTION("transport failure → .cn") {
    t.answers.push_back(Error{ErrorCode::kUnavailable, "could not resolve host"});
    t.answers.push_back(
        HttpResponse{200, R"({"error_code":"92020003","error_msg":"illegal state"})"});
    auto a = client.ActivateV1("PL1");
    REQUIRE(a.has_value());
    CHECK(a->outcome == MarketOutcome::kAlreadyActive);
    REQUIRE(t.requests.size() == 2);
    CHECK(t.requests[1].url.rfind("https://mkt.myhuaweicloud.cn/", 0) == 0);
    CHECK(t.requests[1].headers.find("host")->second == "mkt.myhuaweicloud.cn");
    CHECK(t.verdicts[1] == ApiAuthError::kNone);
    CHECK(t.requests[0].headers.find("authorization")->second !=
          t.requests[1].headers.find("authorization")->second);
  }
  SECTION("a 503 without an error_code → .cn") {
    t.answers.push_back(HttpResponse{503, "Service Unavailable"});
    t.answers.push_back(HttpResponse{200, R"({"error_code":"92020000","error_msg":"ok"})"});
    auto a = client.QueryV2({"PL1", "PL2"});
    REQUIRE(a.has_value());
    CHECK(a->outcome == MarketOutcome::kSuccess);
    CHECK(t.requests.size() == 2);
  }
  SECTION("a marketplace answer, even a failure, is final") {
    t.answers.push_back(
        HttpResponse{500, R"({"error_code":"92020001","error_msg":"internal error"})"});
    auto a = client.ActivateV2({"PL1"});
    REQUIRE(a.has_value());
    CHECK(a->outcome == MarketOutcome::kTransient);
    CHECK(t.requests.size() == 1);
  }
  SECTION("both hosts down → kUnavailable") {
    t.answers.push_back(Error{ErrorCode::kUnavailable, "timeout"});
    t.answers.push_back(Error{ErrorCode::kUnavailable, "timeout"});
    auto a = client.ActivateV1("PL1");
    REQUIRE_FALSE(a.has_value());
    CHECK(a.error().code == ErrorCode::kUnavailable);
  }
  SECTION("a certificate failure is not retried elsewhere") {
    t.answers.push_back(Error{ErrorCode::kUntrusted, "certificate verify failed"});
    auto a = client.ActivateV1("PL1");
    REQUIRE_FALSE(a.has_value());
    CHECK(a.error().code == ErrorCode::kUntrusted);
    CHECK(t.requests.size() == 1);
  }
}

}  // namespace
}  // namespace licagent::koogallery
