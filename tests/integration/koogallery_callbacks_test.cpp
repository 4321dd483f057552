// KooGallery callbacks end to end: the real licagent-marketsim fires correctly signed (and
// deliberately broken) callbacks over TLS on 127.0.0.1 at the real licagent-server's production
// URL; the server's SQLite store shows the effect. The authorization-code credential is put into
// the server's store directly (the activation path makes it in production). Every wait is
// bounded: the simulator's wait_ms and the process start/stop loops.
#include <httplib.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "licagent/identity.h"
#include "licagent/license.h"
#include "server/activation/sqlite_store.h"
#include "server/koogallery/signing.h"
#include "server/vendor/signer.h"
#include "tests/catch.h"
#include "tests/integration/server_process.h"

namespace licagent {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

const fs::path kPki = LICAGENT_TEST_PKI_DIR;
const std::string kCallbackKey = "seller-center-key-for-the-tests-0123";
const std::string kAdminToken = "admin-token-0123456789abcdef";
constexpr const char* kKeyId = "kg-2026";

using testing::ReadAll;
using testing::WriteAll;

// The vendor server with its callback URL, and the simulator aimed at it.
class World {
 public:
  World() {
    std::string tmpl = (fs::temp_directory_path() / "licagent-kgcb-XXXXXX").string();
    REQUIRE(mkdtemp(tmpl.data()) != nullptr);
    dir_ = tmpl;
    auto key = vendor::SigningKey::Generate();
    REQUIRE(key);
    public_key_ = key->Public(kKeyId);
    auto pem = key->ToPem();
    REQUIRE(pem);
    WriteAll(dir_ / "vendor.pem", std::string(pem->view()));
    fs::permissions(dir_ / "vendor.pem", fs::perms::owner_read | fs::perms::owner_write);
    WriteAll(dir_ / "callback.key", kCallbackKey + "\n");
    fs::permissions(dir_ / "callback.key", fs::perms::owner_read | fs::perms::owner_write);
    const json server = {{"listen", "127.0.0.1:0"},
                         {"tls",
                          {{"certificate", (kPki / "server.crt").string()},
                           {"private_key", (kPki / "server.key").string()}}},
                         {"signing_key", {{"file", "vendor.pem"}, {"key_id", kKeyId}}},
                         {"storage", {{"path", "licagent.db"}}},
                         {"access_log", "access.log"},
                         {"threads", 2},
                         {"products", {{{"id", "licagent-demo"}, {"seats", 2}}}},
                         {"koogallery",
                          {{"callback", {{"access_key_file", "callback.key"}}},
                           {"default_product", "licagent-demo"}}}};
    WriteAll(dir_ / "server.json", server.dump(2));
    server_.Start({LICAGENT_SERVER_BIN, "--config", (dir_ / "server.json").string()}, dir_,
                  "server");
    server_port_ = server_.port();
    const json sim = {
        {"listen", "127.0.0.1:0"},
        {"tls",
         {{"certificate", (kPki / "server.crt").string()},
          {"private_key", (kPki / "server.key").string()}}},
        {"state_file", "marketsim-state.json"},
        {"access_log", ""},
        {"threads", 2},
        {"admin_token", kAdminToken},
        {"credentials", {{{"access_key", "AK-TEST"}, {"secret_key", "SK-TEST-0123456789"}}}},
        {"vendor",
         {{"url", "https://127.0.0.1:" + std::to_string(server_port_) + "/koogallery/callback"},
          {"key", kCallbackKey},
          {"ca_bundle", (kPki / "ca.crt").string()},
          {"timeout_ms", 5000}}},
        {"retry",
         {{"license_code", {{"retries", 0}, {"interval_ms", 10}}},
          {"instance", {{"retries", 0}, {"interval_ms", 10}}},
          {"instance_create", {{"retries", 0}, {"interval_ms", 10}}},
          {"legacy_get_license", {{"retries", 0}, {"interval_ms", 10}}},
          {"legacy_other", {{"retries", 0}, {"interval_ms", 10}}}}}};
    WriteAll(dir_ / "marketsim.json", sim.dump(2));
    sim_.Start({LICAGENT_MARKETSIM_BIN, "--config", (dir_ / "marketsim.json").string()}, dir_,
               "marketsim");
    sim_port_ = sim_.port();
    auto store = server::OpenSqliteStore((dir_ / "licagent.db").string(), 1);
    REQUIRE(store);
    store_ = std::move(*store);
  }
  ~World() {
    sim_.Stop();
    server_.Stop();
    store_.reset();
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  // A simulator admin call; checks the status.
  json Admin(const std::string& path, const json& body = nullptr, int expect = 200) {
    httplib::SSLClient c("127.0.0.1", sim_port_);
    c.set_ca_cert_path((kPki / "ca.crt").c_str());
    c.enable_server_certificate_verification(true);
    c.set_read_timeout(60, 0);
    c.set_bearer_token_auth(kAdminToken.c_str());
    auto res = body.is_null() ? c.Get(path.c_str())
                              : c.Post(path.c_str(), body.dump(), "application/json");
    REQUIRE(res);
    INFO(res->body);
    REQUIRE(res->status == expect);
    return json::parse(res->body);
  }

  // Fires a hand-made callback and waits for its deliveries.
  json Fire(json body) {
    body["wait_ms"] = 60000;
    return Admin("/admin/callbacks", body)["deliveries"];
  }

  // An open-API call to the simulator, signed as the vendor server signs it.
  json Api(const std::string& path, const json& body) {
    const std::string text = body.dump();
    const std::string url = "https://127.0.0.1:" + std::to_string(sim_port_) + path;
    const std::string date = koogallery::FormatSdkDate(std::chrono::system_clock::now());
    koogallery::ApiSignInput in;
    in.method = "POST";
    in.url = url;
    in.headers.emplace("Content-Type", "application/json");
    in.body = text;
    in.sdk_date = date;
    in.access_key = "AK-TEST";
    in.secret_key = "SK-TEST-0123456789";
    auto sig = koogallery::SignApiRequest(in);
    REQUIRE(sig);
    httplib::Headers headers;
    for (const auto& [n, v] : sig->headers) {
      if (n != "Content-Type") headers.emplace(n, v);
    }
    httplib::SSLClient c("127.0.0.1", sim_port_);
    c.set_ca_cert_path((kPki / "ca.crt").c_str());
    c.enable_server_certificate_verification(true);
    auto res = c.Post(path.c_str(), headers, text, "application/json");
    REQUIRE(res);
    return json::parse(res->body);
  }

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

  const PublicKey& public_key() const { return public_key_; }
  std::string AccessLog() const { return ReadAll(dir_ / "access.log"); }

 private:
  fs::path dir_;
  PublicKey public_key_;
  testing::ServerProcess server_;
  testing::ServerProcess sim_;
  int server_port_ = 0;
  int sim_port_ = 0;
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
