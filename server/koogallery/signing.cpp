#include "server/koogallery/signing.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <cstdio>
#include <ctime>
#include <nlohmann/json.hpp>
#include <set>

namespace licagent::koogallery {
namespace {

using Clock = std::chrono::system_clock;

constexpr char kHex[] = "0123456789abcdef";
constexpr char kHexUpper[] = "0123456789ABCDEF";

std::string ToHex(const unsigned char* data, std::size_t size) {
  std::string out(size * 2, '\0');
  for (std::size_t i = 0; i < size; ++i) {
    out[2 * i] = kHex[data[i] >> 4];
    out[2 * i + 1] = kHex[data[i] & 0x0f];
  }
  return out;
}

// HMAC-SHA256 through EVP_Q_mac. Returns false only if OpenSSL fails (allocation).
bool Hmac(std::string_view key, std::string_view data, std::array<unsigned char, 32>& out) {
  std::size_t out_len = 0;
  // EVP_Q_mac wants a non-null key pointer even for an empty key.
  static const unsigned char kEmpty = 0;
  const void* key_ptr = key.empty() ? static_cast<const void*>(&kEmpty) : key.data();
  unsigned char* r = EVP_Q_mac(nullptr, "HMAC", nullptr, "SHA256", nullptr, key_ptr, key.size(),
                               reinterpret_cast<const unsigned char*>(data.data()), data.size(),
                               out.data(), out.size(), &out_len);
  return r != nullptr && out_len == out.size();
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

char AsciiLower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = AsciiLower(c);
  return out;
}

bool IsUnreserved(unsigned char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '_' || c == '.' || c == '~';
}

std::string UriEncode(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    if (IsUnreserved(c)) {
      out.push_back(ch);
    } else {
      out.push_back('%');
      out.push_back(kHexUpper[c >> 4]);
      out.push_back(kHexUpper[c & 0x0f]);
    }
  }
  return out;
}

std::string PercentDecode(std::string_view s, bool plus_is_space) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && HexValue(s[i + 1]) >= 0 && HexValue(s[i + 2]) >= 0) {
      out.push_back(static_cast<char>(HexValue(s[i + 1]) * 16 + HexValue(s[i + 2])));
      i += 2;
    } else if (plus_is_space && s[i] == '+') {
      out.push_back(' ');
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

std::string_view Trim(std::string_view s) {
  const auto is_space = [](char c) {
    return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f';
  };
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return s;
}

bool HasCrLf(std::string_view s) { return s.find_first_of("\r\n") != std::string_view::npos; }

std::vector<std::string_view> Split(std::string_view s, char sep) {
  std::vector<std::string_view> parts;
  std::size_t start = 0;
  while (true) {
    const std::size_t pos = s.find(sep, start);
    if (pos == std::string_view::npos) {
      parts.push_back(s.substr(start));
      return parts;
    }
    parts.push_back(s.substr(start, pos - start));
    start = pos + 1;
  }
}

// All values of header `name` (case-insensitive).
std::vector<std::string_view> HeaderValues(const Headers& headers, std::string_view name) {
  std::vector<std::string_view> values;
  auto [first, last] = headers.equal_range(name);
  for (auto it = first; it != last; ++it) values.emplace_back(it->second);
  return values;
}

// The canonical request from its parts; `header_names` lower-case, in SignedHeaders order.
std::string CanonicalRequest(std::string_view method, std::string_view raw_path,
                             std::string_view raw_query, const Headers& headers,
                             const std::vector<std::string>& header_names,
                             std::string_view signed_headers, std::string_view payload_hash) {
  std::string out;
  for (char c : method) out.push_back((c >= 'a' && c <= 'z') ? static_cast<char>(c - 32) : c);
  out += '\n';
  out += CanonicalUri(raw_path);
  out += '\n';
  out += CanonicalQueryString(raw_query);
  out += '\n';
  for (const std::string& name : header_names) {
    std::vector<std::string> values;
    for (std::string_view v : HeaderValues(headers, name)) values.emplace_back(Trim(v));
    std::sort(values.begin(), values.end());
    for (const std::string& v : values) {
      out += name;
      out += ':';
      out += v;
      out += '\n';
    }
  }
  out += '\n';
  out += signed_headers;
  out += '\n';
  out += payload_hash;
  return out;
}

std::string StringToSign(std::string_view sdk_date, std::string_view canonical_request) {
  std::string out(kSdkAlgorithm);
  out += '\n';
  out += sdk_date;
  out += '\n';
  out += Sha256Hex(canonical_request);
  return out;
}

struct ParsedUrl {
  std::string scheme;
  std::string authority;  // host[:port] for the Host header (default port dropped)
  std::string path;       // raw
  std::string query;      // raw, without '?'
  std::string target;     // path[?query] as given ("/" when the path is empty)
};

Result<ParsedUrl> ParseUrl(std::string_view url) {
  ParsedUrl p;
  const std::size_t scheme_end = url.find("://");
  if (scheme_end == std::string_view::npos) {
    return Error{ErrorCode::kInvalidArgument, "the URL must be absolute (https://host/path)"};
  }
  p.scheme = Lower(url.substr(0, scheme_end));
  if (p.scheme != "https" && p.scheme != "http") {
    return Error{ErrorCode::kInvalidArgument, "the URL scheme must be https or http"};
  }
  std::string_view rest = url.substr(scheme_end + 3);
  if (const std::size_t hash = rest.find('#'); hash != std::string_view::npos) {
    return Error{ErrorCode::kInvalidArgument, "the URL must not have a fragment (#)"};
  }
  const std::size_t auth_end = rest.find_first_of("/?");
  std::string_view authority = rest.substr(0, auth_end);
  if (authority.empty()) return Error{ErrorCode::kInvalidArgument, "the URL has no host"};
  if (authority.find('@') != std::string_view::npos) {
    return Error{ErrorCode::kInvalidArgument, "the URL must not contain user information (@)"};
  }
  for (char c : authority) {
    if (c <= ' ' || c == 0x7f) {
      return Error{ErrorCode::kInvalidArgument, "the URL's host contains a space or control byte"};
    }
  }
  std::string host = Lower(authority);
  const std::string default_port = p.scheme == "https" ? ":443" : ":80";
  if (host.size() > default_port.size() &&
      host.compare(host.size() - default_port.size(), default_port.size(), default_port) == 0 &&
      host.back() != ']') {
    host.resize(host.size() - default_port.size());
  }
  p.authority = host;
  std::string_view target =
      auth_end == std::string_view::npos ? std::string_view() : rest.substr(auth_end);
  const std::size_t q = target.find('?');
  if (q == std::string_view::npos) {
    p.path = std::string(target);
  } else {
    p.path = std::string(target.substr(0, q));
    p.query = std::string(target.substr(q + 1));
  }
  for (char c : target) {
    if (static_cast<unsigned char>(c) <= ' ' || c == 0x7f) {
      return Error{ErrorCode::kInvalidArgument,
                   "the URL's path or query contains a space or control byte (percent-encode it)"};
    }
  }
  p.target = p.path.empty() ? "/" + std::string(target) : std::string(target);
  if (p.path.empty()) p.path = "/";
  return p;
}

}  // namespace

