// licagent-marketsim as a real process over TLS on 127.0.0.1 (the tls_pki fixture's
// certificates): open-API calls signed with the signing library's signer, admin calls, and the
// callbacks it fires at a fake vendor (an in-test cpp-httplib HTTPS server) that checks them
// with the signing library's verifiers and can be told to fail. Every wait is bounded.
#include "tests/marketsim/marketsim_process.h"

#include <httplib.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "server/koogallery/open_api.h"
#include "server/koogallery/signing.h"
#include "tests/catch.h"

using namespace licagent;
using licagent::testing::Marketsim;
using nlohmann::json;
namespace fs = std::filesystem;

namespace {

const std::string kPki = LICAGENT_TEST_PKI_DIR;
const std::string kCallbackKey = "vendor-callback-key-0123456789";
const std::string kActivate = "/api/mkp-openapi-public/global/v1/license/activate";
const std::string kHeartbeat = "/api/mkp-openapi-public/global/v1/license/heartbeat";

// What the fake vendor saw.
struct Received {
  std::string method;
  std::string activity;
  json fields;             // body (POST) or query parameters (GET)
  std::string auth_error;  // "" when the signature verified
  std::string nonce;
};

// The vendor's production URL: verifies every callback, answers 000000 unless told to fail.
class FakeVendor {
 public:
  FakeVendor() : server_((kPki + "/server.crt").c_str(), (kPki + "/server.key").c_str()) {
    server_.Post("/koogallery/callback",
                 [this](const httplib::Request& req, httplib::Response& res) {
                   Received r;
                   r.method = "POST";
                   r.fields = json::parse(req.body, nullptr, false);
                   r.activity = r.fields.is_object() ? r.fields.value("activity", "") : "";
                   const std::string sig = req.get_param_value("signature");
                   const std::string ts = req.get_param_value("timestamp");
                   r.nonce = req.get_param_value("nonce");
                   const auto outcome =
                       koogallery::VerifyCallback(kCallbackKey, {sig, ts, r.nonce, req.body},
                                                  std::chrono::system_clock::now(), {}, &nonces_);
                   if (!outcome) r.auth_error = koogallery::ToString(outcome.error);
                   Answer(r, res, false);
                 });
    server_.Get(
        "/koogallery/callback", [this](const httplib::Request& req, httplib::Response& res) {
          Received r;
          r.method = "GET";
          const auto q = req.target.find('?');
          const auto params =
              koogallery::ParseQueryString(q == std::string::npos ? "" : req.target.substr(q + 1));
          r.fields = json::object();
          for (const auto& [n, v] : params) r.fields[n] = v;
          r.activity = r.fields.value("activity", "");
          const auto e = koogallery::VerifyLegacyAuthToken(kCallbackKey, params,
                                                           std::chrono::system_clock::now());
          if (e != koogallery::LegacyAuthError::kNone) r.auth_error = koogallery::ToString(e);
          Answer(r, res, true);
        });
    port_ = server_.bind_to_any_port("127.0.0.1");
    REQUIRE(port_ > 0);
    thread_ = std::thread([this] { server_.listen_after_bind(); });
  }
  ~FakeVendor() {
    server_.stop();
    thread_.join();
  }

  int port() const { return port_; }
  std::vector<Received> received() {
    std::lock_guard<std::mutex> lock(mu_);
    return received_;
  }
  std::atomic<int> fail_next{0};      // answer HTTP 500 this many times
  std::atomic<bool> body_sign{true};  // sign legacy replies

 private:
  void Answer(const Received& r, httplib::Response& res, bool legacy) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      received_.push_back(r);
    }
    if (fail_next > 0) {
      --fail_next;
      res.status = 500;
      res.set_content("down", "text/plain");
      return;
    }
    json reply = {{"resultCode", r.auth_error.empty() ? "000000" : "000001"},
                  {"resultMsg", r.auth_error.empty() ? "success." : r.auth_error}};
    if (r.activity == "newInstance" || r.activity == "getLicense") reply["instanceId"] = "inst-1";
    if (r.activity == "getLicense") reply["license"] = "LICENSE-STRING";
    const std::string body = reply.dump();
    if (legacy && body_sign) {
      res.set_header("Body-Sign", koogallery::BodySignHeaderValue(kCallbackKey, body));
    }
    res.set_content(body, "application/json");
  }

  httplib::SSLServer server_;
  int port_ = 0;
  std::thread thread_;
  koogallery::NonceCache nonces_;
  std::mutex mu_;
  std::vector<Received> received_;
};

