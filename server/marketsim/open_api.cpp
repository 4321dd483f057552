#include "server/marketsim/open_api.h"

#include <openssl/rand.h>

#include <exception>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>

namespace licagent::marketsim {
namespace {

using nlohmann::json;

constexpr std::size_t kMaxCodeLength = 64;
constexpr std::size_t kMaxBatch = 100;

std::string RequestId() {
  unsigned char b[16];
  if (RAND_bytes(b, sizeof b) != 1) return "0";
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned char c : b) {
    out += kHex[c >> 4];
    out += kHex[c & 15];
  }
  return out;
}

HttpReply WithData(ApiCode code, const json& data) { return ApiReply(code, data.dump()); }

// A code string as the API takes it: non-empty, at most 64 characters.
bool CodeParam(const json& v, std::string& out) {
  if (!v.is_string()) return false;
  out = v.get<std::string>();
  return !out.empty() && out.size() <= kMaxCodeLength;
}

// "license_list": 1-100 code strings.
bool CodeList(const json& body, std::vector<std::string>& out) {
  const auto it = body.find("license_list");
  if (it == body.end() || !it->is_array() || it->empty() || it->size() > kMaxBatch) return false;
  for (const json& v : *it) {
    std::string code;
    if (!CodeParam(v, code)) return false;
    out.push_back(std::move(code));
  }
  return true;
}

bool ProductAllowed(const Credential& credential, const Code& code) {
  if (credential.products.empty()) return true;
  for (const std::string& p : credential.products) {
    if (p == code.product_id) return true;
  }
  return false;
}

// The JSON document activate returns as a string (§4.1).
std::string LicenseCodeInfo(const Code& c, std::int64_t now, const Config& config) {
  return json{{"status", QueryStatus(c, now, config.frozen_query_status)},
              {"expire_time", FormatTime(c.expire_at)},
              {"product_id", c.product_id},
              {"order_id", c.order_id},
              {"amount", c.amount}}
      .dump();
}

// LicenseInfo of the query API (§4.2): the documented fields, then the ones the reference
// infers (expiry, product, order, amount). Clients must tolerate more.
json LicenseInfo(const Code& c, std::int64_t now, const Config& config) {
  json j = {{"license_code", c.code},
            {"status", QueryStatus(c, now, config.frozen_query_status)},
            {"activate_time", c.activated_at ? FormatTime(*c.activated_at) : ""},
            {"expire_time", FormatTime(c.expire_at)},
            {"product_id", c.product_id},
            {"order_id", c.order_id},
            {"amount", c.amount}};
  if (!c.sku_code.empty()) j["sku_code"] = c.sku_code;
  return j;
}

json Invalid(const std::string& code, ApiCode why) {
  return json{
      {"license", code}, {"error_code", Info(why).error_code}, {"error_msg", Info(why).error_msg}};
}

}  // namespace

HttpReply ApiReply(ApiCode code, const std::string& data_json) {
  const ApiCodeInfo info = Info(code);
  HttpReply r;
  r.status = info.http_status;
  r.error_code = info.error_code;
  json j = {{"error_code", info.error_code}, {"error_msg", info.error_msg}};
  if (code == ApiCode::kGatewayNoApi) j["request_id"] = RequestId();
  r.body = j.dump();
  if (!data_json.empty()) {
    r.body.pop_back();  // '}'
    r.body += ",\"data\":" + data_json + "}";
  }
  return r;
}

void OpenApi::InjectFault(ApiCode code, int count) {
  std::lock_guard<std::mutex> lock(faults_mu_);
  for (int i = 0; i < count; ++i) faults_.push_back(code);
}

HttpReply OpenApi::Handle(const HttpRequest& request) {
  try {
    std::string path = request.path;
    if (path.size() > 1 && path.back() == '/') path.pop_back();
    if (path != kActivateV1Path && path != kActivateV2Path && path != kHeartbeatV1Path &&
        path != kHeartbeatV2Path && path != kUsagePath) {
      return ApiReply(ApiCode::kGatewayNoApi);
    }
    // The gateway first: SDK-HMAC-SHA256 against the configured AK/SK pairs.
    koogallery::IncomingApiRequest incoming{request.method, request.path, request.raw_query,
                                            request.headers, request.body};
    koogallery::ApiVerifyOptions options;
    options.clock_window = std::chrono::seconds(config_.clock_window_seconds);
    const auto lookup = [this](std::string_view ak) -> std::optional<std::string> {
      const Credential* c = config_.FindCredential(ak);
      if (c == nullptr) return std::nullopt;
      return c->secret_key;
    };
    const auto auth = koogallery::VerifyApiRequest(incoming, lookup, clock_(), options);
    if (!auth) {
      HttpReply r;
      r.status = koogallery::ApigwHttpStatus(auth.error);
      r.error_code = std::string(koogallery::ApigwErrorCode(auth.error));
      r.body = koogallery::ApigwErrorBody(auth.error, RequestId());
      return r;
    }
    {
      std::lock_guard<std::mutex> lock(faults_mu_);
      if (!faults_.empty()) {
        const ApiCode fault = faults_.front();
        faults_.erase(faults_.begin());
        return ApiReply(fault);
      }
    }
    return Serve(request, *config_.FindCredential(auth.access_key));
  } catch (const std::exception&) {
    return ApiReply(ApiCode::kInternalError);
  }
}

