// The simulator's callbacks without a network: what goes on the wire (checked with the signing
// library's verifiers), which answers count as delivered, and the retry schedule of the
// dispatcher against a scripted transport (bounded, with millisecond intervals).
#include <atomic>
#include <chrono>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>

#include "server/koogallery/signing.h"
#include "server/marketsim/callbacks.h"
#include "tests/catch.h"

using namespace licagent;
using namespace licagent::marketsim;
using nlohmann::json;
using std::chrono::system_clock;

namespace {

const std::string kKey = "EXAMPLEACCESSKEY0123456789";
constexpr std::int64_t kNowMs = 1800000000000;

Delivery MakeDelivery(const json& fields, Tamper tamper = Tamper::kNone) {
  Delivery d;
  d.spec.fields = fields;
  d.spec.tamper = tamper;
  const auto info = LookupActivity(fields.value("activity", ""));
  REQUIRE(info);
  d.model = info->model;
  d.async_ok = info->async_ok;
  d.fresh_business_id = info->fresh_business_id;
  return d;
}

std::string Param(const std::string& target, const std::string& name) {
  const auto q = target.find('?');
  for (const auto& [n, v] : koogallery::ParseQueryString(target.substr(q + 1))) {
    if (n == name) return v;
  }
  return "";
}

koogallery::CallbackAuthOutcome VerifySigned(const WireRequest& w, std::int64_t now_ms) {
  const std::string sig = Param(w.target, "signature");
  const std::string ts = Param(w.target, "timestamp");
  const std::string nonce = Param(w.target, "nonce");
  return koogallery::VerifyCallback(kKey, {sig, ts, nonce, w.body},
                                    system_clock::time_point(std::chrono::milliseconds(now_ms)));
}

const json kRefresh = {{"activity", "refreshLicenseCode"},
                       {"scene", "RENEWAL"},
                       {"orderId", "CS1"},
                       {"orderLineId", "CS1-000001"},
                       {"license", "PLXXXXXX"},
                       {"expireTime", "20230523201932"},
                       {"testFlag", "1"}};

}  // namespace

TEST_CASE("License 2.0 callbacks are signed POSTs that the vendor's verifier accepts",
          "[marketsim][callbacks]") {
  const Delivery d = MakeDelivery(kRefresh);
  const WireRequest w = PrepareAttempt(d, "/koogallery/callback?product=1", kKey, kNowMs);
  CHECK(w.method == "POST");
  CHECK(
      w.body ==
      R"({"activity":"refreshLicenseCode","expireTime":"20230523201932","license":"PLXXXXXX","orderId":"CS1","orderLineId":"CS1-000001","scene":"RENEWAL","testFlag":"1"})");
  CHECK(w.target.rfind("/koogallery/callback?product=1&signature=", 0) == 0);
  CHECK(Param(w.target, "timestamp") == std::to_string(kNowMs));
  CHECK(Param(w.target, "nonce").size() == 64);
  CHECK(VerifySigned(w, kNowMs));

  const WireRequest again = PrepareAttempt(d, "/cb", kKey, kNowMs);
  CHECK(Param(again.target, "nonce") != Param(w.target, "nonce"));  // a fresh nonce per attempt

  const WireRequest bad =
      PrepareAttempt(MakeDelivery(kRefresh, Tamper::kBadSignature), "/cb", kKey, kNowMs);
  CHECK(VerifySigned(bad, kNowMs).error == koogallery::CallbackAuthError::kBadSignature);
  const WireRequest stale =
      PrepareAttempt(MakeDelivery(kRefresh, Tamper::kStaleTimestamp), "/cb", kKey, kNowMs);
  CHECK(VerifySigned(stale, kNowMs).error == koogallery::CallbackAuthError::kTimestampOutOfWindow);
}

TEST_CASE("newInstance gets a fresh businessId on every request", "[marketsim][callbacks]") {
  const Delivery d = MakeDelivery(
      {{"activity", "newInstance"}, {"orderId", "CS2"}, {"orderLineId", "CS2-000001"}});
  const json a = json::parse(PrepareAttempt(d, "/cb", kKey, kNowMs).body);
  const json b = json::parse(PrepareAttempt(d, "/cb", kKey, kNowMs).body);
  CHECK(a["businessId"].get<std::string>().size() == 32);
  CHECK(a["businessId"] != b["businessId"]);
  CHECK(a["orderId"] == "CS2");
}