// ---------------------------------------------------------------------------------------------

std::string Sha256Hex(std::string_view data) {
  std::array<unsigned char, 32> md{};
  unsigned int len = 0;
  if (EVP_Digest(data.data(), data.size(), md.data(), &len, EVP_sha256(), nullptr) != 1 ||
      len != md.size()) {
    return {};
  }
  return ToHex(md.data(), md.size());
}

std::string HmacSha256Hex(std::string_view key, std::string_view data) {
  std::array<unsigned char, 32> mac{};
  if (!Hmac(key, data, mac)) return {};
  std::string out = ToHex(mac.data(), mac.size());
  OPENSSL_cleanse(mac.data(), mac.size());
  return out;
}

std::string HmacSha256Base64(std::string_view key, std::string_view data) {
  std::array<unsigned char, 32> mac{};
  if (!Hmac(key, data, mac)) return {};
  std::array<unsigned char, 45> b64{};  // 4 * ceil(32 / 3) + NUL
  const int n = EVP_EncodeBlock(b64.data(), mac.data(), static_cast<int>(mac.size()));
  return std::string(reinterpret_cast<const char*>(b64.data()), static_cast<std::size_t>(n));
}

bool ConstantTimeEquals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  if (a.empty()) return true;
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

// ---------------------------------------------------------------------------------------------

bool CaseInsensitiveLess::operator()(std::string_view a, std::string_view b) const noexcept {
  const std::size_t n = std::min(a.size(), b.size());
  for (std::size_t i = 0; i < n; ++i) {
    const auto ca = static_cast<unsigned char>(AsciiLower(a[i]));
    const auto cb = static_cast<unsigned char>(AsciiLower(b[i]));
    if (ca != cb) return ca < cb;
  }
  return a.size() < b.size();
}

