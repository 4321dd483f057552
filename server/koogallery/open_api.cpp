#include "server/koogallery/open_api.h"

#include <openssl/crypto.h>

#include <algorithm>
#include <charconv>
#include <exception>
#include <nlohmann/json.hpp>
#include <set>

namespace licagent::koogallery {
namespace {

using json = nlohmann::json;
using Clock = std::chrono::system_clock;

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

std::string Dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

// A member as text: strings as they are, numbers in decimal, anything else "".
std::string Text(const json& obj, std::string_view key) {
  if (!obj.is_object()) return {};
  auto it = obj.find(key);
  if (it == obj.end()) return {};
  if (it->is_string()) return it->get_ref<const std::string&>();
  if (it->is_number_integer() || it->is_number_unsigned()) return Dump(*it);
  return {};
}

bool Has(const json& obj, std::string_view key) {
  return obj.is_object() && obj.find(key) != obj.end();
}

bool AllDigits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

json Parse(std::string_view text) {
  return json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
}

void FillEnvelope(MarketAnswer& a, Operation op, int http_status, const json& j) {
  a.http_status = http_status;
  a.error_code = Text(j, "error_code");
  a.error_msg = Text(j, "error_msg");
  a.request_id = Text(j, "request_id");
  a.outcome = ClassifyResult(op, a.error_code, a.error_msg, http_status);
}

std::optional<LicenseCodeInfo> CodeInfoFromJson(const json& j, std::chrono::minutes utc_offset) {
  if (!j.is_object()) return std::nullopt;
  LicenseCodeInfo info;
  info.status_text = Text(j, "status");
  info.status = ParseCodeStatus(info.status_text);
  info.expire_time = ParseMarketTime(Text(j, "expire_time"), utc_offset);
  info.product_id = Text(j, "product_id");
  info.order_id = Text(j, "order_id");
  if (auto it = j.find("amount"); it != j.end()) {
    if (it->is_number_integer()) {
      info.amount = it->get<std::int64_t>();
    } else if (it->is_number_unsigned() && it->get<std::uint64_t>() <= INT64_MAX) {
      info.amount = static_cast<std::int64_t>(it->get<std::uint64_t>());
    } else if (it->is_string()) {
      const std::string& s = it->get_ref<const std::string&>();
      std::int64_t v = 0;
      auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
      if (ec == std::errc() && p == s.data() + s.size()) info.amount = v;
    }
  }
  return info;
}

// license_code_info is a string holding JSON; an object is tolerated.
std::optional<LicenseCodeInfo> CodeInfoMember(const json& obj, std::chrono::minutes utc_offset) {
  if (!obj.is_object()) return std::nullopt;
  auto it = obj.find("license_code_info");
  if (it == obj.end()) return std::nullopt;
  if (it->is_string()) return ParseLicenseCodeInfo(it->get_ref<const std::string&>(), utc_offset);
  return CodeInfoFromJson(*it, utc_offset);
}

LicenseInfo LicenseInfoFromJson(const json& j, std::chrono::minutes utc_offset) {
  static const std::set<std::string, std::less<>> kKnown = {
      "license_code", "license",      "status",   "activate_time",    "expire_time",
      "expireTime",   "expired_time", "end_time", "license_code_info"};
  LicenseInfo info;
  info.license_code = Text(j, "license_code");
  if (info.license_code.empty()) info.license_code = Text(j, "license");
  info.status_text = Text(j, "status");
  info.status = ParseCodeStatus(info.status_text);
  info.activate_time = ParseMarketTime(Text(j, "activate_time"), utc_offset);
  for (const char* key : {"expire_time", "expireTime", "expired_time", "end_time"}) {
    if (Has(j, key)) {
      info.expire_time = ParseMarketTime(Text(j, key), utc_offset);
      break;
    }
  }
  info.code_info = CodeInfoMember(j, utc_offset);
  if (!info.expire_time && info.code_info && !info.code_info->expire_time.raw.empty()) {
    info.expire_time = info.code_info->expire_time;
  }
  if (j.is_object()) {
    for (auto it = j.begin(); it != j.end(); ++it) {
      if (kKnown.find(it.key()) == kKnown.end()) info.unknown_fields.push_back(it.key());
    }
  }
  return info;
}

// The per-code list of a v2 answer, wherever it is.
const json* FindList(const json& data) {
  if (data.is_array()) return &data;
  if (!data.is_object()) return nullptr;
  for (const char* key : {"license_list", "licenses", "license_info_list", "results", "items",
                          "list", "license_infos"}) {
    auto it = data.find(key);
    if (it != data.end() && it->is_array()) return &*it;
  }
  return nullptr;
}

Result<std::string> CheckCode(std::string_view license) {
  if (license.empty() || license.size() > 64) {
    return Error{ErrorCode::kInvalidArgument, "an authorization code must be 1 to 64 characters"};
  }
  for (char c : license) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
      return Error{ErrorCode::kInvalidArgument, "an authorization code has a control character"};
    }
  }
  return std::string(license);
}

