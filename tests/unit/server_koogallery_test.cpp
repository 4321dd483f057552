// `licagent activate --code` and the daily marketplace sync in the activation service, against a
// scripted marketplace whose answers go through the real open-API parsers: every outcome, seats
// from `amount`, one marketplace activation per code under concurrency, one query per interval.
#include <atomic>
#include <chrono>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>
#include <vector>

#include "server/koogallery/open_api.h"
#include "tests/unit/server_service_fixture.h"

using namespace licagent;
using namespace licagent::server;
using namespace licagent::server::testing;
using nlohmann::json;

namespace {

const std::string kCode = "PLTEST0000001234";

UnixTime Unix(const std::string& market_time) {
  auto t = koogallery::ParseMarketTime(market_time, std::chrono::minutes(0));
  REQUIRE(t.utc);
  return std::chrono::duration_cast<std::chrono::seconds>(t.utc->time_since_epoch()).count();
}

// The marketplace's side of a code.
struct MarketCode {
  bool claimed = true;
  bool active = false;
  std::string status = "ALIVE";
  std::string expire = "20280115000000";
  std::string product = "mkt-prod";
  int amount = 2;
  std::string order = "CS123";
};

// Answers built as the marketplace sends them.
class FakeMarket : public Marketplace {
 public:
  void Add(const std::string& code, MarketCode c = {}) {
    std::lock_guard<std::mutex> lock(mu);
    codes[code] = c;
  }
  template <typename F>
  void Edit(const std::string& code, F f) {
    std::lock_guard<std::mutex> lock(mu);
    f(codes.at(code));
  }

  Result<koogallery::ActivateAnswer> Activate(const std::string& code) override {
    ++activations;
    if (activate_delay.count() > 0) std::this_thread::sleep_for(activate_delay);
    if (auto e = Failure()) return *e;
    std::lock_guard<std::mutex> lock(mu);
    if (!error_code.empty()) return koogallery::ParseActivateV1Response(error_status, Envelope());
    auto it = codes.find(code);
    if (it == codes.end()) return Activated(R"({"error_code":"92020005","error_msg":"notexist"})");
    MarketCode& c = it->second;
    if (!c.claimed) {
      return Activated(
          R"({"error_code":"92020004","error_msg":"can not active before user received."})");
    }
    if (c.active) return Activated(R"({"error_code":"92020003","error_msg":"illegal state"})");
    c.active = true;
    const json info = {{"status", c.status},
                       {"expire_time", c.expire},
                       {"product_id", c.product},
                       {"order_id", c.order},
                       {"amount", c.amount}};
    return Activated(json{{"error_code", "92020000"},
                          {"error_msg", "success"},
                          {"data", {{"license_code_info", info.dump()}}}}
                         .dump());
  }

  Result<koogallery::QueryAnswer> Query(const std::string& code) override {
    ++queries;
    if (query_delay.count() > 0) std::this_thread::sleep_for(query_delay);
    if (auto e = Failure()) return *e;
    std::lock_guard<std::mutex> lock(mu);
    if (!error_code.empty()) return koogallery::ParseQueryV1Response(error_status, Envelope());
    if (query_fails) {
      return koogallery::ParseQueryV1Response(
          200, R"({"error_code":"92020001","error_msg":"internal error"})");
    }
    auto it = codes.find(code);
    if (it == codes.end()) {
      return koogallery::ParseQueryV1Response(200, R"({"error_code":"92020005","error_msg":"x"})");
    }
    const MarketCode& c = it->second;
    if (!c.active) {
      return koogallery::ParseQueryV1Response(200, R"({"error_code":"92020011","error_msg":"x"})");
    }
    return koogallery::ParseQueryV1Response(200, json{{"error_code", "92020000"},
                                                      {"error_msg", "success"},
                                                      {"data",
                                                       {{"license_code", code},
                                                        {"status", c.status},
                                                        {"activate_time", "20270101000000"},
                                                        {"expire_time", c.expire}}}}
                                                     .dump());
  }

