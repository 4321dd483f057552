// Parsing the marketplace's callbacks (server/koogallery/callbacks.h): every activity's
// mandatory fields, lengths, testFlag, times, unknown activities and fields, oversize input,
// idempotency keys and the answers' shape.
#include <nlohmann/json.hpp>
#include <string>

#include "server/koogallery/callbacks.h"
#include "tests/catch.h"

using namespace licagent;
using namespace licagent::koogallery;
using nlohmann::json;

namespace {

std::string Body(json j) { return j.dump(); }

const json kRenew = {{"activity", "refreshLicenseCode"},
                     {"expireTime", "20230523201932"},
                     {"license", "PLXXXXXX"},
                     {"orderId", "CS2211181819B4LVS"},
                     {"orderLineId", "CS2211181819B4LVS-000001"},
                     {"scene", "RENEWAL"},
                     {"testFlag", "1"}};

std::string ErrorOf(const Result<CallbackEvent>& r) {
  REQUIRE_FALSE(r);
  CHECK(r.error().code == ErrorCode::kInvalidArgument);
  return r.error().message;
}

}  // namespace

TEST_CASE("callbacks: the documented renewal example parses", "[koogallery][callbacks]") {
  auto e = ParseCallbackBody(Body(kRenew));
  REQUIRE(e);
  CHECK(e->activity == Activity::kRefreshLicenseCode);
  CHECK(ModelOf(e->activity) == CallbackModel::kLicenseCode);
  CHECK(e->test);
  CHECK(e->Field("license") == "PLXXXXXX");
  CHECK(e->Field("productId").empty());
  REQUIRE(e->expire_time);
  CHECK(std::chrono::duration_cast<std::chrono::seconds>(e->expire_time->time_since_epoch())
            .count() == 1684873172);  // 2023-05-23T20:19:32Z
  // The marketplace's time zone, when configured, moves it.
  auto china = ParseCallbackBody(Body(kRenew), std::chrono::minutes(480));
  REQUIRE(china);
  CHECK(*e->expire_time - *china->expire_time == std::chrono::hours(8));
}

TEST_CASE("callbacks: every activity with its mandatory fields", "[koogallery][callbacks]") {
  json renew = kRenew;
  renew.erase("testFlag");  // optional; every other field here is mandatory
  const std::vector<json> bodies = {
      renew,
      {{"activity", "updateLicenseCodeStatus"}, {"license", "PL1"}, {"status", "FREEZE"}},
      {{"activity", "releaseLicenseCode"}, {"license", "PL1"}},
      {{"activity", "newInstance"}, {"orderId", "O"}, {"orderLineId", "L"}, {"businessId", "B"}},
      {{"activity", "refreshInstance"},
       {"scene", "TRIAL_TO_FORMAL"},
       {"orderId", "O"},
       {"orderLineId", "L"},
       {"instanceId", "I"},
       {"expireTime", "20221124023618256"}},  // 17 digits in one Huawei example
      {{"activity", "updateInstanceStatus"}, {"instanceId", "I"}, {"status", "UNFREEZE"}},
      {{"activity", "releaseInstance"}, {"instanceId", "I"}},
      {{"activity", "getLicenseAsync"},
       {"instanceId", "I"},
       {"effectiveTime", "2023-10-27 10:30:15 z"},
       {"eventId", "E"}},
  };
  for (const json& body : bodies) {
    INFO(body.dump());
    auto e = ParseCallbackBody(body.dump());
    REQUIRE(e);
    CHECK(ToString(e->activity) == body["activity"].get<std::string>());
    CHECK_FALSE(e->test);
    // Each mandatory field missing is 000002's "missing".
    for (const auto& [name, value] : body.items()) {
      if (name == "activity") continue;
      json without = body;
      without.erase(name);
      CHECK(ErrorOf(ParseCallbackBody(without.dump())) == name + " is missing");
      json empty = body;
      empty[name] = "";
      CHECK(ErrorOf(ParseCallbackBody(empty.dump())) == name + " is missing");
    }
  }
  auto async = ParseCallbackBody(bodies.back().dump());
  REQUIRE(async->effective_time);
  CHECK(std::chrono::duration_cast<std::chrono::seconds>(async->effective_time->time_since_epoch())
            .count() == 1698402615);  // 2023-10-27T10:30:15Z
}

