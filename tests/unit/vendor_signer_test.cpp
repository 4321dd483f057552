// The vendor's OpenSSL signer against the agent's libsodium verifier and the openssl-CLI test
// vectors in tests/data/licenses/ (make-vectors.sh).
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <sodium.h>

#include <algorithm>
#include <array>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "licagent/license.h"
#include "server/vendor/signer.h"
#include "tests/catch.h"
#include "tests/unit/license_vectors.h"

namespace licagent::vendor {
namespace {

LicensePayload Payload(const std::string& key_id) {
  LicensePayload p;
  p.license_id = "L-7";
  p.product_id = "acme-cad";
  p.key_id = key_id;
  p.authorization_code = "PL0123456789";
  p.order_id = "CS2611240000";
  p.instance_id = "inst-1";
  p.customer = "ACME GmbH, Müller & Söhne";
  Binding b;
  b.identifier = ParseIdentifier("HW1-52GV-5GYM-WQV0-E619-795N-RVBY-6HB0").value();
  b.policy.environment = EnvironmentRule::kAny;
  p.binding = b;
  p.issued_at = ParseTime("2026-11-24T00:00:00Z").value();
  p.not_before = p.issued_at;
  p.expires_at = ParseTime("2027-11-24T00:00:00Z").value();
  p.refresh_by = ParseTime("2026-12-24T00:00:00Z").value();
  p.entitlements.features = {{"export", ""}, {"render", "gpu"}};
  p.entitlements.max_cores = 16;
  p.server_time = p.issued_at;
  p.nonce = "n-1";
  return p;
}

TEST_CASE("A license signed with OpenSSL verifies with the agent's libsodium verifier",
          "[vendor]") {
  auto key = SigningKey::Generate();
  REQUIRE(key);
  const LicensePayload p = Payload("acme-2026");
  auto license = IssueLicense(*key, p);
  REQUIRE(license);

  auto verified = VerifyLicense(*license, {key->Public("acme-2026")});
  REQUIRE(verified);
  CHECK(verified->payload == p);
  CHECK(verified->armored == *license);

  // Independently of VerifyLicense: libsodium's own detached verification of the raw parts.
  auto envelope = ParseArmoredLicense(*license);
  REQUIRE(envelope);
  const std::string m = SignedMessage(envelope->key_id, envelope->payload);
  REQUIRE(sodium_init() >= 0);
  CHECK(crypto_sign_verify_detached(envelope->signature.data(),
                                    reinterpret_cast<const unsigned char*>(m.data()), m.size(),
                                    key->public_bytes().data()) == 0);

  SECTION("another key does not verify it") {
    auto other = SigningKey::Generate();
    REQUIRE(other);
    auto wrong = VerifyLicense(*license, {other->Public("acme-2026")});
    REQUIRE_FALSE(wrong);
    CHECK(wrong.error().code == ErrorCode::kBadSignature);
  }
}

TEST_CASE("Key generation gives distinct keys that survive PEM", "[vendor]") {
  auto a = SigningKey::Generate();
  auto b = SigningKey::Generate();
  REQUIRE(a);
  REQUIRE(b);
  CHECK(a->public_bytes() != b->public_bytes());
  CHECK(a->public_bytes() != std::array<std::uint8_t, 32>{});

  auto pem = a->ToPem();
  REQUIRE(pem);
  CHECK(pem->view().rfind("-----BEGIN PRIVATE KEY-----\n", 0) == 0);
  CHECK(pem->view().find("-----END PRIVATE KEY-----\n") != std::string_view::npos);
  auto back = SigningKey::FromPem(pem->view());
  REQUIRE(back);
  CHECK(back->public_bytes() == a->public_bytes());
  auto pem_b = b->ToPem();
  REQUIRE(pem_b);
  CHECK(pem_b->view() != pem->view());

  // Same message, same key: identical signatures (Ed25519 is deterministic); other key: not.
  CHECK(a->Sign("m").value() == back->Sign("m").value());
  CHECK(a->Sign("m").value() != b->Sign("m").value());
}

TEST_CASE("OpenSSL and libsodium derive the same public key from a seed", "[vendor]") {
  std::array<std::uint8_t, 32> seed{};
  for (std::size_t i = 0; i < seed.size(); ++i) seed[i] = static_cast<std::uint8_t>(i * 7 + 1);
  auto key = SigningKey::FromSeed(seed);
  REQUIRE(key);
  REQUIRE(sodium_init() >= 0);
  unsigned char pk[crypto_sign_PUBLICKEYBYTES];
  unsigned char sk[crypto_sign_SECRETKEYBYTES];
  crypto_sign_seed_keypair(pk, sk, seed.data());
  CHECK(std::equal(std::begin(pk), std::end(pk), key->public_bytes().begin()));

  const std::string message = SignedMessage("k", "{}");
  unsigned char expected[crypto_sign_BYTES];
  crypto_sign_detached(expected, nullptr, reinterpret_cast<const unsigned char*>(message.data()),
                       message.size(), sk);
  auto signature = key->Sign(message);
  REQUIRE(signature);
  CHECK(std::equal(std::begin(expected), std::end(expected), signature->begin()));
  sodium_memzero(sk, sizeof sk);
}

TEST_CASE("Re-signing the openssl-CLI vector reproduces it byte for byte", "[vendor]") {
  const std::string pem = testing::ReadLicenseData("vendor-2026.pem");
  auto key = SigningKey::FromPem(pem);
  REQUIRE(key);
  CHECK(key->Public("vendor-2026").bytes == testing::VectorKey("vendor-2026.pub").bytes);

  const std::string payload = testing::ReadLicenseData("valid.json");
  const std::string expected = testing::ReadLicenseData("valid.lic");

  SECTION("signing the exact payload bytes") {
    LicenseEnvelope e;
    e.key_id = "vendor-2026";
    e.payload = payload;
    auto signature = key->Sign(SignedMessage(e.key_id, e.payload));
    REQUIRE(signature);
    e.signature = *signature;
    CHECK(ArmorLicense(e) == expected);
  }
  SECTION("issuing the parsed payload (the canonical serialisation is the same bytes)") {
    auto parsed = ParsePayload(payload);
    REQUIRE(parsed);
    auto license = IssueLicense(*key, *parsed);
    REQUIRE(license);
    CHECK(*license == expected);
  }
}

TEST_CASE("IssueLicense refuses payloads an agent would reject", "[vendor]") {
  auto key = SigningKey::Generate();
  REQUIRE(key);
  struct Case {
    const char* what;
    void (*change)(LicensePayload&);
    const char* reason;
  };
  const std::vector<Case> cases = {
      {"empty customer", [](LicensePayload& p) { p.customer.clear(); }, "customer"},
      {"long license id", [](LicensePayload& p) { p.license_id.assign(65, 'x'); }, "license_id"},
      {"expiry before start", [](LicensePayload& p) { p.expires_at = p.not_before; }, "expires_at"},
      {"bad feature name", [](LicensePayload& p) { p.entitlements.features["a b"] = ""; },
       "feature"},
      {"zero seats", [](LicensePayload& p) { p.entitlements.seats = 0; }, "seats"},
      {"policy threshold", [](LicensePayload& p) { p.binding->policy.threshold_percent = 0; },
       "threshold_percent"},
      {"bad key id", [](LicensePayload& p) { p.key_id = "a:b"; }, "key id"},
      {"oversize",
       [](LicensePayload& p) {
         for (int i = 0; i < 300; ++i) {
           p.entitlements.features["f" + std::to_string(i)] = std::string(200, 'v');
         }
       },
       "KiB"},
  };
  for (const Case& c : cases) {
    INFO(c.what);
    LicensePayload p = Payload("acme-2026");
    c.change(p);
    auto license = IssueLicense(*key, p);
    REQUIRE_FALSE(license);
    CHECK(license.error().code == ErrorCode::kInvalidArgument);
    CHECK(license.error().message.find(c.reason) != std::string::npos);
  }
}

TEST_CASE("FromPem names what is wrong with a key file", "[vendor]") {
  CHECK(SigningKey::FromPem("").error().message.find("PKCS#8") != std::string::npos);
  CHECK(SigningKey::FromPem("-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n")
            .error()
            .message.find("encrypted") != std::string::npos);
  CHECK(SigningKey::FromPem("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n")
            .error()
            .code == ErrorCode::kInvalidArgument);
  // An EC P-256 key is PKCS#8 PEM too, but not Ed25519.
  EVP_PKEY* p256 = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256");
  REQUIRE(p256 != nullptr);
  BIO* bio = BIO_new(BIO_s_mem());
  REQUIRE(PEM_write_bio_PrivateKey(bio, p256, nullptr, nullptr, 0, nullptr, nullptr) == 1);
  char* data = nullptr;
  const long size = BIO_get_mem_data(bio, &data);
  const std::string p256_pem(data, static_cast<std::size_t>(size));
  BIO_free(bio);
  EVP_PKEY_free(p256);
  CHECK(p256_pem.rfind("-----BEGIN PRIVATE KEY-----", 0) == 0);
  auto ec = SigningKey::FromPem(p256_pem);
  REQUIRE_FALSE(ec);
  CHECK(ec.error().message.find("not an Ed25519 key") != std::string::npos);
  CHECK(ValidKeyId("acme-2026.b_1"));
  CHECK_FALSE(ValidKeyId(""));
  CHECK_FALSE(ValidKeyId(std::string(65, 'a')));
  CHECK_FALSE(ValidKeyId("acme 2026"));
}

}  // namespace
}  // namespace licagent::vendor
