// The agent and the vendor server end to end: the real licagent-server process over TLS on
// 127.0.0.1 (test PKI), with its SQLite file, and the agent's online client and offline check.
// Machines are scripted (FakePlatform), so one host can play many customers; everything
// between them is real: TLS, HTTP, JSON, signatures, the store and the server's seat logic.
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "agent/check_internal.h"
#include "agent/online_internal.h"
#include "licagent/online.h"
#include "licagent/protocol.h"
#include "platform/fake/fake_platform.h"
#include "server/vendor/signer.h"
#include "tests/catch.h"
#include "tests/marketsim/marketsim_process.h"
#include "tests/unit/machines.h"

namespace licagent {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

constexpr const char* kProduct = "e2e-product";
constexpr const char* kKeyId = "e2e-2026";

std::string ReadAll(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

void WriteAll(const fs::path& path, const std::string& text) {
  std::ofstream(path, std::ios::binary) << text;
}

// Runs a command to completion and returns its standard output; fails the test (showing its
// standard error) on a non-zero exit.
std::string Run(const std::vector<std::string>& argv) {
  const fs::path err =
      fs::temp_directory_path() / ("licagent-e2e-" + std::to_string(getpid()) + ".stderr");
  std::string command;
  for (const std::string& a : argv) command += "'" + a + "' ";
  FILE* pipe = popen((command + "2>'" + err.string() + "'").c_str(), "r");
  REQUIRE(pipe != nullptr);
  std::string out;
  char buffer[4096];
  while (std::size_t n = fread(buffer, 1, sizeof buffer, pipe)) out.append(buffer, n);
  const int status = pclose(pipe);
  INFO(command << "\n" << out << ReadAll(err));
  fs::remove(err);
  REQUIRE(WIFEXITED(status));
  REQUIRE(WEXITSTATUS(status) == 0);
  return out;
}

// A vendor: signing key, configuration, store, and the licagent-server process.
class Vendor {
 public:
  Vendor()
      : dir_(fs::temp_directory_path() /
             ("licagent-e2e-" + std::to_string(getpid()) + "-" + std::to_string(counter_++))) {
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    auto key = vendor::SigningKey::Generate();
    REQUIRE(key);
    public_key_ = key->Public(kKeyId);
    auto pem = key->ToPem();
    REQUIRE(pem);
    WriteAll(dir_ / "vendor.pem", std::string(pem->view()));
    fs::permissions(dir_ / "vendor.pem", fs::perms::owner_read | fs::perms::owner_write);
    const fs::path pki = LICAGENT_TEST_PKI_DIR;
    json config = {
        {"listen", "127.0.0.1:0"},
        {"tls",
         {{"certificate", (pki / "server.crt").string()},
          {"private_key", (pki / "server.key").string()}}},
        {"signing_key", {{"file", "vendor.pem"}, {"key_id", kKeyId}}},
        {"storage", {{"kind", "sqlite"}, {"path", "licagent.db"}}},
        {"access_log", "access.log"},
        {"threads", 4},
        // The seat-limit test fires many activations at once from one address.
        {"rate_limit",
         {{"activations_per_credential_per_minute", 0}, {"requests_per_address_per_minute", 0}}},
        {"products", {{{"id", kProduct}, {"grace_days", 14}, {"seats", 1}}}}};
    WriteAll(dir_ / "server.json", config.dump(2));
  }
  ~Vendor() {
    Stop();
    fs::remove_all(dir_);
  }
  Vendor(const Vendor&) = delete;
  Vendor& operator=(const Vendor&) = delete;

  std::vector<std::string> Admin(std::vector<std::string> args) const {
    args.insert(args.begin(), {LICAGENT_SERVER_BIN, "--config", (dir_ / "server.json").string()});
    return args;
  }

  struct Credential {
    std::string id;
    std::string key;
  };
  Credential CreateCredential(int seats) const {
    const json j = json::parse(
        Run(Admin({"credential", "create", "--product", kProduct, "--seats", std::to_string(seats),
                   "--customer", "E2E customer", "--feature", "export", "--json"})));
    return {j.at("id").get<std::string>(), j.at("key").get<std::string>()};
  }

  // Adds the koogallery section: the open API at `market_host` (the simulator, trusted through
  // the test CA) with the simulator's AK/SK, its product `market_product` sold as kProduct.
  void EnableKooGallery(const std::string& market_host, const std::string& market_product,
                        int query_interval_hours) const {
    WriteAll(dir_ / "market.sk", testing::kMarketsimSk + "\n");
    fs::permissions(dir_ / "market.sk", fs::perms::owner_read | fs::perms::owner_write);
    json config = json::parse(ReadAll(dir_ / "server.json"));
    config["koogallery"] = {{"open_api",
                             {{"access_key", testing::kMarketsimAk},
                              {"secret_key_file", "market.sk"},
                              {"hosts", {market_host}},
                              {"ca_bundle", (fs::path(LICAGENT_TEST_PKI_DIR) / "ca.crt").string()},
                              {"timeout_seconds", 5},
                              {"query_interval_hours", query_interval_hours}}},
                            {"products", {{market_product, kProduct}}}};
    WriteAll(dir_ / "server.json", config.dump(2));
  }
  std::string ServerErrors() const { return ReadAll(dir_ / "server.err"); }

  // The seats of the store, as `seat list --json` shows them.
  json Seats() const { return json::parse(Run(Admin({"seat", "list", "--json"}))); }

  void Start() {
    REQUIRE(pid_ == 0);
    const fs::path port_file = dir_ / "port";
    fs::remove(port_file);
    std::vector<std::string> args = Admin({"serve", "--port-file", port_file.string()});
    std::vector<char*> argv;
    for (std::string& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 2, (dir_ / "server.err").c_str(),
                                     O_WRONLY | O_CREAT | O_APPEND, 0600);
    REQUIRE(posix_spawn(&pid_, argv[0], &actions, nullptr, argv.data(), environ) == 0);
    posix_spawn_file_actions_destroy(&actions);
    for (int i = 0; i < 200 && ReadAll(port_file).empty(); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    INFO(ReadAll(dir_ / "server.err"));
    port_ = std::atoi(ReadAll(port_file).c_str());
    REQUIRE(port_ > 0);
  }

  // SIGTERM, then wait (bounded) for a clean exit.
  void Stop() {
    if (pid_ == 0) return;
    kill(pid_, SIGTERM);
    int status = 0;
    pid_t done = 0;
    for (int i = 0; i < 200 && (done = waitpid(pid_, &status, WNOHANG)) == 0; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    if (done == 0) {
      kill(pid_, SIGKILL);
      waitpid(pid_, &status, 0);
    }
    pid_ = 0;
    CHECK(done != 0);  // it stopped within 10 s of SIGTERM
    CHECK((WIFEXITED(status) && WEXITSTATUS(status) == 0));
  }

  OnlineConfig Online() const {
    OnlineConfig c;
    c.server_url = "https://127.0.0.1:" + std::to_string(port_);
    c.ca_bundle = (fs::path(LICAGENT_TEST_PKI_DIR) / "ca.crt").string();
    c.connect_timeout_ms = 2000;
    c.attempt_timeout_ms = 5000;
    c.total_timeout_ms = 10000;
    c.max_attempts = 2;
    c.backoff_base_ms = 50;
    c.backoff_max_ms = 100;
    return c;
  }
  const PublicKey& public_key() const { return public_key_; }
  const fs::path& dir() const { return dir_; }

 private:
  static inline std::atomic<int> counter_{0};
  fs::path dir_;
  PublicKey public_key_;
  pid_t pid_ = 0;
  int port_ = 0;
};

// A customer's machine: a scripted identity (machine `n` differs from the others in every
// hardware slot) with its own in-memory cache.
struct Machine {
  explicit Machine(int n, const Vendor& vendor) {
    platform.identity = testing::BareMetalServer();
    const std::string suffix = std::to_string(1000 + n);
    platform.identity.slot(Slot::kPlatformUuid) =
        testing::Values({"4C4C4544-0042-3510-8052-B4C04F33" + suffix});
    platform.identity.slot(Slot::kPlatformSerial) = testing::Values({"SERIAL" + suffix});
    platform.identity.slot(Slot::kNic) =
        testing::Values({"b8:ca:3a:6b:" + suffix.substr(0, 2) + ":" + suffix.substr(2, 2)});
    platform.identity.slot(Slot::kDisk) = testing::Values({"S4EWNX0R" + suffix});
    platform.identity.slot(Slot::kOsInstallId) =
        testing::Values({"0f5e1c2a9b3d4e6f8a7b6c5d4e3f" + suffix});
    platform.identity.slot(Slot::kBootVolume) =
        testing::Values({"6b1d2e3f-4a5b-4c6d-8e7f-9a0b1c2d" + suffix});
    platform.user_state_dir = "/state";
    platform.now = std::chrono::duration_cast<std::chrono::seconds>(
                       std::chrono::system_clock::now().time_since_epoch())
                       .count();
    config.product_id = kProduct;
    config.trusted_keys = {vendor.public_key()};
    config.store_dir = "/state";
  }
  CheckResult Check(const std::vector<std::string>& features = {}) {
    return CheckWith(platform, config, CheckRequest{features});
  }

  platform::FakePlatform platform;
  CheckConfig config;
};

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

}  // namespace
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
  vendor.EnableKooGallery("127.0.0.1:" + std::to_string(sim.port()), "mkt-e2e", 24);
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
  vendor.EnableKooGallery("127.0.0.1:" + std::to_string(sim.port()), "mkt-e2e", 0);
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

}  // namespace licagent