Status CheckCodes(const std::vector<std::string>& licenses) {
  if (licenses.empty() || licenses.size() > kMaxBatch) {
    return Error{ErrorCode::kInvalidArgument, "a batch takes 1 to 100 authorization codes"};
  }
  for (const std::string& l : licenses) {
    auto ok = CheckCode(l);
    if (!ok) return ok.error();
  }
  return Status::Ok();
}

Status CheckEffectTime(std::string_view t) {
  if (t.empty()) return Status::Ok();
  if (t.size() != 14 || !AllDigits(t) || !ParseMarketTime(t, {}).utc) {
    return Error{ErrorCode::kInvalidArgument, "real_effect_time must be yyyyMMddHHmmss (UTC)"};
  }
  return Status::Ok();
}

template <typename Answer>
Answer Guard(Operation op, int http_status, const std::function<Answer()>& parse) {
  try {
    return parse();
  } catch (const std::exception&) {  // never expected: the parsers check types first
    Answer a;
    a.http_status = http_status;
    a.outcome = ClassifyResult(op, "", "", http_status);
    return a;
  }
}

}  // namespace

const char* ToString(MarketOutcome outcome) noexcept {
  switch (outcome) {
    case MarketOutcome::kSuccess:
      return "success";
    case MarketOutcome::kAlreadyActive:
      return "already_active";
    case MarketOutcome::kInvalidState:
      return "invalid_state";
    case MarketOutcome::kNotClaimed:
      return "not_claimed";
    case MarketOutcome::kUnknownCode:
      return "unknown_code";
    case MarketOutcome::kNotActivated:
      return "not_activated";
    case MarketOutcome::kInvalidCodeInBatch:
      return "invalid_code_in_batch";
    case MarketOutcome::kInvalidRequest:
      return "invalid_request";
    case MarketOutcome::kAuthFailure:
      return "auth_failure";
    case MarketOutcome::kTransient:
      return "transient";
    case MarketOutcome::kUnknownError:
      return "unknown_error";
    case MarketOutcome::kMalformedResponse:
      return "malformed_response";
  }
  return "unknown_error";
}

bool IsRetryable(MarketOutcome outcome) noexcept {
  return outcome == MarketOutcome::kTransient || outcome == MarketOutcome::kMalformedResponse;
}

MarketOutcome ClassifyResult(Operation op, std::string_view error_code, std::string_view error_msg,
                             int http_status) {
  if (error_code.empty()) {
    return http_status >= 500 ? MarketOutcome::kTransient : MarketOutcome::kMalformedResponse;
  }
  if (error_code == "92020000") return MarketOutcome::kSuccess;
  if (error_code == "92020001") {
    const bool unauthorized = Lower(error_msg).find("unauthori") != std::string::npos ||
                              http_status == 401 || http_status == 403;
    return unauthorized ? MarketOutcome::kAuthFailure : MarketOutcome::kTransient;
  }
  if (error_code == "92020002") return MarketOutcome::kInvalidRequest;
  if (error_code == "92020003") {
    return op == Operation::kActivate ? MarketOutcome::kAlreadyActive
                                      : MarketOutcome::kInvalidState;
  }
  if (error_code == "92020004") return MarketOutcome::kNotClaimed;
  if (error_code == "92020005") return MarketOutcome::kUnknownCode;
  if (error_code == "92020011") return MarketOutcome::kNotActivated;
  if (error_code == "92020020") return MarketOutcome::kInvalidCodeInBatch;
  if (error_code == "95000001" || error_code == "95000002" || error_code == "95000003" ||
      error_code == "95000004") {
    return MarketOutcome::kInvalidRequest;
  }
  if (error_code.substr(0, 6) == "APIGW.") {
    const std::string_view n = error_code.substr(6);
    // 0301-0306: IAM/app authentication and authorisation; 0308: throttled.
    if (n == "0301" || n == "0302" || n == "0303" || n == "0304" || n == "0305" || n == "0306") {
      return MarketOutcome::kAuthFailure;
    }
    if (n == "0308") return MarketOutcome::kTransient;
    return http_status >= 500 ? MarketOutcome::kTransient : MarketOutcome::kUnknownError;
  }
  return MarketOutcome::kUnknownError;
}

