// The KooGallery callbacks applied to a real SQLite store (no HTTP): verification, dispatch,
// idempotency under retries, testFlag, the three models, and the licenses and keys they
// deliver, checked with the agent's own verifier.
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

#include "licagent/identity.h"
#include "licagent/license.h"
#include "server/activation/credential_key.h"
#include "server/activation/market_callbacks.h"
#include "server/activation/sqlite_store.h"
#include "server/koogallery/callbacks.h"
#include "server/koogallery/signing.h"
#include "tests/catch.h"
#include "tests/unit/server_service_fixture.h"

using namespace licagent;
using namespace licagent::server;
using nlohmann::json;
using Clock = std::chrono::system_clock;

namespace {

constexpr UnixTime kNow = 1800000000;  // 2027-01-15T08:00:00Z
constexpr UnixTime kDay = 86400;
const std::string kKey = "seller-center-callback-key";
const std::string kCode = "PL0123456789ABCD";
const std::string kFingerprint = "B8:CA:3A:6B:11:20|S4EWNX0R123456|.7XYZ123.|BFEBFBFF000606A6";

struct Fixture : testing::ServerFiles {
  Fixture()
      : ServerFiles("licagent-callbacks",
                    R"({"listen":"127.0.0.1:0","tls":{"certificate":"c","private_key":"k"},
            "signing_key":{"file":"v","key_id":"test-key"},"storage":{"path":"s.db"},
            "products":[{"id":"prod","seats":2},{"id":"pro-max"}],
            "koogallery":{"callback":{"access_key_file":"cb.key"},
                          "products":{"MKT-PRO":"pro-max"},"default_product":"prod"}})") {
    std::ofstream(dir / "cb.key") << kKey << "\n";
    auto access = LoadCallbackKey((dir / "cb.key").string());
    REQUIRE(access);
    CHECK(access->view() == kKey);
    callbacks = std::make_unique<MarketCallbacks>(config, *store, *key, std::move(*access),
                                                  [this] { return now; });
  }

  // A credential for kCode (the colleague's activation makes these).
  std::string AddCodeCredential(bool test = false) {
    Credential c;
    c.id = "cred-code";
    c.product_id = "prod";
    c.seats = 2;
    c.expires_at = kNow + 30 * kDay;
    c.created_at = kNow;
    c.market = MarketLink{kCode, "CS-ORDER", test, kNow};
    REQUIRE(store->CreateCredential(c, "key-hash-of-the-code"));
    return c.id;
  }

  std::int64_t NowMs() const {
    return std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count();
  }

  // A signed POST as the marketplace sends it: a fresh nonce each time unless given.
  json Post(const json& body, std::string nonce = "", std::string timestamp = "",
            const std::string& key_used = kKey) {
    const std::string text = body.dump();
    if (nonce.empty()) nonce = "nonce" + std::to_string(++nonces);
    if (timestamp.empty()) timestamp = std::to_string(NowMs());
    const CallbackReply r = callbacks->Handle(
        "POST", koogallery::CallbackQuery(key_used, nonce, timestamp, text), text);
    CHECK(r.status == 200);
    CHECK(koogallery::VerifyBodySignHeader(kKey, r.body_sign, r.body));
    last = r;
    return json::parse(r.body);
  }

  // A legacy GET: parameters + timeStamp + authToken, URL-encoded.
  json Get(koogallery::QueryParams params, const std::string& key_used = kKey,
           std::optional<Clock::time_point> at = std::nullopt) {
    const std::time_t t = Clock::to_time_t(at.value_or(now));
    std::tm tm{};
    gmtime_r(&t, &tm);
    char stamp[32];
    std::strftime(stamp, sizeof stamp, "%Y%m%d%H%M%S", &tm);
    params.emplace_back("timeStamp", std::string(stamp) + std::to_string(100 + ++nonces % 900));
    params.emplace_back("authToken", koogallery::LegacyAuthToken(key_used, params));
    return GetRaw(Encode(params));
  }
  json GetRaw(const std::string& query) {
    const CallbackReply r = callbacks->Handle("GET", query, "");
    CHECK(r.status == 200);
    CHECK(koogallery::VerifyBodySignHeader(kKey, r.body_sign, r.body));
    last = r;
    last_query = query;
    return json::parse(r.body);
  }
  static std::string Encode(const koogallery::QueryParams& params) {
    std::string q;
    for (const auto& [n, v] : params) {
      if (!q.empty()) q += '&';
      q += n + "=";
      for (unsigned char c : v) {
        if (std::isalnum(c) != 0 || c == '-' || c == '_' || c == '.' || c == '~') {
          q += static_cast<char>(c);
        } else {
          char buf[4];
          std::snprintf(buf, sizeof buf, "%%%02X", c);
          q += buf;
        }
      }
    }
    return q;
  }

  Credential Code() {
    auto c = store->FindCredentialByMarketCode(kCode);
    REQUIRE(c);
    return *c;
  }

  std::unique_ptr<MarketCallbacks> callbacks;
  Clock::time_point now = Clock::from_time_t(kNow);
  int nonces = 0;
  CallbackReply last;
  std::string last_query;
};

