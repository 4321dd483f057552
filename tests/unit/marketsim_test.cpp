// The marketplace simulator's logic without HTTP: the code state machine (§8.1), its state
// file, and the open API (§4) behind the gateway's SDK-HMAC-SHA256 check, with every result
// code of §4.6 reached by a request signed with the signing library's own signer.
#include <chrono>
#include <nlohmann/json.hpp>
#include <string>

#include "server/koogallery/signing.h"
#include "server/marketsim/book.h"
#include "server/marketsim/config.h"
#include "server/marketsim/marketplace.h"
#include "server/marketsim/open_api.h"
#include "tests/catch.h"

using namespace licagent;
using namespace licagent::marketsim;
using nlohmann::json;
using std::chrono::system_clock;

namespace {

constexpr std::int64_t kNow = 1800000000;  // 2027-01-15T08:00:00Z
constexpr std::int64_t kDay = 86400;

system_clock::time_point At(std::int64_t s) {
  return system_clock::time_point(std::chrono::seconds(s));
}

Config TestConfig() {
  auto c = ParseConfig(
      R"({"listen":"127.0.0.1:0","tls":{"certificate":"c.pem","private_key":"k.pem"},
          "state_file":"state.json",
          "credentials":[{"access_key":"AK-ALL","secret_key":"SK-ALL"},
                         {"access_key":"AK-P2","secret_key":"SK-P2","products":["p2"]}]})",
      "/tmp");
  REQUIRE(c);
  return *c;
}

struct Api {
  Config config = TestConfig();
  Book book{""};
  std::int64_t now = kNow;
  OpenApi api{config, book, [this] { return At(now); }};

  std::string MakeCode(bool claimed, const std::string& product = "p1", std::int64_t days = 30) {
    std::lock_guard<std::mutex> lock(book.mutex());
    marketsim::NewCode n;
    n.product_id = product;
    n.amount = 3;
    n.expire_at = now + days * kDay;
    n.claimed = claimed;
    auto c = book.market().Create(n, now);
    REQUIRE(c);
    return c->code;
  }

  HttpRequest Signed(std::string_view path, const std::string& body, std::int64_t when_offset = 0,
                     const std::string& ak = "AK-ALL", const std::string& sk = "SK-ALL",
                     const std::string& content_type = "application/json",
                     const std::string& method = "POST") {
    koogallery::ApiSignInput in;
    in.method = method;
    const std::string url = "https://mkt.myhuaweicloud.com" + std::string(path);
    in.url = url;
    in.headers.emplace("Content-Type", content_type);
    in.body = body;
    const std::string date = koogallery::FormatSdkDate(At(now + when_offset));
    in.sdk_date = date;
    in.access_key = ak;
    in.secret_key = sk;
    auto sig = koogallery::SignApiRequest(in);
    REQUIRE(sig);
    HttpRequest r;
    r.method = method;
    r.path = std::string(path);
    r.headers = sig->headers;
    r.body = body;
    return r;
  }

  json Call(std::string_view path, const std::string& body, int expect_status = 200) {
    const HttpReply reply = api.Handle(Signed(path, body));
    CHECK(reply.status == expect_status);
    const json j = json::parse(reply.body, nullptr, false);
    REQUIRE(j.is_object());
    return j;
  }
};

std::string ActivateBody(const std::string& code) { return json{{"license", code}}.dump(); }

}  // namespace