CodeStatus ParseCodeStatus(std::string_view status) noexcept {
  std::string s;
  for (char c : status) s.push_back((c >= 'a' && c <= 'z') ? static_cast<char>(c - 32) : c);
  if (s == "ALIVE" || s == "NORMAL" || s == "ACTIVE") return CodeStatus::kAlive;
  if (s == "EXPIRED") return CodeStatus::kExpired;
  if (s == "RELEASED" || s == "RELEASE") return CodeStatus::kReleased;
  if (s == "FROZEN" || s == "FREEZE") return CodeStatus::kFrozen;
  return CodeStatus::kUnknown;
}

const char* ToString(CodeStatus status) noexcept {
  switch (status) {
    case CodeStatus::kAlive:
      return "alive";
    case CodeStatus::kExpired:
      return "expired";
    case CodeStatus::kReleased:
      return "released";
    case CodeStatus::kFrozen:
      return "frozen";
    case CodeStatus::kUnknown:
      return "unknown";
  }
  return "unknown";
}

MarketTime ParseMarketTime(std::string_view text, std::chrono::minutes utc_offset) {
  MarketTime t;
  t.raw = std::string(text);
  if (!AllDigits(text)) return t;
  if (text.size() == 14) {
    const std::string iso =
        std::string(text.substr(0, 8)) + "T" + std::string(text.substr(8, 6)) + "Z";
    if (auto local = ParseSdkDate(iso)) t.utc = *local - utc_offset;
  } else if (text.size() == 13 || text.size() == 10) {
    std::int64_t v = 0;
    std::from_chars(text.data(), text.data() + text.size(), v);
    // Beyond 2199 system_clock's nanoseconds would overflow: leave it unparsed.
    const std::int64_t limit = text.size() == 13 ? 7'258'118'400'000 : 7'258'118'400;
    if (v >= limit) return t;
    t.utc = text.size() == 13 ? Clock::time_point(std::chrono::milliseconds(v))
                              : Clock::time_point(std::chrono::seconds(v));
  }
  return t;
}

std::optional<LicenseCodeInfo> ParseLicenseCodeInfo(std::string_view json_text,
                                                    std::chrono::minutes utc_offset) {
  const json j = Parse(json_text);
  if (j.is_discarded()) return std::nullopt;
  return CodeInfoFromJson(j, utc_offset);
}

ActivateAnswer ParseActivateV1Response(int http_status, std::string_view body,
                                       std::chrono::minutes utc_offset) {
  return Guard<ActivateAnswer>(Operation::kActivate, http_status, [&] {
    ActivateAnswer a;
    const json j = Parse(body);
    FillEnvelope(a, Operation::kActivate, http_status, j);
    if (a.outcome == MarketOutcome::kSuccess && j.is_object()) {
      auto data = j.find("data");
      if (data != j.end()) a.info = CodeInfoMember(*data, utc_offset);
    }
    return a;
  });
}

BatchAnswer ParseBatchResponse(Operation op, int http_status, std::string_view body,
                               std::chrono::minutes utc_offset) {
  return Guard<BatchAnswer>(op, http_status, [&] {
    BatchAnswer a;
    const json j = Parse(body);
    FillEnvelope(a, op, http_status, j);
    if (!j.is_object()) return a;
    auto data = j.find("data");
    if (data == j.end()) return a;
    const json* list = FindList(*data);
    if (list == nullptr) return a;
    for (const json& e : *list) {
      BatchEntry entry;
      if (e.is_string()) {
        entry.license = e.get_ref<const std::string&>();
        a.entries.push_back(std::move(entry));
        continue;
      }
      if (!e.is_object()) continue;
      entry.license = Text(e, "license");
      if (entry.license.empty()) entry.license = Text(e, "license_code");
      entry.error_code = Text(e, "error_code");
      entry.error_msg = Text(e, "error_msg");
      entry.code_info = CodeInfoMember(e, utc_offset);
      if (Has(e, "status") || Has(e, "license_code"))
        entry.info = LicenseInfoFromJson(e, utc_offset);
      a.entries.push_back(std::move(entry));
    }
    return a;
  });
}

