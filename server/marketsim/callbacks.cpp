#include "server/marketsim/callbacks.h"

#include <httplib.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>

#include <algorithm>
#include <ctime>
#include <exception>

#include "server/koogallery/signing.h"

namespace licagent::marketsim {
namespace {

using nlohmann::json;

constexpr std::int64_t kStaleMs = 10 * 60 * 1000;
constexpr std::size_t kMaxKeptDeliveries = 10000;

std::string RandomHex(std::size_t bytes) {
  unsigned char b[64];
  bytes = std::min(bytes, sizeof b);
  if (RAND_bytes(b, static_cast<int>(bytes)) != 1) return std::string(bytes * 2, '0');
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (std::size_t i = 0; i < bytes; ++i) {
    out += kHex[b[i] >> 4];
    out += kHex[b[i] & 15];
  }
  return out;
}

std::string UrlEncode(std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
        c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

// timeStamp of the legacy scheme: yyyyMMddHHmmssSSS, UTC.
std::string LegacyTimeStamp(std::int64_t ms) {
  const auto t = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d%02d%02d%02d%02d%02d%03d", tm.tm_year + 1900, tm.tm_mon + 1,
                tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(ms % 1000));
  return buf;
}

std::string FieldText(const json& v) { return v.is_string() ? v.get<std::string>() : v.dump(); }

// A different last character, also for a verifier that compares hex case-insensitively
// ('a' -> 'A' would still verify).
std::string Corrupt(std::string s) {
  if (!s.empty()) s.back() = s.back() == '0' ? '1' : '0';
  return s;
}

const char* StateName(DeliveryState s) {
  switch (s) {
    case DeliveryState::kPending:
      return "pending";
    case DeliveryState::kDelivered:
      return "delivered";
    case DeliveryState::kFailed:
      return "failed";
  }
  return "unknown";
}

const char* TamperName(Tamper t) {
  switch (t) {
    case Tamper::kNone:
      return "none";
    case Tamper::kBadSignature:
      return "bad_signature";
    case Tamper::kStaleTimestamp:
      return "stale_timestamp";
    case Tamper::kReplay:
      return "replay";
  }
  return "none";
}

struct ParsedUrl {
  std::string host;
  int port = 443;
  std::string target;
};

std::optional<ParsedUrl> ParseHttpsUrl(const std::string& url) {
  constexpr std::string_view kScheme = "https://";
  if (url.rfind(kScheme, 0) != 0) return std::nullopt;
  const std::string rest = url.substr(kScheme.size());
  const auto slash = rest.find_first_of("/?");
  std::string authority = rest.substr(0, slash);
  ParsedUrl p;
  p.target = slash == std::string::npos ? "/" : rest.substr(slash);
  if (p.target.front() == '?') p.target = "/" + p.target;
  std::string port_text;
  if (!authority.empty() && authority.front() == '[') {
    const auto close = authority.find(']');
    if (close == std::string::npos) return std::nullopt;
    p.host = authority.substr(1, close - 1);
    if (close + 1 < authority.size() && authority[close + 1] == ':') {
      port_text = authority.substr(close + 2);
    }
  } else {
    const auto colon = authority.rfind(':');
    p.host = authority.substr(0, colon);
    if (colon != std::string::npos) port_text = authority.substr(colon + 1);
  }
  if (p.host.empty()) return std::nullopt;
  if (!port_text.empty()) {
    p.port = 0;
    for (char c : port_text) {
      if (c < '0' || c > '9' || p.port > 65535) return std::nullopt;
      p.port = p.port * 10 + (c - '0');
    }
    if (p.port < 1 || p.port > 65535) return std::nullopt;
  }
  return p;
}

}  // namespace

std::optional<Tamper> ParseTamper(std::string_view name) {
  for (Tamper t :
       {Tamper::kNone, Tamper::kBadSignature, Tamper::kStaleTimestamp, Tamper::kReplay}) {
    if (name == TamperName(t)) return t;
  }
  return std::nullopt;
}

std::optional<ActivityInfo> LookupActivity(std::string_view a) {
  using M = CallbackModel;
  if (a == "refreshLicenseCode" || a == "updateLicenseCodeStatus" || a == "releaseLicenseCode") {
    return ActivityInfo{M::kSigned, &RetryConfig::license_code, false, false};
  }
  if (a == "newInstance")
    return ActivityInfo{M::kSigned, &RetryConfig::instance_create, true, true};
  if (a == "getLicenseAsync") return ActivityInfo{M::kSigned, &RetryConfig::instance, true, false};
  if (a == "refreshInstance" || a == "updateInstanceStatus" || a == "releaseInstance") {
    return ActivityInfo{M::kSigned, &RetryConfig::instance, false, false};
  }
  if (a == "getLicense") {
    return ActivityInfo{M::kLegacy, &RetryConfig::legacy_get_license, false, true};
  }
  if (a == "refreshLicense" || a == "expireLicense" || a == "releaseLicense") {
    return ActivityInfo{M::kLegacy, &RetryConfig::legacy_other, false, false};
  }
  return std::nullopt;
}

json ToJson(const Delivery& d) {
  json attempts = json::array();
  for (const Attempt& a : d.attempts) {
    json j = {{"at_ms", a.at_ms}, {"http_status", a.http_status}};
    if (!a.result_code.empty()) j["result_code"] = a.result_code;
    if (!a.error.empty()) j["error"] = a.error;
    attempts.push_back(std::move(j));
  }
  json reply = json::parse(d.last_reply, nullptr, false);
  return json{{"id", d.id},
              {"activity", d.spec.fields.value("activity", "")},
              {"model", d.model == CallbackModel::kSigned ? "signed" : "legacy"},
              {"fields", d.spec.fields},
              {"tamper", TamperName(d.spec.tamper)},
              {"retries", d.spec.retry.retries},
              {"interval_ms", d.spec.retry.interval_ms},
              {"state", StateName(d.state)},
              {"attempts", attempts},
              {"reply", reply.is_discarded() ? json(d.last_reply) : reply}};
}

WireRequest PrepareAttempt(const Delivery& d, const std::string& base_target,
                           const std::string& key, std::int64_t now_ms) {
  json fields = d.spec.fields;
  if (d.fresh_business_id && !d.spec.fields.contains("businessId")) {
    fields["businessId"] = RandomHex(16);
  }
  const std::int64_t when = d.spec.tamper == Tamper::kStaleTimestamp ? now_ms - kStaleMs : now_ms;
  const char sep = base_target.find('?') == std::string::npos ? '?' : '&';
  WireRequest w;
  if (d.model == CallbackModel::kSigned) {
    w.method = "POST";
    w.body = fields.dump();  // compact, keys sorted: what the §3.2 examples look like
    const std::string nonce = d.spec.fixed_nonce.empty() ? RandomHex(32) : d.spec.fixed_nonce;
    const std::string timestamp =
        d.spec.fixed_timestamp.empty() ? std::to_string(when) : d.spec.fixed_timestamp;
    std::string signature = koogallery::CallbackSignature(key, nonce, timestamp, w.body);
    if (d.spec.tamper == Tamper::kBadSignature) signature = Corrupt(signature);
    w.target = base_target + sep + "signature=" + signature + "&timestamp=" + timestamp +
               "&nonce=" + UrlEncode(nonce);
    return w;
  }
  w.method = "GET";
  koogallery::QueryParams params;
  for (const auto& [name, value] : fields.items()) params.emplace_back(name, FieldText(value));
  const std::string ts =
      d.spec.fixed_timestamp.empty() ? LegacyTimeStamp(when) : d.spec.fixed_timestamp;
  params.emplace_back("timeStamp", ts);
  std::string token = koogallery::LegacyAuthToken(key, params);
  if (d.spec.tamper == Tamper::kBadSignature)
    token = koogallery::LegacyAuthToken(key + "x", params);
  params.emplace_back("authToken", token);
  w.target = base_target;
  char s = sep;
  for (const auto& [name, value] : params) {
    w.target += s + UrlEncode(name) + "=" + UrlEncode(value);
    s = '&';
  }
  return w;
}

bool Judge(const Delivery& d, const WireResponse& r, const std::string& key, Attempt& attempt) {
  attempt.http_status = r.status;
  if (r.status == 0) {
    attempt.error = r.error.empty() ? "no answer" : r.error;
    return false;
  }
  const json body = json::parse(r.body, nullptr, false);
  if (body.is_object()) {
    const auto rc = body.find("resultCode");
    if (rc != body.end()) attempt.result_code = FieldText(*rc);
  }
  if (r.status != 200) {
    attempt.error = "HTTP " + std::to_string(r.status);
    return false;
  }
  if (d.model == CallbackModel::kLegacy) {
    if (r.body_sign.empty()) {
      attempt.error = "no Body-Sign header";
      return false;
    }
    if (!koogallery::VerifyBodySignHeader(key, r.body_sign, r.body)) {
      attempt.error = "Body-Sign does not verify";
      return false;
    }
  }
  if (attempt.result_code.empty()) {
    attempt.error = "no resultCode string in the answer";
    return false;
  }
  if (attempt.result_code == "000000") return true;
  if (attempt.result_code == "000004" && d.async_ok) return true;
  attempt.error = "resultCode " + attempt.result_code;
  return false;
}

std::string UrlTarget(const std::string& url) {
  const auto p = ParseHttpsUrl(url);
  return p ? p->target : "";
}

Transport HttpsTransport(const VendorConfig& vendor) {
  return [vendor](const WireRequest& w) -> WireResponse {
    WireResponse out;
    try {
      const auto url = ParseHttpsUrl(vendor.url);
      if (!url) {
        out.error = "the vendor URL is not https://host[:port]/path";
        return out;
      }
      httplib::SSLClient client(url->host, url->port);
      SSL_CTX* ctx = client.ssl_context();
      if (ctx != nullptr) SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
      if (!vendor.ca_bundle.empty()) {
        client.set_ca_cert_path(vendor.ca_bundle.c_str());
      } else if (ctx != nullptr) {
        SSL_CTX_set_default_verify_paths(ctx);
      }
      client.enable_server_certificate_verification(true);
      const auto t = std::chrono::milliseconds(vendor.timeout_ms);
      const auto sec = static_cast<time_t>(t.count() / 1000);
      const auto usec = static_cast<time_t>((t.count() % 1000) * 1000);
      client.set_connection_timeout(sec, usec);
      client.set_read_timeout(sec, usec);
      client.set_write_timeout(sec, usec);
      httplib::Result res = w.method == "POST"
                                ? client.Post(w.target.c_str(), w.body, "application/json")
                                : client.Get(w.target.c_str());
      if (!res) {
        out.error = "transport: " + httplib::to_string(res.error());
        return out;
      }
      out.status = res->status;
      out.body = res->body;
      out.body_sign = res->get_header_value("Body-Sign");
    } catch (const std::exception& e) {
      out.status = 0;
      out.error = std::string("transport: ") + e.what();
    }
    return out;
  };
}

Dispatcher::Dispatcher(VendorConfig vendor, Transport transport, MillisClock clock)
    : vendor_(std::move(vendor)),
      base_target_(UrlTarget(vendor_.url)),
      transport_(std::move(transport)),
      clock_(std::move(clock)) {}

Dispatcher::~Dispatcher() { Stop(); }

void Dispatcher::Start() {
  std::lock_guard<std::mutex> lock(mu_);
  if (worker_.joinable()) return;
  stop_ = false;
  worker_ = std::thread([this] { Run(); });
}

void Dispatcher::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (worker_.joinable()) worker_.join();
}

