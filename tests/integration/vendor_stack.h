// The vendor side of the end-to-end tests: a signing key, a licagent-server configuration and
// process (real TLS on 127.0.0.1 with the tls_pki fixture's certificates, a real SQLite file),
// its admin commands, and customers' machines with scripted identities (FakePlatform) running the
// agent's real online client and offline check. Shared by e2e_test.cpp and
// koogallery_e2e_test.cpp.
#pragma once

#include <sys/wait.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "agent/check_internal.h"
#include "agent/online_internal.h"
#include "licagent/online.h"
#include "licagent/protocol.h"
#include "platform/fake/fake_platform.h"
#include "server/vendor/signer.h"
#include "tests/catch.h"
#include "tests/integration/server_process.h"
#include "tests/unit/machines.h"

namespace licagent::testing {

namespace fs = std::filesystem;
using nlohmann::json;

inline constexpr const char* kProduct = "e2e-product";
inline constexpr const char* kKeyId = "e2e-2026";

// The result of a finished command.
struct Ran {
  int exit_code = -1;
  std::string out;
  std::string err;
};

// Runs a command to completion (standard input empty) and returns its exit code and output.
inline Ran RunAny(const std::vector<std::string>& argv) {
  static std::atomic<int> counter{0};
  const fs::path err = fs::temp_directory_path() / ("licagent-e2e-" + std::to_string(getpid()) +
                                                    "-" + std::to_string(counter++) + ".stderr");
  std::string command;
  for (const std::string& a : argv) command += "'" + a + "' ";
  FILE* pipe = popen((command + "</dev/null 2>'" + err.string() + "'").c_str(), "r");
  REQUIRE(pipe != nullptr);
  Ran ran;
  char buffer[4096];
  while (std::size_t n = fread(buffer, 1, sizeof buffer, pipe)) ran.out.append(buffer, n);
  const int status = pclose(pipe);
  ran.err = ReadAll(err);
  fs::remove(err);
  ran.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return ran;
}

// Runs a command and returns its standard output; fails the test (showing its standard error)
// on a non-zero exit.
inline std::string Run(const std::vector<std::string>& argv) {
  const Ran ran = RunAny(argv);
  std::string command;
  for (const std::string& a : argv) command += a + " ";
  INFO(command << "\n" << ran.out << ran.err);
  REQUIRE(ran.exit_code == 0);
  return ran.out;
}

// A vendor: signing key, configuration, store, and the licagent-server process. `config()` may
// be changed before Start().
class Vendor {
 public:
  explicit Vendor(std::string product = kProduct)
      : dir_(fs::temp_directory_path() /
             ("licagent-e2e-" + std::to_string(getpid()) + "-" + std::to_string(counter_++))),
        product_(std::move(product)) {
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    auto key = vendor::SigningKey::Generate();
    REQUIRE(key);
    public_key_ = key->Public(kKeyId);
    auto pem = key->ToPem();
    REQUIRE(pem);
    WriteAll(dir_ / "vendor.pem", std::string(pem->view()));
    fs::permissions(dir_ / "vendor.pem", fs::perms::owner_read | fs::perms::owner_write);
    WriteAll(dir_ / "vendor.pub", FormatPublicKey(public_key_) + "\n");
    const fs::path pki = LICAGENT_TEST_PKI_DIR;
    config_ = {
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
        {"products", {{{"id", product_}, {"grace_days", 14}, {"seats", 1}}}}};
    SaveConfig();
  }
  ~Vendor() {
    Stop();
    fs::remove_all(dir_);
  }
  Vendor(const Vendor&) = delete;
  Vendor& operator=(const Vendor&) = delete;

  json& config() { return config_; }
  void SaveConfig() const { WriteAll(dir_ / "server.json", config_.dump(2)); }

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
        Run(Admin({"credential", "create", "--product", product_, "--seats", std::to_string(seats),
                   "--customer", "E2E customer", "--feature", "export", "--json"})));
    return {j.at("id").get<std::string>(), j.at("key").get<std::string>()};
  }

  // Adds the koogallery section: the open API at `market_host` (the simulator, trusted through
  // the test CA) with the simulator's AK/SK (`access_key`, `secret_key`), its product
  // `market_product` sold as this vendor's product.
  void EnableKooGallery(const std::string& market_host, const std::string& market_product,
                        int query_interval_hours, const std::string& access_key,
                        const std::string& secret_key) {
    WriteAll(dir_ / "market.sk", secret_key + "\n");
    fs::permissions(dir_ / "market.sk", fs::perms::owner_read | fs::perms::owner_write);
    config_["koogallery"]["open_api"] = {
        {"access_key", access_key},
        {"secret_key_file", "market.sk"},
        {"hosts", {market_host}},
        {"ca_bundle", (fs::path(LICAGENT_TEST_PKI_DIR) / "ca.crt").string()},
        {"timeout_seconds", 5},
        {"query_interval_hours", query_interval_hours}};
    config_["koogallery"]["products"] = {{market_product, product_}};
    SaveConfig();
  }
  // Adds the callback endpoint at /koogallery/callback, verified with `key`.
  void EnableKooGalleryCallbacks(const std::string& key) {
    WriteAll(dir_ / "callback.key", key + "\n");
    fs::permissions(dir_ / "callback.key", fs::perms::owner_read | fs::perms::owner_write);
    config_["koogallery"]["callback"] = {{"path", "/koogallery/callback"},
                                         {"access_key_file", "callback.key"}};
    SaveConfig();
  }
  std::string ServerErrors() const { return ReadAll(process_.stderr_file()); }

  // The seats and credentials of the store, as `seat list --json` / `credential list --json`.
  json Seats() const { return json::parse(Run(Admin({"seat", "list", "--json"}))); }
  json Credentials() const { return json::parse(Run(Admin({"credential", "list", "--json"}))); }

  void Start() {
    SaveConfig();
    process_.Start(Admin({}), dir_, "server");
  }
  void Stop() { process_.Stop(); }

  int port() const { return process_.port(); }
  std::string Url() const { return "https://127.0.0.1:" + std::to_string(process_.port()); }
  OnlineConfig Online() const {
    OnlineConfig c;
    c.server_url = Url();
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
  const std::string& product() const { return product_; }

 private:
  static inline std::atomic<int> counter_{0};
  fs::path dir_;
  std::string product_;
  PublicKey public_key_;
  json config_;
  ServerProcess process_;
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
    config.product_id = vendor.product();
    config.trusted_keys = {vendor.public_key()};
    config.store_dir = "/state";
  }
  CheckResult Check(const std::vector<std::string>& features = {}) {
    return CheckWith(platform, config, CheckRequest{features});
  }

  platform::FakePlatform platform;
  CheckConfig config;
};

}  // namespace licagent::testing