  Result<koogallery::UsageAnswer> ReportUsage(const std::string& code, int active) override {
    std::lock_guard<std::mutex> lock(mu);
    usage.emplace_back(code, active);
    if (usage_fails) return Error{ErrorCode::kUnavailable, "usage endpoint down"};
    return koogallery::ParseUsageResponse(200, R"({"error_code":"92020000","error_msg":"ok"})");
  }

  std::mutex mu;
  std::map<std::string, MarketCode> codes;
  std::atomic<int> activations{0};
  std::atomic<int> queries{0};
  std::vector<std::pair<std::string, int>> usage;
  // Scripted trouble.
  std::optional<Error> transport_error;  // every call: no answer
  std::string error_code;                // every activate/query answers this code
  std::string error_msg;
  int error_status = 200;
  bool query_fails = false;  // query answers 92020001 internal error
  bool usage_fails = false;
  std::chrono::milliseconds activate_delay{0};
  std::chrono::milliseconds query_delay{0};

 private:
  std::optional<Error> Failure() {
    std::lock_guard<std::mutex> lock(mu);
    return transport_error;
  }
  std::string Envelope() const {
    return json{{"error_code", error_code}, {"error_msg", error_msg}}.dump();
  }
  static koogallery::ActivateAnswer Activated(const std::string& body) {
    return koogallery::ParseActivateV1Response(200, body);
  }
};

// A service whose configuration has the koogallery section (`extra` inside it).
struct CodeFixture {
  explicit CodeFixture(const std::string& extra = R"("products":{"mkt-prod":"prod"})",
                       const std::string& open_api_extra = "")
      : f("",
          R"("koogallery":{"open_api":{"access_key":"AK","secret_key_file":"sk")" + open_api_extra +
              "}," + extra + "},",
          &market) {
    market.Add(kCode);
  }
  Reply Activate(const protocol::Machine& m, const std::string& code = kCode,
                 const std::string& product = "prod") {
    return f.service->Activate(ActivateBody(code, m, product));
  }
  Reply Refresh(const std::string& license_id, const protocol::Machine& m) {
    return f.service->Refresh(SeatBody(license_id, m));
  }
  Credential Stored(const std::string& code = kCode) {
    auto c = f.store->FindCredentialByMarketCode(code);
    REQUIRE(c);
    return *c;
  }

  FakeMarket market;  // before the fixture: the service keeps a pointer
  Fixture f;
};

}  // namespace

TEST_CASE("KooGallery code: claim first, then one marketplace activation and seats of amount",
          "[server][koogallery]") {
  CodeFixture k;
  k.market.Edit(kCode, [](MarketCode& c) { c.claimed = false; });
  const auto a = MachineWith(0x1000);
  Reply r = k.Activate(a);
  CHECK(r.status == 403);
  CHECK(CodeOf(r) == "code_not_claimed");
  CHECK(r.body.find("claim it in KooGallery") != std::string::npos);
  CHECK(k.f.store->FindCredentialByMarketCode(kCode).error().code == ErrorCode::kNotFound);

  k.market.Edit(kCode, [](MarketCode& c) { c.claimed = true; });
  r = k.Activate(a);
  const LicensePayload p = PayloadOf(k.f, r);
  CHECK(p.expires_at == Unix("20280115000000"));
  CHECK(p.authorization_code == kCode);
  CHECK(p.order_id == "CS123");
  CHECK(p.product_id == "prod");
  CHECK(p.entitlements.seats == 2);
  CHECK(p.status == LicenseStatus::kActive);
  CHECK(k.market.activations == 2);
  CHECK(k.market.queries == 1);
  const Credential c = k.Stored();
  CHECK(r.credential_id == c.id);
  CHECK(c.seats == 2);
  CHECK(c.state == CredentialState::kActive);
  REQUIRE(c.market);
  CHECK(c.market->order_id == "CS123");
  CHECK(c.market->synced_at == kNow);
  CHECK_FALSE(c.market->test);
  {
    std::lock_guard<std::mutex> lock(k.market.mu);
    REQUIRE(k.market.usage.size() == 1);  // the first use is reported
    CHECK(k.market.usage[0] == std::make_pair(kCode, 1));
  }

  // The same machine again, then a second machine: seats of the same code, no new activation.
  CHECK(PayloadOf(k.f, k.Activate(a)).license_id == p.license_id);
  const Reply b = k.Activate(MachineWith(0x2000));
  CHECK(PayloadOf(k.f, b).license_id != p.license_id);
  CHECK(protocol::ParseLicenseAnswer(b.body)->seats_used == 2);
  const Reply third = k.Activate(MachineWith(0x3000));
  CHECK(third.status == 409);
  CHECK(CodeOf(third) == "seat_limit");
  CHECK(k.market.activations == 2);
  CHECK(k.market.queries == 1);  // within the query interval

  // Spaces around a typed code do not matter; the code is its own credential.
  CHECK(PayloadOf(k.f, k.Activate(a, "  " + kCode + "\n")).license_id == p.license_id);
  auto all = k.f.store->ListCredentials();
  REQUIRE(all);
  CHECK(all->size() == 1);
}

