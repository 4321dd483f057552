// The activation service's test fixture: a parsed configuration, a real SQLite store in a
// temporary folder, a fresh signing key and a service on a settable clock; request builders and
// answer readers. Shared by the service's tests.
#pragma once

#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>

#include "licagent/license.h"
#include "licagent/protocol.h"
#include "server/activation/credential_key.h"
#include "server/activation/service.h"
#include "server/activation/sqlite_store.h"
#include "tests/catch.h"

namespace licagent::server::testing {

inline constexpr UnixTime kNow = 1800000000;
inline constexpr UnixTime kDay = 86400;
inline const std::string kNonce = "0123456789abcdef0123456789abcdef";

// A configuration parsed from `config_json` (relative paths under `dir`), a real SQLite store
// "s.db" and a fresh signing key in a new temporary folder named `prefix`-XXXXXX, removed with
// everything in it at the end. The base of the service and callback fixtures: a derived
// fixture's service is destroyed before the store it uses.
struct ServerFiles {
  ServerFiles(const std::string& prefix, const std::string& config_json) {
    std::string tmpl = (std::filesystem::temp_directory_path() / (prefix + "-XXXXXX")).string();
    REQUIRE(mkdtemp(tmpl.data()) != nullptr);
    dir = tmpl;
    auto c = ParseConfig(config_json, dir.string());
    REQUIRE(c);
    config = *c;
    auto s = OpenSqliteStore((dir / "s.db").string());
    REQUIRE(s);
    store = std::move(*s);
    auto k = vendor::SigningKey::Generate();
    REQUIRE(k);
    key = std::make_unique<vendor::SigningKey>(std::move(*k));
  }
  ~ServerFiles() {
    store.reset();
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  }
  ServerFiles(const ServerFiles&) = delete;
  ServerFiles& operator=(const ServerFiles&) = delete;

  std::filesystem::path dir;
  ServerConfig config;
  std::unique_ptr<Store> store;
  std::unique_ptr<vendor::SigningKey> key;
};

struct Fixture : ServerFiles {
  // `market`, if given, answers for KooGallery (the config needs a "koogallery" section).
  explicit Fixture(const std::string& product_extra = "", const std::string& top_extra = "",
                   Marketplace* market = nullptr)
      : ServerFiles("licagent-service",
                    R"({"listen":"127.0.0.1:0","tls":{"certificate":"c","private_key":"k"},
            "signing_key":{"file":"v","key_id":"test-key"},"storage":{"path":"s.db"},)" +
                        top_extra + R"("products":[{"id":"prod","grace_days":14,"seats":1)" +
                        product_extra + R"(},{"id":"other"}]})") {
    service = std::make_unique<ActivationService>(
        config, *store, *key, [this] { return now; }, market);
  }

  // A credential of `product` with a fresh key; returns the key.
  std::string AddCredential(int seats, const std::string& product = "prod",
                            std::optional<UnixTime> expires = kNow + 365 * kDay) {
    auto k = NewCredentialKey();
    REQUIRE(k);
    Credential c;
    c.id = "cred-" + std::to_string(++credentials);
    c.product_id = product;
    c.customer = "ACME";
    c.seats = seats;
    c.features = {{"export", ""}};
    c.max_cores = 8;
    c.expires_at = expires;
    c.created_at = kNow;
    REQUIRE(store->CreateCredential(c, *CredentialKeyHash(k->view())));
    last_credential = c.id;
    return std::string(k->view());
  }

  std::unique_ptr<ActivationService> service;
  UnixTime now = kNow;
  int credentials = 0;
  std::string last_credential;
};

inline protocol::Machine MachineWith(std::uint16_t base, Environment env = Environment::kVm) {
  protocol::Machine m;
  m.identifier.os = OsFamily::kLinux;
  m.identifier.environment = env;
  for (std::size_t i = 0; i < kSlotCount; ++i) {
    m.identifier.tags[i] = static_cast<std::uint16_t>(base + i);
    m.candidates[i] = {m.identifier.tags[i]};
  }
  return m;
}

inline std::string ActivateBody(const std::string& key, const protocol::Machine& m,
                                const std::string& product = "prod",
                                const std::string& version = "0.1.0") {
  protocol::ActivateRequest r;
  r.product_id = product;
  r.credential = key;
  r.machine = m;
  r.nonce = kNonce;
  r.agent_version = version;
  return protocol::Serialize(r);
}

inline std::string SeatBody(const std::string& license_id, const protocol::Machine& m,
                            const std::string& product = "prod") {
  protocol::SeatRequest r;
  r.product_id = product;
  r.license_id = license_id;
  r.machine = m;
  r.nonce = kNonce;
  r.agent_version = "0.1.0";
  return protocol::Serialize(r);
}

inline std::string CodeOf(const Reply& r) {
  auto e = protocol::ParseErrorAnswer(r.body);
  REQUIRE(e);
  CHECK(e->code == r.error_code);
  return e->code;
}

// The verified payload of a 200 answer.
inline LicensePayload PayloadOf(const Fixture& f, const Reply& r) {
  REQUIRE(r.status == 200);
  auto answer = protocol::ParseLicenseAnswer(r.body);
  REQUIRE(answer);
  auto license = VerifyLicense(answer->license, {f.key->Public("test-key")});
  REQUIRE(license);
  return license->payload;
}

}  // namespace licagent::server::testing
