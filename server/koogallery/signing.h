// The signing schemes of Huawei Cloud KooGallery (docs/koogallery.md, the protocol note
// reference/koogallery.md §3):
//  - SDK-HMAC-SHA256, the API Gateway AK/SK signature on calls to the marketplace open API
//    (signer for the vendor server, verifier for the marketplace simulator);
//  - the signature/timestamp/nonce URL parameters the marketplace puts on its License 2.0 and
//    online-license callbacks (signer for the simulator, verifier for the vendor server), with
//    a nonce replay cache;
//  - the legacy authToken of GET callbacks and the Body-Sign response header.
// All hashing is OpenSSL (EVP); all signature comparisons are constant-time (CRYPTO_memcmp).
// Nothing here logs: keys and signatures never leave the values the caller asked for.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_set>
#include <utility>
#include <vector>

#include "licagent/result.h"

namespace licagent::koogallery {

// ---------------------------------------------------------------------------------------------
// Primitives (lower-case hex, standard Base64 with padding).

std::string Sha256Hex(std::string_view data);
std::string HmacSha256Hex(std::string_view key, std::string_view data);
std::string HmacSha256Base64(std::string_view key, std::string_view data);
// Constant-time for equal lengths (CRYPTO_memcmp); different lengths are unequal at once (the
// length of a hex signature is public).
bool ConstantTimeEquals(std::string_view a, std::string_view b);

// ---------------------------------------------------------------------------------------------
// SDK-HMAC-SHA256 (reference §3.1).

// Orders header names case-insensitively (ASCII), so Headers finds "host" under "Host".
struct CaseInsensitiveLess {
  using is_transparent = void;
  bool operator()(std::string_view a, std::string_view b) const noexcept;
};
// HTTP headers: names compare case-insensitively, a name may repeat.
using Headers = std::multimap<std::string, std::string, CaseInsensitiveLess>;

inline constexpr std::string_view kSdkAlgorithm = "SDK-HMAC-SHA256";
inline constexpr std::string_view kSdkDateHeader = "X-Sdk-Date";
// Optional pre-computed body hash (Huawei's SDKs); "UNSIGNED-PAYLOAD" skips body hashing.
inline constexpr std::string_view kSdkContentSha256Header = "X-Sdk-Content-Sha256";
inline constexpr std::string_view kUnsignedPayload = "UNSIGNED-PAYLOAD";

// CanonicalURI: the path is percent-decoded, split on '/', every segment re-encoded (RFC 3986
// unreserved A-Z a-z 0-9 - _ . ~ kept, every other byte %XY upper-case) and a '/' appended when
// the result does not end in one. An empty path is "/". A '%' not followed by two hex digits is
// kept as a literal '%' (and so encoded %25), as Python's unquote does.
std::string CanonicalUri(std::string_view raw_path);

// CanonicalQueryString: "a=1&b=&c=x%20y". Parameters are split on '&' (empty pieces skipped),
// names and values percent-decoded ('+' is a space, as the Python and Go SDKs parse queries),
// sorted by decoded name bytes and then by decoded value bytes for a repeated name, re-encoded
// as in CanonicalUri and joined. A parameter without '=' becomes "name=". "" for no query.
std::string CanonicalQueryString(std::string_view raw_query);

// True when `date` is exactly yyyyMMdd'T'HHmmss'Z' and a real UTC instant.
std::optional<std::chrono::system_clock::time_point> ParseSdkDate(std::string_view date);
// `t` formatted as yyyyMMdd'T'HHmmss'Z' (UTC, seconds truncated).
std::string FormatSdkDate(std::chrono::system_clock::time_point t);

// What to sign. `url` is absolute: scheme://host[:port]/path[?query] (https or http; no
// userinfo, no fragment). `headers` are the request headers to send and sign; Host and
// X-Sdk-Date are added when absent (Host = the URL's host[:port], the default port of the
// scheme omitted; X-Sdk-Date = `sdk_date`). An Authorization header, if given, is ignored.
struct ApiSignInput {
  std::string_view method;  // upper-cased for signing
  std::string_view url;
  Headers headers;
  std::string_view body;
  std::string_view sdk_date;  // yyyyMMdd'T'HHmmss'Z'
  std::string_view access_key;
  std::string_view secret_key;
};

// Everything the signature is made of, for sending the request and for showing a vendor why a
// gateway said APIGW.0301. Holds the signature but never the secret key.
struct ApiSignature {
  std::string canonical_request;
  std::string string_to_sign;
  std::string signature;       // lower-case hex HMAC-SHA256(SK, string_to_sign)
  std::string signed_headers;  // "content-type;host;x-sdk-date"
  std::string authorization;   // the Authorization header value
  Headers headers;             // the headers to send (input + Host + X-Sdk-Date + Authorization)
  std::string path_and_query;  // the request target to send, as given in the URL
};

// Signs a request. Signed headers are every header of `input.headers` (plus Host and
// X-Sdk-Date), lower-cased, de-duplicated and sorted; a repeated header contributes one line per
// value, values sorted (as Huawei's Go SDK). The body hash is the value of an
// X-Sdk-Content-Sha256 header when one is given (as the SDKs do), else SHA-256 of the body.
// Errors: kInvalidArgument for a malformed URL or date, an empty method, AK or SK, an
// X-Sdk-Date header that differs from `sdk_date`, or a header name/value with CR/LF.
Result<ApiSignature> SignApiRequest(const ApiSignInput& input);

// Why the gateway refused a request. kNone means verified.
enum class ApiAuthError {
  kNone,
  kMissingAuthorization,    // no Authorization header
  kMalformedAuthorization,  // not "SDK-HMAC-SHA256 Access=…, SignedHeaders=…, Signature=…"
  kMissingSignedHeader,     // host or x-sdk-date not signed, or a signed header not sent
  kMissingDate,             // no X-Sdk-Date header
  kMalformedDate,           // X-Sdk-Date not yyyyMMdd'T'HHmmss'Z'
  kDateOutOfWindow,         // X-Sdk-Date more than the window away from now
  kUnknownAccessKey,        // the lookup does not know the AK
  kUnsignedPayloadRefused,  // X-Sdk-Content-Sha256: UNSIGNED-PAYLOAD and not allowed
  kBadSignature,            // signature (or declared body hash) does not match
};
// Stable lower-case name ("bad_signature").
const char* ToString(ApiAuthError error) noexcept;
// The gateway code the marketplace answers with: "APIGW.0303" for kMalformedDate and
// kDateOutOfWindow (the FAQ's cause of 0303), "APIGW.0301" (incorrect IAM authentication
// information) for every other failure, "" for kNone. HTTP status 401 for all failures.
std::string_view ApigwErrorCode(ApiAuthError error) noexcept;
int ApigwHttpStatus(ApiAuthError error) noexcept;
// {"error_msg":"…","error_code":"APIGW.0301","request_id":"…"} as the gateway sends it.
std::string ApigwErrorBody(ApiAuthError error, std::string_view request_id);

// A request as the server received it.
struct IncomingApiRequest {
  std::string_view method;
  std::string_view path;       // raw request path, percent-encoding as sent
  std::string_view raw_query;  // after '?', "" when none
  Headers headers;
  std::string_view body;
};

struct ApiVerifyOptions {
  std::chrono::seconds clock_window{15 * 60};  // the marketplace gateway: 15 minutes
  bool allow_unsigned_payload = false;         // accept X-Sdk-Content-Sha256: UNSIGNED-PAYLOAD
};

struct ApiAuthOutcome {
  ApiAuthError error = ApiAuthError::kNone;
  std::string access_key;  // the AK the request claimed (public), "" when unparsable
  std::string detail;      // for logs; never holds the SK or the expected signature
  explicit operator bool() const noexcept { return error == ApiAuthError::kNone; }
};

// Returns the SK for an AK, or nullopt for an unknown AK.
using SecretKeyLookup = std::function<std::optional<std::string>(std::string_view access_key)>;

// Verifies an SDK-HMAC-SHA256 request the way the gateway does: the header list comes from
// SignedHeaders (in its given order, which must include host and x-sdk-date), the date must be
// within options.clock_window of `now`, the signature is compared in constant time
// (case-insensitively). Never throws; thread-safe if `lookup` is.
ApiAuthOutcome VerifyApiRequest(const IncomingApiRequest& request, const SecretKeyLookup& lookup,
                                std::chrono::system_clock::time_point now,
                                const ApiVerifyOptions& options = {});

// ---------------------------------------------------------------------------------------------
// Marketplace → merchant callbacks: signature / timestamp / nonce (reference §3.2, §15).

// bodyMac = hex(HMAC(accessKey, body)); signature = hex(HMAC(accessKey, accessKey + nonce +
// timestamp + bodyMac)), both lower-case. `timestamp` is the exact decimal string sent.
std::string CallbackSignature(std::string_view access_key, std::string_view nonce,
                              std::string_view timestamp, std::string_view body);

// The query string parameters the marketplace appends to the production URL:
// "signature=…&timestamp=…&nonce=…" (values are URL-safe: hex and digits; the nonce is
// percent-encoded).
std::string CallbackQuery(std::string_view access_key, std::string_view nonce,
                          std::string_view timestamp, std::string_view body);

enum class CallbackAuthError {
  kNone,
  kMissingParameter,      // signature, timestamp or nonce absent or empty
  kMalformedTimestamp,    // not 1 to 19 decimal digits
  kTimestampOutOfWindow,  // further than the window from now
  kBadSignature,          // neither the raw nor the re-serialised body verifies
  kReplayedNonce,         // nonce seen within its lifetime
};
const char* ToString(CallbackAuthError error) noexcept;

enum class TimestampUnit {
  kMilliseconds,  // what every example uses (13 digits)
  kSeconds,
  kAuto,  // below 10^11 read as seconds, else milliseconds (some pages say seconds)
};

struct CallbackVerifyOptions {
  std::chrono::milliseconds window{60'000};  // the documented 60 s
  TimestampUnit timestamp_unit = TimestampUnit::kAuto;
  // Also accept a signature over the body re-serialised compactly with object keys sorted and
  // null members dropped (Huawei's Java sample signs that, §15). The raw bytes are tried first.
  bool accept_resorted_body = true;
};

// A thread-safe replay cache of nonces. Memory is bounded: at most `max_entries`; each entry
// expires `ttl` after insertion (use twice the timestamp window: a timestamp may be up to a
// window ahead). When full, expired entries go first, then the oldest, and evictions() counts
// the latter (a sign the bound is too small for the traffic).
class NonceCache {
 public:
  explicit NonceCache(std::chrono::milliseconds ttl = std::chrono::milliseconds(120'000),
                      std::size_t max_entries = 100'000);

  // Records `nonce` at `now`; false if it is already recorded and not expired (a replay).
  bool Insert(std::string_view nonce, std::chrono::system_clock::time_point now);
  std::size_t size() const;
  std::uint64_t evictions() const;

 private:
  void ExpireLocked(std::chrono::system_clock::time_point now);

  const std::chrono::milliseconds ttl_;
  const std::size_t max_entries_;
  mutable std::mutex mu_;
  std::unordered_set<std::string> seen_;
  std::deque<std::pair<std::chrono::system_clock::time_point, std::string>> order_;
  std::uint64_t evictions_ = 0;
};

struct CallbackRequest {
  std::string_view signature;
  std::string_view timestamp;
  std::string_view nonce;
  std::string_view body;  // raw bytes as received
};

struct CallbackAuthOutcome {
  CallbackAuthError error = CallbackAuthError::kNone;
  bool matched_resorted_body = false;  // verified only through the re-serialised body
  std::string detail;                  // for logs; no key, no expected signature
  explicit operator bool() const noexcept { return error == CallbackAuthError::kNone; }
};

// Verifies a callback: parameters present, timestamp within the window, signature (hex, any
// case) in constant time, and only then — so unauthenticated requests cannot fill it — the
// nonce against `nonces` when given. The merchant answers resultCode 000001 on any failure.
CallbackAuthOutcome VerifyCallback(std::string_view access_key, const CallbackRequest& request,
                                   std::chrono::system_clock::time_point now,
                                   const CallbackVerifyOptions& options = {},
                                   NonceCache* nonces = nullptr);

// Compact JSON of `body` with object keys sorted and null members dropped, or nullopt when the
// body is not JSON. (What §15's Java sample signs.)
std::optional<std::string> ResortedJson(std::string_view body);

// ---------------------------------------------------------------------------------------------
// Legacy authToken (reference §3.4.1) and Body-Sign (§3.4.3).

using QueryParams = std::vector<std::pair<std::string, std::string>>;

// Splits a raw query string and percent-decodes names and values ('+' is a space, as a servlet
// container decodes). Pieces without '=' get an empty value; empty pieces are skipped.
QueryParams ParseQueryString(std::string_view raw_query);

// authToken = Base64(HMAC-SHA256(key = access_key + timeStamp, msg = "n1=v1&n2=v2…")) over the
// decoded parameters except authToken, sorted by name (byte order, = Java's order for ASCII
// names; stable for a repeated name). `time_stamp` is the timeStamp parameter's value; the
// parameter itself must be among `params` to be signed. With `skip_blank_values`, parameters
// with an empty value are left out (the POST sample).
std::string LegacyAuthToken(std::string_view access_key, const QueryParams& params,
                            bool skip_blank_values = false);

enum class LegacyAuthError {
  kNone,
  kMissingToken,          // no authToken
  kMissingTimestamp,      // no timeStamp
  kMalformedTimestamp,    // window checked and timeStamp not yyyyMMddHHmmss[SSS…]
  kTimestampOutOfWindow,  // window checked and timeStamp too far from now
  kBadToken,
};
const char* ToString(LegacyAuthError error) noexcept;

struct LegacyVerifyOptions {
  // No window is documented; off by default. When set, the first 14 digits of timeStamp
  // (yyyyMMddHHmmss, UTC) must be within it.
  std::optional<std::chrono::seconds> window;
};

// Verifies authToken over decoded `params` (which include authToken and timeStamp). Accepts the
// token computed with blank values included or skipped (the two samples differ).
LegacyAuthError VerifyLegacyAuthToken(std::string_view access_key, const QueryParams& params,
                                      std::chrono::system_clock::time_point now,
                                      const LegacyVerifyOptions& options = {});

// Base64(HMAC-SHA256(key = access_key, msg = body)), body byte-exact.
std::string BodySignature(std::string_view access_key, std::string_view body);
inline constexpr std::string_view kBodySignHeader = "Body-Sign";
// The header value exactly as Huawei's example: sign_type="HMAC-SHA256", signature= "<b64>".
std::string BodySignHeaderValue(std::string_view access_key, std::string_view body);
// For the simulator: parses a Body-Sign value (spaces around '=' and ',' tolerated, sign_type
// must be HMAC-SHA256) and checks it over `body` in constant time.
bool VerifyBodySignHeader(std::string_view access_key, std::string_view header_value,
                          std::string_view body);

}  // namespace licagent::koogallery