// The vendor server's open-API client (server/koogallery/open_api.h) talking to the simulator:
// the two sides of the protocol written independently, held against each other.
class SimTransport : public koogallery::Transport {
 public:
  explicit SimTransport(Marketsim& sim) : sim_(sim) {}
  Result<koogallery::HttpResponse> Send(const koogallery::HttpRequest& request) override {
    const auto slash = request.url.find('/', std::string("https://").size());
    const std::string path = request.url.substr(slash);
    httplib::Headers headers;
    for (const auto& [n, v] : request.headers) {
      if (n != "Content-Type") headers.emplace(n, v);
    }
    auto c = sim_.Client();
    auto res = c->Post(path.c_str(), headers, request.body, "application/json");
    if (!res) return Error{ErrorCode::kUnavailable, httplib::to_string(res.error())};
    return koogallery::HttpResponse{res->status, res->body};
  }

 private:
  Marketsim& sim_;
};

// The deliveries of an admin answer must all be finished.
void RequireDelivered(const json& deliveries) {
  REQUIRE(deliveries.is_array());
  for (const json& d : deliveries) CHECK(d["state"] == "delivered");
}

}  // namespace

TEST_CASE("marketsim: a code's lifecycle, with verified callbacks at the vendor",
          "[marketsim][process]") {
  FakeVendor vendor;
  Marketsim sim(vendor.port(), kCallbackKey);
  const json created = sim.Admin(
      "/admin/codes", {{"product_id", "licagent-demo"}, {"amount", 2}, {"valid_days", 30}}, 201);
  const std::string code = created["code"];
  CHECK(created["state"] == "unclaimed");

  CHECK(sim.Api(kActivate, {{"license", code}})["error_code"] == "92020004");
  CHECK(sim.Admin("/admin/codes/" + code + "/claim", json::object())["code"]["state"] == "claimed");
  json activated = sim.Api(kActivate, {{"license", code}});
  REQUIRE(activated["error_code"] == "92020000");
  const json info = json::parse(activated["data"]["license_code_info"].get<std::string>());
  CHECK(info["amount"] == 2);
  CHECK(sim.Api(kActivate, {{"license", code}})["error_code"] == "92020003");
  CHECK(sim.Api(kHeartbeat, {{"license", code}})["data"]["status"] == "ALIVE");

  json renewed = sim.Admin("/admin/codes/" + code + "/renew",
                           {{"expire_time", "20991231235959"}, {"wait_ms", 10000}});
  RequireDelivered(renewed["deliveries"]);
  CHECK(sim.Api(kHeartbeat, {{"license", code}})["data"]["expire_time"] == "20991231235959");
  RequireDelivered(
      sim.Admin("/admin/codes/" + code + "/freeze", {{"wait_ms", 10000}})["deliveries"]);
  CHECK(sim.Api(kHeartbeat, {{"license", code}})["data"]["status"] == "EXPIRED");
  RequireDelivered(
      sim.Admin("/admin/codes/" + code + "/unfreeze", {{"wait_ms", 10000}})["deliveries"]);
  CHECK(sim.Api(kHeartbeat, {{"license", code}})["data"]["status"] == "ALIVE");
  RequireDelivered(sim.Admin("/admin/codes/" + code + "/release",
                             {{"wait_ms", 10000}, {"unsubscribe", true}})["deliveries"]);
  CHECK(sim.Api(kHeartbeat, {{"license", code}})["data"]["status"] == "RELEASED");
  sim.Admin("/admin/codes/" + code + "/freeze", json::object(), 409);

  const auto got = vendor.received();
  REQUIRE(got.size() == 4);
  for (const Received& r : got) {
    CHECK(r.method == "POST");
    CHECK(r.auth_error.empty());
    CHECK(r.fields["license"] == code);
  }
  CHECK(got[0].activity == "refreshLicenseCode");
  CHECK(got[0].fields["expireTime"] == "20991231235959");
  CHECK(got[0].fields["scene"] == "RENEWAL");
  CHECK(got[0].fields["orderId"] != created["order_id"]);  // a renewal is a new order
  CHECK(got[1].activity == "updateLicenseCodeStatus");
  CHECK(got[1].fields["status"] == "FREEZE");
  CHECK(got[2].fields["status"] == "UNFREEZE");
  CHECK(got[3].activity == "releaseLicenseCode");
  CHECK(got[3].fields.contains("orderId"));

  // The book survives a restart.
  sim.Stop();
  sim.Start();
  const json after = sim.Admin("/admin/codes/" + code);
  CHECK(after["state"] == "released");
  CHECK(after["expire_time"] == "20991231235959");
}

