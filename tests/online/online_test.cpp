// The online client against an in-process HTTPS server: the happy paths, every fault class of
// DESIGN.md §11 for the network (each a clear error with the cache untouched), the retry
// policy, and the configuration precedence. Machine, cache and clock come from the
// FakePlatform; TLS, libcurl and the server are real.
#include <chrono>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <string>

#include "agent/check_internal.h"
#include "agent/identity_internal.h"
#include "agent/license_store.h"
#include "agent/online_internal.h"
#include "licagent/protocol.h"
#include "platform/fake/fake_platform.h"
#include "tests/catch.h"
#include "tests/online/test_server.h"
#include "tests/unit/machines.h"
#include "tests/unit/test_signer.h"

namespace licagent {
namespace {

using std::chrono::milliseconds;
using testing::PkiFile;
using testing::Reply;
using testing::TestServer;
using testing::TestSigner;

constexpr std::int64_t kDay = 86400;
constexpr std::int64_t kNow = 1'800'000'000;  // 2027-01-15
const std::filesystem::path kStore = "/fake/store";
const std::filesystem::path kLicenseFile = kStore / "license.lic";

std::string ErrorBody(const char* code, const char* message) {
  return nlohmann::json{{"error", {{"code", code}, {"message", message}}}}.dump();
}

struct Fixture {
  Fixture() : signer("vendor-1"), stranger("stranger", 9) {
    fake.identity = testing::BareMetalServer();
    fake.topology = Topology{1, 4, 8, "GenuineIntel", "Xeon", "fake"};
    fake.now = kNow;
    check.product_id = "acme-cad";
    check.trusted_keys = {signer.Public()};
    check.store_dir = kStore.string();
    online.ca_bundle = PkiFile("ca.crt");
    online.proxy = "none";
    online.connect_timeout_ms = 300;
    online.attempt_timeout_ms = 1000;
    online.total_timeout_ms = 4000;
    online.max_attempts = 3;
    online.backoff_base_ms = 10;
    online.backoff_max_ms = 40;
    online.retry_after_max_ms = 2000;
  }

  Fingerprint Machine() { return CollectFingerprint(fake, BuiltinIdentityKey()).value(); }

  LicensePayload Payload(const std::string& nonce, LicenseStatus status = LicenseStatus::kActive) {
    LicensePayload p;
    p.license_id = "lic-1";
    p.product_id = "acme-cad";
    p.key_id = "vendor-1";
    p.customer = "ACME";
    p.binding = Binding{Machine().identifier, {}};
    p.issued_at = kNow;
    p.not_before = kNow - kDay;
    p.expires_at = kNow + 365 * kDay;
    p.refresh_by = kNow + 14 * kDay;
    p.status = status;
    p.server_time = kNow;
    p.nonce = nonce;
    return p;
  }

  // The nonce of a request body (activate or seat request).
  static std::string NonceOf(const std::string& body) {
    return nlohmann::json::parse(body).at("nonce").get<std::string>();
  }

  std::string Answer(const LicensePayload& p, const TestSigner* by = nullptr) {
    protocol::LicenseAnswer a;
    a.license = (by ? *by : signer).Sign(p);
    a.seats = 2;
    a.seats_used = 1;
    return protocol::Serialize(a);
  }

  // A server that signs a fresh license answering each request.
  TestServer::Handler Good(LicenseStatus status = LicenseStatus::kActive) {
    return [this, status](const std::string&, const std::string& body, int) {
      return Reply{200, Answer(Payload(NonceOf(body), status)), {}, {}};
    };
  }

  void InstallCurrent(std::int64_t server_time = kNow - 2 * kDay) {
    LicensePayload p = Payload("n-old");
    p.server_time = server_time;
    p.issued_at = server_time;
    fake.files[kLicenseFile] = signer.Sign(p);
  }

