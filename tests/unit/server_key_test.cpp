// Credential keys, random ids and the rate limiter of licagent-server.
#include <chrono>
#include <set>
#include <string>

#include "server/activation/credential_key.h"
#include "server/activation/rate_limiter.h"
#include "tests/catch.h"

using namespace licagent::server;

TEST_CASE("Credential keys: format, uniqueness and a stable hash", "[server][key]") {
  std::set<std::string> seen;
  for (int i = 0; i < 200; ++i) {
    auto key = NewCredentialKey();
    REQUIRE(key);
    const std::string text(key->view());
    REQUIRE(text.size() == 32);
    CHECK(text.substr(0, 3) == "LK-");
    for (std::size_t g = 0; g < 5; ++g) {
      if (g > 0) CHECK(text[2 + g * 6] == '-');
      for (std::size_t c = 0; c < 5; ++c) {
        const char ch = text[3 + g * 6 + c];
        CHECK(std::string("0123456789ABCDEFGHJKMNPQRSTVWXYZ").find(ch) != std::string::npos);
      }
    }
    CHECK(NormalizeCredentialKey(text) == text);
    seen.insert(text);
  }
  CHECK(seen.size() == 200);
}

TEST_CASE("Credential keys: typing variants normalise to one key and one hash", "[server][key]") {
  const std::string key = "LK-3M7QK-2VD9X-HTC4P-AR8WN-01B2C";
  const auto hash = CredentialKeyHash(key);
  REQUIRE(hash);
  CHECK(hash->size() == 64);
  CHECK(hash->find_first_not_of("0123456789abcdef") == std::string::npos);
  for (const char* variant :
       {"lk-3m7qk-2vd9x-htc4p-ar8wn-01b2c", "LK 3M7QK 2VD9X HTC4P AR8WN 01B2C",
        "LK3M7QK2VD9XHTC4PAR8WN01B2C", "LK-3M7QK-2VD9X-HTC4P-AR8WN-OIB2C",
        "LK-3M7QK-2VD9X-HTC4P-AR8WN-0lB2C", "  LK-3M7QK-2VD9X-HTC4P-AR8WN-01B2C\t"}) {
    CHECK(NormalizeCredentialKey(variant) == key);
    CHECK(CredentialKeyHash(variant) == hash);
  }
  CHECK(CredentialKeyHash("LK-3M7QK-2VD9X-HTC4P-AR8WN-01B2D") != hash);
}

TEST_CASE("Credential keys: anything else is not a key", "[server][key]") {
  for (const char* bad :
       {"", "LK-", "LK-3M7QK-2VD9X-HTC4P-AR8WN-01B2", "LK-3M7QK-2VD9X-HTC4P-AR8WN-01B2CC",
        "XK-3M7QK-2VD9X-HTC4P-AR8WN-01B2C", "LK-3M7QK-2VD9X-HTC4P-AR8WN-01B2U",
        "LK-3M7QK-2VD9X-HTC4P-AR8WN-01B2*", "PL1234567890"}) {
    CHECK_FALSE(NormalizeCredentialKey(bad));
    CHECK_FALSE(CredentialKeyHash(bad));
  }
}

TEST_CASE("Random ids: prefix and lower-case hex", "[server][key]") {
  auto id = RandomId("lic-", 8);
  REQUIRE(id);
  CHECK(id->size() == 20);
  CHECK(id->substr(0, 4) == "lic-");
  CHECK(id->substr(4).find_first_not_of("0123456789abcdef") == std::string::npos);
  CHECK(*RandomId("lic-", 8) != *id);
}

TEST_CASE("Rate limiter: a burst of N, then one token every 60/N seconds", "[server][rate]") {
  RateLimiter limiter(6);  // 6 a minute: one every 10 s
  const auto t0 = RateLimiter::Clock::time_point{} + std::chrono::hours(1);
  for (int i = 0; i < 6; ++i) CHECK(limiter.Take("a", t0) == 0);
  CHECK(limiter.Take("a", t0) == 10);
  CHECK(limiter.Take("b", t0) == 0);  // keys are independent
  CHECK(limiter.Take("a", t0 + std::chrono::seconds(4)) == 6);
  CHECK(limiter.Take("a", t0 + std::chrono::seconds(10)) == 0);
  CHECK(limiter.Take("a", t0 + std::chrono::seconds(10)) > 0);
  // After a long pause the bucket is full again, never more.
  const auto later = t0 + std::chrono::hours(1);
  for (int i = 0; i < 6; ++i) CHECK(limiter.Take("a", later) == 0);
  CHECK(limiter.Take("a", later) > 0);
}

TEST_CASE("Rate limiter: 0 means no limit", "[server][rate]") {
  RateLimiter limiter(0);
  for (int i = 0; i < 1000; ++i) CHECK(limiter.Take("a") == 0);
  CHECK(limiter.size() == 0);
}

TEST_CASE("Rate limiter: the map stays bounded and forgets idle keys first", "[server][rate]") {
  RateLimiter limiter(60, 100);
  const auto t0 = RateLimiter::Clock::time_point{} + std::chrono::hours(1);
  // "busy" has spent its bucket; 200 other keys come later.
  for (int i = 0; i < 60; ++i) (void)limiter.Take("busy", t0);
  REQUIRE(limiter.Take("busy", t0) > 0);
  for (int i = 0; i < 200; ++i) {
    (void)limiter.Take("k" + std::to_string(i), t0 + std::chrono::milliseconds(i));
    CHECK(limiter.size() <= 100);
  }
  // Two minutes on every bucket has refilled: one sweep forgets them all.
  const auto t1 = t0 + std::chrono::minutes(2);
  for (int i = 0; i < 150; ++i) (void)limiter.Take("m" + std::to_string(i), t1);
  CHECK(limiter.size() <= 100);
  CHECK(limiter.size() >= 50);
}