QueryAnswer ParseQueryV1Response(int http_status, std::string_view body,
                                 std::chrono::minutes utc_offset) {
  return Guard<QueryAnswer>(Operation::kQuery, http_status, [&] {
    QueryAnswer a;
    const json j = Parse(body);
    FillEnvelope(a, Operation::kQuery, http_status, j);
    if (a.outcome == MarketOutcome::kSuccess && j.is_object()) {
      auto data = j.find("data");
      if (data != j.end() && data->is_object()) a.info = LicenseInfoFromJson(*data, utc_offset);
    }
    return a;
  });
}

UsageAnswer ParseUsageResponse(int http_status, std::string_view body) {
  return Guard<UsageAnswer>(Operation::kUsage, http_status, [&] {
    UsageAnswer a;
    const json j = Parse(body);
    FillEnvelope(a, Operation::kUsage, http_status, j);
    if (!j.is_object()) return a;
    auto data = j.find("data");
    if (data == j.end() || !data->is_object()) return a;
    for (auto it = data->begin(); it != data->end(); ++it) {
      if (it.key().rfind("check_fail", 0) != 0 || !it->is_array()) continue;
      for (const json& e : *it) {
        if (e.is_string()) {
          a.failed_licenses.push_back(e.get_ref<const std::string&>());
        } else if (e.is_object()) {
          std::string l = Text(e, "license");
          if (l.empty()) l = Text(e, "license_code");
          if (!l.empty()) a.failed_licenses.push_back(std::move(l));
        }
      }
    }
    return a;
  });
}

// ---------------------------------------------------------------------------------------------

Result<std::string> BuildActivateV1Body(std::string_view license,
                                        std::string_view real_effect_time) {
  auto code = CheckCode(license);
  if (!code) return code.error();
  LICAGENT_RETURN_IF_ERROR(CheckEffectTime(real_effect_time));
  json j = {{"license", *code}};
  if (!real_effect_time.empty()) j["real_effect_time"] = std::string(real_effect_time);
  return Dump(j);
}

Result<std::string> BuildActivateV2Body(const std::vector<std::string>& licenses,
                                        std::string_view real_effect_time) {
  LICAGENT_RETURN_IF_ERROR(CheckCodes(licenses));
  LICAGENT_RETURN_IF_ERROR(CheckEffectTime(real_effect_time));
  json j = {{"license_list", licenses}};
  if (!real_effect_time.empty()) j["real_effect_time"] = std::string(real_effect_time);
  return Dump(j);
}

Result<std::string> BuildQueryV1Body(std::string_view license,
                                     const std::optional<HeartbeatInfo>& heartbeat) {
  auto code = CheckCode(license);
  if (!code) return code.error();
  json j = {{"license", *code}};
  if (heartbeat) {
    if (heartbeat->third_party_account.empty() || heartbeat->third_party_account.size() > 256 ||
        heartbeat->ip.size() > 32) {
      return Error{ErrorCode::kInvalidArgument,
                   "heartbeatInfo needs a thirdPartyAccount of 1-256 characters and an ip of at "
                   "most 32"};
    }
    json hb = {{"thirdPartyAccount", heartbeat->third_party_account}};
    if (!heartbeat->ip.empty()) hb["ip"] = heartbeat->ip;
    j["heartbeatInfo"] = hb;
  }
  return Dump(j);
}

Result<std::string> BuildQueryV2Body(const std::vector<std::string>& licenses) {
  LICAGENT_RETURN_IF_ERROR(CheckCodes(licenses));
  return Dump(json{{"license_list", licenses}});
}

Result<std::string> BuildUsageBody(const std::vector<UsageReport>& reports) {
  if (reports.empty() || reports.size() > kMaxBatch) {
    return Error{ErrorCode::kInvalidArgument, "usage_info takes 1 to 100 reports"};
  }
  json list = json::array();
  for (const UsageReport& r : reports) {
    auto code = CheckCode(r.license);
    if (!code) return code.error();
    if (r.usage.empty() || r.usage.size() > kMaxBatch) {
      return Error{ErrorCode::kInvalidArgument,
                   "software_usage_Info takes 1 to 100 entries per code"};
    }
    json usage = json::array();
    for (const SoftwareUsage& u : r.usage) {
      if (u.id.has_value() == u.active_num.has_value()) {
        return Error{ErrorCode::kInvalidArgument,
                     "each usage entry needs exactly one of id and active_num"};
      }
      if (u.id && (u.id->empty() || u.id->size() > 256)) {
        return Error{ErrorCode::kInvalidArgument, "a usage id must be 1 to 256 characters"};
      }
      if (u.active_num && (*u.active_num < 0 || *u.active_num > 999'999'999)) {
        return Error{ErrorCode::kInvalidArgument, "active_num must be 0 to 999999999"};
      }
      usage.push_back(u.id ? json{{"id", *u.id}} : json{{"active_num", *u.active_num}});
    }
    // The marketplace's key really has a capital I.
    list.push_back({{"license", *code}, {"software_usage_Info", usage}});
  }
  return Dump(json{{"usage_info", list}});
}

