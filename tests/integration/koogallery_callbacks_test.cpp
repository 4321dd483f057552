// KooGallery callbacks end to end: the real licagent-marketsim fires correctly signed (and
// deliberately broken) callbacks over TLS on 127.0.0.1 at the real licagent-server's production
// URL; the server's SQLite store shows the effect. The authorization-code credential is put into
// the server's store directly (the activation path makes it in production). Every wait is
// bounded: the simulator's wait_ms and the process start/stop loops.
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "licagent/identity.h"
#include "licagent/license.h"
#include "server/activation/sqlite_store.h"
#include "tests/catch.h"
#include "tests/integration/vendor_stack.h"
#include "tests/marketsim/marketsim_process.h"

namespace licagent {
namespace {

using nlohmann::json;

const std::string kCallbackKey = "seller-center-key-for-the-tests-0123";

using testing::ReadAll;

// The vendor server with its callback URL, and the simulator aimed at it.
class World {
 public:
  World() : vendor_("licagent-demo") {
    vendor_.config()["products"][0]["seats"] = 2;
    vendor_.EnableKooGalleryCallbacks(kCallbackKey);
    vendor_.config()["koogallery"]["default_product"] = "licagent-demo";
    vendor_.Start();
    // No retries: a refused callback shows one attempt.
    json retry = json::object();
    for (const char* family :
         {"license_code", "instance", "instance_create", "legacy_get_license", "legacy_other"}) {
      retry[family] = {{"retries", 0}, {"interval_ms", 10}};
    }
    sim_ = std::make_unique<testing::Marketsim>(vendor_.port(), kCallbackKey, retry);
    auto store = server::OpenSqliteStore((vendor_.dir() / "licagent.db").string(), 1);
    REQUIRE(store);
    store_ = std::move(*store);
  }

  // A simulator admin call; checks the status.
  json Admin(const std::string& path, const json& body = nullptr, int expect = 200) {
    return sim_->Admin(path, body, expect);
  }

  // Fires a hand-made callback and waits for its deliveries.
  json Fire(json body) {
    body["wait_ms"] = 25000;  // within the admin client's 30 s read timeout
    return Admin("/admin/callbacks", body)["deliveries"];
  }

  // An open-API call to the simulator, signed as the vendor server signs it.
  json Api(const std::string& path, const json& body) { return sim_->Api(path, body); }

  // A code in the simulator, claimed and activated, and its credential in the server's store
  // (what the activation path makes).
  std::string NewCode() {
    const json created = Admin(
        "/admin/codes",
        {{"product_id", "licagent-demo"}, {"amount", 2}, {"valid_days", 30}, {"claimed", true}},
        201);
    const std::string code = created["code"];
    REQUIRE(Api("/api/mkp-openapi-public/global/v1/license/activate",
                {{"license", code}})["error_code"] == "92020000");
    server::Credential c;
    c.id = "cred-" + code.substr(2, 16);
    c.product_id = "licagent-demo";
    c.seats = 2;
    c.expires_at = std::time(nullptr) + 30 * 86400;
    c.created_at = std::time(nullptr);
    c.market = server::MarketLink{code, created["order_id"], false, 0};
    REQUIRE(store_->CreateCredential(c, "hash-of-" + code));
    return code;
  }
  server::Credential Credential(const std::string& code) {
    auto c = store_->FindCredentialByMarketCode(code);
    REQUIRE(c);
    return *c;
  }

  const PublicKey& public_key() const { return vendor_.public_key(); }
  std::string AccessLog() const { return ReadAll(vendor_.dir() / "access.log"); }