std::string CanonicalUri(std::string_view raw_path) {
  const std::string decoded = PercentDecode(raw_path, /*plus_is_space=*/false);
  std::string out;
  bool first = true;
  for (std::string_view segment : Split(decoded, '/')) {
    if (!first) out += '/';
    first = false;
    out += UriEncode(segment);
  }
  if (out.empty() || out.back() != '/') out += '/';
  return out;
}

QueryParams ParseQueryString(std::string_view raw_query) {
  QueryParams params;
  if (raw_query.empty()) return params;
  for (std::string_view piece : Split(raw_query, '&')) {
    if (piece.empty()) continue;
    const std::size_t eq = piece.find('=');
    if (eq == std::string_view::npos) {
      params.emplace_back(PercentDecode(piece, true), std::string());
    } else {
      params.emplace_back(PercentDecode(piece.substr(0, eq), true),
                          PercentDecode(piece.substr(eq + 1), true));
    }
  }
  return params;
}

std::string CanonicalQueryString(std::string_view raw_query) {
  QueryParams params = ParseQueryString(raw_query);
  std::sort(params.begin(), params.end());  // name, then value, byte order
  std::string out;
  for (const auto& [name, value] : params) {
    if (!out.empty()) out += '&';
    out += UriEncode(name);
    out += '=';
    out += UriEncode(value);
  }
  return out;
}

std::optional<Clock::time_point> ParseSdkDate(std::string_view date) {
  if (date.size() != 16 || date[8] != 'T' || date[15] != 'Z') return std::nullopt;
  auto num = [&](std::size_t pos, std::size_t len) -> int {
    int v = 0;
    for (std::size_t i = pos; i < pos + len; ++i) {
      if (date[i] < '0' || date[i] > '9') return -1;
      v = v * 10 + (date[i] - '0');
    }
    return v;
  };
  const int y = num(0, 4), mo = num(4, 2), d = num(6, 2), h = num(9, 2), mi = num(11, 2),
            s = num(13, 2);
  if (y < 0 || mo < 0 || d < 0 || h < 0 || mi < 0 || s < 0) return std::nullopt;
  if (h > 23 || mi > 59 || s > 59) return std::nullopt;
  // system_clock counts nanoseconds in 64 bits (years 1678-2261): stay well inside.
  if (y < 1970 || y > 2199) return std::nullopt;
  const std::chrono::year_month_day ymd{std::chrono::year(y),
                                        std::chrono::month(static_cast<unsigned>(mo)),
                                        std::chrono::day(static_cast<unsigned>(d))};
  if (!ymd.ok()) return std::nullopt;
  return Clock::time_point(std::chrono::sys_days(ymd)) + std::chrono::hours(h) +
         std::chrono::minutes(mi) + std::chrono::seconds(s);
}

std::string FormatSdkDate(Clock::time_point t) {
  const auto secs = std::chrono::floor<std::chrono::seconds>(t);
  const auto days = std::chrono::floor<std::chrono::days>(secs);
  const std::chrono::year_month_day ymd{days};
  const std::chrono::hh_mm_ss hms{secs - days};
  char buf[32];
  std::snprintf(buf, sizeof buf, "%04d%02u%02uT%02d%02d%02dZ", static_cast<int>(ymd.year()),
                static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
                static_cast<int>(hms.hours().count()), static_cast<int>(hms.minutes().count()),
                static_cast<int>(hms.seconds().count()));
  return buf;
}

