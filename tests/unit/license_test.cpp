// The license document: times, canonical payload, strict parsing, armour, signatures and keys.
// Independent vectors in tests/data/licenses/ were signed by the openssl CLI (make-vectors.sh).
#include "licagent/license.h"

#include <cstdint>
#include <fstream>
#include <sstream>

#include "tests/catch.h"
#include "tests/unit/license_vectors.h"
#include "tests/unit/test_signer.h"

namespace licagent {
namespace {

using testing::TestSigner;

LicensePayload FullPayload(const std::string& key_id = "test-key") {
  LicensePayload p;
  p.license_id = "L-42";
  p.product_id = "acme-cad";
  p.key_id = key_id;
  p.authorization_code = "PL0123456789";
  p.order_id = "CS2611240000";
  p.instance_id = "inst-1";
  p.customer = "ACME GmbH, Müller & Söhne";
  Binding b;
  b.identifier = ParseIdentifier("HW1-52GV-5GYM-WQV0-E619-795N-RVBY-6HB0").value();
  b.policy.threshold_percent = 70;
  b.policy.environment = EnvironmentRule::kExact;
  p.binding = b;
  p.issued_at = ParseTime("2026-11-24T00:00:00Z").value();
  p.not_before = p.issued_at;
  p.expires_at = ParseTime("2027-11-24T00:00:00Z").value();
  p.refresh_by = ParseTime("2026-12-24T00:00:00Z").value();
  p.status = LicenseStatus::kActive;
  p.entitlements.features = {{"export", ""}, {"render", "gpu"}};
  p.entitlements.max_cores = 16;
  p.entitlements.max_sockets = 2;
  p.entitlements.seats = 3;
  p.server_time = p.issued_at + 5;
  p.nonce = "n-0123456789abcdef";
  return p;
}

TEST_CASE("License times are exact RFC 3339 UTC", "[license]") {
  CHECK(FormatTime(0) == "1970-01-01T00:00:00Z");
  CHECK(FormatTime(1795478400) == "2026-11-24T00:00:00Z");
  CHECK(ParseTime("2026-11-24T00:00:00Z").value() == 1795478400);
  CHECK(ParseTime("2024-02-29T23:59:59Z").value() == 1709251199);
  CHECK(FormatTime(253402300799) == "9999-12-31T23:59:59Z");
  for (UnixTime t : {0LL, 951782400LL, 1709251199LL, 4102444800LL, 253402300799LL}) {
    CHECK(ParseTime(FormatTime(t)).value() == t);
  }
  for (const char* bad : {"", "2026-11-24", "2026-11-24T00:00:00", "2026-11-24T00:00:00+00:00",
                          "2026-11-24T00:00:00.5Z", "2026-13-01T00:00:00Z", "2025-02-29T00:00:00Z",
                          "2026-11-24T24:00:00Z", "2026-11-24T00:60:00Z", "1969-12-31T23:59:59Z",
                          "2026-11-24t00:00:00z", "+026-11-24T00:00:00Z", "2026-11-31T00:00:00Z"}) {
    INFO(bad);
    CHECK_FALSE(ParseTime(bad));
  }
}

TEST_CASE("A payload serialises canonically and parses back equal", "[license]") {
  const LicensePayload p = FullPayload();
  const std::string json = SerializePayload(p);
  CHECK(json == SerializePayload(p));
  CHECK(json.find(' ') == json.find("GmbH") - 1);  // no insignificant white space
  auto parsed = ParsePayload(json);
  REQUIRE(parsed);
  CHECK(*parsed == p);

  LicensePayload minimal;
  minimal.license_id = "L-1";
  minimal.product_id = "p";
  minimal.key_id = "k";
  minimal.customer = "c";
  auto round = ParsePayload(SerializePayload(minimal));
  REQUIRE(round);
  CHECK(*round == minimal);
  CHECK_FALSE(round->binding);
  CHECK_FALSE(round->expires_at);
}

TEST_CASE("Payload parsing is strict and names the problem", "[license]") {
  const std::string good = SerializePayload(FullPayload());
  struct Case {
    std::string from, to, reason;
  };
  const std::vector<Case> cases = {
      {"\"format\":1", "\"format\":2", "unsupported license format 2"},
      {"\"format\":1", "\"format\":1,\"extra\":true", "unknown field extra"},
      {"\"format\":1", "\"format\":1,\"format\":1", "duplicate field format"},
      {"\"status\":\"active\"", "\"status\":\"revoked\"", "status must be"},
      {"\"seats\":3", "\"seats\":0", "entitlements.seats must be between"},
      {"\"max_cores\":16", "\"max_cores\":\"16\"", "entitlements.max_cores must be an integer"},
      {"\"customer\":\"ACME GmbH, Müller & Söhne\"", "\"customer\":7", "customer must be a string"},
      {"\"tags\":[\"A1B2\"", "\"tags\":[\"A1B3\"", "disagree with the identifier"},
      {"\"threshold_percent\":70", "\"threshold_percent\":101", "threshold_percent must be"},
      {"\"environment\":\"exact\"", "\"environment\":\"vm-only\"", "environment must be"},
      {"\"expires_at\":\"2027-11-24T00:00:00Z\"", "\"expires_at\":\"2026-11-23T00:00:00Z\"",
       "expires_at must be later"},
      {"\"issued_at\":\"2026-11-24T00:00:00Z\"", "\"issued_at\":\"2026-11-24 00:00:00\"",
       "issued_at"},
      {"\"license_id\":\"L-42\",", "", "missing field license_id"},
      {"HW1-52GV-5GYM-WQV0-E619-795N-RVBY-6HB0", "HW1-52GV-5GYM-WQV0-E619-795N-RVBY-6HB1",
       "checksum mismatch"},
      {"HW1-52GV-5GYM-WQV0-E619-795N-RVBY-6HB0", "hw1-52gv-5gym-wqv0-e619-795n-rvby-6hb0",
       "canonical form"},
      {"\"features\":{", "\"features\":{\"bad name\":\"\",", "invalid feature name"},
  };
  for (const Case& c : cases) {
    INFO(c.from << " -> " << c.to);
    std::string text = good;
    const auto at = text.find(c.from);
    REQUIRE(at != std::string::npos);
    text.replace(at, c.from.size(), c.to);
    auto parsed = ParsePayload(text);
    REQUIRE_FALSE(parsed);
    CHECK(parsed.error().code == ErrorCode::kCorrupt);
    CHECK(parsed.error().message.find(c.reason) != std::string::npos);
  }
  CHECK_FALSE(ParsePayload("[]"));
  CHECK_FALSE(ParsePayload("{"));
  CHECK_FALSE(ParsePayload(good + "x"));
  CHECK_FALSE(ParsePayload(std::string(kMaxLicenseSize + 1, ' ')));
}

TEST_CASE("A signed license verifies and round-trips through its armour", "[license]") {
  const TestSigner signer("test-key");
  const std::string text = signer.Sign(FullPayload());
  auto license = VerifyLicense(text, {signer.Public()});
  REQUIRE(license);
  CHECK(license->payload == FullPayload());
  CHECK(license->armored == text);
  auto envelope = ParseArmoredLicense(text);
  REQUIRE(envelope);
  CHECK(ArmorLicense(*envelope) == text);
}

TEST_CASE("Every single-byte change anywhere in a license file is rejected", "[license]") {
  const TestSigner signer("test-key");
  const std::string text = signer.Sign(FullPayload());
  const std::vector<PublicKey> trusted = {signer.Public()};
  int tried = 0;
  for (std::size_t i = 0; i < text.size(); ++i) {
    for (unsigned char flip : {0x01, 0x20, 0x80, 0xFF}) {
      std::string changed = text;
      changed[i] = static_cast<char>(static_cast<unsigned char>(changed[i]) ^ flip);
      INFO("byte " << i << " xor " << int(flip));
      REQUIRE_FALSE(VerifyLicense(changed, trusted));
      ++tried;
    }
    std::string removed = text;
    removed.erase(i, 1);
    if (i + 1 != text.size()) {  // the final newline is optional
      INFO("byte " << i << " removed");
      REQUIRE_FALSE(VerifyLicense(removed, trusted));
    }
  }
  CHECK(tried == static_cast<int>(text.size()) * 4);
}

TEST_CASE("Truncated, empty, oversize and binary files are rejected cleanly", "[license]") {
  const TestSigner signer("test-key");
  const std::string text = signer.Sign(FullPayload());
  for (std::size_t n = 0; n + 1 < text.size(); ++n) {
    auto r = VerifyLicense(text.substr(0, n), {signer.Public()});
    REQUIRE_FALSE(r);
    CHECK(r.error().code == ErrorCode::kCorrupt);
  }
  CHECK(VerifyLicense("", {signer.Public()}).error().message.find("empty") != std::string::npos);
  std::string huge = text;
  huge.insert(huge.find("\n\n") + 2, std::string(kMaxLicenseSize, 'A'));
  CHECK(VerifyLicense(huge, {signer.Public()}).error().message.find("64 KiB") != std::string::npos);
  std::string binary(4096, '\0');
  for (std::size_t i = 0; i < binary.size(); ++i) binary[i] = static_cast<char>(i * 131 % 256);
  CHECK(VerifyLicense(binary, {signer.Public()}).error().code == ErrorCode::kCorrupt);
  CHECK_FALSE(VerifyLicense(text + text, {signer.Public()}));
  CHECK_FALSE(VerifyLicense(" " + text, {signer.Public()}));
}

TEST_CASE("Windows line endings are accepted only throughout", "[license]") {
  const TestSigner signer("test-key");
  const std::string text = signer.Sign(FullPayload());
  std::string crlf;
  for (char c : text) crlf += c == '\n' ? std::string("\r\n") : std::string(1, c);
  CHECK(VerifyLicense(crlf, {signer.Public()}));
  std::string mixed = crlf;
  mixed.erase(mixed.find("\r\n"), 1);
  CHECK(VerifyLicense(mixed, {signer.Public()}).error().message.find("mixes line endings") !=
        std::string::npos);
}

TEST_CASE("Wrong keys, unknown key ids and key rotation", "[license]") {
  const TestSigner old_key("vendor-1", 1);
  const TestSigner new_key("vendor-2", 2);
  const TestSigner impostor("vendor-1", 3);  // same id, different key
  const std::string old_license = old_key.Sign(FullPayload("vendor-1"));
  const std::string new_license = new_key.Sign(FullPayload("vendor-2"));

  CHECK(VerifyLicense(old_license, {old_key.Public(), new_key.Public()}));
  CHECK(VerifyLicense(new_license, {old_key.Public(), new_key.Public()}));
  auto retired = VerifyLicense(old_license, {new_key.Public()});
  REQUIRE_FALSE(retired);
  CHECK(retired.error().code == ErrorCode::kBadSignature);
  CHECK(retired.error().message.find("'vendor-1'") != std::string::npos);
  auto forged = VerifyLicense(impostor.Sign(FullPayload("vendor-1")), {old_key.Public()});
  REQUIRE_FALSE(forged);
  CHECK(forged.error().code == ErrorCode::kBadSignature);
  CHECK_FALSE(VerifyLicense(old_license, {}));
}

TEST_CASE("A signature whose S is not reduced (S + L) is rejected", "[license]") {
  const TestSigner signer("vendor-1");
  const std::string text = signer.Sign(FullPayload("vendor-1"));
  REQUIRE(VerifyLicense(text, {signer.Public()}));
  auto envelope = ParseArmoredLicense(text);
  REQUIRE(envelope);
  // L, the order of the Ed25519 group, little-endian (RFC 8032 §5.1). S < L < 2^253, so S + L
  // still fits the 32 bytes: the same signature, encoded a second way.
  constexpr std::uint8_t kOrder[32] = {0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58,
                                       0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde, 0x14,
                                       0,    0,    0,    0,    0,    0,    0,    0,
                                       0,    0,    0,    0,    0,    0,    0,    0x10};
  unsigned carry = 0;
  for (std::size_t i = 0; i < 32; ++i) {
    const unsigned sum = envelope->signature[32 + i] + kOrder[i] + carry;
    envelope->signature[32 + i] = static_cast<std::uint8_t>(sum);
    carry = sum >> 8;
  }
  REQUIRE(carry == 0);
  auto verified = VerifyLicense(ArmorLicense(*envelope), {signer.Public()});
  REQUIRE_FALSE(verified);
  CHECK(verified.error().code == ErrorCode::kBadSignature);
}

TEST_CASE("The payload's key id must be the envelope's", "[license]") {
  const TestSigner signer("vendor-1");
  LicensePayload p = FullPayload("vendor-9");
  auto r = VerifyLicense(signer.Sign(p), {signer.Public()});
  REQUIRE_FALSE(r);
  CHECK(r.error().code == ErrorCode::kCorrupt);
  CHECK(r.error().message.find("vendor-9") != std::string::npos);
}

TEST_CASE("Vectors signed by the openssl CLI verify with the agent", "[license][vectors]") {
  const PublicKey k2026 = testing::VectorKey("vendor-2026.pub");
  const PublicKey k2027 = testing::VectorKey("vendor-2027.pub");
  CHECK(FormatPublicKey(k2026) + "\n" == testing::ReadLicenseData("vendor-2026.pub"));

  auto valid = VerifyLicense(testing::ReadLicenseData("valid.lic"), {k2026});
  REQUIRE(valid);
  CHECK(valid->payload.license_id == "L-0001");
  CHECK(valid->payload.binding->identifier.ToString() == "HW1-52GV-5GYM-WQV0-E619-795N-RVBY-6HB0");
  CHECK(valid->payload.expires_at == ParseTime("2027-11-24T00:00:00Z").value());
  CHECK(valid->payload.entitlements.features.at("render") == "gpu");
  // The vendor's bytes are kept exactly: re-serialising gives the same canonical JSON.
  CHECK(SerializePayload(valid->payload) ==
        ParseArmoredLicense(testing::ReadLicenseData("valid.lic"))->payload);

  auto floating = VerifyLicense(testing::ReadLicenseData("floating-perpetual.lic"), {k2026});
  REQUIRE(floating);
  CHECK_FALSE(floating->payload.binding);
  CHECK_FALSE(floating->payload.expires_at);
  CHECK(floating->payload.authorization_code == "PL00000000TEST01");

  CHECK(VerifyLicense(testing::ReadLicenseData("rotated.lic"), {k2026, k2027}));
  CHECK(VerifyLicense(testing::ReadLicenseData("rotated.lic"), {k2026}).error().code ==
        ErrorCode::kBadSignature);
  CHECK(VerifyLicense(testing::ReadLicenseData("wrong-key.lic"), {k2026, k2027}).error().code ==
        ErrorCode::kBadSignature);
  CHECK(VerifyLicense(testing::ReadLicenseData("tampered.lic"), {k2026}).error().code ==
        ErrorCode::kBadSignature);
  CHECK(VerifyLicense(testing::ReadLicenseData("truncated.lic"), {k2026}).error().code ==
        ErrorCode::kCorrupt);
}

TEST_CASE("Public keys are KEY_ID:BASE64 of 32 bytes", "[license]") {
  const TestSigner signer("k.1_a-b");
  const std::string text = FormatPublicKey(signer.Public());
  auto back = ParsePublicKey(text);
  REQUIRE(back);
  CHECK(back->key_id == "k.1_a-b");
  CHECK(back->bytes == signer.Public().bytes);
  for (const char* bad :
       {"", "nokey", ":AAAA", "bad id:aYbo9rO530llXRiJT83XT75pD3LNssb4LzzLjaUeinU=",
        "k:aYbo9rO530llXRiJT83XT75pD3LNssb4LzzLjaUein", "k:AAAA"}) {
    INFO(bad);
    CHECK(ParsePublicKey(bad).error().code == ErrorCode::kInvalidArgument);
  }
}

}  // namespace
}  // namespace licagent