json Renew(const std::string& order, const std::string& expire, const char* test = "0") {
  return {{"activity", "refreshLicenseCode"},
          {"scene", "RENEWAL"},
          {"orderId", order},
          {"orderLineId", order + "-000001"},
          {"license", kCode},
          {"expireTime", expire},
          {"testFlag", test}};
}
json StatusChange(const char* status, const char* test = "0") {
  return {{"activity", "updateLicenseCodeStatus"},
          {"license", kCode},
          {"status", status},
          {"testFlag", test}};
}

}  // namespace

TEST_CASE("market callbacks: signature, timestamp and nonce are verified before anything",
          "[server][koogallery]") {
  Fixture f;
  f.AddCodeCredential();
  const json freeze = StatusChange("FREEZE");
  // Wrong key: 000001 and nothing changes.
  json a = f.Post(freeze, "", "", "another-key");
  CHECK(a["resultCode"] == "000001");
  CHECK(a["resultMsg"] == "authentication failed: bad_signature");
  CHECK(f.Code().state == CredentialState::kActive);
  // Stale: 61 s old.
  a = f.Post(freeze, "", std::to_string(f.NowMs() - 61'000));
  CHECK(a["resultCode"] == "000001");
  CHECK(a["resultMsg"] == "authentication failed: timestamp_out_of_window");
  CHECK(f.Code().state == CredentialState::kActive);
  // No signature at all.
  CallbackReply r = f.callbacks->Handle("POST", "", freeze.dump());
  CHECK(koogallery::AnswerResultCode(r.body) == "000001");
  CHECK(r.status == 200);
  // Good, then the byte-identical request again: a replay.
  const std::string ts = std::to_string(f.NowMs());
  CHECK(f.Post(freeze, "fixed-nonce", ts)["resultCode"] == "000000");
  CHECK(f.Code().state == CredentialState::kFrozen);
  a = f.Post(freeze, "fixed-nonce", ts);
  CHECK(a["resultCode"] == "000001");
  CHECK(a["resultMsg"] == "authentication failed: replayed_nonce");
  CHECK(f.last.result_code == "000001");
}

TEST_CASE("market callbacks: a code is renewed, frozen, unfrozen and released",
          "[server][koogallery]") {
  Fixture f;
  f.AddCodeCredential();
  json a = f.Post(Renew("CS-R1", "20300101000000"));
  CHECK(a == json{{"resultCode", "000000"}, {"resultMsg", "success."}});
  CHECK(f.Code().expires_at == 1893456000);
  CHECK(f.Post(StatusChange("FREEZE"))["resultCode"] == "000000");
  CHECK(f.Code().state == CredentialState::kFrozen);
  CHECK(f.Post(StatusChange("FREEZE"))["resultCode"] == "000000");  // again: same state
  CHECK(f.Code().state == CredentialState::kFrozen);
  CHECK(f.Post(StatusChange("UNFREEZE"))["resultCode"] == "000000");
  CHECK(f.Code().state == CredentialState::kActive);
  // A refunded renewal period moves the expiry back.
  json refund = Renew("CS-R2", "20290101000000");
  refund["scene"] = "UNSUBSCRIBE_RENEWAL_PERIOD";
  CHECK(f.Post(refund)["resultCode"] == "000000");
  CHECK(f.Code().expires_at == 1861920000);
  const json release = {{"activity", "releaseLicenseCode"}, {"license", kCode}};
  CHECK(f.Post(release)["resultCode"] == "000000");
  CHECK(f.Code().state == CredentialState::kReleased);
  CHECK(f.Post(release)["resultCode"] == "000000");
  // Released is final: a late status change leaves it.
  CHECK(f.Post(StatusChange("UNFREEZE"))["resultCode"] == "000000");
  CHECK(f.Code().state == CredentialState::kReleased);
  // The credential is kept, for the machines' next refresh.
  CHECK(f.store->GetCredential("cred-code"));
}

TEST_CASE("market callbacks: a renewal retried 60 times takes effect once, same answer",
          "[server][koogallery]") {
  Fixture f;
  f.AddCodeCredential();
  const json first = Renew("CS-A", "20300101000000");
  const json answer = f.Post(first);
  CHECK(answer["resultCode"] == "000000");
  CHECK(f.Post(Renew("CS-B", "20310101000000"))["resultCode"] == "000000");
  CHECK(f.Code().expires_at == 1924992000);
  // The first renewal's retries (each a new nonce and timestamp) get the stored answer and do
  // not roll the later renewal back.
  for (int i = 0; i < 60; ++i) {
    f.now += std::chrono::seconds(120);
    CHECK(f.Post(first) == answer);
  }
  CHECK(f.Code().expires_at == 1924992000);
}

TEST_CASE("market callbacks: testFlag never touches a real code", "[server][koogallery]") {
  SECTION("real credential") {
    Fixture f;
    f.AddCodeCredential(false);
    json a = f.Post(StatusChange("FREEZE", "1"));
    CHECK(a["resultCode"] == "000000");
    CHECK(a["resultMsg"] == "test request: the real code was not changed");
    CHECK(f.Post(Renew("CS-T", "20300101000000", "1"))["resultCode"] == "000000");
    CHECK(f.Code().state == CredentialState::kActive);
    CHECK(f.Code().expires_at == kNow + 30 * kDay);
  }
  SECTION("test credential") {
    Fixture f;
    f.AddCodeCredential(true);
    CHECK(f.Post(StatusChange("FREEZE", "1"))["resultCode"] == "000000");
    CHECK(f.Code().state == CredentialState::kFrozen);
  }
  SECTION("unknown code") {
    Fixture f;
    json a = f.Post(StatusChange("FREEZE", "1"));
    CHECK(a["resultCode"] == "000000");
    CHECK(f.store->FindPendingMarketCode(kCode).error().code == ErrorCode::kNotFound);
  }
}

TEST_CASE("market callbacks: a code not activated yet is remembered", "[server][koogallery]") {
  Fixture f;
  json renew = Renew("CS-R1", "20300101000000");
  renew["productId"] = "MKT-PRO";
  CHECK(f.Post(renew)["resultCode"] == "000000");
  CHECK(f.Post(StatusChange("FREEZE"))["resultCode"] == "000000");
  auto pending = f.store->FindPendingMarketCode(kCode);
  REQUIRE(pending);
  CHECK(pending->expires_at == 1893456000);
  CHECK(pending->state == CredentialState::kFrozen);
  CHECK(pending->market_product_id == "MKT-PRO");
  CHECK(f.Post({{"activity", "releaseLicenseCode"}, {"license", kCode}})["resultCode"] == "000000");
  CHECK(f.Post(StatusChange("UNFREEZE"))["resultCode"] == "000000");
  CHECK(f.store->FindPendingMarketCode(kCode)->state == CredentialState::kReleased);
  CHECK(f.store->FindPendingMarketCode(kCode)->expires_at == 1893456000);
}

TEST_CASE("market callbacks: illegal parameters and methods", "[server][koogallery]") {
  Fixture f;
  f.AddCodeCredential();
  json a = f.Post({{"activity", "orderNotify"}, {"orderId", "O"}});
  CHECK(a["resultCode"] == "000002");
  CHECK(a["resultMsg"] == "unknown activity 'orderNotify'");
  CHECK(f.Post({{"activity", "updateLicenseCodeStatus"}, {"license", kCode}})["resultCode"] ==
        "000002");
  CHECK(f.Post({{"activity", "releaseLicenseCode"},
                {"license", kCode},
                {"pad", std::string(9000, 'x')}})["resultCode"] == "000002");
  CHECK(f.Code().state == CredentialState::kActive);
  const CallbackReply r = f.callbacks->Handle("PUT", "", "{}");
  CHECK(r.status == 405);
  CHECK(r.allow == "GET, POST");
  CHECK(koogallery::AnswerResultCode(r.body) == "000002");
  CHECK(koogallery::VerifyBodySignHeader(kKey, r.body_sign, r.body));
  CHECK(koogallery::AnswerResultCode(f.callbacks->Refusal("too large").body) == "000002");
}

TEST_CASE("market callbacks: online-license instances and fingerprint-bound licenses",
          "[server][koogallery]") {
  Fixture f;
  json create = {{"activity", "newInstance"},
                 {"orderId", "CS-O"},
                 {"orderLineId", "CS-O-1"},
                 {"businessId", "biz-1"}};
  json a = f.Post(create);
  REQUIRE(a["resultCode"] == "000000");
  const std::string instance = a["instanceId"];
  CHECK(instance.rfind("kgi-", 0) == 0);
  create["businessId"] = "biz-2";  // a retry: a new businessId, the same instance
  CHECK(f.Post(create)["instanceId"] == instance);
  create["orderLineId"] = "CS-O-2";
  CHECK(f.Post(create)["instanceId"] != instance);

  json refresh = {
      {"activity", "refreshInstance"}, {"scene", "RENEWAL"},     {"orderId", "CS-R"},
      {"orderLineId", "CS-R-1"},       {"instanceId", instance}, {"productId", "MKT-PRO"},
      {"expireTime", "20300101000000"}};
  CHECK(f.Post(refresh)["resultCode"] == "000000");
  auto stored = f.store->GetMarketInstance(instance);
  REQUIRE(stored);
  CHECK(stored->expires_at == 1893456000);
  CHECK(stored->product_id == "pro-max");
  CHECK(stored->market_product_id == "MKT-PRO");

  json get = {{"activity", "getLicenseAsync"},
              {"instanceId", instance},
              {"effectiveTime", "2027-01-01 00:00:00 z"},
              {"eventId", "evt-1"},
              {"deviceFingerprint", kFingerprint}};
  a = f.Post(get);
  REQUIRE(a["resultCode"] == "000000");
  const std::string text = a["license"];
  auto license = VerifyLicense(text, {f.key->Public("test-key")});
  REQUIRE(license);
  const LicensePayload& p = license->payload;
  CHECK(p.product_id == "pro-max");
  CHECK(p.instance_id == instance);
  CHECK(p.order_id == "CS-O");
  CHECK(p.expires_at == 1893456000);
  CHECK(p.not_before == 1798761600);  // effectiveTime
  CHECK_FALSE(p.refresh_by);
  REQUIRE(p.binding);
  CHECK(p.binding->identifier == *IdentifierFromKooGalleryFingerprint(kFingerprint));
  // The same event again (a retry): the same license. Another event: a new one.
  f.now += std::chrono::seconds(30);
  CHECK(f.Post(get)["license"] == text);
  get["eventId"] = "evt-2";
  const json second = f.Post(get);
  CHECK(second["resultCode"] == "000000");
  CHECK(second["license"] != text);
  // The refusals of §6.6.
  get["eventId"] = "evt-3";
  get.erase("deviceFingerprint");
  CHECK(f.Post(get)["resultCode"] == "000903");
  get["deviceFingerprint"] = "|||";
  CHECK(f.Post(get)["resultCode"] == "000903");
  get["deviceFingerprint"] = kFingerprint;
  get["instanceId"] = "kgi-none";
  CHECK(f.Post(get)["resultCode"] == "000003");
  get["instanceId"] = instance;
  get["testFlag"] = "1";
  a = f.Post(get);
  CHECK(a["resultCode"] == "000000");
  CHECK_FALSE(a.contains("license"));
  get["testFlag"] = "0";
  CHECK(f.Post({{"activity", "updateInstanceStatus"},
                {"instanceId", instance},
                {"status", "FREEZE"}})["resultCode"] == "000000");
  CHECK(f.Post(get)["resultCode"] == "000901");
  CHECK(f.Post({{"activity", "updateInstanceStatus"},
                {"instanceId", instance},
                {"status", "UNFREEZE"}})["resultCode"] == "000000");
  CHECK(f.Post(get)["resultCode"] == "000000");
  const json release = {{"activity", "releaseInstance"}, {"instanceId", instance}};
  CHECK(f.Post(release)["resultCode"] == "000000");
  CHECK(f.Post(release)["resultCode"] == "000000");
  CHECK(f.store->GetMarketInstance(instance)->state == CredentialState::kReleased);
  get["eventId"] = "evt-4";
  CHECK(f.Post(get)["resultCode"] == "000003");
  CHECK(f.Post({{"activity", "releaseInstance"}, {"instanceId", "kgi-none"}})["resultCode"] ==
        "000003");
}

TEST_CASE("market callbacks: legacy GET callbacks deliver a license key", "[server][koogallery]") {
  Fixture f;
  koogallery::QueryParams get = {{"activity", "getLicense"},
                                 {"customerId", "cust-1"},
                                 {"customerName", "ACME Ltd"},
                                 {"businessId", "b1"},
                                 {"orderId", "CS-L1"},
                                 {"productId", "MKT-PRO"},
                                 {"expireTime", "20300101000000"},
                                 {"amount", "3"}};
  json a = f.Get(get);
  REQUIRE(a["resultCode"] == "000000");
  const std::string instance = a["instanceId"];
  const std::string key = a["license"];
  auto credential = f.store->FindCredentialByKeyHash(*CredentialKeyHash(key));
  REQUIRE(credential);
  CHECK(credential->product_id == "pro-max");
  CHECK(credential->seats == 3);
  CHECK(credential->customer == "ACME Ltd");
  CHECK(credential->expires_at == 1893456000);
  // A retry: new businessId and timeStamp, the same instance and key.
  get[3].second = "b2";
  f.now += std::chrono::seconds(1);
  CHECK(f.Get(get) == a);
  CHECK(f.store->ListCredentials()->size() == 1);

  CHECK(f.Get({{"activity", "refreshLicense"},
               {"orderId", "CS-L2"},
               {"instanceId", instance},
               {"expireTime", "20310101000000"}})["resultCode"] == "000000");
  CHECK(f.store->GetCredential(credential->id)->expires_at == 1924992000);
  CHECK(f.Get({{"activity", "expireLicense"}, {"instanceId", instance}})["resultCode"] == "000000");
  CHECK(f.store->GetCredential(credential->id)->state == CredentialState::kFrozen);
  CHECK(f.Get({{"activity", "releaseLicense"},
               {"orderId", "CS-L1"},
               {"instanceId", instance}})["resultCode"] == "000000");
  CHECK(f.store->GetCredential(credential->id)->state == CredentialState::kReleased);
  CHECK(f.store->GetMarketInstance(instance)->state == CredentialState::kReleased);
  CHECK(f.Get({{"activity", "releaseLicense"}, {"instanceId", "kgi-x"}})["resultCode"] == "000003");

  // Authentication: a wrong key, a replayed request, a stale timeStamp; every reply signed.
  a = f.Get({{"activity", "expireLicense"}, {"instanceId", instance}}, "wrong-key");
  CHECK(a["resultCode"] == "000001");
  json ok = f.Get({{"activity", "expireLicense"}, {"instanceId", instance}});
  CHECK(ok["resultCode"] == "000000");
  a = f.GetRaw(f.last_query);
  CHECK(a["resultCode"] == "000001");
  CHECK(a["resultMsg"] == "authentication failed: replayed authToken");
  a = f.Get({{"activity", "expireLicense"}, {"instanceId", instance}}, kKey,
            f.now - std::chrono::minutes(10));
  CHECK(a["resultCode"] == "000001");
  CHECK(f.Get({{"activity", "getLicense"}})["resultCode"] == "000002");
}

TEST_CASE("market callbacks: a test getLicense gets a key that lasts a day",
          "[server][koogallery]") {
  Fixture f;
  json a = f.Get({{"activity", "getLicense"},
                  {"customerId", "c"},
                  {"businessId", "b"},
                  {"orderId", "CS-T"},
                  {"productId", "unmapped"},
                  {"testFlag", "1"}});
  REQUIRE(a["resultCode"] == "000000");
  auto credential =
      f.store->FindCredentialByKeyHash(*CredentialKeyHash(a["license"].get<std::string>()));
  REQUIRE(credential);
  CHECK(credential->product_id == "prod");  // default_product
  CHECK(credential->seats == 2);            // the product's default
  CHECK(credential->expires_at == kNow + kDay);
  CHECK(f.store->GetMarketInstance(a["instanceId"].get<std::string>())->test);
}