std::uint64_t Dispatcher::Enqueue(CallbackSpec spec) {
  Delivery d;
  const auto info = LookupActivity(spec.fields.value("activity", ""));
  if (info) {
    d.model = info->model;
    d.async_ok = info->async_ok;
    d.fresh_business_id = info->fresh_business_id;
  }
  d.spec = std::move(spec);
  d.next = std::chrono::steady_clock::now();
  std::uint64_t id;
  {
    std::lock_guard<std::mutex> lock(mu_);
    id = next_id_++;
    d.id = id;
    deliveries_.emplace(id, std::move(d));
    // Bounded memory: forget the oldest finished deliveries.
    for (auto it = deliveries_.begin();
         deliveries_.size() > kMaxKeptDeliveries && it != deliveries_.end();) {
      it = it->second.state == DeliveryState::kPending ? std::next(it) : deliveries_.erase(it);
    }
  }
  cv_.notify_all();
  return id;
}

std::optional<Delivery> Dispatcher::Get(std::uint64_t id) const {
  std::lock_guard<std::mutex> lock(mu_);
  const auto it = deliveries_.find(id);
  if (it == deliveries_.end()) return std::nullopt;
  return it->second;
}

std::vector<Delivery> Dispatcher::List() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<Delivery> out;
  for (const auto& [id, d] : deliveries_) out.push_back(d);
  return out;
}