Result<ApiSignature> SignApiRequest(const ApiSignInput& input) {
  if (input.method.empty()) return Error{ErrorCode::kInvalidArgument, "the method is empty"};
  for (char c : input.method) {
    if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z'))) {
      return Error{ErrorCode::kInvalidArgument, "the method must be letters only (GET, POST)"};
    }
  }
  if (input.access_key.empty()) return Error{ErrorCode::kInvalidArgument, "the AK is empty"};
  if (input.secret_key.empty()) return Error{ErrorCode::kInvalidArgument, "the SK is empty"};
  if (!ParseSdkDate(input.sdk_date)) {
    return Error{ErrorCode::kInvalidArgument,
                 "the date must be yyyyMMddTHHmmssZ in UTC, e.g. 20191115T033655Z"};
  }
  if (HasCrLf(input.access_key) || input.access_key.find_first_of(", ") != std::string_view::npos) {
    return Error{ErrorCode::kInvalidArgument, "the AK contains a space, comma or line break"};
  }
  auto url = ParseUrl(input.url);
  if (!url) return url.error();

  ApiSignature out;
  for (const auto& [name, value] : input.headers) {
    if (name.empty() || HasCrLf(name) || HasCrLf(value) ||
        name.find_first_of(": \t") != std::string::npos) {
      return Error{ErrorCode::kInvalidArgument,
                   "header names must be non-empty tokens and values must not contain line breaks"};
    }
    if (Lower(name) == "authorization") continue;  // never signed; replaced below
    out.headers.emplace(name, value);
  }
  for (std::string_view v : HeaderValues(out.headers, kSdkDateHeader)) {
    if (Trim(v) != input.sdk_date) {
      return Error{ErrorCode::kInvalidArgument,
                   "an X-Sdk-Date header is given and differs from the date to sign with"};
    }
  }
  if (out.headers.find(kSdkDateHeader) == out.headers.end()) {
    out.headers.emplace(std::string(kSdkDateHeader), std::string(input.sdk_date));
  }
  if (out.headers.find("host") == out.headers.end()) out.headers.emplace("Host", url->authority);

  std::vector<std::string> names;
  for (const auto& entry : out.headers) {
    std::string lower = Lower(entry.first);
    if (names.empty() || names.back() != lower) names.push_back(std::move(lower));
  }
  // The multimap is ordered case-insensitively, which for lower-cased names is byte order.
  for (const std::string& n : names) {
    if (!out.signed_headers.empty()) out.signed_headers += ';';
    out.signed_headers += n;
  }

  std::string payload_hash;
  if (auto it = out.headers.find(kSdkContentSha256Header); it != out.headers.end()) {
    payload_hash = std::string(Trim(it->second));
  } else {
    payload_hash = Sha256Hex(input.body);
  }
  out.canonical_request = CanonicalRequest(input.method, url->path, url->query, out.headers, names,
                                           out.signed_headers, payload_hash);
  out.string_to_sign = StringToSign(input.sdk_date, out.canonical_request);
  out.signature = HmacSha256Hex(input.secret_key, out.string_to_sign);
  if (out.signature.empty() || payload_hash.empty()) {
    return Error{ErrorCode::kInternal, "OpenSSL failed to compute SHA-256/HMAC-SHA256"};
  }
  out.authorization = std::string(kSdkAlgorithm) + " Access=" + std::string(input.access_key) +
                      ", SignedHeaders=" + out.signed_headers + ", Signature=" + out.signature;
  out.headers.emplace("Authorization", out.authorization);
  out.path_and_query = url->target;
  return out;
}

const char* ToString(ApiAuthError error) noexcept {
  switch (error) {
    case ApiAuthError::kNone:
      return "none";
    case ApiAuthError::kMissingAuthorization:
      return "missing_authorization";
    case ApiAuthError::kMalformedAuthorization:
      return "malformed_authorization";
    case ApiAuthError::kMissingSignedHeader:
      return "missing_signed_header";
    case ApiAuthError::kMissingDate:
      return "missing_date";
    case ApiAuthError::kMalformedDate:
      return "malformed_date";
    case ApiAuthError::kDateOutOfWindow:
      return "date_out_of_window";
    case ApiAuthError::kUnknownAccessKey:
      return "unknown_access_key";
    case ApiAuthError::kUnsignedPayloadRefused:
      return "unsigned_payload";
    case ApiAuthError::kBadSignature:
      return "bad_signature";
  }
  return "unknown";
}

std::string_view ApigwErrorCode(ApiAuthError error) noexcept {
  switch (error) {
    case ApiAuthError::kNone:
      return "";
    case ApiAuthError::kMalformedDate:
    case ApiAuthError::kDateOutOfWindow:
      return "APIGW.0303";
    case ApiAuthError::kMissingAuthorization:
    case ApiAuthError::kMalformedAuthorization:
    case ApiAuthError::kMissingSignedHeader:
    case ApiAuthError::kMissingDate:
    case ApiAuthError::kUnknownAccessKey:
    case ApiAuthError::kUnsignedPayloadRefused:
    case ApiAuthError::kBadSignature:
      return "APIGW.0301";
  }
  return "APIGW.0301";
}

int ApigwHttpStatus(ApiAuthError error) noexcept {
  return error == ApiAuthError::kNone ? 200 : 401;
}

