// Callback parsing and answers (reference/koogallery.md §5-§7). Field tables: the "M" rows of
// §5.1-§5.3, §6.1-§6.5 and §7.1-§7.4, with their maximum lengths.
#include "server/koogallery/callbacks.h"

#include <array>
#include <cctype>
#include <nlohmann/json.hpp>

#include "server/koogallery/open_api.h"

namespace licagent::koogallery {
namespace {

using nlohmann::json;

struct FieldRule {
  const char* name;
  std::size_t max;
  bool required;
};

struct ActivityRule {
  Activity activity;
  const char* name;
  CallbackModel model;
  std::vector<FieldRule> fields;
};

const std::vector<ActivityRule>& Rules() {
  static const std::vector<ActivityRule> rules = {
      {Activity::kRefreshLicenseCode,
       "refreshLicenseCode",
       CallbackModel::kLicenseCode,
       {{"scene", 64, true},
        {"orderId", 64, true},
        {"orderLineId", 64, true},
        {"license", 64, true},
        {"productId", 64, false},
        {"expireTime", 20, true}}},
      {Activity::kUpdateLicenseCodeStatus,
       "updateLicenseCodeStatus",
       CallbackModel::kLicenseCode,
       {{"license", 64, true}, {"status", 32, true}}},
      {Activity::kReleaseLicenseCode,
       "releaseLicenseCode",
       CallbackModel::kLicenseCode,
       {{"license", 64, true}, {"orderId", 64, false}, {"orderLineId", 64, false}}},
      {Activity::kNewInstance,
       "newInstance",
       CallbackModel::kInstance,
       {{"orderId", 64, true}, {"orderLineId", 64, true}, {"businessId", 64, true}}},
      {Activity::kRefreshInstance,
       "refreshInstance",
       CallbackModel::kInstance,
       {{"scene", 64, true},
        {"orderId", 64, true},
        {"orderLineId", 64, true},
        {"instanceId", 64, true},
        {"productId", 64, false},
        {"expireTime", 20, true}}},
      {Activity::kUpdateInstanceStatus,
       "updateInstanceStatus",
       CallbackModel::kInstance,
       {{"instanceId", 64, true}, {"status", 32, true}}},
      {Activity::kReleaseInstance,
       "releaseInstance",
       CallbackModel::kInstance,
       {{"instanceId", 64, true}, {"orderId", 64, false}, {"orderLineId", 64, false}}},
      {Activity::kGetLicenseAsync,
       "getLicenseAsync",
       CallbackModel::kInstance,
       {{"instanceId", 64, true},
        {"effectiveTime", 32, true},
        {"expireTime", 32, false},
        {"eventId", 64, true},
        {"deviceFingerprint", 1024, false}}},
      {Activity::kGetLicense,
       "getLicense",
       CallbackModel::kLegacy,
       {{"customerId", 100, true},
        {"customerName", 64, false},
        {"businessId", 64, true},
        {"orderId", 64, true},
        {"skuCode", 64, false},
        {"productId", 64, true},
        {"expireTime", 20, false},
        {"periodType", 10, false},
        {"amount", 10, false}}},
      {Activity::kRefreshLicense,
       "refreshLicense",
       CallbackModel::kLegacy,
       {{"orderId", 64, true},
        {"instanceId", 64, true},
        {"productId", 64, false},
        {"expireTime", 20, true},
        {"periodType", 10, false},
        {"periodNumber", 10, false}}},
      {Activity::kExpireLicense,
       "expireLicense",
       CallbackModel::kLegacy,
       {{"orderId", 64, false}, {"instanceId", 64, true}}},
      {Activity::kReleaseLicense,
       "releaseLicense",
       CallbackModel::kLegacy,
       {{"orderId", 64, false}, {"instanceId", 64, true}}},
  };
  return rules;
}

const ActivityRule* FindRule(Activity activity) {
  for (const ActivityRule& r : Rules()) {
    if (r.activity == activity) return &r;
  }
  return nullptr;
}

Error Bad(std::string message) { return Error{ErrorCode::kInvalidArgument, std::move(message)}; }

// yyyyMMddHHmmss, also with milliseconds appended (17 digits, seen in a §6.2 example) and with
// separators ("2023-10-27 10:30:15 z", §6.5): the first 14 digits. 13-digit epoch milliseconds
// and 10-digit seconds go to ParseMarketTime as they are.
std::optional<std::chrono::system_clock::time_point> ParseTime(const std::string& text,
                                                               std::chrono::minutes utc_offset) {
  std::string digits;
  bool separators = false;
  for (char c : text) {
    if (std::isdigit(static_cast<unsigned char>(c)) != 0) {
      digits += c;
    } else {
      separators = true;
    }
  }
  std::string candidate = text;
  if ((separators && digits.size() >= 14) || digits.size() == 17) candidate = digits.substr(0, 14);
  return ParseMarketTime(candidate, utc_offset).utc;
}

Result<CallbackEvent> Validate(CallbackEvent event, std::chrono::minutes utc_offset) {
  const ActivityRule* rule = FindRule(event.activity);
  for (const FieldRule& f : rule->fields) {
    const auto it = event.fields.find(f.name);
    if (it == event.fields.end() || it->second.empty()) {
      if (f.required) return Bad(std::string(f.name) + " is missing");
      continue;
    }
    if (it->second.size() > f.max) {
      return Bad(std::string(f.name) + " is longer than " + std::to_string(f.max) + " characters");
    }
  }
  const std::string& flag = event.Field("testFlag");
  if (flag == "1" || flag == "true") {
    event.test = true;
  } else if (!flag.empty() && flag != "0" && flag != "false") {
    return Bad("testFlag must be 0 or 1");
  }
  if (event.activity == Activity::kUpdateLicenseCodeStatus ||
      event.activity == Activity::kUpdateInstanceStatus) {
    const std::string& status = event.Field("status");
    if (status != "FREEZE" && status != "UNFREEZE") return Bad("status must be FREEZE or UNFREEZE");
  }
  if (const std::string& t = event.Field("expireTime"); !t.empty()) {
    event.expire_time = ParseTime(t, utc_offset);
    if (!event.expire_time) return Bad("expireTime is not yyyyMMddHHmmss");
  }
  if (const std::string& t = event.Field("effectiveTime"); !t.empty()) {
    event.effective_time = ParseTime(t, utc_offset);
    if (!event.effective_time) return Bad("effectiveTime is not a time");
  }
  if (const std::string& amount = event.Field("amount"); !amount.empty()) {
    if (amount.find_first_not_of("0123456789") != std::string::npos) {
      return Bad("amount must be a whole number");
    }
  }
  return event;
}

void AppendPart(std::string& out, std::string_view part) {
  out += std::to_string(part.size());
  out += ':';
  out += part;
}

}  // namespace

std::optional<Activity> ParseActivity(std::string_view name) {
  for (const ActivityRule& r : Rules()) {
    if (name == r.name) return r.activity;
  }
  return std::nullopt;
}

const char* ToString(Activity activity) noexcept {
  const ActivityRule* r = FindRule(activity);
  return r == nullptr ? "unknown" : r->name;
}

CallbackModel ModelOf(Activity activity) noexcept {
  const ActivityRule* r = FindRule(activity);
  return r == nullptr ? CallbackModel::kLicenseCode : r->model;
}

const std::string& CallbackEvent::Field(const std::string& name) const {
  static const std::string kEmpty;
  const auto it = fields.find(name);
  return it == fields.end() ? kEmpty : it->second;
}

Result<CallbackEvent> ParseCallbackBody(std::string_view body, std::chrono::minutes utc_offset) {
  if (body.size() > kMaxCallbackBody) {
    return Bad("the body is longer than " + std::to_string(kMaxCallbackBody) + " bytes");
  }
  const json j = json::parse(body, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return Bad("the body is not a JSON object");
  CallbackEvent event;
  for (const auto& [name, value] : j.items()) {
    if (value.is_null()) continue;
    if (value.is_string()) {
      event.fields[name] = value.get<std::string>();
    } else if (value.is_number_integer() || value.is_number_unsigned() || value.is_boolean()) {
      event.fields[name] = value.dump();
    } else {
      return Bad(name + " must be a string");
    }
  }
  const auto activity_it = event.fields.find("activity");
  if (activity_it == event.fields.end()) return Bad("activity is missing");
  const auto activity = ParseActivity(activity_it->second);
  if (!activity || ModelOf(*activity) == CallbackModel::kLegacy) {
    return Bad("unknown activity '" + activity_it->second.substr(0, 64) + "'");
  }
  event.activity = *activity;
  return Validate(std::move(event), utc_offset);
}

Result<CallbackEvent> ParseLegacyCallback(const QueryParams& params,
                                          std::chrono::minutes utc_offset) {
  CallbackEvent event;
  std::size_t total = 0;
  for (const auto& [name, value] : params) {
    total += name.size() + value.size();
    if (name == "authToken" || name == "timeStamp") continue;
    if (!event.fields.emplace(name, value).second) return Bad(name + " is given twice");
  }
  if (total > kMaxCallbackBody) {
    return Bad("the parameters are longer than " + std::to_string(kMaxCallbackBody) + " bytes");
  }
  const auto activity_it = event.fields.find("activity");
  if (activity_it == event.fields.end()) return Bad("activity is missing");
  const auto activity = ParseActivity(activity_it->second);
  if (!activity || ModelOf(*activity) != CallbackModel::kLegacy) {
    return Bad("unknown activity '" + activity_it->second.substr(0, 64) + "'");
  }
  event.activity = *activity;
  return Validate(std::move(event), utc_offset);
}

std::optional<std::string> IdempotencyKey(const CallbackEvent& event) {
  std::vector<const char*> names;
  switch (event.activity) {
    case Activity::kRefreshLicenseCode:
      names = {"license", "orderId", "orderLineId"};
      break;
    case Activity::kNewInstance:
      names = {"orderId", "orderLineId"};
      break;
    case Activity::kRefreshInstance:
      names = {"instanceId", "orderId", "orderLineId"};
      break;
    case Activity::kGetLicenseAsync:
      names = {"instanceId", "eventId", "deviceFingerprint"};
      break;
    case Activity::kGetLicense:
      names = {"orderId"};
      break;
    case Activity::kRefreshLicense:
      names = {"instanceId", "orderId"};
      break;
    case Activity::kUpdateLicenseCodeStatus:
    case Activity::kReleaseLicenseCode:
    case Activity::kUpdateInstanceStatus:
    case Activity::kReleaseInstance:
    case Activity::kExpireLicense:
    case Activity::kReleaseLicense:
      return std::nullopt;
  }
  // Length-prefixed parts: no two different field sets give the same text.
  std::string text;
  AppendPart(text, ToString(event.activity));
  AppendPart(text, event.test ? "test" : "real");
  for (const char* name : names) AppendPart(text, event.Field(name));
  return Sha256Hex(text);
}

std::string CallbackAnswer(std::string_view result_code, std::string_view message,
                           const std::vector<std::pair<std::string, std::string>>& extra) {
  // nlohmann's object sorts keys; the documented examples lead with resultCode, so build the
  // text in order from individually serialised strings. Messages may quote input: bytes that are
  // not UTF-8 become U+FFFD rather than an exception.
  const auto text = [](std::string_view s) {
    return json(std::string(s)).dump(-1, ' ', false, json::error_handler_t::replace);
  };
  std::string out = "{\"resultCode\":" + text(result_code) + ",\"resultMsg\":" + text(message);
  for (const auto& [name, value] : extra) out += "," + text(name) + ":" + text(value);
  out += "}";
  return out;
}

std::string AnswerResultCode(std::string_view answer) {
  const json j = json::parse(answer, nullptr, false);
  if (!j.is_object()) return {};
  const auto it = j.find("resultCode");
  if (it == j.end() || !it->is_string()) return {};
  return it->get<std::string>();
}

}  // namespace licagent::koogallery
