// A KooGallery authorization code's whole life, with all three processes real and talking TLS
// on 127.0.0.1: licagent-marketsim (the marketplace: codes, open API, signed callbacks),
// licagent-server (the vendor: open-API client, callback endpoint, SQLite) and the licagent CLI
// (the customer's machine: activate, refresh, offline check and its exit codes). More machines
// are the agent library with scripted identities (FakePlatform), for seat limits.
#include <chrono>
#include <ctime>
#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "tests/integration/vendor_stack.h"
#include "tests/marketsim/marketsim_process.h"

namespace licagent {
namespace {

using testing::FreeLoopbackPort;
using testing::Machine;
using testing::Ran;
using testing::Run;
using testing::RunAny;
using testing::ServerProcess;
using testing::Vendor;
using testing::WriteAll;
namespace fs = std::filesystem;
using nlohmann::json;

const std::string kPki = LICAGENT_TEST_PKI_DIR;
const std::string kMarketProduct = "OFFI-LICAGENT-E2E";  // the marketplace's product id
const std::string kCallbackKey = "callback-key-e2e-0123456789";

// yyyyMMddHHmmss (the marketplace's format, UTC) and the license's ISO form of `t`.
std::string MarketTime(std::time_t t) {
  std::tm tm{};
  gmtime_r(&t, &tm);
  char text[32];
  std::strftime(text, sizeof text, "%Y%m%d%H%M%S", &tm);
  return text;
}
std::string IsoTime(std::time_t t) {
  std::tm tm{};
  gmtime_r(&t, &tm);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return text;
}
std::time_t DaysFromNow(int days) { return std::time(nullptr) / 60 * 60 + days * 86400; }

// The result codes of every attempt of every delivery in a marketsim answer.
std::vector<std::vector<std::string>> ResultCodes(const json& answer) {
  std::vector<std::vector<std::string>> out;
  for (const json& d : answer.at("deliveries")) {
    std::vector<std::string> codes;
    for (const json& a : d.at("attempts")) codes.push_back(a.value("result_code", ""));
    out.push_back(codes);
  }
  return out;
}

// Three processes: the vendor's server on a port chosen first (the simulator must know where to
// call back), the simulator, then the server configured with the simulator's address.
struct Stack {
  Stack() : vendor(LICAGENT_PRODUCT_ID_FOR_TESTS) {
    const int port = FreeLoopbackPort();
    market = std::make_unique<testing::Marketsim>(port, kCallbackKey);
    vendor.config()["listen"] = "127.0.0.1:" + std::to_string(port);
    vendor.EnableKooGallery("127.0.0.1:" + std::to_string(market->port()), kMarketProduct, 24,
                            testing::kMarketsimAk, testing::kMarketsimSk);
    vendor.EnableKooGalleryCallbacks(kCallbackKey);
    vendor.Start();
  }

  // An admin call to the simulator (POST with a body, GET without).
  json Market(const std::string& path, const json& body = json::object(), int expect = 200) {
    return market->Admin("/admin/" + path, body, expect);
  }
  // Buys a code: `amount` seats, expiring at `expires`.
  std::string Buy(int amount, std::time_t expires) {
    const json created = Market(
        "codes",
        {{"product_id", kMarketProduct}, {"amount", amount}, {"expire_time", MarketTime(expires)}},
        201);
    return created.at("code").get<std::string>();
  }

  // The licagent CLI as the customer runs it, with its state, trust and server set by the
  // environment. Returns the exit code and output.
  Ran Agent(std::vector<std::string> args) const {
    std::vector<std::string> argv = {
        "env",
        "LICAGENT_STATE_DIR=" + (vendor.dir() / "customer-state").string(),
        "XDG_CONFIG_HOME=" + (vendor.dir() / "customer-config").string(),
        "LICAGENT_TRUSTED_KEYS_FILE=" + (vendor.dir() / "vendor.pub").string(),
        "LICAGENT_SERVER_URL=" + vendor.Url(),
        "LICAGENT_CA_BUNDLE=" + kPki + "/ca.crt",
        "LICAGENT_NO_BACKGROUND_REFRESH=1",
        LICAGENT_CLI_BIN};
    argv.insert(argv.end(), args.begin(), args.end());
    return RunAny(argv);
  }
  // `licagent check --json`: the exit code and the license's expiry.
  std::pair<int, std::string> Check() const {
    const Ran ran = Agent({"check", "--json"});
    INFO(ran.out << ran.err);
    const json j = json::parse(ran.out, nullptr, false);
    std::string expires;
    if (j.is_object() && j.contains("license") && j["license"]["expires_at"].is_string()) {
      expires = j["license"]["expires_at"].get<std::string>();
    }
    return {ran.exit_code, expires};
  }
  // `licagent refresh`: exits with the refreshed license's verdict (13 when it came back frozen
  // or released), or the refresh's error.
  void Refresh(int expected_exit_code = 0) const {
    const Ran ran = Agent({"refresh"});
    INFO(ran.out << ran.err);
    REQUIRE(ran.exit_code == expected_exit_code);
  }