std::string ApigwErrorBody(ApiAuthError error, std::string_view request_id) {
  std::string message;
  switch (error) {
    case ApiAuthError::kMalformedDate:
    case ApiAuthError::kDateOutOfWindow:
      message = "Incorrect app authentication information: ";
      break;
    default:
      message = "Incorrect IAM authentication information: ";
      break;
  }
  switch (error) {
    case ApiAuthError::kNone:
      message = "";
      break;
    case ApiAuthError::kMissingAuthorization:
      message += "Authorization not found in header";
      break;
    case ApiAuthError::kMalformedAuthorization:
      message += "Authorization format incorrect";
      break;
    case ApiAuthError::kMissingSignedHeader:
      message += "signed header missing";
      break;
    case ApiAuthError::kMissingDate:
      message += "x-sdk-date not found in header";
      break;
    case ApiAuthError::kMalformedDate:
      message += "x-sdk-date format incorrect";
      break;
    case ApiAuthError::kDateOutOfWindow:
      message += "signature expired";
      break;
    case ApiAuthError::kUnknownAccessKey:
      message += "AK not found";
      break;
    case ApiAuthError::kUnsignedPayloadRefused:
      message += "unsigned payload not allowed";
      break;
    case ApiAuthError::kBadSignature:
      message += "verify aksk signature fail";
      break;
  }
  nlohmann::json j = {{"error_msg", message},
                      {"error_code", std::string(ApigwErrorCode(error))},
                      {"request_id", std::string(request_id)}};
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

ApiAuthOutcome VerifyApiRequest(const IncomingApiRequest& request, const SecretKeyLookup& lookup,
                                Clock::time_point now, const ApiVerifyOptions& options) {
  ApiAuthOutcome out;
  auto fail = [&out](ApiAuthError e, std::string detail) {
    out.error = e;
    out.detail = std::move(detail);
    return out;
  };
  const auto auth_values = HeaderValues(request.headers, "authorization");
  if (auth_values.empty()) return fail(ApiAuthError::kMissingAuthorization, "no Authorization");
  if (auth_values.size() > 1) {
    return fail(ApiAuthError::kMalformedAuthorization, "more than one Authorization header");
  }
  std::string_view auth = Trim(auth_values.front());
  if (auth.substr(0, kSdkAlgorithm.size()) != kSdkAlgorithm ||
      auth.size() == kSdkAlgorithm.size() || auth[kSdkAlgorithm.size()] != ' ') {
    return fail(ApiAuthError::kMalformedAuthorization, "algorithm is not SDK-HMAC-SHA256");
  }
  std::optional<std::string_view> access, signed_headers, signature;
  for (std::string_view part : Split(auth.substr(kSdkAlgorithm.size() + 1), ',')) {
    part = Trim(part);
    const std::size_t eq = part.find('=');
    if (eq == std::string_view::npos) {
      return fail(ApiAuthError::kMalformedAuthorization, "Authorization part without '='");
    }
    const std::string key = Lower(Trim(part.substr(0, eq)));
    const std::string_view value = Trim(part.substr(eq + 1));
    std::optional<std::string_view>* slot = key == "access"          ? &access
                                            : key == "signedheaders" ? &signed_headers
                                            : key == "signature"     ? &signature
                                                                     : nullptr;
    if (slot == nullptr) continue;  // tolerate unknown parts
    if (slot->has_value()) {
      return fail(ApiAuthError::kMalformedAuthorization, "repeated Authorization part " + key);
    }
    *slot = value;
  }
  if (!access || access->empty() || !signed_headers || signed_headers->empty() || !signature ||
      signature->empty()) {
    return fail(ApiAuthError::kMalformedAuthorization,
                "Authorization lacks Access, SignedHeaders or Signature");
  }
  out.access_key = std::string(*access);

  std::vector<std::string> names;
  bool has_host = false, has_date = false;
  for (std::string_view n : Split(*signed_headers, ';')) {
    std::string lower = Lower(Trim(n));
    if (lower.empty()) {
      return fail(ApiAuthError::kMalformedAuthorization, "empty name in SignedHeaders");
    }
    if (lower == "host") has_host = true;
    if (lower == "x-sdk-date") has_date = true;
    if (request.headers.find(lower) == request.headers.end()) {
      return fail(ApiAuthError::kMissingSignedHeader, "signed header " + lower + " not sent");
    }
    names.push_back(std::move(lower));
  }
  if (!has_host || !has_date) {
    return fail(ApiAuthError::kMissingSignedHeader, "host and x-sdk-date must be signed");
  }

  const auto dates = HeaderValues(request.headers, kSdkDateHeader);
  if (dates.empty()) return fail(ApiAuthError::kMissingDate, "no X-Sdk-Date");
  const std::string_view sdk_date = Trim(dates.front());
  const auto when = ParseSdkDate(sdk_date);
  if (dates.size() > 1 || !when) {
    return fail(ApiAuthError::kMalformedDate, "X-Sdk-Date is not yyyyMMddTHHmmssZ");
  }
  const auto skew = now > *when ? now - *when : *when - now;
  if (skew > options.clock_window) {
    return fail(ApiAuthError::kDateOutOfWindow, "X-Sdk-Date is outside the clock window");
  }

  std::optional<std::string> secret = lookup ? lookup(*access) : std::nullopt;
  if (!secret) return fail(ApiAuthError::kUnknownAccessKey, "unknown AK");

  const std::string body_hash = Sha256Hex(request.body);
  std::string payload_hash = body_hash;
  const auto declared = HeaderValues(request.headers, kSdkContentSha256Header);
  if (!declared.empty()) {
    const std::string_view d = Trim(declared.front());
    if (d == kUnsignedPayload) {
      if (!options.allow_unsigned_payload) {
        OPENSSL_cleanse(secret->data(), secret->size());
        return fail(ApiAuthError::kUnsignedPayloadRefused, "UNSIGNED-PAYLOAD is not accepted");
      }
      payload_hash = std::string(d);
    } else if (!ConstantTimeEquals(Lower(d), body_hash)) {
      OPENSSL_cleanse(secret->data(), secret->size());
      return fail(ApiAuthError::kBadSignature, "X-Sdk-Content-Sha256 does not match the body");
    }
  }
  const std::string canonical =
      CanonicalRequest(request.method, request.path, request.raw_query, request.headers, names,
                       *signed_headers, payload_hash);
  std::string expected = HmacSha256Hex(*secret, StringToSign(sdk_date, canonical));
  OPENSSL_cleanse(secret->data(), secret->size());
  const bool ok = !expected.empty() && ConstantTimeEquals(Lower(*signature), expected);
  OPENSSL_cleanse(expected.data(), expected.size());
  if (!ok) return fail(ApiAuthError::kBadSignature, "signature does not match");
  return out;
}

// ---------------------------------------------------------------------------------------------

std::string CallbackSignature(std::string_view access_key, std::string_view nonce,
                              std::string_view timestamp, std::string_view body) {
  const std::string body_mac = HmacSha256Hex(access_key, body);
  std::string canonical;
  canonical.reserve(access_key.size() + nonce.size() + timestamp.size() + body_mac.size());
  canonical.append(access_key).append(nonce).append(timestamp).append(body_mac);
  std::string signature = HmacSha256Hex(access_key, canonical);
  OPENSSL_cleanse(canonical.data(), canonical.size());
  return signature;
}

std::string CallbackQuery(std::string_view access_key, std::string_view nonce,
                          std::string_view timestamp, std::string_view body) {
  return "signature=" + CallbackSignature(access_key, nonce, timestamp, body) +
         "&timestamp=" + UriEncode(timestamp) + "&nonce=" + UriEncode(nonce);
}

const char* ToString(CallbackAuthError error) noexcept {
  switch (error) {
    case CallbackAuthError::kNone:
      return "none";
    case CallbackAuthError::kMissingParameter:
      return "missing_parameter";
    case CallbackAuthError::kMalformedTimestamp:
      return "malformed_timestamp";
    case CallbackAuthError::kTimestampOutOfWindow:
      return "timestamp_out_of_window";
    case CallbackAuthError::kBadSignature:
      return "bad_signature";
    case CallbackAuthError::kReplayedNonce:
      return "replayed_nonce";
  }
  return "unknown";
}

NonceCache::NonceCache(std::chrono::milliseconds ttl, std::size_t max_entries)
    : ttl_(ttl), max_entries_(max_entries == 0 ? 1 : max_entries) {}

void NonceCache::ExpireLocked(Clock::time_point now) {
  while (!order_.empty() && order_.front().first + ttl_ <= now) {
    seen_.erase(order_.front().second);
    order_.pop_front();
  }
}

bool NonceCache::Insert(std::string_view nonce, Clock::time_point now) {
  std::lock_guard lock(mu_);
  ExpireLocked(now);
  std::string key(nonce);
  if (seen_.count(key) != 0) return false;
  while (seen_.size() >= max_entries_ && !order_.empty()) {
    seen_.erase(order_.front().second);
    order_.pop_front();
    ++evictions_;
  }
  seen_.insert(key);
  order_.emplace_back(now, std::move(key));
  return true;
}

std::size_t NonceCache::size() const {
  std::lock_guard lock(mu_);
  return seen_.size();
}

std::uint64_t NonceCache::evictions() const {
  std::lock_guard lock(mu_);
  return evictions_;
}

namespace {

nlohmann::json DropNulls(const nlohmann::json& j) {
  if (j.is_object()) {
    nlohmann::json out = nlohmann::json::object();
    for (auto it = j.begin(); it != j.end(); ++it) {
      if (!it.value().is_null()) out[it.key()] = DropNulls(it.value());
    }
    return out;
  }
  if (j.is_array()) {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& e : j) out.push_back(DropNulls(e));
    return out;
  }
  return j;
}

}  // namespace