TEST_CASE("marketsim: failed callbacks are retried on the (scaled) schedule, then dropped",
          "[marketsim][process]") {
  FakeVendor vendor;
  Marketsim sim(vendor.port(), kCallbackKey);
  const json fields = {{"activity", "updateLicenseCodeStatus"},
                       {"license", "PLRETRY"},
                       {"status", "FREEZE"},
                       {"testFlag", "1"}};
  vendor.fail_next = 2;
  json d = sim.Admin("/admin/callbacks", {{"fields", fields}, {"wait_ms", 10000}})["deliveries"];
  REQUIRE(d.size() == 1);
  CHECK(d[0]["state"] == "delivered");
  CHECK(d[0]["attempts"].size() == 3);
  CHECK(d[0]["attempts"][0]["http_status"] == 500);

  vendor.fail_next = 100;
  d = sim.Admin("/admin/callbacks", {{"fields", fields}, {"wait_ms", 10000}})["deliveries"];
  CHECK(d[0]["state"] == "failed");
  CHECK(d[0]["attempts"].size() == 4);  // 1 + retry.license_code.retries
  vendor.fail_next = 0;
  CHECK(vendor.received().size() == 3 + 4);
  const json listed = sim.Admin("/admin/callbacks/" + std::to_string(d[0]["id"].get<int>()));
  CHECK(listed["state"] == "failed");
}

TEST_CASE("marketsim: repeated, tampered, replayed and legacy callbacks", "[marketsim][process]") {
  FakeVendor vendor;
  Marketsim sim(vendor.port(), kCallbackKey);
  const json fields = {
      {"activity", "refreshLicenseCode"}, {"scene", "RENEWAL"},  {"orderId", "CS1"},
      {"orderLineId", "CS1-000001"},      {"license", "PLSAME"}, {"expireTime", "20991231235959"}};
  json d = sim.Admin("/admin/callbacks",
                     {{"fields", fields}, {"repeat", 5}, {"wait_ms", 10000}})["deliveries"];
  REQUIRE(d.size() == 5);
  RequireDelivered(d);
  auto got = vendor.received();
  REQUIRE(got.size() == 5);
  for (const Received& r : got) {
    CHECK(r.fields == fields);
    CHECK(r.auth_error.empty());
  }
  CHECK(got[0].nonce != got[1].nonce);

  d = sim.Admin("/admin/callbacks", {{"fields", fields},
                                     {"tamper", "bad_signature"},
                                     {"retries", 0},
                                     {"wait_ms", 10000}})["deliveries"];
  CHECK(d[0]["state"] == "failed");
  CHECK(d[0]["attempts"][0]["result_code"] == "000001");
  CHECK(vendor.received().back().auth_error == "bad_signature");

  d = sim.Admin("/admin/callbacks", {{"fields", fields},
                                     {"tamper", "stale_timestamp"},
                                     {"retries", 0},
                                     {"wait_ms", 10000}})["deliveries"];
  CHECK(d[0]["attempts"][0]["result_code"] == "000001");
  CHECK(vendor.received().back().auth_error == "timestamp_out_of_window");

  d = sim.Admin("/admin/callbacks", {{"fields", fields},
                                     {"tamper", "replay"},
                                     {"repeat", 2},
                                     {"retries", 0},
                                     {"wait_ms", 10000}})["deliveries"];
  got = vendor.received();
  CHECK(got[got.size() - 2].auth_error.empty());
  CHECK(got.back().auth_error == "replayed_nonce");
  CHECK(got.back().nonce == got[got.size() - 2].nonce);

  // Legacy GET: authToken verified by the vendor, Body-Sign verified by the marketplace.
  const json legacy = {{"activity", "getLicense"},
                       {"customerId", "c1"},
                       {"orderId", "CS9"},
                       {"productId", "P1"},
                       {"testFlag", "1"}};
  d = sim.Admin("/admin/callbacks", {{"fields", legacy}, {"wait_ms", 10000}})["deliveries"];
  CHECK(d[0]["state"] == "delivered");
  CHECK(d[0]["reply"]["license"] == "LICENSE-STRING");
  CHECK(vendor.received().back().method == "GET");
  CHECK(vendor.received().back().auth_error.empty());
  vendor.body_sign = false;
  d = sim.Admin("/admin/callbacks", {{"fields", legacy}, {"wait_ms", 10000}})["deliveries"];
  CHECK(d[0]["state"] == "failed");
  CHECK(d[0]["attempts"].size() == 3);  // 1 + retry.legacy_get_license.retries
  CHECK(d[0]["attempts"][0]["error"] == "no Body-Sign header");

  // Model B: the marketplace reads the merchant's instanceId.
  d = sim.Admin(
      "/admin/callbacks",
      {{"fields", {{"activity", "newInstance"}, {"orderId", "CS7"}, {"orderLineId", "CS7-1"}}},
       {"wait_ms", 10000}})["deliveries"];
  CHECK(d[0]["reply"]["instanceId"] == "inst-1");
  CHECK(vendor.received().back().fields["businessId"].get<std::string>().size() == 32);
  sim.Admin("/admin/callbacks", {{"fields", {{"activity", "bogus"}}}}, 400);
}

