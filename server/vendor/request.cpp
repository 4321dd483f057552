// Offline request files: strict JSON, in the same spirit as the license payload parser.
#include "server/vendor/request.h"

#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

namespace licagent::vendor {
namespace {

using nlohmann::json;

Error Corrupt(std::string message) {
  return Error{ErrorCode::kCorrupt, "request: " + std::move(message)};
}

// nlohmann::json keeps the last of duplicate keys; a request must have none.
Result<json> ParseRejectingDuplicates(std::string_view text) {
  std::vector<std::set<std::string>> keys;
  std::string duplicate;
  json::parser_callback_t cb = [&](int /*depth*/, json::parse_event_t event, json& parsed) {
    if (event == json::parse_event_t::object_start) {
      keys.emplace_back();
    } else if (event == json::parse_event_t::object_end) {
      if (!keys.empty()) keys.pop_back();
    } else if (event == json::parse_event_t::key && !keys.empty()) {
      if (!keys.back().insert(parsed.get<std::string>()).second && duplicate.empty()) {
        duplicate = parsed.get<std::string>();
      }
    }
    return true;
  };
  json j = json::parse(text.begin(), text.end(), cb, /*allow_exceptions=*/false);
  if (j.is_discarded()) return Corrupt("not valid JSON");
  if (!duplicate.empty()) return Corrupt("duplicate field " + duplicate);
  return j;
}

Result<std::string> StringField(const json& j, const char* key) {
  const auto it = j.find(key);
  if (it == j.end()) return Corrupt(std::string("missing field ") + key);
  if (!it->is_string()) return Corrupt(std::string(key) + " must be a string");
  std::string s = it->get<std::string>();
  if (s.empty() || s.size() > 64) return Corrupt(std::string(key) + " must be 1 to 64 characters");
  return s;
}

}  // namespace

Result<OfflineRequest> ParseOfflineRequest(std::string_view text) {
  if (text.size() > kMaxRequestSize) {
    return Corrupt("larger than " + std::to_string(kMaxRequestSize) + " bytes");
  }
  auto parsed = ParseRejectingDuplicates(text);
  if (!parsed) return parsed.error();
  const json& j = *parsed;
  if (!j.is_object()) return Corrupt("must be a JSON object");
  for (const auto& [key, value] : j.items()) {
    if (key != "request_format" && key != "product_id" && key != "identifier" && key != "nonce" &&
        key != "created_at") {
      return Corrupt("unknown field " + key.substr(0, 64));
    }
  }
  const auto format = j.find("request_format");
  if (format == j.end()) return Corrupt("missing field request_format");
  if (!format->is_number_integer() || format->get<std::int64_t>() != 1) {
    return Corrupt("unsupported request_format (this tool reads request_format 1)");
  }

  OfflineRequest r;
  auto product = StringField(j, "product_id");
  if (!product) return product.error();
  r.product_id = std::move(*product);

  auto identifier_text = StringField(j, "identifier");
  if (!identifier_text) return identifier_text.error();
  auto identifier = ParseIdentifier(*identifier_text);
  if (!identifier) return Corrupt("identifier: " + identifier.error().message);
  if (identifier->ToString() != *identifier_text) {
    return Corrupt("identifier is not in canonical form");
  }
  r.identifier = *identifier;

  auto nonce = StringField(j, "nonce");
  if (!nonce) return nonce.error();
  r.nonce = std::move(*nonce);

  auto created = StringField(j, "created_at");
  if (!created) return created.error();
  auto created_at = ParseTime(*created);
  if (!created_at) return Corrupt("created_at: " + created_at.error().message);
  r.created_at = *created_at;
  return r;
}

}  // namespace licagent::vendor
