#include "agent/strict_json.h"

#include <set>
#include <vector>

namespace licagent::strict_json {

Result<json> Parse(std::string_view text, std::string_view what) {
  std::vector<std::set<std::string>> keys;
  bool duplicate = false;
  std::string duplicate_key;
  json::parser_callback_t cb = [&](int /*depth*/, json::parse_event_t event, json& parsed) {
    if (event == json::parse_event_t::object_start) {
      keys.emplace_back();
    } else if (event == json::parse_event_t::object_end) {
      if (!keys.empty()) keys.pop_back();
    } else if (event == json::parse_event_t::key && !keys.empty()) {
      if (!keys.back().insert(parsed.get<std::string>()).second && !duplicate) {
        duplicate = true;
        duplicate_key = parsed.get<std::string>();
      }
    }
    return true;
  };
  json j = json::parse(text.begin(), text.end(), cb, /*allow_exceptions=*/false);
  if (j.is_discarded()) return Corrupt(std::string(what) + " is not valid JSON");
  if (duplicate) return Corrupt("duplicate field " + duplicate_key.substr(0, 64));
  return j;
}

Result<Identifier> CanonicalIdentifier(const Fields& f, const std::string& key) {
  std::string text;
  LICAGENT_ASSIGN(text, f.String(key, 64));
  auto id = ParseIdentifier(text);
  if (!id) return Corrupt(f.Name(key) + ": " + id.error().message);
  if (id->ToString() != text) return Corrupt(f.Name(key) + " is not in canonical form");
  return *id;
}

}  // namespace licagent::strict_json
