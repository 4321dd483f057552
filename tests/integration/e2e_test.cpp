// The agent and the vendor server end to end: the real licagent-server process over TLS on
// 127.0.0.1 (test PKI), with its SQLite file, and the agent's online client and offline check.
// Machines are scripted (FakePlatform), so one host can play many customers; everything
// between them is real: TLS, HTTP, JSON, signatures, the store and the server's seat logic.
#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "tests/integration/vendor_stack.h"
#include "tests/marketsim/marketsim_process.h"

namespace licagent {
namespace {

using testing::Machine;
using testing::Run;
using testing::Vendor;
using testing::WriteAll;
namespace fs = std::filesystem;
using nlohmann::json;

TEST_CASE("Activate, check, refresh and deactivate against the real server",
          "[e2e][activate][refresh][deactivate]") {
  Vendor vendor;
  const auto credential = vendor.CreateCredential(1);
  vendor.Start();
  Machine m(1, vendor);

  auto activated = ActivateWith(m.platform, m.config, vendor.Online(), credential.key, {});
  INFO((activated ? "" : activated.error().message));
  REQUIRE(activated);
  CHECK(activated->check.verdict == Verdict::kValid);
  CHECK(activated->seats == 1);
  CHECK(activated->seats_used == 1);
  const LicensePayload first = *activated->check.license;
  CHECK(first.customer == "E2E customer");
  CHECK(first.entitlements.features.count("export") == 1);
  REQUIRE(first.refresh_by);

  CheckResult check = m.Check({"export"});
  CHECK(check.verdict == Verdict::kValid);

  auto refreshed = RefreshWith(m.platform, m.config, vendor.Online(), {});
  INFO((refreshed ? "" : refreshed.error().message));
  REQUIRE(refreshed);
  const LicensePayload& second = *refreshed->check.license;
  CHECK(second.license_id == first.license_id);
  CHECK(second.nonce != first.nonce);
  CHECK(m.Check().verdict == Verdict::kValid);

  auto released = DeactivateWith(m.platform, m.config, vendor.Online(), {});
  INFO((released ? "" : released.error().message));
  REQUIRE(released);
  CHECK(released->status == LicenseStatus::kReleased);
  CHECK(m.Check().verdict == Verdict::kNoLicense);
  const json seats = vendor.Seats();
  REQUIRE(seats.size() == 1);
  CHECK(seats[0].at("state") == "released");

  // The freed seat can be taken again.
  auto again = ActivateWith(m.platform, m.config, vendor.Online(), credential.key, {});
  REQUIRE(again);
  CHECK(again->check.verdict == Verdict::kValid);
}

TEST_CASE("Re-activating the same machine reuses its seat, also after a NIC change",
          "[e2e][activate]") {
  Vendor vendor;
  const auto credential = vendor.CreateCredential(1);
  vendor.Start();
  Machine m(2, vendor);
  auto first = ActivateWith(m.platform, m.config, vendor.Online(), credential.key, {});
  REQUIRE(first);
  auto second = ActivateWith(m.platform, m.config, vendor.Online(), credential.key, {});
  REQUIRE(second);
  CHECK(second->check.license->license_id == first->check.license->license_id);

  // A new network card: the identifier changes, the machine is still recognised (match rule,
  // not string equality), so the one seat is not exhausted.
  m.platform.identity.slot(Slot::kNic) = testing::Values({"00:11:22:33:44:55"});
  auto after_nic = ActivateWith(m.platform, m.config, vendor.Online(), credential.key, {});
  INFO((after_nic ? "" : after_nic.error().message));
  REQUIRE(after_nic);
  CHECK(after_nic->check.license->license_id == first->check.license->license_id);
  CHECK(after_nic->seats_used == 1);

  // Another machine has no seat left.
  Machine other(3, vendor);
  auto refused = ActivateWith(other.platform, other.config, vendor.Online(), credential.key, {});
  REQUIRE_FALSE(refused);
  CHECK(refused.error().code == ErrorCode::kRejected);
  CHECK(refused.error().remote_code == "seat_limit");
  CHECK(other.Check().verdict == Verdict::kNoLicense);
}

TEST_CASE("Concurrent activations never exceed the seats", "[e2e][activate][seats]") {
  Vendor vendor;
  constexpr int kSeats = 3;
  constexpr int kMachines = 12;
  const auto credential = vendor.CreateCredential(kSeats);
  vendor.Start();
  std::vector<std::unique_ptr<Machine>> machines;
  for (int i = 0; i < kMachines; ++i) machines.push_back(std::make_unique<Machine>(10 + i, vendor));

  std::vector<Result<OnlineResult>> results(kMachines, Error{ErrorCode::kInternal, "not run"});
  std::atomic<bool> go{false};
  std::vector<std::thread> threads;
  for (int i = 0; i < kMachines; ++i) {
    threads.emplace_back([&, i] {
      while (!go.load()) std::this_thread::yield();
      Machine& m = *machines[i];
      results[i] = ActivateWith(m.platform, m.config, vendor.Online(), credential.key, {});
    });
  }
  go = true;
  for (auto& t : threads) t.join();

  int granted = 0;
  for (int i = 0; i < kMachines; ++i) {
    if (results[i]) {
      ++granted;
      CHECK(machines[i]->Check().verdict == Verdict::kValid);
    } else {
      INFO(results[i].error().message);
      CHECK(results[i].error().remote_code == "seat_limit");
      CHECK(machines[i]->Check().verdict == Verdict::kNoLicense);
    }
  }
  CHECK(granted == kSeats);
  int active = 0;
  for (const json& s : vendor.Seats()) active += s.at("state") == "active" ? 1 : 0;
  CHECK(active == kSeats);
}

TEST_CASE("The vendor's freeze and release reach the machine at its next refresh",
          "[e2e][refresh]") {
  Vendor vendor;
  const auto credential = vendor.CreateCredential(1);
  vendor.Start();
  Machine m(4, vendor);
  REQUIRE(ActivateWith(m.platform, m.config, vendor.Online(), credential.key, {}));

  Run(vendor.Admin({"credential", "freeze", credential.id}));
  auto frozen = RefreshWith(m.platform, m.config, vendor.Online(), {});
  REQUIRE(frozen);
  CHECK(m.Check().verdict == Verdict::kFrozen);

  Run(vendor.Admin({"credential", "unfreeze", credential.id}));
  REQUIRE(RefreshWith(m.platform, m.config, vendor.Online(), {}));
  CHECK(m.Check().verdict == Verdict::kValid);

  Run(vendor.Admin({"credential", "release", credential.id}));
  REQUIRE(RefreshWith(m.platform, m.config, vendor.Online(), {}));
  CHECK(m.Check().verdict == Verdict::kReleased);

  // A released credential activates nothing new.
  Machine other(5, vendor);
  auto refused = ActivateWith(other.platform, other.config, vendor.Online(), credential.key, {});
  REQUIRE_FALSE(refused);
  CHECK(refused.error().remote_code == "credential_released");
}

TEST_CASE(
    "Server down: the license stays valid offline, refresh fails gracefully, and a "
    "restarted server still knows the seat",
    "[e2e][refresh][offline]") {
  Vendor vendor;
  const auto credential = vendor.CreateCredential(1);
  vendor.Start();
  Machine m(6, vendor);
  auto activated = ActivateWith(m.platform, m.config, vendor.Online(), credential.key, {});
  REQUIRE(activated);
  const OnlineConfig online = vendor.Online();
  vendor.Stop();

  CHECK(m.Check().verdict == Verdict::kValid);
  auto failed = RefreshWith(m.platform, m.config, online, {});
  REQUIRE_FALSE(failed);
  CHECK(failed.error().code == ErrorCode::kUnavailable);
  CHECK(m.Check().verdict == Verdict::kValid);

  // The activation was committed before the stop: the restarted server (on a new port)
  // refreshes the same seat.
  vendor.Start();
  auto refreshed = RefreshWith(m.platform, m.config, vendor.Online(), {});
  INFO((refreshed ? "" : refreshed.error().message));
  REQUIRE(refreshed);
  CHECK(refreshed->check.license->license_id == activated->check.license->license_id);
}

TEST_CASE("An offline request is answered by the server and installs", "[e2e][offline]") {
  Vendor vendor;
  const auto credential = vendor.CreateCredential(1);
  vendor.Start();
  Machine m(7, vendor);
  auto request = MakeOfflineRequestWith(m.platform, m.config);
  REQUIRE(request);

  // The vendor's portal posts the file with the customer's credential.
  const fs::path body = vendor.dir() / "offline.json";
  WriteAll(body, protocol::Serialize(protocol::OfflineAnswerRequest{credential.key, *request}));
  const std::string answer_text =
      Run({"curl", "-sS", "--fail-with-body", "--cacert",
           (fs::path(LICAGENT_TEST_PKI_DIR) / "ca.crt").string(), "-H",
           "Content-Type: application/json", "--data-binary", "@" + body.string(),
           vendor.Online().server_url + "/v1/offline"});
  auto answer = protocol::ParseLicenseAnswer(answer_text);
  INFO(answer_text);
  REQUIRE(answer);

  CheckResult installed = InstallWith(m.platform, m.config, answer->license);
  CHECK(installed.verdict == Verdict::kValid);
  REQUIRE(installed.license);
  auto pending = protocol::ParseOfflineRequest(*request);
  REQUIRE(pending);
  CHECK(installed.license->nonce == pending->nonce);
  CHECK(m.Check().verdict == Verdict::kValid);

  // The machine holds the credential's one seat now: an online activation of the same
  // machine reuses it, another machine is refused.
  REQUIRE(ActivateWith(m.platform, m.config, vendor.Online(), credential.key, {}));
  Machine other(8, vendor);
  auto refused = ActivateWith(other.platform, other.config, vendor.Online(), credential.key, {});
  REQUIRE_FALSE(refused);
  CHECK(refused.error().remote_code == "seat_limit");
}

TEST_CASE("A server signing with a key the agent does not trust changes nothing", "[e2e][tls]") {
  Vendor vendor;
  const auto credential = vendor.CreateCredential(1);
  vendor.Start();
  Machine m(9, vendor);
  Vendor stranger;  // another vendor's key
  m.config.trusted_keys = {stranger.public_key()};
  auto refused = ActivateWith(m.platform, m.config, vendor.Online(), credential.key, {});
  REQUIRE_FALSE(refused);
  CHECK(refused.error().code == ErrorCode::kUntrusted);
  CHECK(m.Check().verdict == Verdict::kNoLicense);
}

TEST_CASE(
    "KooGallery: activate --code against the real simulator, seats of amount, sync of a "
    "renewal",
    "[e2e][koogallery]") {
  testing::Marketsim sim;  // no vendor URL: the renewal below sends no callback
  const json created =
      sim.Admin("/admin/codes",
                {{"product_id", "mkt-e2e"}, {"amount", 2}, {"expire_time", "20280101000000"}}, 201);
  const std::string code = created.at("code");
  Vendor vendor;
  vendor.EnableKooGallery("127.0.0.1:" + std::to_string(sim.port()), "mkt-e2e", 24,
                          testing::kMarketsimAk, testing::kMarketsimSk);
  vendor.Start();
  Machine m1(21, vendor);

  // Before the buyer claimed it: refused with the claim hint, nothing installed.
  auto early = ActivateWith(m1.platform, m1.config, vendor.Online(), code, {});
  REQUIRE_FALSE(early);
  CHECK(early.error().code == ErrorCode::kRejected);
  CHECK(early.error().remote_code == "code_not_claimed");
  CHECK(early.error().message.find("claim it in KooGallery") != std::string::npos);
  CHECK(m1.Check().verdict == Verdict::kNoLicense);

  sim.Admin("/admin/codes/" + code + "/claim", json::object());
  auto activated = ActivateWith(m1.platform, m1.config, vendor.Online(), code, {});
  INFO((activated ? "" : activated.error().message + "\n" + vendor.ServerErrors()));
  REQUIRE(activated);
  CHECK(activated->check.verdict == Verdict::kValid);
  const LicensePayload& first = *activated->check.license;
  CHECK(first.expires_at == 1830297600);  // 2028-01-01T00:00:00Z, the code's expiry
  CHECK(first.authorization_code == code);
  CHECK(first.order_id == created.at("order_id").get<std::string>());
  CHECK(activated->seats == 2);
  CHECK(m1.Check().verdict == Verdict::kValid);

  // A second machine takes the second seat; a third finds none.
  Machine m2(22, vendor);
  auto second = ActivateWith(m2.platform, m2.config, vendor.Online(), code, {});
  REQUIRE(second);
  CHECK(second->seats_used == 2);
  Machine m3(23, vendor);
  auto third = ActivateWith(m3.platform, m3.config, vendor.Online(), code, {});
  REQUIRE_FALSE(third);
  CHECK(third.error().remote_code == "seat_limit");

  json state = sim.Admin("/admin/codes/" + code);
  CHECK(state.at("state") == "active");
  const int queries = state.at("queries").get<int>();
  CHECK(queries == 1);  // one activation, one query: the other machines used the stored code

  // The admin list shows the code masked, never whole.
  const std::string listed = Run(vendor.Admin({"credential", "list", "--json"}));
  CHECK(listed.find(code) == std::string::npos);
  CHECK(listed.find(code.substr(0, 2) + "****" + code.substr(code.size() - 4)) !=
        std::string::npos);

  // Renewed at the marketplace, no callback. Within the day's interval a refresh does not ask.
  sim.Admin("/admin/codes/" + code + "/renew", {{"expire_time", "20991231235959"}});
  auto unchanged = RefreshWith(m1.platform, m1.config, vendor.Online(), {});
  REQUIRE(unchanged);
  CHECK(unchanged->check.license->expires_at == 1830297600);
  CHECK(sim.Admin("/admin/codes/" + code).at("queries") == queries);

  // A server whose interval is 0 (every use) syncs at the next refresh and reports usage.
  vendor.Stop();
  vendor.EnableKooGallery("127.0.0.1:" + std::to_string(sim.port()), "mkt-e2e", 0,
                          testing::kMarketsimAk, testing::kMarketsimSk);
  vendor.Start();
  auto renewed = RefreshWith(m1.platform, m1.config, vendor.Online(), {});
  INFO((renewed ? "" : renewed.error().message + "\n" + vendor.ServerErrors()));
  REQUIRE(renewed);
  CHECK(renewed->check.verdict == Verdict::kValid);
  CHECK(renewed->check.license->expires_at == 4102444799);  // 2099-12-31T23:59:59Z
  CHECK(m1.Check().verdict == Verdict::kValid);
  state = sim.Admin("/admin/codes/" + code);
  CHECK(state.at("queries") == queries + 1);
  bool reported = false;
  for (const auto& [day, usage] : state.at("usage").items()) {
    if (usage.value("active_num", 0) == 2) reported = true;
  }
  CHECK(reported);
}

}  // namespace
}  // namespace licagent