TEST_CASE("callbacks: legacy GET parameters", "[koogallery][callbacks]") {
  QueryParams p = {{"activity", "getLicense"},
                   {"customerId", "c1"},
                   {"businessId", "b1"},
                   {"orderId", "CS1"},
                   {"productId", "P1"},
                   {"testFlag", "1"},
                   {"amount", "3"},
                   {"timeStamp", "20170725025113409"},
                   {"authToken", "tok"}};
  auto e = ParseLegacyCallback(p);
  REQUIRE(e);
  CHECK(e->activity == Activity::kGetLicense);
  CHECK(ModelOf(e->activity) == CallbackModel::kLegacy);
  CHECK(e->test);
  CHECK(e->fields.count("authToken") == 0);
  CHECK(e->fields.count("timeStamp") == 0);
  CHECK(e->Field("amount") == "3");

  QueryParams bad_amount = p;
  bad_amount[6].second = "two";
  CHECK(ErrorOf(ParseLegacyCallback(bad_amount)) == "amount must be a whole number");
  QueryParams twice = p;
  twice.emplace_back("orderId", "CS2");
  CHECK(ErrorOf(ParseLegacyCallback(twice)) == "orderId is given twice");
  CHECK(ParseLegacyCallback({{"activity", "expireLicense"}, {"instanceId", "I"}}));
  CHECK(ErrorOf(ParseLegacyCallback({{"activity", "releaseLicense"}})) == "instanceId is missing");
  CHECK(ErrorOf(ParseLegacyCallback({{"activity", "refreshLicense"},
                                     {"orderId", "O"},
                                     {"instanceId", "I"},
                                     {"expireTime", "tomorrow"}})) ==
        "expireTime is not yyyyMMddHHmmss");
  // A POST activity is not a GET one, and the other way round.
  CHECK(ErrorOf(ParseLegacyCallback({{"activity", "releaseInstance"}, {"instanceId", "I"}})) ==
        "unknown activity 'releaseInstance'");
  CHECK(ErrorOf(ParseCallbackBody(R"({"activity":"releaseLicense","instanceId":"I"})")) ==
        "unknown activity 'releaseLicense'");
}

TEST_CASE("callbacks: malformed bodies are illegal parameters", "[koogallery][callbacks]") {
  CHECK(ErrorOf(ParseCallbackBody("")) == "the body is not a JSON object");
  CHECK(ErrorOf(ParseCallbackBody("[1]")) == "the body is not a JSON object");
  CHECK(ErrorOf(ParseCallbackBody(R"({"activity":"x")")) == "the body is not a JSON object");
  CHECK(ErrorOf(ParseCallbackBody(R"({"license":"PL1"})")) == "activity is missing");
  CHECK(ErrorOf(ParseCallbackBody(R"({"activity":"orderNotify","orderId":"O"})")) ==
        "unknown activity 'orderNotify'");
  CHECK(ErrorOf(ParseCallbackBody(R"({"activity":"releaseLicenseCode","license":{"a":1}})")) ==
        "license must be a string");
  CHECK(ErrorOf(ParseCallbackBody(
            R"({"activity":"updateLicenseCodeStatus","license":"PL1","status":"NORMAL"})")) ==
        "status must be FREEZE or UNFREEZE");
  CHECK(ErrorOf(ParseCallbackBody(
            R"({"activity":"releaseLicenseCode","license":"PL1","testFlag":"yes"})")) ==
        "testFlag must be 0 or 1");
  json long_code = {{"activity", "releaseLicenseCode"}, {"license", std::string(65, 'P')}};
  CHECK(ErrorOf(ParseCallbackBody(long_code.dump())) == "license is longer than 64 characters");
  json long_fp = {{"activity", "getLicenseAsync"},
                  {"instanceId", "I"},
                  {"effectiveTime", "20231027103015"},
                  {"eventId", "E"},
                  {"deviceFingerprint", std::string(1025, 'A')}};
  CHECK(ErrorOf(ParseCallbackBody(long_fp.dump())) ==
        "deviceFingerprint is longer than 1024 characters");
  json oversize = {{"activity", "releaseLicenseCode"},
                   {"license", "PL1"},
                   {"padding", std::string(kMaxCallbackBody, 'x')}};
  CHECK(ErrorOf(ParseCallbackBody(oversize.dump())) == "the body is longer than 8192 bytes");
  QueryParams big = {{"activity", "releaseLicense"},
                     {"instanceId", "I"},
                     {"x", std::string(kMaxCallbackBody, 'x')}};
  CHECK(ErrorOf(ParseLegacyCallback(big)) == "the parameters are longer than 8192 bytes");
}