TEST_CASE("KooGallery code: every marketplace outcome is an error the agent understands",
          "[server][koogallery]") {
  CodeFixture k(R"("products":{"mkt-prod":"prod","mkt-other":"other"})");
  const auto m = MachineWith(0x1000);
  const auto refusal = [&](const std::string& code, int status, const std::string& error) {
    const Reply r = k.Activate(m, code);
    CHECK(r.status == status);
    CHECK(CodeOf(r) == error);
    return r;
  };
  SECTION("unknown code") { refusal("PLNOSUCHCODE", 404, "unknown_credential"); }
  SECTION("not a code or a key") {
    refusal("PL-1234", 404, "unknown_credential");
    refusal("XX12345", 404, "unknown_credential");
    CHECK(k.market.activations == 0);
  }
  SECTION("gateway refuses the AK/SK: misconfigured vendor server") {
    k.market.error_code = "APIGW.0301";
    k.market.error_status = 401;
    const Reply r = refusal(kCode, 500, "internal");
    CHECK(r.body.find("vendor server misconfigured") != std::string::npos);
    k.market.error_code = "92020001";
    k.market.error_msg = "Unauthorized";
    k.market.error_status = 403;
    refusal(kCode, 500, "internal");
  }
  SECTION("marketplace unreachable or failing: retry later") {
    k.market.transport_error = Error{ErrorCode::kUnavailable, "connect refused"};
    Reply r = refusal(kCode, 503, "unavailable");
    CHECK(r.retry_after > 0);
    k.market.transport_error.reset();
    k.market.error_code = "92020001";
    k.market.error_msg = "internal error";
    r = refusal(kCode, 503, "unavailable");
    CHECK(r.retry_after > 0);
    k.market.error_code = "99999999";  // a code this server does not know
    refusal(kCode, 503, "unavailable");
  }
  SECTION("the marketplace's certificate does not verify: misconfigured") {
    k.market.transport_error = Error{ErrorCode::kUntrusted, "certificate"};
    refusal(kCode, 500, "internal");
  }
  SECTION("invalid request") {
    k.market.error_code = "92020002";
    refusal(kCode, 500, "internal");
  }
  SECTION("frozen, released, expired codes") {
    k.market.Add("PLFROZEN1", {.status = "FROZEN"});
    refusal("PLFROZEN1", 403, "credential_frozen");
    k.market.Add("PLRELEASED1", {.status = "RELEASED"});
    refusal("PLRELEASED1", 403, "credential_released");
    k.market.Add("PLEXPIRED1", {.status = "EXPIRED", .expire = "20261231000000"});
    refusal("PLEXPIRED1", 403, "credential_expired");
    // EXPIRED before its term ended: suspended, as the marketplace reports frozen codes.
    k.market.Add("PLSUSPENDED1", {.status = "EXPIRED"});
    refusal("PLSUSPENDED1", 403, "credential_frozen");
    // Each is on record (for callbacks and a later renewal), activated once.
    CHECK(k.Stored("PLFROZEN1").state == CredentialState::kFrozen);
    CHECK(k.Stored("PLRELEASED1").state == CredentialState::kReleased);
    CHECK(k.Stored("PLEXPIRED1").expires_at == Unix("20261231000000"));
    CHECK(k.market.activations == 4);
  }
  SECTION("a code of another product") {
    k.market.Add("PLOTHER1", {.product = "mkt-other"});
    const Reply r = refusal("PLOTHER1", 404, "unknown_credential");
    CHECK(r.body.find("for product 'other'") != std::string::npos);
    CHECK(k.Stored("PLOTHER1").product_id == "other");
    CHECK(PayloadOf(k.f, k.Activate(m, "PLOTHER1", "other")).product_id == "other");
    CHECK(k.market.activations == 1);
    k.market.Add("PLUNMAPPED1", {.product = "mkt-nobody"});
    refusal("PLUNMAPPED1", 404, "unknown_credential");
  }
}