TEST_CASE("Marketplace walks a code through the lifecycle of §8.1", "[marketsim]") {
  Marketplace m;
  NewCode n;
  n.product_id = "p1";
  n.amount = 2;
  n.expire_at = kNow + 30 * kDay;
  auto created = m.Create(n, kNow);
  REQUIRE(created);
  const std::string code = created->code;
  CHECK(ValidCodeText(code));
  CHECK(code.size() == 16);
  CHECK(created->state == CodeState::kUnclaimed);
  CHECK(created->order_line_id == created->order_id + "-000001");

  CHECK(m.Activate(code, kNow).result == ApiCode::kNotReceived);
  CHECK(m.Query(code, kNow).result == ApiCode::kNotActivated);
  CHECK_FALSE(m.Freeze(code));
  REQUIRE(m.Claim(code));
  CHECK(m.Claim(code).error().code == ErrorCode::kRejected);
  CHECK(m.Query(code, kNow).result == ApiCode::kNotActivated);

  const ApiOutcome activated = m.Activate(code, kNow + 10);
  REQUIRE(activated.result == ApiCode::kSuccess);
  CHECK(*activated.code->activated_at == kNow + 10);
  CHECK(m.Activate(code, kNow + 20).result == ApiCode::kIllegalState);
  CHECK(QueryStatus(*m.Find(code), kNow, "EXPIRED") == "ALIVE");
  CHECK(QueryStatus(*m.Find(code), kNow + 31 * kDay, "EXPIRED") == "EXPIRED");

  bool was_frozen = true;
  REQUIRE(m.Renew(code, kNow + 60 * kDay, &was_frozen));
  CHECK_FALSE(was_frozen);
  CHECK(m.Find(code)->expire_at == kNow + 60 * kDay);
  REQUIRE(m.Freeze(code));
  CHECK(QueryStatus(*m.Find(code), kNow, "EXPIRED") == "EXPIRED");
  CHECK(QueryStatus(*m.Find(code), kNow, "FROZEN") == "FROZEN");
  CHECK(m.Freeze(code).error().code == ErrorCode::kRejected);
  REQUIRE(m.Unfreeze(code));
  CHECK(m.Unfreeze(code).error().code == ErrorCode::kRejected);
  REQUIRE(m.Freeze(code));
  REQUIRE(m.Renew(code, kNow + 90 * kDay, &was_frozen));  // renewal lifts a freeze
  CHECK(was_frozen);
  CHECK(m.Find(code)->state == CodeState::kActive);
  REQUIRE(m.Release(code));
  CHECK(QueryStatus(*m.Find(code), kNow, "EXPIRED") == "RELEASED");
  CHECK(m.Release(code).error().code == ErrorCode::kRejected);
  CHECK(m.Renew(code, kNow + 99 * kDay, nullptr).error().code == ErrorCode::kRejected);
  CHECK(m.Activate(code, kNow).result == ApiCode::kIllegalState);
  CHECK(m.Query(code, kNow).result == ApiCode::kSuccess);  // a released code still answers

  CHECK(m.Activate("PLNOPE", kNow).result == ApiCode::kNotExist);
  CHECK(m.Claim("PLNOPE").error().code == ErrorCode::kNotFound);
}

TEST_CASE("Marketplace refuses bad codes and activation after expiry", "[marketsim]") {
  Marketplace m;
  NewCode n;
  n.product_id = "p1";
  n.expire_at = kNow + kDay;
  n.code = "XX123";
  CHECK(m.Create(n, kNow).error().code == ErrorCode::kInvalidArgument);
  n.code = "PL-1";
  CHECK(m.Create(n, kNow).error().code == ErrorCode::kInvalidArgument);
  n.code = "PLTEST0001";
  n.claimed = true;
  REQUIRE(m.Create(n, kNow));
  CHECK(m.Create(n, kNow).error().code == ErrorCode::kRejected);
  n.code = "PLTEST0002";
  n.expire_at = kNow;
  CHECK(m.Create(n, kNow).error().code == ErrorCode::kInvalidArgument);
  n.amount = 0;
  n.expire_at = kNow + 1;
  CHECK(m.Create(n, kNow).error().code == ErrorCode::kInvalidArgument);
  CHECK(m.Activate("PLTEST0001", kNow + kDay).result == ApiCode::kIllegalState);
}

TEST_CASE("Marketplace state survives a serialisation round trip", "[marketsim]") {
  Marketplace m;
  NewCode n;
  n.product_id = "p1";
  n.sku_code = "sku-1";
  n.amount = 5;
  n.expire_at = kNow + kDay;
  n.claimed = true;
  const std::string code = m.Create(n, kNow)->code;
  REQUIRE(m.Activate(code, kNow).result == ApiCode::kSuccess);
  REQUIRE(m.ReportUsage(code, std::string("machine-1"), std::nullopt, kNow) == ApiCode::kSuccess);
  REQUIRE(m.ReportUsage(code, std::nullopt, 7, kNow) == ApiCode::kSuccess);
  REQUIRE(m.Freeze(code));
  auto back = Marketplace::Deserialize(m.Serialize());
  REQUIRE(back);
  const Code* c = back->Find(code);
  REQUIRE(c != nullptr);
  CHECK(c->state == CodeState::kFrozen);
  CHECK(c->amount == 5);
  CHECK(c->sku_code == "sku-1");
  CHECK(*c->activated_at == kNow);
  CHECK(c->usage.at(FormatTime(kNow).substr(0, 8)).ids.count("machine-1") == 1);
  CHECK(*c->usage.at(FormatTime(kNow).substr(0, 8)).active_num == 7);
  CHECK(Marketplace::Deserialize("{}").error().code == ErrorCode::kCorrupt);
  CHECK(Marketplace::Deserialize("[").error().code == ErrorCode::kCorrupt);
  CHECK(Marketplace::Deserialize(R"({"version":1,"codes":[{"code":"PL1"}]})").error().code ==
        ErrorCode::kCorrupt);
}