std::optional<std::string> ResortedJson(std::string_view body) {
  nlohmann::json j = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return std::nullopt;
  // nlohmann::json objects are std::map: dump() writes keys sorted.
  return DropNulls(j).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

CallbackAuthOutcome VerifyCallback(std::string_view access_key, const CallbackRequest& request,
                                   Clock::time_point now, const CallbackVerifyOptions& options,
                                   NonceCache* nonces) {
  CallbackAuthOutcome out;
  auto fail = [&out](CallbackAuthError e, std::string detail) {
    out.error = e;
    out.detail = std::move(detail);
    return out;
  };
  if (request.signature.empty() || request.timestamp.empty() || request.nonce.empty()) {
    return fail(CallbackAuthError::kMissingParameter, "signature, timestamp or nonce missing");
  }
  std::uint64_t ts = 0;
  const char* end = request.timestamp.data() + request.timestamp.size();
  auto [ptr, ec] = std::from_chars(request.timestamp.data(), end, ts);
  if (ec != std::errc() || ptr != end || request.timestamp.size() > 19 ||
      request.timestamp[0] == '+' || request.timestamp[0] == '-') {
    return fail(CallbackAuthError::kMalformedTimestamp, "timestamp is not a decimal number");
  }
  bool seconds = options.timestamp_unit == TimestampUnit::kSeconds ||
                 (options.timestamp_unit == TimestampUnit::kAuto && ts < 100'000'000'000ULL);
  const std::uint64_t max_ms = static_cast<std::uint64_t>(INT64_MAX) / 2;
  const std::uint64_t ts_ms = seconds ? (ts > max_ms / 1000 ? max_ms : ts * 1000) : ts;
  const auto now_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count();
  const std::int64_t when = static_cast<std::int64_t>(std::min(ts_ms, max_ms));
  const std::int64_t skew = now_ms > when ? now_ms - when : when - now_ms;
  if (skew > options.window.count()) {
    return fail(CallbackAuthError::kTimestampOutOfWindow, "timestamp outside the window");
  }

  const std::string received = Lower(request.signature);
  bool ok = false;
  {
    std::string expected =
        CallbackSignature(access_key, request.nonce, request.timestamp, request.body);
    ok = !expected.empty() && ConstantTimeEquals(received, expected);
    OPENSSL_cleanse(expected.data(), expected.size());
  }
  if (!ok && options.accept_resorted_body) {
    if (auto resorted = ResortedJson(request.body); resorted && *resorted != request.body) {
      std::string expected =
          CallbackSignature(access_key, request.nonce, request.timestamp, *resorted);
      ok = !expected.empty() && ConstantTimeEquals(received, expected);
      OPENSSL_cleanse(expected.data(), expected.size());
      out.matched_resorted_body = ok;
    }
  }
  if (!ok) return fail(CallbackAuthError::kBadSignature, "signature does not match");
  if (nonces != nullptr && !nonces->Insert(request.nonce, now)) {
    return fail(CallbackAuthError::kReplayedNonce, "nonce already seen");
  }
  return out;
}

// ---------------------------------------------------------------------------------------------

std::string LegacyAuthToken(std::string_view access_key, const QueryParams& params,
                            bool skip_blank_values) {
  std::vector<std::pair<std::string_view, std::string_view>> sorted;
  std::string_view time_stamp;
  for (const auto& [name, value] : params) {
    if (name == "authToken") continue;
    if (name == "timeStamp" && time_stamp.empty()) time_stamp = value;
    if (skip_blank_values && Trim(value).empty()) continue;
    sorted.emplace_back(name, value);
  }
  std::stable_sort(sorted.begin(), sorted.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  std::string joined;
  for (const auto& [name, value] : sorted) {
    if (!joined.empty()) joined += '&';
    joined.append(name).append("=").append(value);
  }
  std::string key(access_key);
  key.append(time_stamp);
  std::string token = HmacSha256Base64(key, joined);
  OPENSSL_cleanse(key.data(), key.size());
  return token;
}

const char* ToString(LegacyAuthError error) noexcept {
  switch (error) {
    case LegacyAuthError::kNone:
      return "none";
    case LegacyAuthError::kMissingToken:
      return "missing_token";
    case LegacyAuthError::kMissingTimestamp:
      return "missing_timestamp";
    case LegacyAuthError::kMalformedTimestamp:
      return "malformed_timestamp";
    case LegacyAuthError::kTimestampOutOfWindow:
      return "timestamp_out_of_window";
    case LegacyAuthError::kBadToken:
      return "bad_token";
  }
  return "unknown";
}

LegacyAuthError VerifyLegacyAuthToken(std::string_view access_key, const QueryParams& params,
                                      Clock::time_point now, const LegacyVerifyOptions& options) {
  std::optional<std::string_view> token, time_stamp;
  for (const auto& [name, value] : params) {
    if (name == "authToken" && !token) token = value;
    if (name == "timeStamp" && !time_stamp) time_stamp = value;
  }
  if (!token || token->empty()) return LegacyAuthError::kMissingToken;
  if (!time_stamp || time_stamp->empty()) return LegacyAuthError::kMissingTimestamp;
  if (options.window) {
    // yyyyMMddHHmmss followed by milliseconds (any number of digits: examples have 1 to 3).
    if (time_stamp->size() < 14) return LegacyAuthError::kMalformedTimestamp;
    const std::string iso =
        std::string(time_stamp->substr(0, 8)) + "T" + std::string(time_stamp->substr(8, 6)) + "Z";
    const auto when = ParseSdkDate(iso);
    const bool digits = std::all_of(time_stamp->begin(), time_stamp->end(),
                                    [](char c) { return c >= '0' && c <= '9'; });
    if (!when || !digits) return LegacyAuthError::kMalformedTimestamp;
    const auto skew = now > *when ? now - *when : *when - now;
    if (skew > *options.window + std::chrono::seconds(1)) {
      return LegacyAuthError::kTimestampOutOfWindow;
    }
  }
  for (bool skip : {false, true}) {
    std::string expected = LegacyAuthToken(access_key, params, skip);
    const bool ok = !expected.empty() && ConstantTimeEquals(*token, expected);
    OPENSSL_cleanse(expected.data(), expected.size());
    if (ok) return LegacyAuthError::kNone;
  }
  return LegacyAuthError::kBadToken;
}

std::string BodySignature(std::string_view access_key, std::string_view body) {
  return HmacSha256Base64(access_key, body);
}

std::string BodySignHeaderValue(std::string_view access_key, std::string_view body) {
  return "sign_type=\"HMAC-SHA256\", signature= \"" + BodySignature(access_key, body) + "\"";
}

bool VerifyBodySignHeader(std::string_view access_key, std::string_view header_value,
                          std::string_view body) {
  std::optional<std::string_view> sign_type, signature;
  for (std::string_view part : Split(header_value, ',')) {
    part = Trim(part);
    const std::size_t eq = part.find('=');
    if (eq == std::string_view::npos) return false;
    const std::string_view key = Trim(part.substr(0, eq));
    std::string_view value = Trim(part.substr(eq + 1));
    if (value.size() >= 2 && value.front() == '"' && value.back() == '"') {
      value = value.substr(1, value.size() - 2);
    }
    if (key == "sign_type") sign_type = value;
    if (key == "signature") signature = value;
  }
  if (!sign_type || *sign_type != "HMAC-SHA256" || !signature) return false;
  std::string expected = BodySignature(access_key, body);
  const bool ok = !expected.empty() && ConstantTimeEquals(*signature, expected);
  OPENSSL_cleanse(expected.data(), expected.size());
  return ok;
}

}  // namespace licagent::koogallery