  platform::FakePlatform fake;
  TestSigner signer;
  TestSigner stranger;
  CheckConfig check;
  OnlineConfig online;
};

// The cache and its writes, to prove a failure changed nothing.
struct Snapshot {
  explicit Snapshot(platform::FakePlatform& f) : fake(f), files(f.files), writes(f.writes) {}
  bool Unchanged() const { return fake.files == files && fake.writes == writes; }
  platform::FakePlatform& fake;
  std::map<std::filesystem::path, std::string> files;
  int writes;
};

TEST_CASE("Activate installs the server's license and sends a well-formed request", "[online]") {
  Fixture f;
  TestServer server(f.Good());
  f.online.server_url = server.url();
  auto r = ActivateWith(f.fake, f.check, f.online, "LK-TEST-KEY", {});
  REQUIRE(r);
  CHECK(r->check.verdict == Verdict::kValid);
  CHECK(r->seats == 2);
  CHECK(r->seats_used == 1);
  CHECK(f.fake.files.count(kLicenseFile) == 1);
  CHECK(CheckWith(f.fake, f.check, {}).verdict == Verdict::kValid);
  REQUIRE(server.hits() == 1);
  CHECK(server.paths()[0] == "/v1/activate");
  CHECK(server.user_agents()[0].rfind("licagent/", 0) == 0);
  auto request = protocol::ParseActivateRequest(server.bodies()[0]);
  REQUIRE(request);
  CHECK(request->product_id == "acme-cad");
  CHECK(request->credential == "LK-TEST-KEY");
  CHECK(protocol::ValidNonce(request->nonce));
  CHECK(request->machine.identifier == f.Machine().identifier);
}

TEST_CASE("Every request carries a fresh nonce", "[online]") {
  Fixture f;
  TestServer server(f.Good());
  f.online.server_url = server.url();
  REQUIRE(ActivateWith(f.fake, f.check, f.online, "LK-1", {}));
  REQUIRE(RefreshWith(f.fake, f.check, f.online, {}));
  const auto bodies = server.bodies();
  REQUIRE(bodies.size() == 2);
  CHECK(Fixture::NonceOf(bodies[0]) != Fixture::NonceOf(bodies[1]));
}

TEST_CASE("A correct pinned key is accepted", "[online][tls]") {
  Fixture f;
  TestServer server(f.Good());
  f.online.server_url = server.url();
  std::ifstream in(PkiFile("server.pin"));
  std::getline(in, f.online.pinned_public_key);
  REQUIRE(f.online.pinned_public_key.rfind("sha256//", 0) == 0);
  CHECK(ActivateWith(f.fake, f.check, f.online, "LK-1", {}));
}

TEST_CASE("A wrong pinned key is untrusted and changes nothing", "[online][tls]") {
  Fixture f;
  TestServer server(f.Good());
  f.online.server_url = server.url();
  f.online.pinned_public_key = "sha256//AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=";
  Snapshot before(f.fake);
  auto r = ActivateWith(f.fake, f.check, f.online, "LK-1", {});
  REQUIRE_FALSE(r);
  CHECK(r.error().code == ErrorCode::kUntrusted);
  CHECK(r.error().message.find("pinned") != std::string::npos);
  CHECK(server.hits() == 0);
  CHECK(before.Unchanged());
}

TEST_CASE("A certificate from another CA is untrusted and changes nothing", "[online][tls]") {
  Fixture f;
  TestServer server(f.Good(), "other-server");
  f.online.server_url = server.url();
  Snapshot before(f.fake);
  auto r = ActivateWith(f.fake, f.check, f.online, "LK-1", {});
  REQUIRE_FALSE(r);
  CHECK(r.error().code == ErrorCode::kUntrusted);
  CHECK(r.error().message.find("certificate") != std::string::npos);
  CHECK(server.hits() == 0);
  CHECK(before.Unchanged());
}

TEST_CASE("A server that is down is unavailable after bounded attempts", "[online][fault]") {
  Fixture f;
  f.online.server_url = "https://127.0.0.1:" + std::to_string(testing::ClosedPort());
  int attempts = 0;
  int waits = 0;
  Snapshot before(f.fake);
  const auto start = std::chrono::steady_clock::now();
  auto r = ActivateWith(f.fake, f.check, f.online, "LK-1", [&](const OnlineProgress& p) {
    if (p.stage == OnlineProgress::Stage::kAttempt) ++attempts;
    if (p.stage == OnlineProgress::Stage::kWaiting) ++waits;
  });
  REQUIRE_FALSE(r);
  CHECK(r.error().code == ErrorCode::kUnavailable);
  INFO(r.error().message);
  CHECK(r.error().message.find("cannot connect") != std::string::npos);
  CHECK(r.error().message.find("127.0.0.1") != std::string::npos);
  CHECK(attempts == 3);
  CHECK(waits == 2);
  CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(3));
  CHECK(before.Unchanged());
}

TEST_CASE("A server slower than the timeout is unavailable", "[online][fault]") {
  Fixture f;
  TestServer server([&](const std::string&, const std::string& body, int) {
    return Reply{200, f.Answer(f.Payload(Fixture::NonceOf(body))), {}, milliseconds(800)};
  });
  f.online.server_url = server.url();
  f.online.attempt_timeout_ms = 300;
  f.online.max_attempts = 1;
  Snapshot before(f.fake);
  const auto start = std::chrono::steady_clock::now();
  auto r = ActivateWith(f.fake, f.check, f.online, "LK-1", {});
  REQUIRE_FALSE(r);
  CHECK(r.error().code == ErrorCode::kUnavailable);
  CHECK(r.error().message.find("in time") != std::string::npos);
  CHECK(std::chrono::steady_clock::now() - start < milliseconds(750));
  CHECK(before.Unchanged());
}

TEST_CASE("5xx then success: the retry works", "[online][retry]") {
  Fixture f;
  TestServer server([&](const std::string&, const std::string& body, int n) {
    if (n <= 2) return Reply{503, ErrorBody("unavailable", "shutting down"), {}, {}};
    return Reply{200, f.Answer(f.Payload(Fixture::NonceOf(body))), {}, {}};
  });
  f.online.server_url = server.url();
  auto r = ActivateWith(f.fake, f.check, f.online, "LK-1", {});
  REQUIRE(r);
  CHECK(r->check.verdict == Verdict::kValid);
  CHECK(server.hits() == 3);
}

TEST_CASE("5xx forever: gives up after max_attempts", "[online][retry]") {
  Fixture f;
  TestServer server([](const std::string&, const std::string&, int) {
    return Reply{500, ErrorBody("internal", "store failure"), {}, {}};
  });
  f.online.server_url = server.url();
  f.online.max_attempts = 4;
  Snapshot before(f.fake);
  auto r = ActivateWith(f.fake, f.check, f.online, "LK-1", {});
  REQUIRE_FALSE(r);
  CHECK(r.error().code == ErrorCode::kUnavailable);
  CHECK(r.error().message.find("gave up after 4 attempts") != std::string::npos);
  CHECK(server.hits() == 4);
  CHECK(before.Unchanged());
}

TEST_CASE("429 with Retry-After is honoured", "[online][retry]") {
  Fixture f;
  TestServer server([&](const std::string&, const std::string& body, int n) {
    if (n == 1) {
      return Reply{429, ErrorBody("rate_limited", "slow down"), {{"Retry-After", "1"}}, {}};
    }
    return Reply{200, f.Answer(f.Payload(Fixture::NonceOf(body))), {}, {}};
  });
  f.online.server_url = server.url();
  milliseconds waited{0};
  const auto start = std::chrono::steady_clock::now();
  auto r = ActivateWith(f.fake, f.check, f.online, "LK-1", [&](const OnlineProgress& p) {
    if (p.stage == OnlineProgress::Stage::kWaiting) waited = p.wait;
  });
  REQUIRE(r);
  CHECK(server.hits() == 2);
  CHECK(waited >= milliseconds(1000));
  CHECK(std::chrono::steady_clock::now() - start >= milliseconds(950));
}

TEST_CASE("429 asking for a wait beyond the cap gives up at once", "[online][retry]") {
  Fixture f;
  TestServer server([](const std::string&, const std::string&, int) {
    return Reply{429, ErrorBody("rate_limited", "slow down"), {{"Retry-After", "3600"}}, {}};
  });
  f.online.server_url = server.url();
  auto r = ActivateWith(f.fake, f.check, f.online, "LK-1", {});
  REQUIRE_FALSE(r);
  CHECK(r.error().code == ErrorCode::kUnavailable);
  CHECK(r.error().remote_code == "rate_limited");
  CHECK(r.error().message.find("3600 s") != std::string::npos);
  CHECK(server.hits() == 1);
}

TEST_CASE("A refusal is never retried and changes nothing", "[online][fault]") {
  Fixture f;
  f.InstallCurrent();
  TestServer server([](const std::string&, const std::string&, int) {
    return Reply{409, ErrorBody("seat_limit", "all 2 seats are in use"), {}, {}};
  });
  f.online.server_url = server.url();
  Snapshot before(f.fake);
  auto r = ActivateWith(f.fake, f.check, f.online, "LK-1", {});
  REQUIRE_FALSE(r);
  CHECK(r.error().code == ErrorCode::kRejected);
  CHECK(r.error().remote_code == "seat_limit");
  CHECK(server.hits() == 1);
  CHECK(before.Unchanged());
}

TEST_CASE("Malformed JSON is unavailable and not retried", "[online][fault]") {
  Fixture f;
  TestServer server([](const std::string&, const std::string&, int) {
    return Reply{200, "{\"license\": ", {}, {}};
  });
  f.online.server_url = server.url();
  Snapshot before(f.fake);
  auto r = ActivateWith(f.fake, f.check, f.online, "LK-1", {});
  REQUIRE_FALSE(r);
  CHECK(r.error().code == ErrorCode::kUnavailable);
  CHECK(r.error().message.find("malformed") != std::string::npos);
  CHECK(server.hits() == 1);
  CHECK(before.Unchanged());
}

TEST_CASE("An answer larger than the cap is refused", "[online][fault]") {
  Fixture f;
  TestServer server([](const std::string&, const std::string&, int) {
    return Reply{200, std::string(protocol::kMaxAnswerBody + 4096, ' ') + "{}", {}, {}};
  });
  f.online.server_url = server.url();
  Snapshot before(f.fake);
  auto r = ActivateWith(f.fake, f.check, f.online, "LK-1", {});
  REQUIRE_FALSE(r);
  CHECK(r.error().code == ErrorCode::kUnavailable);
  CHECK(r.error().message.find("larger than 128 KiB") != std::string::npos);
  CHECK(before.Unchanged());
}

TEST_CASE("Answers that fail verification are untrusted and change nothing", "[online][fault]") {
  Fixture f;
  f.InstallCurrent();
  std::string what;
  TestServer server([&](const std::string&, const std::string& body, int) {
    LicensePayload p = f.Payload(Fixture::NonceOf(body));
    if (what == "replayed nonce") p.nonce = "00112233445566778899aabbccddeeff";
    if (what == "no nonce") p.nonce.reset();
    if (what == "other product") p.product_id = "other-product";
    if (what == "other machine") {
      p.binding->identifier =
          ComputeFingerprint(testing::FirecrackerVm(), BuiltinIdentityKey()).value().identifier;
    }
    return Reply{200, f.Answer(p, what == "untrusted key" ? &f.stranger : nullptr), {}, {}};
  });
  f.online.server_url = server.url();
  for (const char* c :
       {"replayed nonce", "no nonce", "other product", "other machine", "untrusted key"}) {
    what = c;
    INFO(what);
    Snapshot before(f.fake);
    auto r = ActivateWith(f.fake, f.check, f.online, "LK-1", {});
    REQUIRE_FALSE(r);
    CHECK(r.error().code == ErrorCode::kUntrusted);
    CHECK(before.Unchanged());
  }
}

TEST_CASE("A refresh answer that is frozen is stored, and the next check says frozen",
          "[online][refresh]") {
  Fixture f;
  f.InstallCurrent();
  REQUIRE(CheckWith(f.fake, f.check, {}).verdict == Verdict::kValid);
  TestServer server(f.Good(LicenseStatus::kFrozen));
  f.online.server_url = server.url();
  auto r = RefreshWith(f.fake, f.check, f.online, {});
  REQUIRE(r);
  CHECK(r->check.verdict == Verdict::kFrozen);
  CHECK(CheckWith(f.fake, f.check, {}).verdict == Verdict::kFrozen);
  REQUIRE(server.hits() == 1);
  CHECK(server.paths()[0] == "/v1/refresh");
  auto request = protocol::ParseSeatRequest(server.bodies()[0]);
  REQUIRE(request);
  CHECK(request->license_id == "lic-1");
}

TEST_CASE("A refresh renews the license and raises the clock mark", "[online][refresh]") {
  Fixture f;
  f.InstallCurrent(kNow - 3 * kDay);
  REQUIRE(CheckWith(f.fake, f.check, {}).refresh_due);
  TestServer server(f.Good());
  f.online.server_url = server.url();
  auto r = RefreshWith(f.fake, f.check, f.online, {});
  REQUIRE(r);
  CHECK(r->check.verdict == Verdict::kValid);
  CHECK_FALSE(r->check.refresh_due);
  CHECK(LicenseStore(f.fake, kStore).ClockMark().value() == kNow);
}

TEST_CASE("A failed refresh never touches a still-valid license", "[online][refresh]") {
  Fixture f;
  f.InstallCurrent();
  f.online.server_url = "https://127.0.0.1:" + std::to_string(testing::ClosedPort());
  f.online.max_attempts = 1;
  Snapshot before(f.fake);
  auto r = RefreshWith(f.fake, f.check, f.online, {});
  REQUIRE_FALSE(r);
  CHECK(r.error().code == ErrorCode::kUnavailable);
  CHECK(before.Unchanged());
  CHECK(CheckWith(f.fake, f.check, {}).verdict == Verdict::kValid);
}

TEST_CASE("A refresh answer for another license is untrusted", "[online][refresh]") {
  Fixture f;
  f.InstallCurrent();
  TestServer server([&](const std::string&, const std::string& body, int) {
    LicensePayload p = f.Payload(Fixture::NonceOf(body));
    p.license_id = "lic-2";
    return Reply{200, f.Answer(p), {}, {}};
  });
  f.online.server_url = server.url();
  Snapshot before(f.fake);
  auto r = RefreshWith(f.fake, f.check, f.online, {});
  REQUIRE_FALSE(r);
  CHECK(r.error().code == ErrorCode::kUntrusted);
  CHECK(before.Unchanged());
}

TEST_CASE("Refresh and deactivate without a license send nothing", "[online][refresh]") {
  Fixture f;
  TestServer server(f.Good());
  f.online.server_url = server.url();
  auto r = RefreshWith(f.fake, f.check, f.online, {});
  REQUIRE_FALSE(r);
  CHECK(r.error().code == ErrorCode::kNotFound);
  auto d = DeactivateWith(f.fake, f.check, f.online, {});
  REQUIRE_FALSE(d);
  CHECK(d.error().code == ErrorCode::kNotFound);
  CHECK(server.hits() == 0);
}

TEST_CASE("Deactivate removes the cached license on the released answer", "[online][deactivate]") {
  Fixture f;
  f.InstallCurrent();
  TestServer server(f.Good(LicenseStatus::kReleased));
  f.online.server_url = server.url();
  auto r = DeactivateWith(f.fake, f.check, f.online, {});
  REQUIRE(r);
  CHECK(r->status == LicenseStatus::kReleased);
  CHECK(f.fake.files.count(kLicenseFile) == 0);
  CHECK(CheckWith(f.fake, f.check, {}).verdict == Verdict::kNoLicense);
  CHECK(server.paths()[0] == "/v1/deactivate");
}

TEST_CASE("Deactivate answered with an active license keeps the cache", "[online][deactivate]") {
  Fixture f;
  f.InstallCurrent();
  TestServer server(f.Good(LicenseStatus::kActive));
  f.online.server_url = server.url();
  Snapshot before(f.fake);
  auto r = DeactivateWith(f.fake, f.check, f.online, {});
  REQUIRE_FALSE(r);
  CHECK(before.Unchanged());
}

TEST_CASE("No server configured, or plain http, is a usage error with nothing sent",
          "[online][config]") {
  Fixture f;
  auto r = ActivateWith(f.fake, f.check, f.online, "LK-1", {});
  REQUIRE_FALSE(r);
  CHECK(r.error().code == ErrorCode::kInvalidArgument);
  CHECK(r.error().message.find("LICAGENT_SERVER_URL") != std::string::npos);
  f.online.server_url = "http://127.0.0.1:1";
  r = ActivateWith(f.fake, f.check, f.online, "LK-1", {});
  REQUIRE_FALSE(r);
  CHECK(r.error().code == ErrorCode::kInvalidArgument);
  CHECK(r.error().message.find("https://") != std::string::npos);
}

TEST_CASE("The offline request names this machine and is remembered", "[online][request]") {
  Fixture f;
  auto text = MakeOfflineRequestWith(f.fake, f.check);
  REQUIRE(text);
  auto request = protocol::ParseOfflineRequest(*text);
  REQUIRE(request);
  CHECK(request->product_id == "acme-cad");
  CHECK(request->identifier == f.Machine().identifier);
  CHECK(request->created_at == kNow);
  auto pending = PendingOfflineRequestWith(f.fake, f.check);
  REQUIRE(pending);
  CHECK(pending->nonce == request->nonce);
  CHECK(pending->created_at == kNow);
  auto second = MakeOfflineRequestWith(f.fake, f.check);
  REQUIRE(second);
  CHECK(protocol::ParseOfflineRequest(*second)->nonce != request->nonce);
}

TEST_CASE("Backoff is full jitter under an exponential cap", "[online][retry]") {
  OnlineConfig c;
  c.backoff_base_ms = 100;
  c.backoff_max_ms = 1000;
  for (int i = 0; i < 200; ++i) {
    CHECK(Backoff(c, 1) <= milliseconds(100));
    CHECK(Backoff(c, 3) <= milliseconds(400));
    CHECK(Backoff(c, 9) <= milliseconds(1000));
  }
  bool varied = false;
  const milliseconds first = Backoff(c, 9);
  for (int i = 0; i < 50 && !varied; ++i) varied = Backoff(c, 9) != first;
  CHECK(varied);
}

TEST_CASE("The background refresh starts at most once a day", "[online][background]") {
  Fixture f;
  f.InstallCurrent(kNow - 3 * kDay);
  CheckResult due = CheckWith(f.fake, f.check, {});
  REQUIRE(due.refresh_due);
  CHECK(ClaimBackgroundRefresh(f.fake, f.check, due));
  CHECK(f.fake.files.count(kStore / "refresh.stamp") == 1);
  CHECK_FALSE(ClaimBackgroundRefresh(f.fake, f.check, due));
  f.fake.now = kNow + kDay + 1;
  CHECK(ClaimBackgroundRefresh(f.fake, f.check, due));
  CheckResult fresh = due;
  fresh.refresh_due = false;
  f.fake.now = kNow + 5 * kDay;
  CHECK_FALSE(ClaimBackgroundRefresh(f.fake, f.check, fresh));
  CheckResult invalid = due;
  invalid.verdict = Verdict::kExpired;
  CHECK_FALSE(ClaimBackgroundRefresh(f.fake, f.check, invalid));
}

// --- Configuration precedence (docs/activation.md "Configuration").

struct ConfigFixture {
  ConfigFixture() {
    sources.platform = &fake;
    sources.env = [this](const char* name) -> std::optional<std::string> {
      auto it = env.find(name);
      if (it == env.end()) return std::nullopt;
      return it->second;
    };
    sources.default_files = {"/home/u/.config/licagent/agent.json", "/etc/licagent/agent.json"};
    sources.compiled_server_url = "https://compiled.example";
  }
  platform::FakePlatform fake;
  std::map<std::string, std::string> env;
  ConfigSources sources;
};

TEST_CASE("Configuration: flags > environment > file > compiled default", "[online][config]") {
  ConfigFixture c;
  OnlineSettings flags;
  CHECK(LoadOnlineConfigFrom(flags, c.sources)->server_url == "https://compiled.example");

  c.fake.files["/etc/licagent/agent.json"] =
      R"({"server_url":"https://system.example/","proxy":"http://proxy:3128","max_attempts":2})";
  auto config = LoadOnlineConfigFrom(flags, c.sources);
  REQUIRE(config);
  CHECK(config->server_url == "https://system.example");  // trailing slash dropped
  CHECK(config->proxy == "http://proxy:3128");
  CHECK(config->max_attempts == 2);

  c.fake.files["/home/u/.config/licagent/agent.json"] = R"({"server_url":"https://user.example"})";
  config = LoadOnlineConfigFrom(flags, c.sources);
  CHECK(config->server_url == "https://user.example");
  CHECK(config->proxy.empty());  // the first file found is the whole file layer

  c.env[kServerUrlEnv] = "https://env.example";
  c.env[kProxyEnv] = "none";
  config = LoadOnlineConfigFrom(flags, c.sources);
  CHECK(config->server_url == "https://env.example");
  CHECK(config->proxy == "none");

  flags.server_url = "https://flag.example:8443";
  flags.pinned_public_key = "sha256//" + std::string(43, 'A') + "=";
  config = LoadOnlineConfigFrom(flags, c.sources);
  REQUIRE(config);
  CHECK(config->server_url == "https://flag.example:8443");
  CHECK(config->pinned_public_key == flags.pinned_public_key);
  CHECK(config->proxy == "none");
}

TEST_CASE("Configuration: --config names the one file, which must exist", "[online][config]") {
  ConfigFixture c;
  c.fake.files["/etc/licagent/agent.json"] = R"({"server_url":"https://system.example"})";
  c.fake.files["/tmp/mine.json"] = R"({"ca_bundle":"/tmp/ca.pem"})";
  OnlineSettings flags;
  flags.config_file = "/tmp/mine.json";
  auto config = LoadOnlineConfigFrom(flags, c.sources);
  REQUIRE(config);
  CHECK(config->ca_bundle == "/tmp/ca.pem");
  CHECK(config->server_url == "https://compiled.example");
  flags.config_file = "/tmp/missing.json";
  auto missing = LoadOnlineConfigFrom(flags, c.sources);
  REQUIRE_FALSE(missing);
  CHECK(missing.error().message.find("/tmp/missing.json") != std::string::npos);
}

TEST_CASE("Configuration files are strict", "[online][config]") {
  const std::pair<const char*, const char*> cases[] = {
      {R"({"server_url":"https://a","server_url":"https://b"})", "duplicate"},
      {R"({"server":"https://a"})", "unknown key"},
      {R"({"max_attempts":"3"})", "max_attempts"},
      {R"({"max_attempts":0})", "max_attempts"},
      {R"({"connect_timeout_ms":-5})", "connect_timeout_ms"},
      {R"(["https://a"])", "object"},
      {R"({"server_url":)", "not valid JSON"},
  };
  for (const auto& [text, expected] : cases) {
    INFO(text);
    OnlineConfig config;
    Status s = ApplyConfigFile(text, "agent.json", &config);
    REQUIRE_FALSE(s);
    CHECK(s.error().code == ErrorCode::kInvalidArgument);
    CHECK(s.error().message.find(expected) != std::string::npos);
  }
}

TEST_CASE("Configuration values are checked wherever they come from", "[online][config]") {
  ConfigFixture c;
  OnlineSettings flags;
  flags.server_url = "http://plain.example";
  CHECK_FALSE(LoadOnlineConfigFrom(flags, c.sources));
  flags.server_url.reset();
  c.env[kServerUrlEnv] = "ftp://x";
  CHECK_FALSE(LoadOnlineConfigFrom(flags, c.sources));
  c.env.clear();
  flags.pinned_public_key = "sha256/short";
  CHECK_FALSE(LoadOnlineConfigFrom(flags, c.sources));
  flags.pinned_public_key =
      "sha256//" + std::string(43, 'A') + "=;sha256//" + std::string(43, 'B') + "=";
  CHECK(LoadOnlineConfigFrom(flags, c.sources));
}

}  // namespace
}  // namespace licagent