HttpReply OpenApi::Serve(const HttpRequest& request, const Credential& credential) {
  if (request.method != "POST") return ApiReply(ApiCode::kMethodNotSupported);
  const auto ct = request.headers.find("Content-Type");
  if (ct == request.headers.end() || ct->second.rfind("application/json", 0) != 0) {
    return ApiReply(ApiCode::kContentType);
  }
  const json body = json::parse(request.body, nullptr, false);
  if (body.is_discarded()) return ApiReply(ApiCode::kNotReadable);
  if (!body.is_object()) return ApiReply(ApiCode::kReqParamInvalid);

  std::string path = request.path;
  if (path.size() > 1 && path.back() == '/') path.pop_back();
  const std::int64_t now = UnixSeconds(clock_());

  // real_effect_time (activate): optional yyyyMMddHHmmss, not before the order.
  std::optional<std::int64_t> effect;
  if (path == kActivateV1Path || path == kActivateV2Path) {
    if (const auto it = body.find("real_effect_time"); it != body.end() && !it->is_null()) {
      if (!it->is_string() || it->get<std::string>().size() > 16) {
        return ApiReply(ApiCode::kReqParamInvalid);
      }
      effect = ParseTime(it->get<std::string>());
      if (!effect) return ApiReply(ApiCode::kInvalidParam);
    }
  }

  std::lock_guard<std::mutex> lock(book_.mutex());
  Marketplace& market = book_.market();
  const auto unauthorized = [&](const std::string& code) {
    const Code* c = market.Find(code);
    return c != nullptr && !ProductAllowed(credential, *c);
  };
  const auto effect_too_early = [&](const std::string& code) {
    const Code* c = market.Find(code);
    return effect && c != nullptr && *effect < c->ordered_at;
  };
  const auto saved = [&](HttpReply reply) {
    const Status s = book_.SaveLocked();
    if (!s) return ApiReply(ApiCode::kInternalError);
    return reply;
  };

  if (path == kActivateV1Path) {
    std::string code;
    const auto it = body.find("license");
    if (it == body.end() || !CodeParam(*it, code)) return ApiReply(ApiCode::kReqParamInvalid);
    if (unauthorized(code)) return ApiReply(ApiCode::kUnauthorized);
    if (effect_too_early(code)) return ApiReply(ApiCode::kInvalidParam);
    const ApiOutcome out = market.Activate(code, now);
    if (out.result != ApiCode::kSuccess) return ApiReply(out.result);
    return saved(WithData(ApiCode::kSuccess,
                          {{"license_code_info", LicenseCodeInfo(*out.code, now, config_)}}));
  }

  if (path == kActivateV2Path) {
    std::vector<std::string> codes;
    if (!CodeList(body, codes)) return ApiReply(ApiCode::kReqParamInvalid);
    // All or nothing [INFERENCE]: one invalid code and none is activated.
    json invalid = json::array();
    std::set<std::string> seen;
    for (const std::string& code : codes) {
      if (unauthorized(code)) return ApiReply(ApiCode::kUnauthorized);
      if (effect_too_early(code)) return ApiReply(ApiCode::kInvalidParam);
      ApiCode why = market.CanActivate(code, now);
      if (why == ApiCode::kSuccess && !seen.insert(code).second) why = ApiCode::kIllegalState;
      if (why != ApiCode::kSuccess) invalid.push_back(Invalid(code, why));
    }
    if (!invalid.empty()) {
      return WithData(ApiCode::kInvalidCodeExists, {{"invalid_license_list", invalid}});
    }
    json list = json::array();
    for (const std::string& code : codes) {
      const ApiOutcome out = market.Activate(code, now);
      list.push_back(
          {{"license", code}, {"license_code_info", LicenseCodeInfo(*out.code, now, config_)}});
    }
    return saved(WithData(ApiCode::kSuccess, {{"license_list", list}}));
  }

  if (path == kHeartbeatV1Path) {
    std::string code;
    const auto it = body.find("license");
    if (it == body.end() || !CodeParam(*it, code)) return ApiReply(ApiCode::kReqParamInvalid);
    std::optional<std::string> account;
    if (const auto hb = body.find("heartbeatInfo"); hb != body.end() && !hb->is_null()) {
      // Sunset, still validated when present (§4.2).
      const auto acc = hb->is_object() ? hb->find("thirdPartyAccount") : hb->end();
      if (!hb->is_object() || acc == hb->end() || !acc->is_string() ||
          acc->get<std::string>().empty() || acc->get<std::string>().size() > 256) {
        return ApiReply(ApiCode::kInvalidParam);
      }
      account = acc->get<std::string>();
    }
    if (unauthorized(code)) return ApiReply(ApiCode::kUnauthorized);
    const ApiOutcome out = market.Query(code, now);
    if (out.result != ApiCode::kSuccess) return ApiReply(out.result);
    const json info = LicenseInfo(*out.code, now, config_);
    if (account) (void)market.ReportUsage(code, account, std::nullopt, now);
    return saved(WithData(ApiCode::kSuccess, info));
  }

  if (path == kHeartbeatV2Path) {
    std::vector<std::string> codes;
    if (!CodeList(body, codes)) return ApiReply(ApiCode::kReqParamInvalid);
    json infos = json::array();
    json invalid = json::array();
    for (const std::string& code : codes) {
      if (unauthorized(code)) return ApiReply(ApiCode::kUnauthorized);
      const ApiOutcome out = market.Query(code, now);
      if (out.result == ApiCode::kSuccess) {
        infos.push_back(LicenseInfo(*out.code, now, config_));
      } else {
        invalid.push_back(Invalid(code, out.result));
      }
    }
    json data = {{"license_info_list", infos}};
    if (!invalid.empty()) data["invalid_license_list"] = invalid;
    return saved(WithData(invalid.empty() ? ApiCode::kSuccess : ApiCode::kInvalidCodeExists, data));
  }

  // software-usage-info (§4.3): exactly one of id / active_num per entry.
  const auto usage = body.find("usage_info");
  if (usage == body.end() || !usage->is_array() || usage->empty() || usage->size() > kMaxBatch) {
    return ApiReply(ApiCode::kReqParamInvalid);
  }
  struct Report {
    std::string code;
    std::optional<std::string> id;
    std::optional<std::int64_t> active_num;
  };
  std::vector<Report> reports;
  for (const json& u : *usage) {
    std::string code;
    if (!u.is_object() || !u.contains("license") || !CodeParam(u["license"], code)) {
      return ApiReply(ApiCode::kReqParamInvalid);
    }
    const auto infos = u.find("software_usage_Info");  // sic: capital I (§4.3)
    if (infos == u.end() || !infos->is_array() || infos->empty() || infos->size() > kMaxBatch) {
      return ApiReply(ApiCode::kReqParamInvalid);
    }
    for (const json& i : *infos) {
      if (!i.is_object()) return ApiReply(ApiCode::kReqParamInvalid);
      const auto id = i.find("id");
      const auto num = i.find("active_num");
      const bool has_id = id != i.end() && !id->is_null();
      const bool has_num = num != i.end() && !num->is_null();
      if (has_id == has_num) return ApiReply(ApiCode::kInvalidParam);
      Report r{code, std::nullopt, std::nullopt};
      if (has_id) {
        if (!id->is_string() || id->get<std::string>().empty() ||
            id->get<std::string>().size() > 256) {
          return ApiReply(ApiCode::kReqParamInvalid);
        }
        r.id = id->get<std::string>();
      } else {
        if (!num->is_number_integer() || num->get<std::int64_t>() < 0 ||
            num->get<std::int64_t>() > 999999999) {
          return ApiReply(ApiCode::kReqParamInvalid);
        }
        r.active_num = num->get<std::int64_t>();
      }
      reports.push_back(std::move(r));
    }
  }
  json failed = json::array();
  std::set<std::string> failed_codes;
  for (const Report& r : reports) {
    if (unauthorized(r.code)) return ApiReply(ApiCode::kUnauthorized);
    const ApiCode result = market.ReportUsage(r.code, r.id, r.active_num, now);
    if (result != ApiCode::kSuccess && failed_codes.insert(r.code).second) {
      failed.push_back(Invalid(r.code, result));
    }
  }
  // The response's data.check_fail_… field is unpublished (§4.3): this name is ours.
  return saved(WithData(ApiCode::kSuccess, {{"check_fail_license_list", failed}}));
}

}  // namespace licagent::marketsim