TEST_CASE("marketsim: the vendor's open-API client understands every answer",
          "[marketsim][process]") {
  using koogallery::MarketOutcome;
  FakeVendor vendor;
  Marketsim sim(vendor.port(), kCallbackKey);
  SimTransport transport(sim);
  koogallery::OpenApiConfig config;
  config.access_key = "AK-TEST";
  config.secret_key = "SK-TEST-0123456789";
  config.hosts = {"127.0.0.1:" + std::to_string(sim.port())};
  koogallery::OpenApiClient client(config, transport);

  const std::string code =
      sim.Admin("/admin/codes",
                {{"product_id", "licagent-demo"}, {"amount", 2}, {"expire_time", "20991231235959"}},
                201)["code"];
  auto a = client.ActivateV1(code);
  REQUIRE(a);
  CHECK(a->outcome == MarketOutcome::kNotClaimed);
  sim.Admin("/admin/codes/" + code + "/claim", json::object());
  a = client.ActivateV1(code);
  REQUIRE(a);
  REQUIRE(a->outcome == MarketOutcome::kSuccess);
  REQUIRE(a->info);
  CHECK(a->info->amount == 2);
  CHECK(a->info->status == koogallery::CodeStatus::kAlive);
  CHECK(a->info->expire_time.raw == "20991231235959");
  CHECK(a->info->expire_time.utc.has_value());
  a = client.ActivateV1(code);
  REQUIRE(a);
  CHECK(a->outcome == MarketOutcome::kAlreadyActive);
  a = client.ActivateV1("PLNOSUCHCODE");
  REQUIRE(a);
  CHECK(a->outcome == MarketOutcome::kUnknownCode);

  auto q = client.QueryV1(code, koogallery::HeartbeatInfo{"device-1", "10.0.0.1"});
  REQUIRE(q);
  REQUIRE(q->outcome == MarketOutcome::kSuccess);
  REQUIRE(q->info);
  CHECK(q->info->status == koogallery::CodeStatus::kAlive);
  REQUIRE(q->info->expire_time);
  CHECK(q->info->expire_time->raw == "20991231235959");

  sim.Admin("/admin/codes/" + code + "/freeze", {{"notify", false}});
  q = client.QueryV1(code);
  REQUIRE(q);
  CHECK(q->info->status == koogallery::CodeStatus::kExpired);

  const std::string second = sim.Admin("/admin/codes", {{"product_id", "p"}}, 201)["code"];
  auto b = client.ActivateV2({code, second});
  REQUIRE(b);
  CHECK(b->outcome == MarketOutcome::kInvalidCodeInBatch);
  auto qb = client.QueryV2({code, "PLNOSUCHCODE"});
  REQUIRE(qb);
  CHECK(qb->outcome == MarketOutcome::kInvalidCodeInBatch);
  CHECK_FALSE(qb->entries.empty());

  auto u = client.ReportUsage(
      {{code, {{std::string("device-1"), std::nullopt}}}, {"PLNOSUCHCODE", {{std::nullopt, 3}}}});
  REQUIRE(u);
  CHECK(u->outcome == MarketOutcome::kSuccess);
  REQUIRE(u->failed_licenses.size() == 1);
  CHECK(u->failed_licenses[0] == "PLNOSUCHCODE");

  sim.Admin("/admin/faults", {{"error_code", "92020001"}, {"count", 1}});
  a = client.ActivateV1(second);
  REQUIRE(a);
  CHECK(a->outcome == MarketOutcome::kTransient);

  config.secret_key = "SK-WRONG";
  koogallery::OpenApiClient wrong(config, transport);
  a = wrong.ActivateV1(second);
  REQUIRE(a);
  CHECK(a->outcome == MarketOutcome::kAuthFailure);
  CHECK(a->error_code == "APIGW.0301");
}