// ---------------------------------------------------------------------------------------------

OpenApiClient::OpenApiClient(OpenApiConfig config, Transport& transport)
    : config_(std::move(config)), transport_(transport) {}

OpenApiClient::~OpenApiClient() {
  if (!config_.secret_key.empty()) {
    OPENSSL_cleanse(config_.secret_key.data(), config_.secret_key.size());
  }
}

Result<HttpRequest> OpenApiClient::BuildRequest(std::string_view host, std::string_view path,
                                                std::string_view body) const {
  HttpRequest req;
  req.method = "POST";
  req.url = "https://" + std::string(host) + std::string(path);
  req.body = std::string(body);
  const std::string date = FormatSdkDate(config_.clock());
  ApiSignInput in;
  in.method = req.method;
  in.url = req.url;
  in.headers = {{"Content-Type", "application/json"}};
  in.body = req.body;
  in.sdk_date = date;
  in.access_key = config_.access_key;
  in.secret_key = config_.secret_key;
  auto sig = SignApiRequest(in);
  if (!sig) return sig.error();
  req.headers = std::move(sig->headers);
  return req;
}

Result<HttpResponse> OpenApiClient::Post(std::string_view path, const std::string& body) {
  if (config_.hosts.empty()) {
    return Error{ErrorCode::kInvalidArgument, "no marketplace host configured"};
  }
  Error last{ErrorCode::kUnavailable, "no marketplace host answered"};
  for (std::size_t i = 0; i < config_.hosts.size(); ++i) {
    auto req = BuildRequest(config_.hosts[i], path, body);  // re-signed: Host is signed
    if (!req) return req.error();
    auto resp = transport_.Send(*req);
    if (!resp) {
      last = resp.error();
      if (last.code != ErrorCode::kUnavailable) return last;  // e.g. kUntrusted: do not retry
      continue;
    }
    const bool gateway_down = (resp->status == 502 || resp->status == 503 || resp->status == 504) &&
                              Text(Parse(resp->body), "error_code").empty();
    if (gateway_down && i + 1 < config_.hosts.size()) continue;
    return resp;
  }
  return last;
}

Result<ActivateAnswer> OpenApiClient::ActivateV1(std::string_view license,
                                                 std::string_view real_effect_time) {
  auto body = BuildActivateV1Body(license, real_effect_time);
  if (!body) return body.error();
  auto resp = Post(kActivateV1Path, *body);
  if (!resp) return resp.error();
  return ParseActivateV1Response(resp->status, resp->body, config_.utc_offset);
}

Result<BatchAnswer> OpenApiClient::ActivateV2(const std::vector<std::string>& licenses,
                                              std::string_view real_effect_time) {
  auto body = BuildActivateV2Body(licenses, real_effect_time);
  if (!body) return body.error();
  auto resp = Post(kActivateV2Path, *body);
  if (!resp) return resp.error();
  return ParseBatchResponse(Operation::kActivate, resp->status, resp->body, config_.utc_offset);
}

Result<QueryAnswer> OpenApiClient::QueryV1(std::string_view license,
                                           const std::optional<HeartbeatInfo>& heartbeat) {
  auto body = BuildQueryV1Body(license, heartbeat);
  if (!body) return body.error();
  auto resp = Post(kQueryV1Path, *body);
  if (!resp) return resp.error();
  return ParseQueryV1Response(resp->status, resp->body, config_.utc_offset);
}

Result<BatchAnswer> OpenApiClient::QueryV2(const std::vector<std::string>& licenses) {
  auto body = BuildQueryV2Body(licenses);
  if (!body) return body.error();
  auto resp = Post(kQueryV2Path, *body);
  if (!resp) return resp.error();
  return ParseBatchResponse(Operation::kQuery, resp->status, resp->body, config_.utc_offset);
}

Result<UsageAnswer> OpenApiClient::ReportUsage(const std::vector<UsageReport>& reports) {
  auto body = BuildUsageBody(reports);
  if (!body) return body.error();
  auto resp = Post(kUsagePath, *body);
  if (!resp) return resp.error();
  return ParseUsageResponse(resp->status, resp->body);
}

}  // namespace licagent::koogallery