TEST_CASE("KooGallery code: an already active code is queried, the query failing falls back",
          "[server][koogallery]") {
  CodeFixture k(R"("default_product":"prod")");
  const auto m = MachineWith(0x1000);
  // Activated elsewhere (e.g. a lost database): 92020003 → query; no product given → default.
  k.market.Add("PLACTIVE1", {.active = true, .product = "unknown", .amount = 5});
  LicensePayload p = PayloadOf(k.f, k.Activate(m, "PLACTIVE1"));
  CHECK(p.expires_at == Unix("20280115000000"));
  CHECK(p.entitlements.seats == 1);  // query gives no amount: one seat
  CHECK(k.market.activations == 1);

  // The query fails right after a successful activation: the activation's estimate is used and
  // the next use queries again.
  k.market.Add("PLESTIMATE1", {.expire = "20271231000000", .amount = 3});
  k.market.query_fails = true;
  const Reply r = k.Activate(m, "PLESTIMATE1");
  p = PayloadOf(k.f, r);
  CHECK(p.expires_at == Unix("20271231000000"));
  CHECK(p.entitlements.seats == 3);
  CHECK(k.Stored("PLESTIMATE1").market->synced_at == 0);
  k.market.query_fails = false;
  k.market.Edit("PLESTIMATE1", [](MarketCode& c) { c.expire = "20291231000000"; });
  k.f.now += 60;
  const int queries = k.market.queries;
  p = PayloadOf(k.f, k.Refresh(r.license_id, m));
  CHECK(k.market.queries == queries + 1);
  CHECK(p.expires_at == Unix("20291231000000"));
  CHECK(k.Stored("PLESTIMATE1").market->synced_at == k.f.now);

  // Already active, and no product anywhere (nor a default): another server process may be
  // creating it right now, so try again shortly.
  CodeFixture strict;
  strict.market.Add("PLACTIVE3", {.active = true});
  const Reply again = strict.Activate(m, "PLACTIVE3");
  CHECK(again.status == 503);
  CHECK(again.retry_after > 0);

  // An already active code whose query fails too: nothing to go on, retry later.
  k.market.Add("PLACTIVE2", {.active = true});
  k.market.query_fails = true;
  const Reply later = k.Activate(m, "PLACTIVE2");
  CHECK(later.status == 503);
  CHECK(k.f.store->FindCredentialByMarketCode("PLACTIVE2").error().code == ErrorCode::kNotFound);
}