TEST_CASE("Legacy callbacks are GETs with an authToken the vendor's verifier accepts",
          "[marketsim][callbacks]") {
  const Delivery d = MakeDelivery({{"activity", "getLicense"},
                                   {"customerId", "c 1"},
                                   {"orderId", "CS1"},
                                   {"productId", "P1"},
                                   {"amount", 2},
                                   {"testFlag", "1"}});
  const WireRequest w = PrepareAttempt(d, "/cb", kKey, kNowMs);
  CHECK(w.method == "GET");
  CHECK(w.body.empty());
  const auto params = koogallery::ParseQueryString(w.target.substr(w.target.find('?') + 1));
  CHECK(Param(w.target, "customerId") == "c 1");
  CHECK(Param(w.target, "amount") == "2");
  CHECK(Param(w.target, "timeStamp") == "20270115080000000");
  CHECK(Param(w.target, "businessId").size() == 32);
  CHECK(koogallery::VerifyLegacyAuthToken(kKey, params, system_clock::now()) ==
        koogallery::LegacyAuthError::kNone);
  const WireRequest bad =
      PrepareAttempt(MakeDelivery(d.spec.fields, Tamper::kBadSignature), "/cb", kKey, kNowMs);
  CHECK(koogallery::VerifyLegacyAuthToken(
            kKey, koogallery::ParseQueryString(bad.target.substr(bad.target.find('?') + 1)),
            system_clock::now()) == koogallery::LegacyAuthError::kBadToken);
}

TEST_CASE("Judge: what counts as delivered", "[marketsim][callbacks]") {
  const Delivery v2 = MakeDelivery(kRefresh);
  Attempt a;
  CHECK(Judge(v2, {200, R"({"resultCode":"000000","resultMsg":"ok"})", "", ""}, kKey, a));
  a = {};
  CHECK_FALSE(Judge(v2, {200, R"({"resultCode":"000004"})", "", ""}, kKey, a));
  CHECK(a.result_code == "000004");
  a = {};
  CHECK_FALSE(Judge(v2, {200, R"({"resultCode":0})", "", ""}, kKey, a));  // not a string
  a = {};
  CHECK_FALSE(Judge(v2, {503, R"({"resultCode":"000000"})", "", ""}, kKey, a));
  CHECK(a.error == "HTTP 503");
  a = {};
  CHECK_FALSE(Judge(v2, {0, "", "", "transport: timeout"}, kKey, a));
  CHECK(a.error == "transport: timeout");

  const Delivery async = MakeDelivery({{"activity", "getLicenseAsync"}, {"instanceId", "i"}});
  a = {};
  CHECK(Judge(async, {200, R"({"resultCode":"000004"})", "", ""}, kKey, a));

  const Delivery legacy = MakeDelivery({{"activity", "releaseLicense"}, {"instanceId", "i"}});
  const std::string body = R"({"resultCode":"000000","resultMsg":"success."})";
  a = {};
  CHECK_FALSE(Judge(legacy, {200, body, "", ""}, kKey, a));
  CHECK(a.error == "no Body-Sign header");
  a = {};
  CHECK_FALSE(
      Judge(legacy, {200, body, koogallery::BodySignHeaderValue("other", body), ""}, kKey, a));
  a = {};
  CHECK(Judge(legacy, {200, body, koogallery::BodySignHeaderValue(kKey, body), ""}, kKey, a));
}

TEST_CASE("Dispatcher retries failures on schedule, then gives up", "[marketsim][callbacks]") {
  std::atomic<int> calls{0};
  std::atomic<int> fail_first{2};
  VendorConfig vendor;
  vendor.url = "https://vendor.example/cb";
  vendor.key = kKey;
  Dispatcher dispatcher(
      vendor,
      [&](const WireRequest& w) -> WireResponse {
        ++calls;
        if (fail_first > 0) {
          --fail_first;
          return {500, "oops", "", ""};
        }
        CHECK(w.target.rfind("/cb?signature=", 0) == 0);
        return {200, R"({"resultCode":"000000"})", "", ""};
      },
      [] { return kNowMs; });
  dispatcher.Start();

  CallbackSpec spec;
  spec.fields = kRefresh;
  spec.retry = {5, 10};
  const auto ok = dispatcher.Enqueue(spec);
  dispatcher.Wait({ok}, std::chrono::seconds(10));
  auto d = dispatcher.Get(ok);
  REQUIRE(d);
  CHECK(d->state == DeliveryState::kDelivered);
  CHECK(d->attempts.size() == 3);
  CHECK(d->attempts[0].error == "HTTP 500");

  fail_first = 1000;
  spec.retry = {3, 5};
  const auto failed = dispatcher.Enqueue(spec);
  dispatcher.Wait({failed}, std::chrono::seconds(10));
  d = dispatcher.Get(failed);
  REQUIRE(d);
  CHECK(d->state == DeliveryState::kFailed);
  CHECK(d->attempts.size() == 4);  // the first call and 3 retries
  const json j = ToJson(*d);
  CHECK(j["state"] == "failed");
  CHECK(j["activity"] == "refreshLicenseCode");

  spec.retry = {0, 0};
  const auto once = dispatcher.Enqueue(spec);
  dispatcher.Wait({once}, std::chrono::seconds(10));
  CHECK(dispatcher.Get(once)->attempts.size() == 1);
  dispatcher.Stop();
  CHECK(calls == 3 + 4 + 1);
}