TEST_CASE("Marketplace times are yyyyMMddHHmmss UTC", "[marketsim]") {
  CHECK(FormatTime(kNow) == "20270115080000");
  CHECK(ParseTime("20270115080000") == kNow);
  CHECK(ParseTime("20270115080000123") == kNow);  // 17 digits: milliseconds dropped
  CHECK_FALSE(ParseTime("2027011508000"));
  CHECK_FALSE(ParseTime("20270231080000"));
  CHECK_FALSE(ParseTime("2027011508000x"));
  CHECK_FALSE(ParseTime("20271315080000"));
}

TEST_CASE("Marketsim config rejects what it does not understand", "[marketsim]") {
  const Config c = TestConfig();
  CHECK(c.clock_window_seconds == 900);
  CHECK(c.retry.license_code.retries == 60);
  CHECK(c.retry.license_code.interval_ms == 120000);
  CHECK(c.state_file == "/tmp/state.json");
  CHECK(c.FindCredential("AK-P2")->products.at(0) == "p2");
  const std::string base =
      R"({"listen":"127.0.0.1:0","tls":{"certificate":"c","private_key":"k"},"state_file":"s",
          "credentials":[{"access_key":"a","secret_key":"s"}])";
  CHECK(ParseConfig(base + "}", "/"));
  CHECK_FALSE(ParseConfig(base + R"(,"bogus":1})", "/"));
  CHECK_FALSE(ParseConfig(base + R"(,"vendor":{"url":"http://x/cb","key":"k"}})", "/"));
  CHECK_FALSE(ParseConfig(base + R"(,"vendor":{"url":"https://x/cb"}})", "/"));
  CHECK_FALSE(ParseConfig(base + R"(,"admin_token":"short"})", "/"));
  auto scaled =
      ParseConfig(base + R"(,"retry":{"license_code":{"retries":3,"interval_ms":50}}})", "/");
  REQUIRE(scaled);
  CHECK(scaled->retry.license_code.retries == 3);
  CHECK(scaled->retry.license_code.interval_ms == 50);
  CHECK_FALSE(ParseConfig(R"({"listen":"127.0.0.1:0"})", "/"));
}

TEST_CASE("Open API activates a claimed code once (v1)", "[marketsim][openapi]") {
  Api t;
  const std::string code = t.MakeCode(true);
  json j = t.Call(kActivateV1Path, R"({"license":")" + code + R"(","future_field":{"x":1}})");
  CHECK(j["error_code"] == "92020000");
  CHECK(j["error_msg"] == "Success");
  REQUIRE(j["data"]["license_code_info"].is_string());
  const json info = json::parse(j["data"]["license_code_info"].get<std::string>());
  CHECK(info["status"] == "ALIVE");
  CHECK(info["amount"] == 3);
  CHECK(info["product_id"] == "p1");
  CHECK(info["expire_time"] == FormatTime(kNow + 30 * kDay));
  CHECK(info["order_id"].get<std::string>().rfind("CS", 0) == 0);
  CHECK(t.Call(kActivateV1Path, ActivateBody(code))["error_code"] == "92020003");
}

TEST_CASE("Open API answers every §4.6 result code", "[marketsim][openapi]") {
  Api t;
  const std::string unclaimed = t.MakeCode(false);
  const std::string claimed = t.MakeCode(true);
  const std::string other_product = t.MakeCode(true, "p9");

  CHECK(t.Call(kActivateV1Path, ActivateBody("PLDOESNOTEXIST"))["error_code"] == "92020005");
  CHECK(t.Call(kActivateV1Path, ActivateBody(unclaimed))["error_code"] == "92020004");
  CHECK(t.Call(kHeartbeatV1Path, ActivateBody(claimed))["error_code"] == "92020011");
  CHECK(t.Call(kActivateV1Path, R"({"license":")" + claimed +
                                    R"(","real_effect_time":"2020"})")["error_code"] == "92020002");
  CHECK(t.Call(kActivateV1Path, R"({"license":")" + claimed +
                                    R"(","real_effect_time":"20200101000000"})")["error_code"] ==
        "92020002");  // before the order
  CHECK(t.Call(kActivateV1Path, R"({"license":""})", 400)["error_code"] == "95000001");
  CHECK(t.Call(kActivateV1Path, R"({"license":")" + std::string(65, 'P') + R"("})",
               400)["error_code"] == "95000001");
  CHECK(t.Call(kActivateV1Path, R"({"licence":"PL1"})", 400)["error_code"] == "95000001");
  CHECK(t.Call(kActivateV1Path, R"([1])", 400)["error_code"] == "95000001");
  CHECK(t.Call(kActivateV1Path, R"({"license":)", 400)["error_code"] == "95000004");
  CHECK(t.Call(kActivateV2Path, R"({"license_list":[]})", 400)["error_code"] == "95000001");

  SECTION("wrong method and content type") {
    HttpReply r = t.api.Handle(
        t.Signed(kActivateV1Path, "", 0, "AK-ALL", "SK-ALL", "application/json", "GET"));
    CHECK(r.status == 405);
    CHECK(json::parse(r.body)["error_code"] == "95000002");
    r = t.api.Handle(
        t.Signed(kActivateV1Path, ActivateBody(claimed), 0, "AK-ALL", "SK-ALL", "text/plain"));
    CHECK(r.status == 415);
    CHECK(json::parse(r.body)["error_code"] == "95000003");
  }
  SECTION("the gateway: no API, no or bad signature, unknown AK, clock skew") {
    HttpRequest r = t.Signed("/api/mkp-openapi-public/global/v1/license/nope", "{}");
    CHECK(json::parse(t.api.Handle(r).body)["error_code"] == "APIGW.0101");
    r = t.Signed(kActivateV1Path, ActivateBody(claimed));
    r.headers.erase("Authorization");
    HttpReply reply = t.api.Handle(r);
    CHECK(reply.status == 401);
    CHECK(json::parse(reply.body)["error_code"] == "APIGW.0301");
    r = t.Signed(kActivateV1Path, ActivateBody(claimed));
    r.body = ActivateBody(unclaimed);  // body changed after signing
    CHECK(json::parse(t.api.Handle(r).body)["error_code"] == "APIGW.0301");
    r = t.Signed(kActivateV1Path, ActivateBody(claimed), 0, "AK-NOBODY", "SK-ALL");
    CHECK(json::parse(t.api.Handle(r).body)["error_code"] == "APIGW.0301");
    r = t.Signed(kActivateV1Path, ActivateBody(claimed), 0, "AK-ALL", "SK-WRONG");
    CHECK(json::parse(t.api.Handle(r).body)["error_code"] == "APIGW.0301");
    r = t.Signed(kActivateV1Path, ActivateBody(claimed), -16 * 60);
    CHECK(json::parse(t.api.Handle(r).body)["error_code"] == "APIGW.0303");
    r = t.Signed(kActivateV1Path, ActivateBody(claimed), 16 * 60);
    CHECK(json::parse(t.api.Handle(r).body)["error_code"] == "APIGW.0303");
    r = t.Signed(kActivateV1Path, ActivateBody(claimed), -14 * 60);  // within 15 minutes
    CHECK(json::parse(t.api.Handle(r).body)["error_code"] == "92020000");
  }
  SECTION("an AK limited to other products, and injected internal errors") {
    HttpReply r =
        t.api.Handle(t.Signed(kActivateV1Path, ActivateBody(other_product), 0, "AK-P2", "SK-P2"));
    CHECK(r.status == 403);
    CHECK(json::parse(r.body)["error_code"] == "92020001");
    CHECK(json::parse(r.body)["error_msg"] == "Unauthorized");
    t.api.InjectFault(ApiCode::kInternalError, 1);
    CHECK(t.Call(kActivateV1Path, ActivateBody(claimed))["error_code"] == "92020001");
    CHECK(t.Call(kActivateV1Path, ActivateBody(claimed))["error_code"] == "92020000");
  }
  SECTION("a batch with an invalid code activates nothing (v2)") {
    const std::string second = t.MakeCode(true);
    json j = t.Call(kActivateV2Path, json{{"license_list", {claimed, unclaimed, "PLNONE"}}}.dump());
    CHECK(j["error_code"] == "92020020");
    CHECK(j["data"]["invalid_license_list"].size() == 2);
    CHECK(j["data"]["invalid_license_list"][0]["error_code"] == "92020004");
    CHECK(j["data"]["invalid_license_list"][1]["error_code"] == "92020005");
    j = t.Call(kActivateV2Path, json{{"license_list", {claimed, second}}}.dump());
    CHECK(j["error_code"] == "92020000");
    CHECK(j["data"]["license_list"].size() == 2);
    CHECK(j["data"]["license_list"][1]["license"] == second);
    j = t.Call(kActivateV2Path, json{{"license_list", {claimed}}}.dump());
    CHECK(j["error_code"] == "92020020");
    CHECK(j["data"]["invalid_license_list"][0]["error_code"] == "92020003");
  }
}