void Dispatcher::Wait(const std::vector<std::uint64_t>& ids,
                      std::chrono::milliseconds timeout) const {
  std::unique_lock<std::mutex> lock(mu_);
  cv_.wait_for(lock, timeout, [&] {
    if (stop_) return true;
    for (std::uint64_t id : ids) {
      const auto it = deliveries_.find(id);
      if (it != deliveries_.end() && it->second.state == DeliveryState::kPending) return false;
    }
    return true;
  });
}

void Dispatcher::Run() {
  std::unique_lock<std::mutex> lock(mu_);
  while (!stop_) {
    // The pending delivery due first.
    Delivery* due = nullptr;
    for (auto& [id, d] : deliveries_) {
      if (d.state == DeliveryState::kPending && (due == nullptr || d.next < due->next)) due = &d;
    }
    if (due == nullptr) {
      cv_.wait(lock);
      continue;
    }
    if (due->next > std::chrono::steady_clock::now()) {
      cv_.wait_until(lock, due->next);
      continue;
    }
    const std::uint64_t id = due->id;
    const Delivery snapshot = *due;
    lock.unlock();
    Attempt attempt;
    attempt.at_ms = clock_();
    bool delivered = false;
    WireResponse response;
    if (vendor_.url.empty()) {
      attempt.error = "no vendor URL configured";
    } else {
      const WireRequest wire = PrepareAttempt(snapshot, base_target_, vendor_.key, attempt.at_ms);
      response = transport_(wire);
      delivered = Judge(snapshot, response, vendor_.key, attempt);
    }
    lock.lock();
    const auto it = deliveries_.find(id);
    if (it == deliveries_.end()) continue;
    Delivery& d = it->second;
    d.attempts.push_back(attempt);
    if (response.status != 0) d.last_reply = response.body;
    const int retries_done = static_cast<int>(d.attempts.size()) - 1;
    if (delivered) {
      d.state = DeliveryState::kDelivered;
    } else if (retries_done >= d.spec.retry.retries) {
      d.state = DeliveryState::kFailed;
    } else {
      d.next =
          std::chrono::steady_clock::now() + std::chrono::milliseconds(d.spec.retry.interval_ms);
    }
    cv_.notify_all();
  }
}

}  // namespace licagent::marketsim
