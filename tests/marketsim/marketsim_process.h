// licagent-marketsim as a real process for tests (the tls_pki fixture's certificates, a
// temporary folder, SIGTERM at the end), driven through its admin endpoints and signed open-API
// calls. Needs LICAGENT_TEST_PKI_DIR and LICAGENT_MARKETSIM_BIN. Every wait is bounded.
#pragma once

#include <httplib.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "server/koogallery/signing.h"
#include "tests/catch.h"

extern char** environ;

namespace licagent::testing {

inline const std::string kMarketsimPki = LICAGENT_TEST_PKI_DIR;
inline const std::string kMarketsimAdminToken = "admin-token-0123456789abcdef";
inline const std::string kMarketsimAk = "AK-TEST";
inline const std::string kMarketsimSk = "SK-TEST-0123456789";

// licagent-marketsim in a temporary folder, stopped with SIGTERM at the end.
class Marketsim {
 public:
  // `vendor_port` > 0: callbacks go to https://127.0.0.1:PORT/koogallery/callback signed with
  // `callback_key`; otherwise the simulator has no vendor URL and sends none.
  explicit Marketsim(int vendor_port = 0, const std::string& callback_key = "") {
    std::string tmpl =
        (std::filesystem::temp_directory_path() / "licagent-marketsim-XXXXXX").string();
    REQUIRE(mkdtemp(tmpl.data()) != nullptr);
    dir_ = tmpl;
    nlohmann::json config = {
        {"listen", "127.0.0.1:0"},
        {"tls",
         {{"certificate", kMarketsimPki + "/server.crt"},
          {"private_key", kMarketsimPki + "/server.key"}}},
        {"state_file", "state.json"},
        {"access_log", "access.log"},
        {"threads", 2},
        {"admin_token", kMarketsimAdminToken},
        {"credentials", {{{"access_key", kMarketsimAk}, {"secret_key", kMarketsimSk}}}},
        {"retry",
         {{"license_code", {{"retries", 3}, {"interval_ms", 50}}},
          {"legacy_other", {{"retries", 1}, {"interval_ms", 50}}},
          {"legacy_get_license", {{"retries", 2}, {"interval_ms", 50}}}}}};
    if (vendor_port > 0) {
      config["vendor"] = {
          {"url", "https://127.0.0.1:" + std::to_string(vendor_port) + "/koogallery/callback"},
          {"key", callback_key},
          {"ca_bundle", kMarketsimPki + "/ca.crt"},
          {"timeout_ms", 2000}};
    }
    std::ofstream(dir_ / "marketsim.json") << config.dump(1);
    Start();
  }
  ~Marketsim() {
    Stop();
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

  void Start() {
    std::filesystem::remove(dir_ / "port");
    const std::string bin = LICAGENT_MARKETSIM_BIN;
    const std::string config = (dir_ / "marketsim.json").string();
    const std::string port_file = (dir_ / "port").string();
    std::vector<std::string> args = {bin, "--config", config, "serve", "--port-file", port_file};
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    REQUIRE(posix_spawn(&pid_, bin.c_str(), nullptr, nullptr, argv.data(), environ) == 0);
    for (int i = 0; i < 100 && port_ == 0; ++i) {  // at most 10 s
      std::ifstream in(port_file);
      int p = 0;
      if (in >> p && p > 0) port_ = p;
      if (port_ == 0) std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    REQUIRE(port_ > 0);
  }

  // SIGTERM, then a bounded wait for a clean exit.
  int Stop() {
    if (pid_ <= 0) return -1;
    kill(pid_, SIGTERM);
    int status = 0;
    for (int i = 0; i < 100; ++i) {
      if (waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        port_ = 0;
        return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    kill(pid_, SIGKILL);
    waitpid(pid_, &status, 0);
    pid_ = -1;
    port_ = 0;
    return -1;
  }

  std::unique_ptr<httplib::SSLClient> Client() const {
    auto c = std::make_unique<httplib::SSLClient>("127.0.0.1", port_);
    c->set_ca_cert_path((kMarketsimPki + "/ca.crt").c_str());
    c->enable_server_certificate_verification(true);
    c->set_connection_timeout(5, 0);
    c->set_read_timeout(30, 0);
    return c;
  }

  nlohmann::json Admin(const std::string& path, const nlohmann::json& body = nullptr,
                       int expect = 200) {
    auto c = Client();
    c->set_bearer_token_auth(kMarketsimAdminToken.c_str());
    auto res = body.is_null() ? c->Get(path.c_str())
                              : c->Post(path.c_str(), body.dump(), "application/json");
    REQUIRE(res);
    CHECK(res->status == expect);
    return nlohmann::json::parse(res->body);
  }

  // An open-API call signed with the signing library, as the vendor server makes it.
  nlohmann::json Api(const std::string& path, const nlohmann::json& body) {
    const std::string text = body.dump();
    koogallery::ApiSignInput in;
    in.method = "POST";
    const std::string url = "https://127.0.0.1:" + std::to_string(port_) + path;
    in.url = url;
    in.headers.emplace("Content-Type", "application/json");
    in.body = text;
    const std::string date = koogallery::FormatSdkDate(std::chrono::system_clock::now());
    in.sdk_date = date;
    in.access_key = kMarketsimAk;
    in.secret_key = kMarketsimSk;
    auto sig = koogallery::SignApiRequest(in);
    REQUIRE(sig);
    httplib::Headers headers;
    for (const auto& [n, v] : sig->headers) {
      if (n != "Content-Type") headers.emplace(n, v);
    }
    auto c = Client();
    auto res = c->Post(path.c_str(), headers, text, "application/json");
    REQUIRE(res);
    return nlohmann::json::parse(res->body);
  }

  const std::filesystem::path& dir() const { return dir_; }
  int port() const { return port_; }

 private:
  std::filesystem::path dir_;
  pid_t pid_ = -1;
  int port_ = 0;
};
}  // namespace licagent::testing