TEST_CASE("callbacks: tolerated input", "[koogallery][callbacks]") {
  // Unknown fields are kept, numbers become text, null is absent, testFlag 0/false is real.
  auto e = ParseCallbackBody(
      R"({"activity":"releaseLicenseCode","license":"PL1","orderId":null,"newField":{"deep":[]},)"
      R"("testFlag":"0"})");
  // An object-valued unknown field is still refused (values must be scalars).
  CHECK_FALSE(e);
  e = ParseCallbackBody(
      R"({"activity":"releaseLicenseCode","license":"PL1","orderId":null,"extra":7,)"
      R"("testFlag":"false"})");
  REQUIRE(e);
  CHECK(e->Field("extra") == "7");
  CHECK(e->fields.count("orderId") == 0);
  CHECK_FALSE(e->test);
  CHECK(
      ParseCallbackBody(R"({"activity":"releaseLicenseCode","license":"PL1","testFlag":1})")->test);
}

TEST_CASE("callbacks: idempotency keys", "[koogallery][callbacks]") {
  const auto key = [](const json& body) { return IdempotencyKey(*ParseCallbackBody(body.dump())); };
  json renew = kRenew;
  const auto k1 = key(renew);
  REQUIRE(k1);
  CHECK(k1->size() == 64);
  // A retry has the same body: the same key. Another renewal is a new order: another key.
  CHECK(key(renew) == k1);
  json other = renew;
  other["orderId"] = "CS-OTHER";
  CHECK(key(other) != k1);
  json real = renew;
  real["testFlag"] = "0";
  CHECK(key(real) != k1);  // a test event never answers for a real one
  // newInstance: businessId differs on every retry, the key does not.
  json create = {
      {"activity", "newInstance"}, {"orderId", "O"}, {"orderLineId", "L"}, {"businessId", "B1"}};
  json retry = create;
  retry["businessId"] = "B2";
  CHECK(key(create) == key(retry));
  // getLicenseAsync: eventId + fingerprint.
  json async = {{"activity", "getLicenseAsync"},
                {"instanceId", "I"},
                {"effectiveTime", "20231027103015"},
                {"eventId", "E"},
                {"deviceFingerprint", "A|B||C"}};
  json other_machine = async;
  other_machine["deviceFingerprint"] = "X|B||C";
  CHECK(key(async) != key(other_machine));
  // Field boundaries are not ambiguous.
  json a = {{"activity", "refreshLicense"},
            {"instanceId", "ab"},
            {"orderId", "c"},
            {"expireTime", "20300101000000"}};
  json b = {{"activity", "refreshLicense"},
            {"instanceId", "a"},
            {"orderId", "bc"},
            {"expireTime", "20300101000000"}};
  QueryParams pa, pb;
  for (const auto& [n, v] : a.items()) pa.emplace_back(n, v.get<std::string>());
  for (const auto& [n, v] : b.items()) pb.emplace_back(n, v.get<std::string>());
  CHECK(IdempotencyKey(*ParseLegacyCallback(pa)) != IdempotencyKey(*ParseLegacyCallback(pb)));
  // Status changes and releases have none: their effect is idempotent by itself.
  CHECK_FALSE(
      key({{"activity", "updateLicenseCodeStatus"}, {"license", "PL1"}, {"status", "FREEZE"}}));
  CHECK_FALSE(key({{"activity", "releaseInstance"}, {"instanceId", "I"}}));
}

TEST_CASE("callbacks: answers", "[koogallery][callbacks]") {
  CHECK(CallbackAnswer(result::kSuccess, "success.") ==
        R"({"resultCode":"000000","resultMsg":"success."})");
  const std::string a =
      CallbackAnswer(result::kSuccess, "success.", {{"instanceId", "i\"1"}, {"license", "L"}});
  CHECK(a == R"({"resultCode":"000000","resultMsg":"success.","instanceId":"i\"1","license":"L"})");
  CHECK(AnswerResultCode(a) == "000000");
  CHECK(AnswerResultCode("{}").empty());
  CHECK(AnswerResultCode("nope").empty());
  for (std::string_view code :
       {result::kSuccess, result::kAuthFailed, result::kIllegalParameter, result::kNotFound,
        result::kProcessing, result::kInternalError, result::kNoInstanceResource,
        result::kOutsideValidity, result::kNeedsExpiry, result::kNeedsFingerprint}) {
    CHECK(code.size() == 6);
  }
}
