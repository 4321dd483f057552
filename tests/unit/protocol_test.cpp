// The agent ↔ server protocol (docs/protocol.md) and offline request files
// (docs/license-format.md): round trips, strictness, error mapping.
#include "licagent/protocol.h"

#include <algorithm>
#include <regex>
#include <string>
#include <vector>

#include "tests/catch.h"

namespace licagent::protocol {
namespace {

const std::string kGood =
    R"({"request_format":1,"product_id":"acme-cad","identifier":"HW1-52GV-5GYM-WQV0-E619-795N-RVBY-6HB0","nonce":"n-0123456789abcdef","created_at":"2026-11-24T10:00:00Z"})";

TEST_CASE("An offline request parses", "[protocol][request]") {
  auto r = ParseOfflineRequest(kGood);
  REQUIRE(r);
  CHECK(r->product_id == "acme-cad");
  CHECK(r->identifier.ToString() == "HW1-52GV-5GYM-WQV0-E619-795N-RVBY-6HB0");
  CHECK(r->nonce == "n-0123456789abcdef");
  CHECK(r->created_at == ParseTime("2026-11-24T10:00:00Z").value());
}

TEST_CASE("Offline request parsing is strict and names the problem", "[protocol][request]") {
  struct Case {
    std::string from, to, reason;
  };
  const std::vector<Case> cases = {
      {"\"request_format\":1", "\"request_format\":2", "unsupported request_format"},
      {"\"request_format\":1", "\"request_format\":\"1\"", "unsupported request_format"},
      {"\"request_format\":1,", "", "missing field request_format"},
      {"\"nonce\"", "\"extra\":0,\"nonce\"", "unknown field extra"},
      {"\"nonce\"", "\"nonce\":\"x\",\"nonce\"", "duplicate field nonce"},
      {"\"product_id\":\"acme-cad\",", "", "missing field product_id"},
      {"\"acme-cad\"", "\"\"", "product_id must be 1 to 64"},
      {"\"acme-cad\"", "7", "product_id must be a string"},
      {"6HB0", "6HB1", "identifier"},
      {"HW1-52GV-5GYM-WQV0-E619-795N-RVBY-6HB0", "hw1 52gv 5gym wqv0 e619 795n rvby 6hb0",
       "canonical form"},
      {"2026-11-24T10:00:00Z", "2026-11-24 10:00:00", "created_at"},
      {"{", "[{", "not valid JSON"},
  };
  for (const Case& c : cases) {
    std::string text = kGood;
    const auto at = text.find(c.from);
    REQUIRE(at != std::string::npos);
    text.replace(at, c.from.size(), c.to);
    INFO(text);
    auto r = ParseOfflineRequest(text);
    REQUIRE_FALSE(r);
    CHECK(r.error().code == ErrorCode::kCorrupt);
    CHECK(r.error().message.find(c.reason) != std::string::npos);
  }
  CHECK_FALSE(ParseOfflineRequest("[]"));
  CHECK_FALSE(ParseOfflineRequest(std::string(kMaxOfflineRequestSize + 1, ' ')));
}

TEST_CASE("An offline request round-trips through its serialisation", "[protocol][request]") {
  auto r = ParseOfflineRequest(kGood);
  REQUIRE(r);
  auto again = ParseOfflineRequest(Serialize(*r));
  REQUIRE(again);
  CHECK(*again == *r);
}

// A machine whose NIC slot accepts two tags.
Machine TestMachine() {
  auto id = ParseIdentifier("HW1-52GV-5GYM-WQV0-E619-795N-RVBY-6HB0");
  REQUIRE(id);
  Fingerprint f;
  f.identifier = *id;
  for (int i = 0; i < kSlotCount; ++i) {
    f.slots[i].slot = SlotAt(i);
    f.slots[i].tag = id->tags[i];
    if (id->tags[i] != 0) f.slots[i].candidates = {id->tags[i]};
  }
  const int nic = static_cast<int>(Slot::kNic);
  REQUIRE(id->tags[nic] != 0);
  f.slots[nic].candidates.push_back(static_cast<std::uint16_t>(id->tags[nic] ^ 0x5a5a));
  return MachineOf(f);
}

TEST_CASE("Machine tags carry the candidates, own tag first", "[protocol]") {
  const Machine m = TestMachine();
  const int nic = static_cast<int>(Slot::kNic);
  REQUIRE(m.candidates[nic].size() == 2);
  CHECK(m.candidates[nic][0] == m.identifier.tags[nic]);
  for (int i = 0; i < kSlotCount; ++i) {
    CHECK(m.candidates[i].empty() == (m.identifier.tags[i] == 0));
  }
  const Fingerprint f = FingerprintOf(m);
  CHECK(f.identifier == m.identifier);
  CHECK(Match(m.identifier, f).accepted);
  CHECK(MachineOf(f) == m);
}

TEST_CASE("Nonces are fresh 128-bit hex strings", "[protocol]") {
  auto a = NewNonce();
  auto b = NewNonce();
  REQUIRE(a);
  REQUIRE(b);
  CHECK(ValidNonce(*a));
  CHECK(*a != *b);
  CHECK_FALSE(ValidNonce(""));
  CHECK_FALSE(ValidNonce(std::string(32, 'A')));  // upper case
  CHECK_FALSE(ValidNonce(std::string(31, 'a')));
  CHECK_FALSE(ValidNonce(std::string(33, 'a')));
  CHECK(ValidNonce(std::string(32, 'f')));
}

TEST_CASE("Activate and seat requests round-trip", "[protocol]") {
  ActivateRequest a{"acme-cad", "LK-3M7Q-K2VD-9XHT-C4PA-R8WN", TestMachine(), std::string(32, 'a'),
                    "0.1.0"};
  auto pa = ParseActivateRequest(Serialize(a));
  REQUIRE(pa);
  CHECK(*pa == a);
  SeatRequest s{"acme-cad", "lic-0f3c9a7e51d2b864", TestMachine(), std::string(32, 'b'),
                "1.22.333"};
  auto ps = ParseSeatRequest(Serialize(s));
  REQUIRE(ps);
  CHECK(*ps == s);
  OfflineAnswerRequest o{"LK-1", kGood};
  auto po = ParseOfflineAnswerRequest(Serialize(o));
  REQUIRE(po);
  CHECK(*po == o);
}

TEST_CASE("Requests tolerate unknown fields and fill left-out candidates", "[protocol]") {
  ActivateRequest a{"acme-cad", "LK-1", TestMachine(), std::string(32, 'a'), "0.1.0"};
  std::string body = Serialize(a);
  body.insert(1, R"("from_the_future":{"x":[1,2]},)");
  auto p = ParseActivateRequest(body);
  REQUIRE(p);
  CHECK(*p == a);

  const std::string empty = std::regex_replace(
      Serialize(a), std::regex(R"("candidates":\{[^}]*\})"), R"("candidates":{})");
  auto q = ParseActivateRequest(empty);
  REQUIRE(q);
  for (int i = 0; i < kSlotCount; ++i) {
    CHECK(q->machine.candidates[i].size() == (a.machine.identifier.tags[i] == 0 ? 0u : 1u));
  }
}

TEST_CASE("Request parsing is strict about what it reads", "[protocol]") {
  const Machine m = TestMachine();
  const std::string good =
      Serialize(ActivateRequest{"acme-cad", "LK-1", m, std::string(32, 'a'), "0.1.0"});
  const int nic = static_cast<int>(Slot::kNic);
  const std::string nic_tags =
      "[" + std::to_string(m.candidates[nic][0]) + "," + std::to_string(m.candidates[nic][1]) + "]";
  REQUIRE(good.find(nic_tags) != std::string::npos);
  struct Case {
    std::string from, to, reason;
  };
  const std::vector<Case> cases = {
      {",\"product_id\":\"acme-cad\"", "", "missing field product_id"},
      {"\"credential\":\"LK-1\"", "\"credential\":\"\"", "credential must be 1 to 128"},
      {"\"credential\":\"LK-1\"", "\"credential\":1", "credential must be a string"},
      {std::string(32, 'a'), std::string(32, 'A'), "nonce must be 32 lower-case hex"},
      {std::string(32, 'a'), "abc", "nonce must be 32 lower-case hex"},
      {"\"0.1.0\"", "\"0.1\"", "agent_version must be MAJOR.MINOR.PATCH"},
      {"\"0.1.0\"", "\"0.1.0-rc1\"", "agent_version must be MAJOR.MINOR.PATCH"},
      {"\"environment\":\"", "\"environment\":\"x", "environment disagrees"},
      {nic_tags, "[]", "candidates.nic must be an array of 1 to 16"},
      {nic_tags, "[" + std::to_string(m.candidates[nic][1]) + "]", "own tag"},
      {nic_tags, "[" + std::to_string(m.candidates[nic][0]) + ",0]", "integers from 1 to 65535"},
      {nic_tags, "[" + std::to_string(m.candidates[nic][0]) + ",70000]", "from 1 to 65535"},
      {nic_tags,
       "[" + std::to_string(m.candidates[nic][0]) + "," + std::to_string(m.candidates[nic][0]) +
           "]",
       "repeats a tag"},
      {"\"nic\":", "\"gpu\":", "unknown slot gpu"},
      {"\"product_id\"", "\"nonce\":\"x\",\"product_id\"", "duplicate field nonce"},
      {"{", "[{", "not valid JSON"},
  };
  for (const Case& c : cases) {
    std::string text = good;
    const auto at = text.find(c.from);
    REQUIRE(at != std::string::npos);
    text.replace(at, c.from.size(), c.to);
    INFO(text);
    auto r = ParseActivateRequest(text);
    REQUIRE_FALSE(r);
    CHECK(r.error().code == ErrorCode::kCorrupt);
    CHECK(r.error().message.find(c.reason) != std::string::npos);
  }
  CHECK_FALSE(ParseActivateRequest("[]"));
  CHECK_FALSE(ParseSeatRequest(good));  // no license_id
  std::string big = good;
  big.insert(1, "\"pad\":\"" + std::string(kMaxRequestBody, 'x') + "\",");
  auto r = ParseActivateRequest(big);
  REQUIRE_FALSE(r);
  CHECK(r.error().message.find("larger than") != std::string::npos);
}

TEST_CASE("License answers parse, with optional seat counts", "[protocol]") {
  const LicenseAnswer a{"-----BEGIN LICAGENT LICENSE-----\n...", 2, 1};
  auto p = ParseLicenseAnswer(Serialize(a));
  REQUIRE(p);
  CHECK(*p == a);
  auto bare = ParseLicenseAnswer(R"({"license":"x","new":true})");
  REQUIRE(bare);
  CHECK_FALSE(bare->seats);
  CHECK_FALSE(ParseLicenseAnswer(R"({"seats":1})"));
  CHECK_FALSE(ParseLicenseAnswer(R"({"license":"x","seats":-1})"));
  CHECK_FALSE(ParseLicenseAnswer(R"({"license":7})"));
  CHECK_FALSE(ParseLicenseAnswer("not json"));
  CHECK_FALSE(ParseLicenseAnswer(std::string(kMaxAnswerBody + 1, ' ')));
}

TEST_CASE("Every remote error code has a name, a status and a class", "[protocol]") {
  for (int i = 0; i <= static_cast<int>(RemoteError::kUnavailable); ++i) {
    const auto e = static_cast<RemoteError>(i);
    INFO(ToString(e));
    REQUIRE(ParseRemoteError(ToString(e)) == e);
    const int status = HttpStatus(e);
    CHECK(status >= 400);
    CHECK(IsTransient(e) == (status == 429 || status >= 500));
    auto parsed = ParseErrorAnswer(SerializeError(e, "why"));
    REQUIRE(parsed);
    CHECK(parsed->code == ToString(e));
    CHECK(parsed->message == "why");
  }
  CHECK_FALSE(ParseRemoteError("no_such_code"));
}

TEST_CASE("Error answers become agent errors by code, then by status", "[protocol]") {
  Error seat = ErrorFromAnswer(409, SerializeError(RemoteError::kSeatLimit, "all 2 seats used"));
  CHECK(seat.code == ErrorCode::kRejected);
  CHECK(seat.remote_code == "seat_limit");
  CHECK(seat.message.find("all 2 seats used") != std::string::npos);

  Error busy = ErrorFromAnswer(429, SerializeError(RemoteError::kRateLimited, "slow down"));
  CHECK(busy.code == ErrorCode::kUnavailable);
  CHECK(busy.remote_code == "rate_limited");

  // A code this agent does not know: decided by the HTTP status class.
  CHECK(ErrorFromAnswer(403, R"({"error":{"code":"not_yet_claimed"}})").code ==
        ErrorCode::kRejected);
  CHECK(ErrorFromAnswer(503, R"({"error":{"code":"marketplace_down"}})").code ==
        ErrorCode::kUnavailable);

  // No error body at all (a proxy's HTML page): the server is not usable.
  Error html = ErrorFromAnswer(502, "<html>Bad Gateway</html>");
  CHECK(html.code == ErrorCode::kUnavailable);
  CHECK(html.remote_code.empty());
  CHECK(ErrorFromAnswer(404, "").code == ErrorCode::kUnavailable);

  // Server text is bounded and cannot drive the terminal.
  Error evil = ErrorFromAnswer(
      403, SerializeError(RemoteError::kWrongMachine, "\x1b[2J" + std::string(5000, 'x')));
  CHECK(evil.message.find('\x1b') == std::string::npos);
  CHECK(evil.message.size() < 600);
}

}  // namespace
}  // namespace licagent::protocol