TEST_CASE("KooGallery code: concurrent first activations make one credential",
          "[server][koogallery]") {
  // The loser of the race gets 92020003 and a query answer without a product: default_product
  // lets it build a credential, whose insert then fails on the unique code, and it reads the
  // winner's.
  CodeFixture k(R"("products":{"mkt-prod":"prod"},"default_product":"prod")");
  k.market.Edit(kCode, [](MarketCode& c) { c.amount = 16; });
  k.market.activate_delay = std::chrono::milliseconds(20);
  // A second service on its own connection to the same database file: another server process.
  auto other_store = OpenSqliteStore((k.f.dir / "s.db").string());
  REQUIRE(other_store);
  ActivationService other(
      k.f.config, **other_store, *k.f.key, [&] { return k.f.now; }, &k.market);
  constexpr int kThreads = 8;
  std::vector<Reply> replies(kThreads);
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&, i] {
      ActivationService& s = i % 2 == 0 ? *k.f.service : other;
      replies[i] = s.Activate(
          ActivateBody(kCode, MachineWith(static_cast<std::uint16_t>(0x1000 * (i + 1)))));
    });
  }
  for (auto& t : threads) t.join();
  std::string credential;
  for (const Reply& r : replies) {
    CHECK(r.status == 200);
    if (credential.empty()) credential = r.credential_id;
    CHECK(r.credential_id == credential);
  }
  auto all = k.f.store->ListCredentials();
  REQUIRE(all);
  REQUIRE(all->size() == 1);
  CHECK(all->front().seats_used == kThreads);
  // At most one activation per process; the marketplace activated the code once.
  CHECK(k.market.activations <= 2);
  std::lock_guard<std::mutex> lock(k.market.mu);
  CHECK(k.market.codes.at(kCode).active);
}

TEST_CASE(
    "KooGallery code: the daily sync queries once per interval and carries renewals, "
    "freezes and releases",
    "[server][koogallery]") {
  CodeFixture k;
  const auto a = MachineWith(0x1000);
  const auto b = MachineWith(0x2000);
  const std::string la = PayloadOf(k.f, k.Activate(a)).license_id;
  const std::string lb = PayloadOf(k.f, k.Activate(b)).license_id;
  const int base = k.market.queries;

  // Within the interval: no query.
  k.f.now += 23 * 3600;
  CHECK(PayloadOf(k.f, k.Refresh(la, a)).expires_at == Unix("20280115000000"));
  CHECK(k.market.queries == base);

  // Renewed at the marketplace (no callback): the first refresh after the interval queries,
  // the second seat's refresh does not, and both get the new expiry.
  k.market.Edit(kCode, [](MarketCode& c) { c.expire = "20290115000000"; });
  k.f.now += 2 * 3600;
  CHECK(PayloadOf(k.f, k.Refresh(la, a)).expires_at == Unix("20290115000000"));
  CHECK(PayloadOf(k.f, k.Refresh(lb, b)).expires_at == Unix("20290115000000"));
  CHECK(k.market.queries == base + 1);
  CHECK(k.Stored().market->synced_at == k.f.now);
  {
    std::lock_guard<std::mutex> lock(k.market.mu);
    REQUIRE(k.market.usage.size() == 2);  // first use, then this sync
    CHECK(k.market.usage[1] == std::make_pair(kCode, 2));
  }

  // Many refreshes of the code at once after the interval: one query.
  k.f.now += 25 * 3600;
  k.market.query_delay = std::chrono::milliseconds(50);
  std::vector<std::thread> threads;
  std::vector<int> statuses(8);
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back(
        [&, i] { statuses[i] = k.Refresh(i % 2 ? la : lb, i % 2 ? a : b).status; });
  }
  for (auto& t : threads) t.join();
  for (int s : statuses) CHECK(s == 200);
  CHECK(k.market.queries == base + 2);
  k.market.query_delay = std::chrono::milliseconds(0);

  // Frozen (reported as FROZEN, or as EXPIRED before the expiry): a signed frozen answer.
  k.market.Edit(kCode, [](MarketCode& c) { c.status = "EXPIRED"; });
  k.f.now += 25 * 3600;
  LicensePayload p = PayloadOf(k.f, k.Refresh(la, a));
  CHECK(p.status == LicenseStatus::kFrozen);
  CHECK(k.Stored().state == CredentialState::kFrozen);
  CHECK(k.Activate(MachineWith(0x3000)).status == 403);

  // Unfrozen by a renewal: active again.
  k.market.Edit(kCode, [](MarketCode& c) {
    c.status = "ALIVE";
    c.expire = "20300115000000";
  });
  k.f.now += 25 * 3600;
  p = PayloadOf(k.f, k.Refresh(la, a));
  CHECK(p.status == LicenseStatus::kActive);
  CHECK(p.expires_at == Unix("20300115000000"));

  // Released: a signed released answer.
  k.market.Edit(kCode, [](MarketCode& c) { c.status = "RELEASED"; });
  k.f.now += 25 * 3600;
  CHECK(PayloadOf(k.f, k.Refresh(lb, b)).status == LicenseStatus::kReleased);
  CHECK(k.Stored().state == CredentialState::kReleased);
}

