#include "server/marketsim/admin.h"

#include <algorithm>
#include <exception>

namespace licagent::marketsim {
namespace {

using nlohmann::json;

constexpr int kMaxRepeat = 1000;
constexpr int kMaxWaitMs = 120'000;

HttpReply Json(int status, const json& j) {
  HttpReply r;
  r.status = status;
  r.body = j.dump() + "\n";
  return r;
}

HttpReply Fail(int status, const std::string& error, const std::string& message) {
  HttpReply r = Json(status, {{"error", error}, {"message", message}});
  r.error_code = error;
  return r;
}

HttpReply FromError(const Error& e) {
  switch (e.code) {
    case ErrorCode::kNotFound:
      return Fail(404, "not_found", e.message);
    case ErrorCode::kRejected:
      return Fail(409, "illegal_transition", e.message);
    case ErrorCode::kInvalidArgument:
      return Fail(400, "invalid_argument", e.message);
    default:
      return Fail(500, "internal", e.message);
  }
}

bool IsLoopback(const std::string& addr) {
  return addr == "::1" || addr.rfind("127.", 0) == 0 || addr.rfind("::ffff:127.", 0) == 0;
}

std::string TestFlag(const json& body) {
  const auto it = body.find("test_flag");
  if (it == body.end()) return "0";
  return it->is_string() ? it->get<std::string>() : it->dump();
}

int IntField(const json& body, const char* name, int fallback, int lo, int hi) {
  const auto it = body.find(name);
  if (it == body.end() || !it->is_number_integer()) return fallback;
  return static_cast<int>(std::clamp<std::int64_t>(it->get<std::int64_t>(), lo, hi));
}

// An expiry from "expire_time" (yyyyMMddHHmmss) or "valid_days" counted from `from`.
std::optional<std::int64_t> Expiry(const json& body, std::int64_t from) {
  if (const auto it = body.find("expire_time"); it != body.end()) {
    if (!it->is_string()) return std::nullopt;
    return ParseTime(it->get<std::string>());
  }
  if (const auto it = body.find("valid_days"); it != body.end()) {
    if (!it->is_number_integer() || *it < 1 || *it > 36500) return std::nullopt;
    return from + it->get<std::int64_t>() * 86400;
  }
  return std::nullopt;
}

}  // namespace

json CodeJson(const Code& c, std::int64_t now, std::string_view frozen_status) {
  json j = {{"code", c.code},
            {"product_id", c.product_id},
            {"sku_code", c.sku_code},
            {"order_id", c.order_id},
            {"order_line_id", c.order_line_id},
            {"customer_id", c.customer_id},
            {"amount", c.amount},
            {"state", ToString(c.state)},
            {"status", QueryStatus(c, now, frozen_status)},
            {"order_time", FormatTime(c.ordered_at)},
            {"expire_time", FormatTime(c.expire_at)},
            {"queries", c.queries},
            {"usage", UsageJson(c)}};
  if (c.activated_at) j["activate_time"] = FormatTime(*c.activated_at);
  return j;
}

HttpReply Admin::Handle(const HttpRequest& request) {
  try {
    if (config_.admin_token.empty()) {
      if (!IsLoopback(request.remote_addr)) {
        return Fail(403, "forbidden", "admin endpoints answer loopback clients only");
      }
    } else {
      const auto it = request.headers.find("Authorization");
      const std::string expected = "Bearer " + config_.admin_token;
      if (it == request.headers.end() || !koogallery::ConstantTimeEquals(it->second, expected)) {
        return Fail(401, "unauthorized", "Authorization: Bearer <admin_token> required");
      }
    }
    return Route(request);
  } catch (const std::exception& e) {
    return Fail(500, "internal", e.what());
  }
}

HttpReply Admin::Route(const HttpRequest& request) {
  json body = json::object();
  if (request.method == "POST" && !request.body.empty()) {
    body = json::parse(request.body, nullptr, false);
    if (body.is_discarded() || !body.is_object()) {
      return Fail(400, "invalid_argument", "the body must be a JSON object");
    }
  }
  const std::string& path = request.path;
  const std::int64_t now = UnixSeconds(clock_());
  const bool get = request.method == "GET";
  const bool post = request.method == "POST";

  if (path == "/admin/health" && get) return Json(200, {{"status", "ok"}});
  if (path == "/admin/codes" && get) {
    std::lock_guard<std::mutex> lock(book_.mutex());
    json codes = json::array();
    for (const Code& c : book_.market().List()) {
      codes.push_back(CodeJson(c, now, config_.frozen_query_status));
    }
    return Json(200, {{"codes", codes}});
  }
  if (path == "/admin/codes" && post) {
    NewCode n;
    n.code = body.value("code", "");
    n.product_id = body.value("product_id", "");
    n.sku_code = body.value("sku_code", "");
    n.customer_id = body.value("customer_id", "");
    n.amount = body.value("amount", std::int64_t{1});
    n.claimed = body.value("claimed", false);
    if (!body.contains("expire_time") && !body.contains("valid_days")) body["valid_days"] = 365;
    const auto expiry = Expiry(body, now);
    if (!expiry) {
      return Fail(400, "invalid_argument", "expire_time (yyyyMMddHHmmss) or valid_days (1-36500)");
    }
    n.expire_at = *expiry;
    std::lock_guard<std::mutex> lock(book_.mutex());
    auto created = book_.market().Create(n, now);
    if (!created) return FromError(created.error());
    const Status saved = book_.SaveLocked();
    if (!saved) return FromError(saved.error());
    return Json(201, CodeJson(*created, now, config_.frozen_query_status));
  }
  constexpr std::string_view kCodes = "/admin/codes/";
  if (path.rfind(kCodes, 0) == 0) {
    const std::string rest = path.substr(kCodes.size());
    const auto slash = rest.find('/');
    const std::string code = rest.substr(0, slash);
    if (slash == std::string::npos && get) {
      std::lock_guard<std::mutex> lock(book_.mutex());
      const Code* c = book_.market().Find(code);
      if (c == nullptr) return Fail(404, "not_found", "no code " + code);
      return Json(200, CodeJson(*c, now, config_.frozen_query_status));
    }
    if (slash != std::string::npos && post) return CodeAction(code, rest.substr(slash + 1), body);
  }
  if (path == "/admin/callbacks" && post) return FireCallbacks(body);
  if (path == "/admin/callbacks" && get) {
    json list = json::array();
    for (const Delivery& d : dispatcher_.List()) list.push_back(ToJson(d));
    return Json(200, {{"deliveries", list}});
  }
  constexpr std::string_view kCallbacks = "/admin/callbacks/";
  if (path.rfind(kCallbacks, 0) == 0 && get) {
    std::uint64_t id = 0;
    try {
      id = std::stoull(path.substr(kCallbacks.size()));
    } catch (const std::exception&) {
      return Fail(404, "not_found", "no delivery " + path.substr(kCallbacks.size()));
    }
    const auto d = dispatcher_.Get(id);
    if (!d) return Fail(404, "not_found", "no delivery " + std::to_string(id));
    return Json(200, ToJson(*d));
  }
  if (path == "/admin/faults" && post) {
    const std::string code = body.value("error_code", "");
    ApiCode fault;
    if (code == "92020001") {
      fault = ApiCode::kInternalError;
    } else if (code == "92020002") {
      fault = ApiCode::kInvalidParam;
    } else {
      return Fail(400, "invalid_argument", "error_code must be 92020001 or 92020002");
    }
    api_.InjectFault(fault, IntField(body, "count", 1, 1, 1000));
    return Json(200, {{"injected", code}});
  }
  return Fail(404, "not_found", request.method + " " + path + " is not an admin endpoint");
}

HttpReply Admin::CodeAction(const std::string& code, const std::string& action, const json& body) {
  const std::int64_t now = UnixSeconds(clock_());
  const bool notify = body.value("notify", true);
  const std::string test_flag = TestFlag(body);
  std::vector<json> callbacks;
  Result<Code> changed = Error{ErrorCode::kNotFound, "no action " + action};
  {
    std::lock_guard<std::mutex> lock(book_.mutex());
    Marketplace& m = book_.market();
    if (action == "claim") {
      changed = m.Claim(code);
    } else if (action == "renew") {
      const Code* c = m.Find(code);
      if (c == nullptr) return Fail(404, "not_found", "no code " + code);
      const auto expiry = Expiry(body, std::max(now, c->expire_at));
      if (!expiry) {
        return Fail(400, "invalid_argument",
                    "expire_time (yyyyMMddHHmmss) or valid_days (1-36500)");
      }
      bool was_frozen = false;
      changed = m.Renew(code, *expiry, &was_frozen);
      if (changed) {
        const std::string order = NewOrderId(now);  // every renewal is a new order (§5.1)
        json f = {{"activity", "refreshLicenseCode"},
                  {"scene", body.value("scene", "RENEWAL")},
                  {"orderId", order},
                  {"orderLineId", order + "-000001"},
                  {"license", code},
                  {"expireTime", FormatTime(*expiry)},
                  {"testFlag", test_flag}};
        if (body.contains("product_id")) f["productId"] = body["product_id"];
        callbacks.push_back(std::move(f));
        if (was_frozen) {
          callbacks.push_back({{"activity", "updateLicenseCodeStatus"},
                               {"license", code},
                               {"status", "UNFREEZE"},
                               {"testFlag", test_flag}});
        }
      }
    } else if (action == "freeze" || action == "unfreeze") {
      changed = action == "freeze" ? m.Freeze(code) : m.Unfreeze(code);
      if (changed) {
        callbacks.push_back({{"activity", "updateLicenseCodeStatus"},
                             {"license", code},
                             {"status", action == "freeze" ? "FREEZE" : "UNFREEZE"},
                             {"testFlag", test_flag}});
      }
    } else if (action == "release") {
      changed = m.Release(code);
      if (changed) {
        json f = {{"activity", "releaseLicenseCode"}, {"license", code}, {"testFlag", test_flag}};
        if (body.value("unsubscribe", false)) {
          const std::string order = NewOrderId(now);
          f["orderId"] = order;
          f["orderLineId"] = order + "-000001";
        }
        callbacks.push_back(std::move(f));
      }
    }
    if (!changed) return FromError(changed.error());
    const Status saved = book_.SaveLocked();
    if (!saved) return FromError(saved.error());
  }
  std::vector<std::uint64_t> ids;
  if (notify) ids = Notify(std::move(callbacks), body);
  return Json(200, {{"code", CodeJson(*changed, now, config_.frozen_query_status)},
                    {"deliveries", Deliveries(ids, body)}});
}

std::vector<std::uint64_t> Admin::Notify(std::vector<json> fields, const json& body) {
  std::vector<std::uint64_t> ids;
  for (json& f : fields) {
    CallbackSpec spec;
    spec.fields = std::move(f);
    spec.retry = config_.retry.license_code;
    spec.retry.retries = IntField(body, "retries", spec.retry.retries, 0, 1000);
    spec.retry.interval_ms = IntField(body, "interval_ms", spec.retry.interval_ms, 0, 86'400'000);
    ids.push_back(dispatcher_.Enqueue(std::move(spec)));
  }
  return ids;
}

json Admin::Deliveries(const std::vector<std::uint64_t>& ids, const json& body) {
  const int wait_ms = IntField(body, "wait_ms", 0, 0, kMaxWaitMs);
  if (wait_ms > 0) dispatcher_.Wait(ids, std::chrono::milliseconds(wait_ms));
  json out = json::array();
  for (std::uint64_t id : ids) {
    const auto d = dispatcher_.Get(id);
    out.push_back(d ? ToJson(*d) : json{{"id", id}});
  }
  return out;
}

HttpReply Admin::FireCallbacks(const json& body) {
  const auto fields = body.find("fields");
  if (fields == body.end() || !fields->is_object() || !fields->contains("activity") ||
      !(*fields)["activity"].is_string()) {
    return Fail(400, "invalid_argument", "fields must be an object with an activity");
  }
  const auto info = LookupActivity((*fields)["activity"].get<std::string>());
  if (!info && !body.value("allow_unknown_activity", false)) {
    return Fail(400, "invalid_argument",
                "unknown activity (set allow_unknown_activity to send it anyway)");
  }
  const auto tamper = ParseTamper(body.value("tamper", "none"));
  if (!tamper) {
    return Fail(400, "invalid_argument",
                "tamper must be none, bad_signature, stale_timestamp or replay");
  }
  RetryPolicy retry = info ? config_.retry.*(info->retry) : config_.retry.license_code;
  retry.retries = IntField(body, "retries", retry.retries, 0, 1000);
  retry.interval_ms = IntField(body, "interval_ms", retry.interval_ms, 0, 86'400'000);
  const int repeat = IntField(body, "repeat", 1, 1, kMaxRepeat);

  CallbackSpec spec;
  spec.fields = *fields;
  spec.retry = retry;
  spec.tamper = *tamper;
  if (*tamper == Tamper::kReplay) {
    // One nonce and timestamp for every copy: byte-identical requests.
    const auto ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(clock_().time_since_epoch()).count();
    spec.fixed_nonce = NewCodeText().substr(2) + NewCodeText().substr(2);
    if (!info || info->model == CallbackModel::kSigned) {
      spec.fixed_timestamp = std::to_string(ms);
    } else {
      spec.fixed_timestamp = FormatTime(ms / 1000) + "000";
    }
    if (!spec.fields.contains("businessId") && info && info->fresh_business_id) {
      spec.fields["businessId"] = spec.fixed_nonce;
    }
  }
  std::vector<std::uint64_t> ids;
  for (int i = 0; i < repeat; ++i) ids.push_back(dispatcher_.Enqueue(spec));
  return Json(200, {{"deliveries", Deliveries(ids, body)}});
}

}  // namespace licagent::marketsim