  Vendor vendor;
  std::unique_ptr<testing::Marketsim> market;
};

std::string RemoteCode(const Ran& ran) {
  const json j = json::parse(ran.out, nullptr, false);
  if (!j.is_object() || !j.contains("error") || !j["error"]["remote_code"].is_string()) return "";
  return j["error"]["remote_code"].get<std::string>();
}

TEST_CASE("A KooGallery code from purchase to release, through the CLI",
          "[e2e][koogallery][lifecycle]") {
  Stack stack;
  const std::time_t bought_until = DaysFromNow(30);
  const std::string code = stack.Buy(2, bought_until);

  // Before the buyer claims it, the marketplace refuses its activation.
  const Ran early = stack.Agent({"activate", "--code", code, "--json"});
  INFO(early.out << early.err);
  CHECK(early.exit_code == 22);
  CHECK(RemoteCode(early) == "code_not_claimed");
  CHECK(stack.Check().first == 10);  // still no license

  stack.Market("codes/" + code + "/claim");
  const Ran activated = stack.Agent({"activate", "--code", code});
  INFO(activated.out << activated.err);
  REQUIRE(activated.exit_code == 0);
  // The check is offline, and the license carries the marketplace's expiry.
  CHECK(stack.Check() == std::pair<int, std::string>{0, IsoTime(bought_until)});

  // Renewal in the marketplace: its callback moves the expiry, the next refresh brings it.
  const std::time_t renewed_until = DaysFromNow(400);
  const json renewed = stack.Market(
      "codes/" + code + "/renew", {{"expire_time", MarketTime(renewed_until)}, {"wait_ms", 20000}});
  CHECK(ResultCodes(renewed) == std::vector<std::vector<std::string>>{{"000000"}});
  stack.Refresh();
  CHECK(stack.Check() == std::pair<int, std::string>{0, IsoTime(renewed_until)});

  // Frozen: the refresh brings a signed frozen license and the check fails as frozen (13).
  const json frozen = stack.Market("codes/" + code + "/freeze", {{"wait_ms", 20000}});
  CHECK(ResultCodes(frozen) == std::vector<std::vector<std::string>>{{"000000"}});
  stack.Refresh(13);
  CHECK(stack.Check().first == 13);

  const json unfrozen = stack.Market("codes/" + code + "/unfreeze", {{"wait_ms", 20000}});
  CHECK(ResultCodes(unfrozen) == std::vector<std::vector<std::string>>{{"000000"}});
  stack.Refresh();
  CHECK(stack.Check().first == 0);

  const json released = stack.Market("codes/" + code + "/release", {{"wait_ms", 20000}});
  CHECK(ResultCodes(released) == std::vector<std::vector<std::string>>{{"000000"}});
  stack.Refresh(13);
  CHECK(stack.Check().first == 13);
  // A released code activates nothing new.
  Machine other(31, stack.vendor);
  auto refused = ActivateWith(other.platform, other.config, stack.vendor.Online(), code, {});
  REQUIRE_FALSE(refused);
  CHECK(refused.error().remote_code == "credential_released");
}

TEST_CASE("Forged, stale, replayed and retried callbacks", "[e2e][koogallery][callbacks]") {
  Stack stack;
  const std::time_t bought_until = DaysFromNow(30);
  const std::string code = stack.Buy(1, bought_until);
  stack.Market("codes/" + code + "/claim");
  Machine m(51, stack.vendor);
  REQUIRE(ActivateWith(m.platform, m.config, stack.vendor.Online(), code, {}));
  const auto expiry_after_refresh = [&] {
    auto refreshed = RefreshWith(m.platform, m.config, stack.vendor.Online(), {});
    INFO((refreshed ? "" : refreshed.error().message));
    REQUIRE(refreshed);
    REQUIRE(refreshed->check.license->expires_at);
    return static_cast<std::time_t>(*refreshed->check.license->expires_at);
  };
  const auto renewal = [&](std::time_t until, const std::string& order) {
    return json{{"activity", "refreshLicenseCode"},
                {"license", code},
                {"expireTime", MarketTime(until)},
                {"orderId", order},
                {"orderLineId", order + "-000001"},
                {"scene", "RENEWAL"},
                {"testFlag", "0"}};
  };
  const auto fire = [&](const json& fields, const json& extra) {
    json body = {{"fields", fields}, {"retries", 0}, {"wait_ms", 25000}};
    body.update(extra);
    return stack.Market("callbacks", body);
  };

  // A bad signature and a stale timestamp: 000001, and nothing changes.
  CHECK(ResultCodes(fire(renewal(DaysFromNow(500), "CS-FORGED"), {{"tamper", "bad_signature"}})) ==
        std::vector<std::vector<std::string>>{{"000001"}});
  CHECK(ResultCodes(fire(renewal(DaysFromNow(501), "CS-STALE"), {{"tamper", "stale_timestamp"}})) ==
        std::vector<std::vector<std::string>>{{"000001"}});
  CHECK(expiry_after_refresh() == bought_until);

  // A test request (testFlag=1) never touches a real entitlement.
  json test_request = renewal(DaysFromNow(502), "CS-TEST");
  test_request["testFlag"] = "1";
  fire(test_request, json::object());
  CHECK(expiry_after_refresh() == bought_until);

  // A replay (byte-identical, same nonce): the first copy counts, the second is refused.
  const std::time_t replayed_until = DaysFromNow(200);
  CHECK(ResultCodes(
            fire(renewal(replayed_until, "CS-REPLAY"), {{"tamper", "replay"}, {"repeat", 2}})) ==
        std::vector<std::vector<std::string>>{{"000000"}, {"000001"}});
  CHECK(expiry_after_refresh() == replayed_until);

  // The same renewal 60 times (each correctly signed, as the marketplace's retries): one
  // effect, the same answer every time.
  const std::time_t retried_until = DaysFromNow(300);
  const json sixty = fire(renewal(retried_until, "CS-RETRIED"), {{"repeat", 60}});
  const auto codes = ResultCodes(sixty);
  REQUIRE(codes.size() == 60);
  std::set<std::string> replies;
  for (std::size_t i = 0; i < codes.size(); ++i) {
    CHECK(codes[i] == std::vector<std::string>{"000000"});
    replies.insert(sixty["deliveries"][i]["reply"].dump());
  }
  CHECK(replies.size() == 1);
  CHECK(expiry_after_refresh() == retried_until);
}

}  // namespace
}  // namespace licagent
