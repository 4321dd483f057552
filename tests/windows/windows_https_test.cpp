// The WinHTTP transport (platform/windows/https_windows.cpp) against real HTTPS servers on
// 127.0.0.1: tests/windows/https_test.sh starts the fixtures (https_fixture.py) and passes their
// ports and the test PKI's folder in the environment, then checks the fixtures' logs for the
// bodies that must never have been sent (paths starting "/untrusted").
#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

#include "agent/http_client.h"
#include "licagent/protocol.h"
#include "tests/catch.h"

namespace licagent::http {
namespace {

std::string Env(const char* name) {
  const char* value = std::getenv(name);
  INFO("environment variable " << name << " (set by tests/windows/https_test.sh)");
  REQUIRE(value != nullptr);
  REQUIRE(value[0] != '\0');
  return value;
}

// Mostly by name; the IP address case has its own test.
std::string Url(const char* port_variable, const std::string& path) {
  return "https://localhost:" + Env(port_variable) + path;
}

std::string Pki(const std::string& file) { return Env("LICAGENT_TEST_PKI") + "\\" + file; }

std::string ReadText(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  REQUIRE(in);
  std::ostringstream text;
  text << in.rdbuf();
  std::string s = text.str();
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) s.pop_back();
  return s;
}

OnlineConfig Trusting() {
  OnlineConfig config;
  config.ca_bundle = Pki("ca.crt");
  config.proxy = "none";
  config.connect_timeout_ms = 10000;
  return config;
}

constexpr std::int64_t kTimeout = 30000;
const std::string kBody = R"({"request":"activate","machine":"HW1-ÄÖÜ"})";

void RequireFailure(const Outcome& outcome, ErrorCode code, const std::string& words) {
  INFO((outcome.response ? "got HTTP " + std::to_string(outcome.response->status)
                         : outcome.failure.error.message));
  REQUIRE_FALSE(outcome.response.has_value());
  CHECK(outcome.failure.error.code == code);
  CHECK(outcome.failure.error.message.find(words) != std::string::npos);
}

TEST_CASE("WinHTTP: a POST reaches the server whole, with licagent's headers", "[https]") {
  const Outcome out = Post(Trusting(), Url("LICAGENT_TEST_HTTPS_PORT", "/echo"), kBody, kTimeout);
  INFO(out.failure.error.message);
  REQUIRE(out.response.has_value());
  CHECK(out.response->status == 200);
  CHECK_FALSE(out.response->retry_after_seconds.has_value());
  const auto echo = nlohmann::json::parse(out.response->body);
  CHECK(echo["body"] == kBody);
  CHECK(echo["user_agent"].get<std::string>().rfind("licagent/", 0) == 0);
  CHECK(echo["content_type"] == "application/json");
  CHECK(echo["accept"] == "application/json");
}

TEST_CASE("WinHTTP: the server's pinned key is accepted, another pin is untrusted", "[https]") {
  OnlineConfig config = Trusting();
  const std::string right = ReadText(Env("LICAGENT_TEST_PKI") + "\\server.pin");
  const std::string wrong = "sha256//AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=";
  config.pinned_public_key = wrong + ";" + right;
  Outcome out = Post(config, Url("LICAGENT_TEST_HTTPS_PORT", "/echo"), kBody, kTimeout);
  INFO(out.failure.error.message);
  REQUIRE(out.response.has_value());
  CHECK(out.response->status == 200);

  config.pinned_public_key = wrong;
  out = Post(config, Url("LICAGENT_TEST_HTTPS_PORT", "/untrusted-pin"), kBody, kTimeout);
  RequireFailure(out, ErrorCode::kUntrusted, "pinned key");
  CHECK(out.failure.error.message.find(right) != std::string::npos);  // says what it saw
  CHECK_FALSE(out.failure.transient);
}

TEST_CASE("WinHTTP: an IP address must be one of the certificate's iPAddress names", "[https]") {
  const std::string path = "/echo?host=ip";
  Outcome out = Post(Trusting(), "https://127.0.0.1:" + Env("LICAGENT_TEST_HTTPS_PORT") + path,
                     kBody, kTimeout);
  INFO(out.failure.error.message);
  REQUIRE(out.response.has_value());
  CHECK(out.response->status == 200);

  out = Post(Trusting(),
             "https://127.0.0.1:" + Env("LICAGENT_TEST_HTTPS_WRONG_HOST_PORT") + "/untrusted-ip",
             kBody, kTimeout);
  RequireFailure(out, ErrorCode::kUntrusted, "another host name");
}

TEST_CASE("WinHTTP: certificates the CA bundle does not vouch for are untrusted", "[https]") {
  SECTION("issued by another CA") {
    const Outcome out = Post(Trusting(), Url("LICAGENT_TEST_HTTPS_OTHER_CA_PORT", "/untrusted-ca"),
                             kBody, kTimeout);
    RequireFailure(out, ErrorCode::kUntrusted, "not trusted");
    CHECK(out.failure.error.message.find("ca.crt") != std::string::npos);
    CHECK_FALSE(out.failure.transient);
  }
  SECTION("issued by the bundle's CA for another host name") {
    const Outcome out = Post(
        Trusting(), Url("LICAGENT_TEST_HTTPS_WRONG_HOST_PORT", "/untrusted-host"), kBody, kTimeout);
    RequireFailure(out, ErrorCode::kUntrusted, "not trusted");
    CHECK_FALSE(out.failure.transient);
  }
  SECTION("without a bundle, Windows' store does not know the test CA") {
    OnlineConfig config = Trusting();
    config.ca_bundle.clear();
    const Outcome out =
        Post(config, Url("LICAGENT_TEST_HTTPS_PORT", "/untrusted-store"), kBody, kTimeout);
    RequireFailure(out, ErrorCode::kUntrusted, "certificate store");
  }
  SECTION("a bundle of another CA only") {
    OnlineConfig config = Trusting();
    config.ca_bundle = Pki("other-ca.crt");
    const Outcome out =
        Post(config, Url("LICAGENT_TEST_HTTPS_PORT", "/untrusted-bundle"), kBody, kTimeout);
    RequireFailure(out, ErrorCode::kUntrusted, "CA bundle");
  }
}

TEST_CASE("WinHTTP: unusable CA bundles and URLs are argument errors", "[https]") {
  OnlineConfig config = Trusting();
  config.ca_bundle = Pki("missing.crt");
  Outcome out =
      Post(config, Url("LICAGENT_TEST_HTTPS_PORT", "/untrusted-nobundle"), kBody, kTimeout);
  RequireFailure(out, ErrorCode::kInvalidArgument, "cannot be read");

  config.ca_bundle = Pki("server.pin");  // a file with no certificate in it
  out = Post(config, Url("LICAGENT_TEST_HTTPS_PORT", "/untrusted-nobundle"), kBody, kTimeout);
  RequireFailure(out, ErrorCode::kInvalidArgument, "no PEM certificate");

  out = Post(Trusting(), "http://localhost:" + Env("LICAGENT_TEST_HTTPS_PORT") + "/echo", kBody,
             kTimeout);
  RequireFailure(out, ErrorCode::kInvalidArgument, "https://");
}

TEST_CASE("WinHTTP: Retry-After is read in both of its forms", "[https]") {
  Outcome out =
      Post(Trusting(), Url("LICAGENT_TEST_HTTPS_PORT", "/retry-after-seconds"), kBody, kTimeout);
  INFO(out.failure.error.message);
  REQUIRE(out.response.has_value());
  CHECK(out.response->status == 503);
  CHECK(out.response->retry_after_seconds == 7);

  out = Post(Trusting(), Url("LICAGENT_TEST_HTTPS_PORT", "/retry-after-date"), kBody, kTimeout);
  REQUIRE(out.response.has_value());
  CHECK(out.response->status == 429);
  REQUIRE(out.response->retry_after_seconds.has_value());
  // 120 s ahead when the fixture answered; the two clocks are the same machine's.
  CHECK(*out.response->retry_after_seconds > 60);
  CHECK(*out.response->retry_after_seconds <= 121);
}

TEST_CASE("WinHTTP: answers are capped at kMaxAnswerBody, declared or not", "[https]") {
  const std::string cap = std::to_string(protocol::kMaxAnswerBody);
  const std::string over = std::to_string(protocol::kMaxAnswerBody + 1);
  for (const char* path : {"/sized", "/chunked"}) {
    INFO(path);
    Outcome out = Post(Trusting(), Url("LICAGENT_TEST_HTTPS_PORT", path + ("?bytes=" + cap)), kBody,
                       kTimeout);
    INFO(out.failure.error.message);
    REQUIRE(out.response.has_value());
    CHECK(out.response->body.size() == protocol::kMaxAnswerBody);

    out = Post(Trusting(), Url("LICAGENT_TEST_HTTPS_PORT", path + ("?bytes=" + over)), kBody,
               kTimeout);
    RequireFailure(out, ErrorCode::kUnavailable, "larger than");
  }
}

TEST_CASE("WinHTTP: redirects are not followed", "[https]") {
  const Outcome out =
      Post(Trusting(), Url("LICAGENT_TEST_HTTPS_PORT", "/redirect"), kBody, kTimeout);
  INFO(out.failure.error.message);
  REQUIRE(out.response.has_value());
  CHECK(out.response->status == 302);
}

TEST_CASE("WinHTTP: a slow server, a closed port: transient unavailability", "[https]") {
  Outcome out = Post(Trusting(), Url("LICAGENT_TEST_HTTPS_PORT", "/slow?seconds=8"), kBody, 3000);
  RequireFailure(out, ErrorCode::kUnavailable, "in time");
  CHECK(out.failure.transient);

  out = Post(Trusting(), Url("LICAGENT_TEST_CLOSED_PORT", "/echo"), kBody, kTimeout);
  RequireFailure(out, ErrorCode::kUnavailable, "cannot connect");
  CHECK(out.failure.transient);
}

TEST_CASE("WinHTTP: an HTTP proxy tunnels the exchange; other proxies are refused", "[https]") {
  OnlineConfig config = Trusting();
  config.proxy = "http://127.0.0.1:" + Env("LICAGENT_TEST_PROXY_PORT");
  Outcome out = Post(config, Url("LICAGENT_TEST_HTTPS_PORT", "/echo?via=proxy"), kBody, kTimeout);
  INFO(out.failure.error.message);
  REQUIRE(out.response.has_value());
  CHECK(out.response->status == 200);

  config.proxy = "socks5://127.0.0.1:1080";
  out = Post(config, Url("LICAGENT_TEST_HTTPS_PORT", "/untrusted-socks"), kBody, kTimeout);
  RequireFailure(out, ErrorCode::kUnsupported, "http:// proxy");
}

}  // namespace
}  // namespace licagent::http