 private:
  testing::Vendor vendor_;
  std::unique_ptr<testing::Marketsim> sim_;
  std::unique_ptr<server::Store> store_;
};

// Every delivery finished as `state`, each attempt answered `code`.
void RequireAll(const json& deliveries, const std::string& state, const std::string& code) {
  REQUIRE(deliveries.is_array());
  REQUIRE_FALSE(deliveries.empty());
  for (const json& d : deliveries) {
    INFO(d.dump());
    CHECK(d["state"] == state);
    REQUIRE(d["attempts"].size() == 1);
    CHECK(d["attempts"][0]["http_status"] == 200);
    CHECK(d["attempts"][0]["result_code"] == code);
    CHECK(d["reply"]["resultCode"] == code);
  }
}

UnixTime Utc(int y, int mo, int d, int h = 0, int mi = 0, int s = 0) {
  std::tm tm{};
  tm.tm_year = y - 1900;
  tm.tm_mon = mo - 1;
  tm.tm_mday = d;
  tm.tm_hour = h;
  tm.tm_min = mi;
  tm.tm_sec = s;
  return timegm(&tm);
}

}  // namespace

TEST_CASE("koogallery callbacks: the simulator renews, freezes, unfreezes and releases a code",
          "[koogallery][process]") {
  World w;
  const std::string code = w.NewCode();
  const std::string base = "/admin/codes/" + code;
  RequireAll(w.Admin(base + "/renew",
                     {{"expire_time", "20991231235959"}, {"wait_ms", 60000}})["deliveries"],
             "delivered", "000000");
  CHECK(w.Credential(code).expires_at == Utc(2099, 12, 31, 23, 59, 59));
  RequireAll(w.Admin(base + "/freeze", {{"wait_ms", 60000}})["deliveries"], "delivered", "000000");
  CHECK(w.Credential(code).state == server::CredentialState::kFrozen);
  RequireAll(w.Admin(base + "/unfreeze", {{"wait_ms", 60000}})["deliveries"], "delivered",
             "000000");
  CHECK(w.Credential(code).state == server::CredentialState::kActive);
  RequireAll(w.Admin(base + "/release", {{"wait_ms", 60000}, {"unsubscribe", true}})["deliveries"],
             "delivered", "000000");
  CHECK(w.Credential(code).state == server::CredentialState::kReleased);
  CHECK(w.Credential(code).expires_at == Utc(2099, 12, 31, 23, 59, 59));
  // The access log names the callback path, never its query (the signature).
  const std::string log = w.AccessLog();
  CHECK(log.find("/koogallery/callback") != std::string::npos);
  CHECK(log.find("signature=") == std::string::npos);
}

TEST_CASE("koogallery callbacks: bad signature, stale timestamp and replay get 000001",
          "[koogallery][process]") {
  World w;
  const std::string code = w.NewCode();
  const json freeze = {
      {"activity", "updateLicenseCodeStatus"}, {"license", code}, {"status", "FREEZE"}};
  RequireAll(w.Fire({{"fields", freeze}, {"tamper", "bad_signature"}}), "failed", "000001");
  CHECK(w.Credential(code).state == server::CredentialState::kActive);
  RequireAll(w.Fire({{"fields", freeze}, {"tamper", "stale_timestamp"}}), "failed", "000001");
  CHECK(w.Credential(code).state == server::CredentialState::kActive);
  // Two byte-identical requests: the first is applied, the second hits the nonce cache.
  const json replayed = w.Fire({{"fields", freeze}, {"tamper", "replay"}, {"repeat", 2}});
  REQUIRE(replayed.size() == 2);
  RequireAll(json::array({replayed[0]}), "delivered", "000000");
  RequireAll(json::array({replayed[1]}), "failed", "000001");
  CHECK(replayed[1]["reply"]["resultMsg"] == "authentication failed: replayed_nonce");
  CHECK(w.Credential(code).state == server::CredentialState::kFrozen);
  // Legacy: a bad authToken is 000001 too, and the answer still carries a Body-Sign that the
  // simulator verified (else the attempt's error would say so).
  const json bad = w.Fire({{"fields", {{"activity", "expireLicense"}, {"instanceId", "kgi-x"}}},
                           {"tamper", "bad_signature"}});
  RequireAll(bad, "failed", "000001");
  CHECK(bad[0]["attempts"][0]["error"] == "resultCode 000001");
}

TEST_CASE("koogallery callbacks: the same renewal retried 60 times takes effect once",
          "[koogallery][process]") {
  World w;
  const std::string code = w.NewCode();
  const json renew_a = {{"activity", "refreshLicenseCode"},
                        {"scene", "RENEWAL"},
                        {"orderId", "CS-RENEW-A"},
                        {"orderLineId", "CS-RENEW-A-000001"},
                        {"license", code},
                        {"expireTime", "20300101000000"},
                        {"testFlag", "0"}};
  const json first = w.Fire({{"fields", renew_a}});
  RequireAll(first, "delivered", "000000");
  json renew_b = renew_a;
  renew_b["orderId"] = "CS-RENEW-B";
  renew_b["orderLineId"] = "CS-RENEW-B-000001";
  renew_b["expireTime"] = "20310101000000";
  RequireAll(w.Fire({{"fields", renew_b}}), "delivered", "000000");
  CHECK(w.Credential(code).expires_at == Utc(2031, 1, 1));
  // 60 more deliveries of renewal A, each signed with its own nonce and timestamp: the same
  // answer every time, and the later renewal B is not rolled back.
  const json retries = w.Fire({{"fields", renew_a}, {"repeat", 60}});
  REQUIRE(retries.size() == 60);
  RequireAll(retries, "delivered", "000000");
  for (const json& d : retries) CHECK(d["reply"] == first[0]["reply"]);
  CHECK(w.Credential(code).expires_at == Utc(2031, 1, 1));
}

TEST_CASE("koogallery callbacks: legacy getLicense answers a key, signed, the same per order",
          "[koogallery][process]") {
  World w;
  const json get = {
      {"activity", "getLicense"}, {"customerId", "cust-1"}, {"orderId", "CS-LEGACY-1"},
      {"productId", "MKT-1"},     {"amount", "3"},          {"testFlag", "0"}};
  // The simulator verifies Body-Sign on every legacy answer: delivered means it was right.
  const json first = w.Fire({{"fields", get}});
  RequireAll(first, "delivered", "000000");
  const json reply = first[0]["reply"];
  const std::string instance = reply["instanceId"];
  CHECK(instance.rfind("kgi-", 0) == 0);
  CHECK(reply["license"].get<std::string>().rfind("LK-", 0) == 0);
  // A retry of the order (a new businessId and timeStamp): the same instance and key.
  const json again = w.Fire({{"fields", get}});
  RequireAll(again, "delivered", "000000");
  CHECK(again[0]["reply"] == reply);
  RequireAll(w.Fire({{"fields",
                      {{"activity", "releaseLicense"},
                       {"orderId", "CS-LEGACY-1"},
                       {"instanceId", instance}}}}),
             "delivered", "000000");
}

TEST_CASE("koogallery callbacks: getLicenseAsync twice gives the same fingerprint-bound license",
          "[koogallery][process]") {
  World w;
  const json created = w.Fire(
      {{"fields",
        {{"activity", "newInstance"}, {"orderId", "CS-B-1"}, {"orderLineId", "CS-B-1-000001"}}},
       {"repeat", 2}});
  REQUIRE(created.size() == 2);
  RequireAll(created, "delivered", "000000");
  // Each request had its own businessId: still one instance.
  const std::string instance = created[0]["reply"]["instanceId"];
  CHECK(created[1]["reply"]["instanceId"] == instance);
  // This machine's own fingerprint, as `licagent fingerprint --format koogallery` prints it.
  auto fingerprint = KooGalleryFingerprint();
  REQUIRE(fingerprint);
  auto derived = IdentifierFromKooGalleryFingerprint(*fingerprint);
  // A machine without any MAC, disk or board serial cannot be bound: §6.6's 000903.
  const std::string expect = derived ? "000000" : "000903";
  const json get = {{"activity", "getLicenseAsync"},
                    {"instanceId", instance},
                    {"effectiveTime", "2026-01-01 00:00:00 z"},
                    {"expireTime", "20991231235959"},
                    {"eventId", "EVT-1"},
                    {"deviceFingerprint", *fingerprint}};
  const json twice = w.Fire({{"fields", get}, {"repeat", 2}});
  REQUIRE(twice.size() == 2);
  RequireAll(twice, derived ? "delivered" : "failed", expect);
  if (!derived) return;
  CHECK(twice[0]["reply"] == twice[1]["reply"]);
  auto license = VerifyLicense(twice[0]["reply"]["license"].get<std::string>(), {w.public_key()});
  REQUIRE(license);
  CHECK(license->payload.instance_id == instance);
  CHECK(license->payload.expires_at == Utc(2099, 12, 31, 23, 59, 59));
  // Bound to this machine: the agent's own collection matches the license's identifier.
  auto here = CollectFingerprint();
  REQUIRE(here);
  REQUIRE(license->payload.binding);
  const MatchResult match =
      Match(license->payload.binding->identifier, *here, license->payload.binding->policy);
  INFO(match.reason);
  CHECK(match.accepted);
}

}  // namespace licagent
