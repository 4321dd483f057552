// Offline request files as licagent-vendor reads them (docs/license-format.md).
#include <string>
#include <vector>

#include "server/vendor/request.h"
#include "tests/catch.h"

namespace licagent::vendor {
namespace {

const std::string kGood =
    R"({"request_format":1,"product_id":"acme-cad","identifier":"HW1-52GV-5GYM-WQV0-E619-795N-RVBY-6HB0","nonce":"n-0123456789abcdef","created_at":"2026-11-24T10:00:00Z"})";

TEST_CASE("An offline request parses", "[vendor][request]") {
  auto r = ParseOfflineRequest(kGood);
  REQUIRE(r);
  CHECK(r->product_id == "acme-cad");
  CHECK(r->identifier.ToString() == "HW1-52GV-5GYM-WQV0-E619-795N-RVBY-6HB0");
  CHECK(r->nonce == "n-0123456789abcdef");
  CHECK(r->created_at == ParseTime("2026-11-24T10:00:00Z").value());
}

TEST_CASE("Offline request parsing is strict and names the problem", "[vendor][request]") {
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
  CHECK_FALSE(ParseOfflineRequest(std::string(kMaxRequestSize + 1, ' ')));
}

}  // namespace
}  // namespace licagent::vendor
