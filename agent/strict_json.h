// Strict reading of JSON objects for every document licagent parses (licenses, protocol
// messages, request files): duplicate keys rejected, types and ranges checked, the offending
// field named in a kCorrupt error. Internal to agent/; not installed.
#pragma once

#include <algorithm>
#include <cstdint>
#include <initializer_list>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "licagent/identity.h"
#include "licagent/license.h"
#include "licagent/result.h"

namespace licagent::strict_json {

using nlohmann::json;

inline Error Corrupt(std::string message) { return Error{ErrorCode::kCorrupt, std::move(message)}; }

// Parses `text` as JSON, rejecting duplicate keys at any depth (nlohmann::json would keep the
// last). Errors name `what`: "<what> is not valid JSON", "duplicate field <key>".
Result<json> Parse(std::string_view text, std::string_view what);

// Reads one JSON object strictly: required keys present, types and ranges right. OnlyKnown()
// also rejects unknown keys, for formats that allow none.
class Fields {
 public:
  Fields(const json& object, std::string path) : object_(object), path_(std::move(path)) {}

  // Fails on a key outside `known`.
  Status OnlyKnown(std::initializer_list<std::string_view> known) const {
    for (const auto& [key, value] : object_.items()) {
      if (std::find(known.begin(), known.end(), key) == known.end()) {
        return Corrupt("unknown field " + Name(key));
      }
    }
    return Status::Ok();
  }

  bool Has(const std::string& key) const { return object_.contains(key); }

  Result<std::string> String(const std::string& key, std::size_t max_length) const {
    const json* v = Find(key);
    if (v == nullptr) return Missing(key);
    if (!v->is_string()) return Corrupt(Name(key) + " must be a string");
    std::string s = v->get<std::string>();
    if (s.empty() || s.size() > max_length) {
      return Corrupt(Name(key) + " must be 1 to " + std::to_string(max_length) + " characters");
    }
    return s;
  }

  Result<std::optional<std::string>> OptionalString(const std::string& key,
                                                    std::size_t max_length) const {
    if (!Has(key)) return std::optional<std::string>();
    auto s = String(key, max_length);
    if (!s) return s.error();
    return std::optional<std::string>(std::move(*s));
  }

  Result<std::int64_t> Integer(const std::string& key, std::int64_t min, std::int64_t max) const {
    const json* v = Find(key);
    if (v == nullptr) return Missing(key);
    if (!v->is_number_integer()) return Corrupt(Name(key) + " must be an integer");
    const auto n = v->get<std::int64_t>();
    if (n < min || n > max) {
      return Corrupt(Name(key) + " must be between " + std::to_string(min) + " and " +
                     std::to_string(max));
    }
    return n;
  }

  Result<bool> Boolean(const std::string& key) const {
    const json* v = Find(key);
    if (v == nullptr) return Missing(key);
    if (!v->is_boolean()) return Corrupt(Name(key) + " must be true or false");
    return v->get<bool>();
  }

  Result<UnixTime> Time(const std::string& key) const {
    auto s = String(key, 20);
    if (!s) return s.error();
    auto t = ParseTime(*s);
    if (!t) return Corrupt(Name(key) + ": " + t.error().message);
    return t;
  }

  Result<std::optional<UnixTime>> OptionalTime(const std::string& key) const {
    if (!Has(key)) return std::optional<UnixTime>();
    auto t = Time(key);
    if (!t) return t.error();
    return std::optional<UnixTime>(*t);
  }

  Result<Fields> Object(const std::string& key) const {
    const json* v = Find(key);
    if (v == nullptr) return Missing(key);
    if (!v->is_object()) return Corrupt(Name(key) + " must be an object");
    return Fields(*v, Name(key));
  }

  const json* Find(const std::string& key) const {
    auto it = object_.find(key);
    return it == object_.end() ? nullptr : &*it;
  }
  std::string Name(const std::string& key) const { return path_.empty() ? key : path_ + "." + key; }
  const json& object() const { return object_; }

 private:
  Error Missing(const std::string& key) const { return Corrupt("missing field " + Name(key)); }

  const json& object_;
  std::string path_;
};

// A canonical "HW1-..." identifier in field `key`: decodes, and is spelled exactly as
// Identifier::ToString() spells it.
Result<Identifier> CanonicalIdentifier(const Fields& f, const std::string& key);

}  // namespace licagent::strict_json

// Assigns the value of a Result expression to `lhs`, or returns its error from the enclosing
// function.
#define LICAGENT_ASSIGN(lhs, expr)                \
  do {                                            \
    auto licagent_v_ = (expr);                    \
    if (!licagent_v_) return licagent_v_.error(); \
    lhs = std::move(*licagent_v_);                \
  } while (false)
