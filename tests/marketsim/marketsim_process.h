// licagent-marketsim as a real process for tests (the tls_pki fixture's certificates, a
// temporary folder, SIGTERM at the end), driven through its admin endpoints and signed open-API
// calls. Needs LICAGENT_TEST_PKI_DIR and LICAGENT_MARKETSIM_BIN. Every wait is bounded.
#pragma once

#include <httplib.h>
#include <stdlib.h>
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
#include "tests/integration/server_process.h"

namespace licagent::testing {

inline const std::string kMarketsimPki = LICAGENT_TEST_PKI_DIR;
inline const std::string kMarketsimAdminToken = "admin-token-0123456789abcdef";
inline const std::string kMarketsimAk = "AK-TEST";
inline const std::string kMarketsimSk = "SK-TEST-0123456789";

// licagent-marketsim in a temporary folder, stopped with SIGTERM at the end.
class Marketsim {
 public:
  // `vendor_port` > 0: callbacks go to https://127.0.0.1:PORT/koogallery/callback signed with
  // `callback_key`; otherwise the simulator has no vendor URL and sends none. `retry`, if given,
  // replaces the retry schedules (the configuration's "retry" object).
  explicit Marketsim(int vendor_port = 0, const std::string& callback_key = "",
                     const nlohmann::json& retry = nullptr) {
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
    if (!retry.is_null()) config["retry"] = retry;
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
    process_.Start({LICAGENT_MARKETSIM_BIN, "--config", (dir_ / "marketsim.json").string()}, dir_,
                   "marketsim");
  }
  // SIGTERM, then a bounded wait for a clean exit (checked).
  void Stop() { process_.Stop(); }

  std::unique_ptr<httplib::SSLClient> Client() const {
    auto c = std::make_unique<httplib::SSLClient>("127.0.0.1", port());
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
    const std::string url = "https://127.0.0.1:" + std::to_string(port()) + path;
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
  int port() const { return process_.port(); }

 private:
  std::filesystem::path dir_;
  ServerProcess process_;
};
}  // namespace licagent::testing
