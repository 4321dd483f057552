// The HW1 text form: vectors from an independent implementation (Python, docs/identity.md),
// typo detection and tolerant input.
#include <set>
#include <string>

#include "agent/identity_internal.h"
#include "licagent/identity.h"
#include "tests/catch.h"

namespace licagent {
namespace {

constexpr std::string_view kAlphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

Identifier Make(OsFamily os, Environment env, std::array<std::uint16_t, kSlotCount> tags) {
  Identifier id;
  id.os = os;
  id.environment = env;
  id.tags = tags;
  return id;
}

// Positions of the 28 data characters inside "HW1-XXXX-...".
std::vector<std::size_t> DataPositions(const std::string& text) {
  std::vector<std::size_t> pos;
  for (std::size_t i = 4; i < text.size(); ++i) {
    if (text[i] != '-') pos.push_back(i);
  }
  return pos;
}

TEST_CASE("CRC-16/CCITT-FALSE has the catalogue check value", "[identifier]") {
  const std::string check = "123456789";
  CHECK(Crc16CcittFalse(reinterpret_cast<const std::uint8_t*>(check.data()), check.size()) ==
        0x29B1);
}

TEST_CASE("Identifiers encode to the independent reference vectors", "[identifier]") {
  CHECK(Make(OsFamily::kLinux, Environment::kContainer, {0, 0, 0x1234, 0xBEEF, 0x0001, 0, 0xFFFF})
            .ToString() == "HW1-4800-0000-28TB-XVR0-0400-1ZZZ-QKKG");
  CHECK(Make(OsFamily::kWindows, Environment::kBareMetal,
             {0xA1B2, 0xC3D4, 0xE5F6, 0x0718, 0x293A, 0x4B5C, 0x6D7E})
            .ToString() == "HW1-52GV-5GYM-WQV0-E619-795N-RVBY-6HB0");
  CHECK(Make(OsFamily::kMacos, Environment::kCloudVm, {1, 2, 3, 4, 5, 6, 7}).ToString() ==
        "HW1-6C00-2002-001G-0100-0M00-C007-JRX0");
}

TEST_CASE("Identifiers round-trip through text", "[identifier]") {
  const Identifier id =
      Make(OsFamily::kLinux, Environment::kVmContainer, {0, 0, 0xA82A, 0, 0xF7A4, 0x1CC9, 0x8F5B});
  auto parsed = ParseIdentifier(id.ToString());
  REQUIRE(parsed);
  CHECK(*parsed == id);
  CHECK(parsed->PresentSlots() == 4);
  CHECK(parsed->PresentHardwareSlots() == 1);
}

TEST_CASE("Input is case-insensitive and tolerant of spaces, dashes and confusables",
          "[identifier]") {
  const std::string text = "HW1-52GV-5GYM-WQV0-E619-795N-RVBY-6HB0";
  const Identifier expected = ParseIdentifier(text).value();
  for (const std::string variant :
       {"hw1-52gv-5gym-wqv0-e619-795n-rvby-6hb0", "HW152GV5GYMWQV0E619795NRVBY6HB0",
        "  HW1 52GV 5GYM WQV0 E619 795N RVBY 6HB0\n", "HW1-52GV-5GYM-WQVO-E6I9-795N-RVBY-6HBO",
        "hw1--52gv-5gym-wqv0-e6l9-795n-rvby-6hb0"}) {
    INFO(variant);
    auto parsed = ParseIdentifier(variant);
    REQUIRE(parsed);
    CHECK(*parsed == expected);
  }
}

TEST_CASE("Every single-character substitution is detected", "[identifier]") {
  const std::string text = "HW1-52GV-5GYM-WQV0-E619-795N-RVBY-6HB0";
  int tried = 0;
  for (std::size_t pos : DataPositions(text)) {
    for (char c : kAlphabet) {
      if (c == text[pos]) continue;
      std::string typo = text;
      typo[pos] = c;
      INFO(typo);
      auto parsed = ParseIdentifier(typo);
      REQUIRE_FALSE(parsed);
      CHECK(parsed.error().code == ErrorCode::kMalformedIdentifier);
      ++tried;
    }
  }
  CHECK(tried == 28 * 31);
}

TEST_CASE("Every adjacent transposition is detected", "[identifier]") {
  for (const std::string text :
       {"HW1-52GV-5GYM-WQV0-E619-795N-RVBY-6HB0", "HW1-4800-0000-28TB-XVR0-0400-1ZZZ-QKKG"}) {
    std::string compact = text.substr(4);
    std::erase(compact, '-');
    for (std::size_t i = 0; i + 1 < compact.size(); ++i) {
      if (compact[i] == compact[i + 1]) continue;
      std::string swapped = compact;
      std::swap(swapped[i], swapped[i + 1]);
      INFO(swapped);
      CHECK_FALSE(ParseIdentifier("HW1" + swapped));
    }
  }
}

TEST_CASE("Malformed identifiers are rejected with a reason naming the problem", "[identifier]") {
  struct Case {
    std::string text;
    std::string reason;
  };
  const std::vector<Case> cases = {
      {"", "empty"},
      {"XY1-52GV-5GYM-WQV0-E619-795N-RVBY-6HB0", "must start with HW"},
      {"HW2-52GV-5GYM-WQV0-E619-795N-RVBY-6HB0", "unknown identifier version 2"},
      {"HW1-52GV-5GYM-WQV0-E619-795N-RVBY-6HB", "wrong length: 27"},
      {"HW1-52GV-5GYM-WQV0-E619-795N-RVBY-6HB00", "wrong length: 29"},
      {"HW1-52GV-5GYM-WQU0-E619-795N-RVBY-6HB0", "invalid character 'U' in group 3"},
      {"HW1-52GV-5GYM-WQV0-E619-795N-RVBY-6H*0", "invalid character '*' in group 7"},
      {"HW1-52GV-5GYM-WQV0-E619-795N-RVBY-6HB1", "checksum mismatch"},
      {"HW1-53GV-5GYM-WQV0-E619-795N-RVBY-6HB0", "checksum mismatch"},
  };
  for (const Case& c : cases) {
    INFO(c.text);
    auto parsed = ParseIdentifier(c.text);
    REQUIRE_FALSE(parsed);
    CHECK(parsed.error().code == ErrorCode::kMalformedIdentifier);
    CHECK(parsed.error().message.find(c.reason) != std::string::npos);
  }
}

TEST_CASE("A reserved environment class in a well-formed header is rejected", "[identifier]") {
  Identifier id = Make(OsFamily::kLinux, Environment::kBareMetal, {1, 2, 3, 4, 5, 6, 7});
  id.environment = static_cast<Environment>(5);
  auto parsed = ParseIdentifier(id.ToString());
  REQUIRE_FALSE(parsed);
  CHECK(parsed.error().message.find("unknown environment class 5") != std::string::npos);
}

TEST_CASE("The header carries version, platform and environment", "[identifier]") {
  std::set<std::string> seen;
  for (OsFamily os : {OsFamily::kLinux, OsFamily::kWindows, OsFamily::kMacos, OsFamily::kOther}) {
    for (Environment env :
         {Environment::kBareMetal, Environment::kVm, Environment::kContainer, Environment::kCloudVm,
          Environment::kVmContainer, Environment::kUnknown}) {
      const Identifier id = Make(os, env, {9, 8, 7, 6, 5, 4, 3});
      const std::string text = id.ToString();
      seen.insert(text);
      auto parsed = ParseIdentifier(text);
      REQUIRE(parsed);
      CHECK(parsed->os == os);
      CHECK(parsed->environment == env);
      CHECK(parsed->version == 1);
    }
  }
  CHECK(seen.size() == 24);
}

}  // namespace
}  // namespace licagent