TEST_CASE("Open API query reports status and expiry, and records usage", "[marketsim][openapi]") {
  Api t;
  const std::string code = t.MakeCode(true);
  REQUIRE(t.Call(kActivateV1Path, ActivateBody(code))["error_code"] == "92020000");
  json j = t.Call(kHeartbeatV1Path,
                  R"({"license":")" + code +
                      R"(","heartbeatInfo":{"thirdPartyAccount":"dev-1","ip":"10.0.0.1"}})");
  CHECK(j["error_code"] == "92020000");
  CHECK(j["data"]["license_code"] == code);
  CHECK(j["data"]["status"] == "ALIVE");
  CHECK(j["data"]["activate_time"] == FormatTime(kNow));
  CHECK(j["data"]["expire_time"] == FormatTime(kNow + 30 * kDay));
  CHECK(t.Call(kHeartbeatV1Path,
               R"({"license":")" + code + R"(","heartbeatInfo":{}})")["error_code"] == "92020002");

  {
    std::lock_guard<std::mutex> lock(t.book.mutex());
    REQUIRE(t.book.market().Freeze(code));
  }
  CHECK(t.Call(kHeartbeatV1Path, ActivateBody(code))["data"]["status"] == "EXPIRED");
  {
    std::lock_guard<std::mutex> lock(t.book.mutex());
    REQUIRE(t.book.market().Release(code));
  }
  CHECK(t.Call(kHeartbeatV1Path, ActivateBody(code))["data"]["status"] == "RELEASED");

  const std::string fresh = t.MakeCode(true);
  REQUIRE(t.Call(kActivateV1Path, ActivateBody(fresh))["error_code"] == "92020000");
  t.now += 31 * kDay;
  CHECK(t.Call(kHeartbeatV1Path, ActivateBody(fresh))["data"]["status"] == "EXPIRED");

  j = t.Call(kHeartbeatV2Path, json{{"license_list", {code, fresh, "PLNONE"}}}.dump());
  CHECK(j["error_code"] == "92020020");
  CHECK(j["data"]["license_info_list"].size() == 2);
  CHECK(j["data"]["invalid_license_list"][0]["license"] == "PLNONE");

  j = t.Call(kUsagePath,
             json{{"usage_info",
                   {{{"license", fresh}, {"software_usage_Info", {{{"id", "machine-a"}}}}},
                    {{"license", "PLNONE"}, {"software_usage_Info", {{{"active_num", 4}}}}}}}}
                 .dump());
  CHECK(j["error_code"] == "92020000");
  CHECK(j["data"]["check_fail_license_list"].size() == 1);
  {
    std::lock_guard<std::mutex> lock(t.book.mutex());
    CHECK(t.book.market().Find(fresh)->usage.begin()->second.ids.count("machine-a") == 1);
  }
  CHECK(t.Call(kUsagePath, json{{"usage_info",
                                 {{{"license", fresh},
                                   {"software_usage_Info", {{{"id", "a"}, {"active_num", 1}}}}}}}}
                               .dump())["error_code"] == "92020002");
  CHECK(t.Call(kUsagePath,
               R"({"usage_info":[{"license":"PL1","software_usage_info":[{"id":"a"}]}]})",
               400)["error_code"] == "95000001");
}
