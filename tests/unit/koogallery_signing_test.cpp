// server/koogallery/signing.h: the §3.1.4 vector byte for byte, vectors of our own (computed
// with the independent tests/koogallery/apisign_reference.py and Python's hmac/hashlib, pasted
// here), the verifier's failure modes, callback signatures, the nonce cache, authToken, Body-Sign.
#include <atomic>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "server/koogallery/signing.h"
#include "tests/catch.h"

namespace licagent::koogallery {
namespace {

using std::chrono::seconds;
using Clock = std::chrono::system_clock;

Clock::time_point At(std::string_view sdk_date) { return ParseSdkDate(sdk_date).value(); }

Clock::time_point AtMs(std::int64_t ms) {
  return Clock::time_point(
      std::chrono::duration_cast<Clock::duration>(std::chrono::milliseconds(ms)));
}

constexpr std::string_view kVector1Url =
    "https://service.region.example.com/v1/77b6a44cba5143ab91d13ab9a8ff44fd/"
    "vpcs?limit=2&marker=13551d6b-755d-4757-b956-536f674975c0";
constexpr std::string_view kVector1Sk = "MFyfvK41ba2giqM7Uio6PznpdUKGpownRZlmVmHc";

ApiSignature SignVector1() {
  ApiSignInput in;
  in.method = "GET";
  in.url = kVector1Url;
  in.headers = {{"Content-Type", "application/json"},
                {"Host", "service.region.example.com"},
                {"X-Sdk-Date", "20191115T033655Z"}};
  in.sdk_date = "20191115T033655Z";
  in.access_key = "AKEXAMPLE";
  in.secret_key = kVector1Sk;
  auto r = SignApiRequest(in);
  REQUIRE(r.has_value());
  return std::move(r).value();
}

TEST_CASE("SDK-HMAC-SHA256 reproduces the reference vector 1 byte for byte", "[koogallery]") {
  const ApiSignature s = SignVector1();
  CHECK(s.canonical_request ==
        "GET\n"
        "/v1/77b6a44cba5143ab91d13ab9a8ff44fd/vpcs/\n"
        "limit=2&marker=13551d6b-755d-4757-b956-536f674975c0\n"
        "content-type:application/json\n"
        "host:service.region.example.com\n"
        "x-sdk-date:20191115T033655Z\n"
        "\n"
        "content-type;host;x-sdk-date\n"
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  CHECK(Sha256Hex(s.canonical_request) ==
        "b25362e603ee30f4f25e7858e8a7160fd36e803bb2dfe206278659d71a9bcd7a");
  CHECK(s.string_to_sign ==
        "SDK-HMAC-SHA256\n20191115T033655Z\n"
        "b25362e603ee30f4f25e7858e8a7160fd36e803bb2dfe206278659d71a9bcd7a");
  CHECK(s.signature == "7be6668032f70418fcc22abc52071e57aff61b84a1d2381bb430d6870f4f6ebe");
  CHECK(s.signed_headers == "content-type;host;x-sdk-date");
  CHECK(s.authorization ==
        "SDK-HMAC-SHA256 Access=AKEXAMPLE, SignedHeaders=content-type;host;x-sdk-date, "
        "Signature=7be6668032f70418fcc22abc52071e57aff61b84a1d2381bb430d6870f4f6ebe");
  CHECK(s.path_and_query ==
        "/v1/77b6a44cba5143ab91d13ab9a8ff44fd/"
        "vpcs?limit=2&marker=13551d6b-755d-4757-b956-536f674975c0");
  auto auth = s.headers.equal_range("AUTHORIZATION");
  REQUIRE(std::distance(auth.first, auth.second) == 1);
  CHECK(auth.first->second == s.authorization);
}

TEST_CASE("SDK-HMAC-SHA256 adds Host and X-Sdk-Date itself", "[koogallery]") {
  ApiSignInput in;
  in.method = "get";  // upper-cased for signing
  in.url = kVector1Url;
  in.headers = {{"content-type", "application/json"}};
  in.sdk_date = "20191115T033655Z";
  in.access_key = "AKEXAMPLE";
  in.secret_key = kVector1Sk;
  auto s = SignApiRequest(in);
  REQUIRE(s.has_value());
  CHECK(s->signature == "7be6668032f70418fcc22abc52071e57aff61b84a1d2381bb430d6870f4f6ebe");
  CHECK(s->headers.find("host")->second == "service.region.example.com");
  CHECK(s->headers.find("x-sdk-date")->second == "20191115T033655Z");
}

// The following vectors were computed by tests/koogallery/apisign_reference.py (Python urllib
// + hashlib + hmac, an implementation independent of this one) and pasted.
TEST_CASE("SDK-HMAC-SHA256: marketplace activate POST with x-stage and a body", "[koogallery]") {
  ApiSignInput in;
  in.method = "POST";
  in.url = "https://mkt.myhuaweicloud.com:443/api/mkp-openapi-public/global/v1/license/activate";
  in.headers = {{"Content-Type", "application/json"}, {"x-stage", "RELEASE"}};
  in.body = R"({"license":"PLXXXXXX"})";
  in.sdk_date = "20240301T120000Z";
  in.access_key = "EXAMPLEAK0123456789";
  in.secret_key = "exampleSecretKey/+=0123456789abcdefghij";
  auto s = SignApiRequest(in);
  REQUIRE(s.has_value());
  CHECK(s->canonical_request ==
        "POST\n/api/mkp-openapi-public/global/v1/license/activate/\n\n"
        "content-type:application/json\nhost:mkt.myhuaweicloud.com\n"
        "x-sdk-date:20240301T120000Z\nx-stage:RELEASE\n\n"
        "content-type;host;x-sdk-date;x-stage\n"
        "3e414c5e8434e4efeb16b0ab2d599390f9d7d358f943193cf068fe17b865ace3");
  CHECK(s->string_to_sign ==
        "SDK-HMAC-SHA256\n20240301T120000Z\n"
        "99b7c2bb2cb773a667973cde0280a90d587b622b22f5d52b2308e5a707db0921");
  CHECK(s->signature == "581a1276a48f2f932e25c20309b5c8266748b4ac1b232269a9b8330259ab8c14");
  CHECK(s->headers.find("host")->second == "mkt.myhuaweicloud.com");  // :443 dropped
}

TEST_CASE("SDK-HMAC-SHA256: query sorting and encodings, trimmed and repeated headers",
          "[koogallery]") {
  ApiSignInput in;
  in.method = "get";
  in.url =
      "https://Example.com:8443/a%20b/c~d/%E4%B8%AD?z=1&A=2&a=3&b=x+y&c=%2F%3D&empty&d=&a=1&"
      "sp=a%20b&tilde=~-._&&u=%e4%b8%ad";
  in.headers = {{"X-Custom", "   spaced value  "}, {"X-Multi", "b"}, {"X-Multi", "a"}};
  in.sdk_date = "20231231T235959Z";
  in.access_key = "AK2";
  in.secret_key = "SK2";
  auto s = SignApiRequest(in);
  REQUIRE(s.has_value());
  CHECK(s->canonical_request ==
        "GET\n/a%20b/c~d/%E4%B8%AD/\n"
        "A=2&a=1&a=3&b=x%20y&c=%2F%3D&d=&empty=&sp=a%20b&tilde=~-._&u=%E4%B8%AD&z=1\n"
        "host:example.com:8443\nx-custom:spaced value\nx-multi:a\nx-multi:b\n"
        "x-sdk-date:20231231T235959Z\n\nhost;x-custom;x-multi;x-sdk-date\n"
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  CHECK(s->signature == "87b2dba21af5709975f7dfd59097cb3c2522d394e4ddfd7eee624eddbd28c717");
  CHECK(s->signed_headers == "host;x-custom;x-multi;x-sdk-date");
}

TEST_CASE("SDK-HMAC-SHA256: http default port, trailing slash kept, mixed-case names, UTF-8 body",
          "[koogallery]") {
  ApiSignInput in;
  in.method = "PUT";
  in.url = "http://10.0.0.1:80/v1/";
  in.headers = {{"CONTENT-type", "application/json;charset=UTF-8"},
                {"X-Sdk-Date", "20200229T000000Z"}};
  in.body = "{\"name\":\"\xe4\xb8\xad\xe6\x96\x87\",\"n\":1}";
  in.sdk_date = "20200229T000000Z";
  in.access_key = "AK3";
  in.secret_key = "SK3";
  auto s = SignApiRequest(in);
  REQUIRE(s.has_value());
  CHECK(s->canonical_request ==
        "PUT\n/v1/\n\ncontent-type:application/json;charset=UTF-8\nhost:10.0.0.1\n"
        "x-sdk-date:20200229T000000Z\n\ncontent-type;host;x-sdk-date\n"
        "6cf30b7e8e1a474204a753f86741680215fdd8334a9594100c5f4f9d4181cc6a");
  CHECK(s->signature == "2174fb7c9cb1deabaf92c1687a2c5cebc153bfc9b5bd6a6e3618639f403043c6");
}

TEST_CASE("SDK-HMAC-SHA256: X-Sdk-Content-Sha256 replaces the body hash", "[koogallery]") {
  ApiSignInput in;
  in.method = "POST";
  in.url = "https://mkt.myhuaweicloud.cn/api/x";
  in.headers = {{"X-Sdk-Content-Sha256", "UNSIGNED-PAYLOAD"}};
  in.body = "ignored body";
  in.sdk_date = "20240101T000000Z";
  in.access_key = "AK4";
  in.secret_key = "SK4";
  auto s = SignApiRequest(in);
  REQUIRE(s.has_value());
  CHECK(s->signature == "897ffa1a2b6fe2e0170dfe658964dd59a3f2cc76022cedc0cfc1ff18302d2ec2");
}

TEST_CASE("Canonical URI and query string edge cases", "[koogallery]") {
  CHECK(CanonicalUri("") == "/");
  CHECK(CanonicalUri("/") == "/");
  CHECK(CanonicalUri("/a/b") == "/a/b/");
  CHECK(CanonicalUri("/a/b/") == "/a/b/");
  CHECK(CanonicalUri("/a b/%7e/+") == "/a%20b/~/%2B/");
  CHECK(CanonicalUri("/100%") == "/100%25/");  // a lone '%' stays a '%'
  CHECK(CanonicalUri("/a%2Fb") == "/a/b/");    // decoded before splitting, as the SDKs do
  CHECK(CanonicalUri("//x") == "//x/");        // empty segments kept
  CHECK(CanonicalQueryString("") == "");
  CHECK(CanonicalQueryString("b=2&a=1") == "a=1&b=2");
  CHECK(CanonicalQueryString("a=%21*'()") == "a=%21%2A%27%28%29");
  CHECK(CanonicalQueryString("x==y") == "x=%3Dy");
  CHECK(CanonicalQueryString("&&") == "");
  CHECK(CanonicalQueryString("k") == "k=");
}

TEST_CASE("SDK date parsing and formatting", "[koogallery]") {
  CHECK(FormatSdkDate(At("20191115T033655Z")) == "20191115T033655Z");
  CHECK(ParseSdkDate("20200229T235959Z").has_value());
  CHECK_FALSE(ParseSdkDate("20190229T000000Z").has_value());
  CHECK_FALSE(ParseSdkDate("20191115T243655Z").has_value());
  CHECK_FALSE(ParseSdkDate("20191115 033655Z").has_value());
  CHECK_FALSE(ParseSdkDate("20191115T033655").has_value());
  CHECK_FALSE(ParseSdkDate("2019111xT033655Z").has_value());
  CHECK_FALSE(ParseSdkDate("10120313T060823Z").has_value());  // fuzzer: ns overflow
  CHECK_FALSE(ParseSdkDate("99991231T235959Z").has_value());
}

TEST_CASE("SignApiRequest refuses unusable input", "[koogallery]") {
  ApiSignInput in;
  in.method = "GET";
  in.url = "https://h/p";
  in.sdk_date = "20191115T033655Z";
  in.access_key = "AK";
  in.secret_key = "SK";
  REQUIRE(SignApiRequest(in).has_value());
  auto bad = [&](auto mutate) {
    ApiSignInput copy = in;
    mutate(copy);
    auto r = SignApiRequest(copy);
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error().code == ErrorCode::kInvalidArgument);
    CHECK(r.error().message.find("SK\n") == std::string::npos);
  };
  bad([](ApiSignInput& c) { c.url = "h/p"; });
  bad([](ApiSignInput& c) { c.url = "ftp://h/p"; });
  bad([](ApiSignInput& c) { c.url = "https://u:p@h/p"; });
  bad([](ApiSignInput& c) { c.url = "https://h/p#frag"; });
  bad([](ApiSignInput& c) { c.url = "https://h/a b"; });
  bad([](ApiSignInput& c) { c.sdk_date = "2019-11-15T03:36:55Z"; });
  bad([](ApiSignInput& c) { c.secret_key = ""; });
  bad([](ApiSignInput& c) { c.access_key = "A K"; });
  bad([](ApiSignInput& c) { c.method = "GE T"; });
  bad([](ApiSignInput& c) { c.headers = {{"X-A", "v\r\nX-Injected: 1"}}; });
  bad([](ApiSignInput& c) { c.headers = {{"X-Sdk-Date", "20191115T033656Z"}}; });
}

// ---------------------------------------------------------------------------------------------

struct Signed {
  ApiSignature sig;
  IncomingApiRequest req;
};

SecretKeyLookup Lookup() {
  return [](std::string_view ak) -> std::optional<std::string> {
    if (ak == "AKEXAMPLE") return std::string(kVector1Sk);
    return std::nullopt;
  };
}

TEST_CASE("VerifyApiRequest accepts what SignApiRequest signs and names each failure",
          "[koogallery]") {
  ApiSignInput in;
  in.method = "POST";
  in.url = "https://mkt.myhuaweicloud.com/api/mkp-openapi-public/global/v1/license/activate?a=1";
  in.headers = {{"Content-Type", "application/json"}};
  in.body = R"({"license":"PL1"})";
  in.sdk_date = "20240301T120000Z";
  in.access_key = "AKEXAMPLE";
  in.secret_key = kVector1Sk;
  auto s = SignApiRequest(in);
  REQUIRE(s.has_value());
  IncomingApiRequest req;
  req.method = "POST";
  req.path = "/api/mkp-openapi-public/global/v1/license/activate";
  req.raw_query = "a=1";
  req.headers = s->headers;
  req.body = in.body;
  const auto now = At("20240301T120000Z");

  SECTION("verified") {
    auto v = VerifyApiRequest(req, Lookup(), now);
    CHECK(v);
    CHECK(v.access_key == "AKEXAMPLE");
    // 15 minutes either way is inside, one second more is not.
    CHECK(VerifyApiRequest(req, Lookup(), now + seconds(900)));
    CHECK(VerifyApiRequest(req, Lookup(), now - seconds(900)));
  }
  SECTION("date outside the window → APIGW.0303") {
    auto v = VerifyApiRequest(req, Lookup(), now + seconds(901));
    CHECK(v.error == ApiAuthError::kDateOutOfWindow);
    CHECK(ApigwErrorCode(v.error) == "APIGW.0303");
    CHECK(ApigwHttpStatus(v.error) == 401);
    ApiVerifyOptions wide;
    wide.clock_window = seconds(3600);
    CHECK(VerifyApiRequest(req, Lookup(), now + seconds(901), wide));
  }
  SECTION("missing Authorization") {
    req.headers.erase("authorization");
    auto v = VerifyApiRequest(req, Lookup(), now);
    CHECK(v.error == ApiAuthError::kMissingAuthorization);
    CHECK(ApigwErrorCode(v.error) == "APIGW.0301");
  }
  SECTION("malformed Authorization") {
    for (const char* bad :
         {"SDK-HMAC-SHA1 Access=AKEXAMPLE, SignedHeaders=host, Signature=00", "SDK-HMAC-SHA256",
          "SDK-HMAC-SHA256 Access=AKEXAMPLE", "SDK-HMAC-SHA256 garbage", "Bearer x"}) {
      req.headers.erase("authorization");
      req.headers.emplace("Authorization", bad);
      CHECK(VerifyApiRequest(req, Lookup(), now).error == ApiAuthError::kMalformedAuthorization);
    }
  }
  SECTION("tolerant Authorization spacing and upper-case hex") {
    std::string tolerant = s->authorization;
    tolerant.replace(tolerant.find(", SignedHeaders"), 2, ",");
    const std::size_t sig = tolerant.find("Signature=") + 10;
    for (std::size_t i = sig; i < tolerant.size(); ++i) {
      if (tolerant[i] >= 'a' && tolerant[i] <= 'f')
        tolerant[i] = static_cast<char>(tolerant[i] - 32);
    }
    req.headers.erase("authorization");
    req.headers.emplace("authorization", tolerant);
    CHECK(VerifyApiRequest(req, Lookup(), now));
  }
  SECTION("unknown AK") {
    auto other = [](std::string_view) -> std::optional<std::string> { return std::nullopt; };
    auto v = VerifyApiRequest(req, other, now);
    CHECK(v.error == ApiAuthError::kUnknownAccessKey);
    CHECK(v.access_key == "AKEXAMPLE");
  }
  SECTION("bad signature: body, path, query, a signed header, the key") {
    IncomingApiRequest t = req;
    t.body = R"({"license":"PL2"})";
    CHECK(VerifyApiRequest(t, Lookup(), now).error == ApiAuthError::kBadSignature);
    t = req;
    t.path = "/api/mkp-openapi-public/global/v2/license/activate";
    CHECK(VerifyApiRequest(t, Lookup(), now).error == ApiAuthError::kBadSignature);
    t = req;
    t.raw_query = "a=2";
    CHECK(VerifyApiRequest(t, Lookup(), now).error == ApiAuthError::kBadSignature);
    t = req;
    t.headers.find("content-type")->second = "text/plain";
    CHECK(VerifyApiRequest(t, Lookup(), now).error == ApiAuthError::kBadSignature);
    auto wrong = [](std::string_view) -> std::optional<std::string> { return "wrong"; };
    CHECK(VerifyApiRequest(req, wrong, now).error == ApiAuthError::kBadSignature);
  }
  SECTION("an unsigned extra header does not matter; the path may lack the trailing slash") {
    req.headers.emplace("User-Agent", "x");
    CHECK(VerifyApiRequest(req, Lookup(), now));
    req.path = "/api/mkp-openapi-public/global/v1/license/activate/";
    CHECK(VerifyApiRequest(req, Lookup(), now));
  }
  SECTION("missing or malformed date") {
    req.headers.erase("x-sdk-date");
    CHECK(VerifyApiRequest(req, Lookup(), now).error == ApiAuthError::kMissingSignedHeader);
    req.headers.emplace("X-Sdk-Date", "2024-03-01T12:00:00Z");
    auto v = VerifyApiRequest(req, Lookup(), now);
    CHECK(v.error == ApiAuthError::kMalformedDate);
    CHECK(ApigwErrorCode(v.error) == "APIGW.0303");
  }
  SECTION("host and x-sdk-date must be signed") {
    std::string auth = s->authorization;
    auth.replace(auth.find("content-type;host;x-sdk-date"), 28, "content-type;x-sdk-date");
    req.headers.erase("authorization");
    req.headers.emplace("Authorization", auth);
    CHECK(VerifyApiRequest(req, Lookup(), now).error == ApiAuthError::kMissingSignedHeader);
  }
  SECTION("X-Sdk-Content-Sha256") {
    ApiSignInput u = in;
    u.headers.emplace("X-Sdk-Content-Sha256", "UNSIGNED-PAYLOAD");
    auto su = SignApiRequest(u);
    REQUIRE(su.has_value());
    IncomingApiRequest t = req;
    t.headers = su->headers;
    CHECK(VerifyApiRequest(t, Lookup(), now).error == ApiAuthError::kUnsignedPayloadRefused);
    ApiVerifyOptions allow;
    allow.allow_unsigned_payload = true;
    CHECK(VerifyApiRequest(t, Lookup(), now, allow));
    // A declared hash must match the body.
    u.headers = {{"Content-Type", "application/json"},
                 {"X-Sdk-Content-Sha256", Sha256Hex("something else")}};
    su = SignApiRequest(u);
    REQUIRE(su.has_value());
    t.headers = su->headers;
    CHECK(VerifyApiRequest(t, Lookup(), now).error == ApiAuthError::kBadSignature);
  }
  SECTION("the gateway's error body") {
    const std::string body = ApigwErrorBody(ApiAuthError::kBadSignature, "req-1");
    CHECK(body.find(R"("error_code":"APIGW.0301")") != std::string::npos);
    CHECK(body.find(R"("request_id":"req-1")") != std::string::npos);
  }
}

TEST_CASE("VerifyApiRequest verifies the reference vector as a gateway", "[koogallery]") {
  const ApiSignature s = SignVector1();
  IncomingApiRequest req;
  req.method = "GET";
  req.path = "/v1/77b6a44cba5143ab91d13ab9a8ff44fd/vpcs";
  req.raw_query = "limit=2&marker=13551d6b-755d-4757-b956-536f674975c0";
  req.headers = s.headers;
  CHECK(VerifyApiRequest(req, Lookup(), At("20191115T034000Z")));
}

// ---------------------------------------------------------------------------------------------

constexpr std::string_view kCallbackKey = "EXAMPLEACCESSKEY0123456789";
constexpr std::string_view kCallbackBody =
    R"({"activity":"refreshLicenseCode","expireTime":"20230523201932","license":"PLXXXXXX",)"
    R"("orderId":"CS2211181819B4LVS","orderLineId":"CS2211181819B4LVS-000001","scene":"RENEWAL",)"
    R"("testFlag":"1"})";
constexpr std::string_view kCallbackNonce =
    "50D83FDECAED6CCD8EF597F2A577950527928BA287D04E6036E92B2806FD17DA";
constexpr std::string_view kCallbackSig =
    "2c1461d64e5b36489641abb96b4c5648de8954270e506e300af514d60cfc9f98";

TEST_CASE("Callback signature reproduces the reference's illustrative computation",
          "[koogallery]") {
  CHECK(HmacSha256Hex(kCallbackKey, kCallbackBody) ==
        "a5048ecddc0f9b44046ea1d61bedb065f8b72503fce4499a7ca109bfb2ee7ad5");
  CHECK(CallbackSignature(kCallbackKey, kCallbackNonce, "1680508066618", kCallbackBody) ==
        kCallbackSig);
  CHECK(CallbackQuery(kCallbackKey, kCallbackNonce, "1680508066618", kCallbackBody) ==
        "signature=" + std::string(kCallbackSig) +
            "&timestamp=1680508066618&nonce=" + std::string(kCallbackNonce));
}

TEST_CASE("VerifyCallback: window, case, re-serialised body, replay", "[koogallery]") {
  CallbackRequest req{kCallbackSig, "1680508066618", kCallbackNonce, kCallbackBody};
  const auto now = AtMs(1680508066618);
  CHECK(VerifyCallback(kCallbackKey, req, now));
  CHECK(VerifyCallback(kCallbackKey, req, now + seconds(60)));
  CHECK(VerifyCallback(kCallbackKey, req, now - seconds(60)));
  CHECK(VerifyCallback(kCallbackKey, req, now + seconds(61)).error ==
        CallbackAuthError::kTimestampOutOfWindow);
  CHECK(VerifyCallback(kCallbackKey, req, now - seconds(61)).error ==
        CallbackAuthError::kTimestampOutOfWindow);
  CallbackVerifyOptions wide;
  wide.window = std::chrono::minutes(5);
  CHECK(VerifyCallback(kCallbackKey, req, now + seconds(61), wide));

  SECTION("upper-case hex accepted") {
    std::string upper(kCallbackSig);
    for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    CallbackRequest u = req;
    u.signature = upper;
    CHECK(VerifyCallback(kCallbackKey, u, now));
  }
  SECTION("bad signature: key, body, nonce, timestamp") {
    CHECK(VerifyCallback("OTHERKEY", req, now).error == CallbackAuthError::kBadSignature);
    CallbackRequest t = req;
    t.body = R"({"activity":"refreshLicenseCode"})";
    CHECK(VerifyCallback(kCallbackKey, t, now).error == CallbackAuthError::kBadSignature);
    t = req;
    t.nonce = "other";
    CHECK(VerifyCallback(kCallbackKey, t, now).error == CallbackAuthError::kBadSignature);
    t = req;
    t.timestamp = "1680508066619";
    CHECK(VerifyCallback(kCallbackKey, t, now).error == CallbackAuthError::kBadSignature);
  }
  SECTION("missing and malformed parameters") {
    CallbackRequest t = req;
    t.nonce = "";
    CHECK(VerifyCallback(kCallbackKey, t, now).error == CallbackAuthError::kMissingParameter);
    t = req;
    t.signature = "";
    CHECK(VerifyCallback(kCallbackKey, t, now).error == CallbackAuthError::kMissingParameter);
    for (const char* ts : {"-1680508066618", "1680508066618.0", "abc", "+1680508066618",
                           "99999999999999999999999"}) {
      t = req;
      t.timestamp = ts;
      CHECK(VerifyCallback(kCallbackKey, t, now).error == CallbackAuthError::kMalformedTimestamp);
    }
  }
  SECTION("seconds timestamps: accepted by kAuto and kSeconds, refused by kMilliseconds") {
    const std::string sig = CallbackSignature(kCallbackKey, "n1", "1680508066", kCallbackBody);
    CallbackRequest t{sig, "1680508066", "n1", kCallbackBody};
    CHECK(VerifyCallback(kCallbackKey, t, now));
    CallbackVerifyOptions ms;
    ms.timestamp_unit = TimestampUnit::kMilliseconds;
    CHECK(VerifyCallback(kCallbackKey, t, now, ms).error ==
          CallbackAuthError::kTimestampOutOfWindow);
  }
  SECTION("a body signed in its key-sorted, null-free form (Java sample)") {
    // Python: bodyMac over the canonical form, then the outer HMAC (pasted).
    const std::string_view body =
        R"({ "testFlag":"1", "license":"PLXXXXXX", "activity":"updateLicenseCodeStatus", )"
        R"("status":"FREEZE", "extra":null })";
    CHECK(ResortedJson(body).value() ==
          R"({"activity":"updateLicenseCodeStatus","license":"PLXXXXXX","status":"FREEZE",)"
          R"("testFlag":"1"})");
    CallbackRequest t{"b368b62a20255bb5c92d964014166f05fc066637bb04a9ce4605cad887fb161e",
                      "1700000000000", "abcdefABCDEF0123", body};
    auto v = VerifyCallback(kCallbackKey, t, AtMs(1700000000000));
    CHECK(v);
    CHECK(v.matched_resorted_body);
    CallbackVerifyOptions strict;
    strict.accept_resorted_body = false;
    CHECK(VerifyCallback(kCallbackKey, t, AtMs(1700000000000), strict).error ==
          CallbackAuthError::kBadSignature);
  }
  SECTION("replayed nonce refused, and only after the signature is checked") {
    NonceCache cache;
    CallbackRequest forged = req;
    forged.signature = "00";
    CHECK(VerifyCallback(kCallbackKey, forged, now, {}, &cache).error ==
          CallbackAuthError::kBadSignature);
    CHECK(cache.size() == 0);
    CHECK(VerifyCallback(kCallbackKey, req, now, {}, &cache));
    CHECK(VerifyCallback(kCallbackKey, req, now + seconds(1), {}, &cache).error ==
          CallbackAuthError::kReplayedNonce);
  }
}

TEST_CASE("NonceCache expires entries and bounds its memory", "[koogallery]") {
  const auto t0 = AtMs(1'700'000'000'000);
  NonceCache cache(std::chrono::milliseconds(120'000), 3);
  CHECK(cache.Insert("a", t0));
  CHECK_FALSE(cache.Insert("a", t0 + seconds(119)));
  CHECK(cache.Insert("a", t0 + seconds(120)));  // expired, so accepted again
  CHECK(cache.Insert("b", t0 + seconds(121)));
  CHECK(cache.Insert("c", t0 + seconds(122)));
  CHECK(cache.size() == 3);
  CHECK(cache.evictions() == 0);
  CHECK(cache.Insert("d", t0 + seconds(123)));  // full: the oldest ("a") goes
  CHECK(cache.size() == 3);
  CHECK(cache.evictions() == 1);
  CHECK_FALSE(cache.Insert("b", t0 + seconds(124)));
  CHECK(cache.Insert("e", t0 + seconds(500)));  // everything else expired first
  CHECK(cache.size() == 1);
  CHECK(cache.evictions() == 1);
}

TEST_CASE("NonceCache is safe under concurrent inserts", "[koogallery]") {
  NonceCache cache(std::chrono::milliseconds(120'000), 100'000);
  const auto t0 = AtMs(1'700'000'000'000);
  std::atomic<int> accepted{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 2000; ++i) {
        if (cache.Insert("nonce-" + std::to_string(i), t0)) ++accepted;
      }
    });
  }
  for (auto& th : threads) th.join();
  CHECK(accepted.load() == 2000);  // each nonce exactly once
  CHECK(cache.size() == 2000);
}

// ---------------------------------------------------------------------------------------------

TEST_CASE("Legacy authToken reproduces the reference's illustrative computation", "[koogallery]") {
  const QueryParams params = {{"activity", "getLicense"},
                              {"customerId", "c1"},
                              {"businessId", "b1"},
                              {"orderId", "CS1"},
                              {"productId", "P1"},
                              {"testFlag", "1"},
                              {"timeStamp", "20170725025113409"}};
  const std::string token = LegacyAuthToken("EXAMPLEKEY", params);
  CHECK(token == "Gkoo6/GOKJTBEeaaD3zHdjRJRQ2BkSdXLwYo4Q/Fk78=");
  QueryParams with_token = params;
  with_token.emplace_back("authToken", token);
  const auto now = At("20170725T025113Z");
  CHECK(VerifyLegacyAuthToken("EXAMPLEKEY", with_token, now) == LegacyAuthError::kNone);
  CHECK(VerifyLegacyAuthToken("OTHER", with_token, now) == LegacyAuthError::kBadToken);
  with_token.back().second = "Gkoo6/GOKJTBEeaaD3zHdjRJRQ2BkSdXLwYo4Q/Fk78";
  CHECK(VerifyLegacyAuthToken("EXAMPLEKEY", with_token, now) == LegacyAuthError::kBadToken);
}

TEST_CASE("Legacy authToken over a URL-encoded query, blank values either way, window",
          "[koogallery]") {
  // Python: Base64(HMAC("K2" + "20240101120000123", joined)), pasted.
  const std::string raw =
      "timeStamp=20240101120000123&instanceId=i1&email=a+b%2Bc%40x.cn&note=&activity=refreshLicense"
      "&authToken=KBlYh86L6tOUvImMvHHfm%2BRiSZuaJoB0LVxHSKOsUMc%3D";
  const QueryParams params = ParseQueryString(raw);
  REQUIRE(params.size() == 6);
  CHECK(params[2].second == "a b+c@x.cn");
  const auto now = At("20240101T120000Z");
  CHECK(VerifyLegacyAuthToken("K2", params, now) == LegacyAuthError::kNone);
  CHECK(LegacyAuthToken("K2", params, true) == "61T+ABAVTKj4iFgLpmdz9CQxeU6E6i7wkuniEcBL8Mg=");
  QueryParams skipped = params;
  skipped.back().second = "61T+ABAVTKj4iFgLpmdz9CQxeU6E6i7wkuniEcBL8Mg=";
  CHECK(VerifyLegacyAuthToken("K2", skipped, now) == LegacyAuthError::kNone);

  LegacyVerifyOptions windowed;
  windowed.window = seconds(300);
  CHECK(VerifyLegacyAuthToken("K2", params, now + seconds(300), windowed) ==
        LegacyAuthError::kNone);
  CHECK(VerifyLegacyAuthToken("K2", params, now + seconds(302), windowed) ==
        LegacyAuthError::kTimestampOutOfWindow);
  CHECK(VerifyLegacyAuthToken("K2", params, now + std::chrono::hours(24)) ==
        LegacyAuthError::kNone);  // no window by default

  CHECK(VerifyLegacyAuthToken("K2", ParseQueryString("timeStamp=1"), now) ==
        LegacyAuthError::kMissingToken);
  CHECK(VerifyLegacyAuthToken("K2", ParseQueryString("authToken=x"), now) ==
        LegacyAuthError::kMissingTimestamp);
  CHECK(VerifyLegacyAuthToken("K2", ParseQueryString("authToken=x&timeStamp=2024"), now,
                              windowed) == LegacyAuthError::kMalformedTimestamp);
}

TEST_CASE("Body-Sign reproduces the reference's illustrative computation", "[koogallery]") {
  const std::string_view body =
      R"({"resultCode":"000000","resultMsg":"success.","instanceId":"b1","license":"LICENSE-STRING"})";
  CHECK(BodySignature("EXAMPLEKEY", body) == "0SHQrPcgBv/XmclA027FIIfON5CkzQMTU7uC+zvi9Lo=");
  const std::string header = BodySignHeaderValue("EXAMPLEKEY", body);
  CHECK(header ==
        R"(sign_type="HMAC-SHA256", signature= "0SHQrPcgBv/XmclA027FIIfON5CkzQMTU7uC+zvi9Lo=")");
  CHECK(VerifyBodySignHeader("EXAMPLEKEY", header, body));
  CHECK(VerifyBodySignHeader(
      "EXAMPLEKEY",
      R"(sign_type="HMAC-SHA256",signature="0SHQrPcgBv/XmclA027FIIfON5CkzQMTU7uC+zvi9Lo=")", body));
  CHECK_FALSE(VerifyBodySignHeader("EXAMPLEKEY", header, std::string(body) + " "));
  CHECK_FALSE(VerifyBodySignHeader("OTHER", header, body));
  CHECK_FALSE(VerifyBodySignHeader(
      "EXAMPLEKEY",
      R"(sign_type="HMAC-SHA1", signature= "0SHQrPcgBv/XmclA027FIIfON5CkzQMTU7uC+zvi9Lo=")", body));
}

TEST_CASE("Primitives", "[koogallery]") {
  CHECK(Sha256Hex("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  // RFC 4231 test case 2.
  CHECK(HmacSha256Hex("Jefe", "what do ya want for nothing?") ==
        "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
  CHECK(ConstantTimeEquals("abc", "abc"));
  CHECK_FALSE(ConstantTimeEquals("abc", "abd"));
  CHECK_FALSE(ConstantTimeEquals("abc", "ab"));
  CHECK(ConstantTimeEquals("", ""));
}

}  // namespace
}  // namespace licagent::koogallery