TEST_CASE("KooGallery code: a failing sync keeps serving and retries after a short backoff",
          "[server][koogallery]") {
  CodeFixture k;
  const auto a = MachineWith(0x1000);
  const std::string la = PayloadOf(k.f, k.Activate(a)).license_id;
  const int base = k.market.queries;
  k.f.now += 25 * 3600;
  k.market.transport_error = Error{ErrorCode::kUnavailable, "down"};
  LicensePayload p = PayloadOf(k.f, k.Refresh(la, a));
  CHECK(p.status == LicenseStatus::kActive);
  CHECK(p.expires_at == Unix("20280115000000"));
  CHECK(k.market.queries == base + 1);
  k.f.now += 60;  // within the backoff: no query
  CHECK(k.Refresh(la, a).status == 200);
  CHECK(k.market.queries == base + 1);
  k.f.now += 300;
  k.market.transport_error.reset();
  k.market.usage_fails = true;  // a failed usage report does not fail the refresh
  k.market.Edit(kCode, [](MarketCode& c) { c.expire = "20290115000000"; });
  p = PayloadOf(k.f, k.Refresh(la, a));
  CHECK(p.expires_at == Unix("20290115000000"));
  CHECK(k.market.queries == base + 2);

  // A definite but unusable answer (the marketplace forgot the code) keeps the entitlement and
  // waits for the next interval.
  k.market.Edit(kCode, [](MarketCode& c) { c.active = false; });
  k.f.now += 25 * 3600;
  CHECK(PayloadOf(k.f, k.Refresh(la, a)).expires_at == Unix("20290115000000"));
  CHECK(k.market.queries == base + 3);
  k.f.now += 3600;
  CHECK(k.Refresh(la, a).status == 200);
  CHECK(k.market.queries == base + 3);
}

TEST_CASE("KooGallery code: without the open API configured, codes are refused",
          "[server][koogallery]") {
  Fixture f;
  const Reply r = f.service->Activate(ActivateBody(kCode, MachineWith(0x1000)));
  CHECK(r.status == 404);
  CHECK(CodeOf(r) == "unknown_credential");
  CHECK(r.body.find("does not accept KooGallery authorization codes") != std::string::npos);
}

TEST_CASE("KooGallery code: recognition, hash and mask", "[server][koogallery]") {
  CHECK(NormalizeAuthorizationCode("PLXXXXXX") == "PLXXXXXX");
  CHECK(NormalizeAuthorizationCode(" PLabc123 ") == "PLabc123");
  CHECK(NormalizeAuthorizationCode("PL" + std::string(62, '7')));
  CHECK_FALSE(NormalizeAuthorizationCode("PL" + std::string(63, '7')));
  CHECK_FALSE(NormalizeAuthorizationCode("PL"));
  CHECK_FALSE(NormalizeAuthorizationCode("pl12345"));
  CHECK_FALSE(NormalizeAuthorizationCode("PL****001"));
  CHECK_FALSE(NormalizeAuthorizationCode("LK-ABCDE-ABCDE-ABCDE-ABCDE-ABCDE"));
  CHECK(AuthorizationCodeHash("PLXXXXXX").size() == 64);
  CHECK(AuthorizationCodeHash("PLXXXXXX") != AuthorizationCodeHash("PLXXXXXY"));
  CHECK(MaskCode("PLTEST0000001234") == "PL****1234");
  CHECK(MaskCode("PL1234") == "PL****");
}
