#include "server/marketsim/marketplace.h"

#include <openssl/rand.h>

#include <cstdio>
#include <ctime>
#include <nlohmann/json.hpp>

namespace licagent::marketsim {
namespace {

using nlohmann::json;

constexpr char kAlphabet[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";

std::string RandomText(std::size_t n) {
  std::string out(n, '0');
  unsigned char bytes[64];
  if (n > sizeof bytes || RAND_bytes(bytes, static_cast<int>(n)) != 1) return out;
  for (std::size_t i = 0; i < n; ++i) out[i] = kAlphabet[bytes[i] % 36];
  return out;
}

Error NoSuchCode(std::string_view code) {
  return Error{ErrorCode::kNotFound, "no code " + std::string(code)};
}

Error Illegal(const Code& code, const char* what) {
  return Error{ErrorCode::kRejected,
               std::string("cannot ") + what + " " + code.code + ": it is " + ToString(code.state)};
}

std::optional<CodeState> ParseState(std::string_view s) {
  for (CodeState st : {CodeState::kUnclaimed, CodeState::kClaimed, CodeState::kActive,
                       CodeState::kFrozen, CodeState::kReleased}) {
    if (s == ToString(st)) return st;
  }
  return std::nullopt;
}

}  // namespace

json UsageJson(const Code& code) {
  json usage = json::object();
  for (const auto& [day, u] : code.usage) {
    json d = {{"ids", u.ids}};
    if (u.active_num) d["active_num"] = *u.active_num;
    usage[day] = d;
  }
  return usage;
}

const char* ToString(CodeState state) noexcept {
  switch (state) {
    case CodeState::kUnclaimed:
      return "unclaimed";
    case CodeState::kClaimed:
      return "claimed";
    case CodeState::kActive:
      return "active";
    case CodeState::kFrozen:
      return "frozen";
    case CodeState::kReleased:
      return "released";
  }
  return "unknown";
}

std::string QueryStatus(const Code& code, std::int64_t now, std::string_view frozen_status) {
  if (code.state == CodeState::kReleased) return "RELEASED";
  if (code.state == CodeState::kFrozen) return std::string(frozen_status);
  if (now >= code.expire_at) return "EXPIRED";
  return "ALIVE";
}

std::string FormatTime(std::int64_t unix_seconds) {
  const auto t = static_cast<std::time_t>(unix_seconds);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d%02d%02d%02d%02d%02d", tm.tm_year + 1900, tm.tm_mon + 1,
                tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
  return buf;
}

std::optional<std::int64_t> ParseTime(std::string_view text) {
  if (text.size() != 14 && text.size() != 17) return std::nullopt;
  for (char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
  }
  const auto num = [&](std::size_t pos, std::size_t len) {
    int v = 0;
    for (std::size_t i = pos; i < pos + len; ++i) v = v * 10 + (text[i] - '0');
    return v;
  };
  std::tm tm{};
  tm.tm_year = num(0, 4) - 1900;
  tm.tm_mon = num(4, 2) - 1;
  tm.tm_mday = num(6, 2);
  tm.tm_hour = num(8, 2);
  tm.tm_min = num(10, 2);
  tm.tm_sec = num(12, 2);
  if (tm.tm_mon < 0 || tm.tm_mon > 11 || tm.tm_mday < 1 || tm.tm_mday > 31 || tm.tm_hour > 23 ||
      tm.tm_min > 59 || tm.tm_sec > 60) {
    return std::nullopt;
  }
  const std::tm copy = tm;
  const std::time_t t = timegm(&tm);
  if (tm.tm_mday != copy.tm_mday || tm.tm_mon != copy.tm_mon) return std::nullopt;  // 31 Feb
  return static_cast<std::int64_t>(t);
}

std::string NewCodeText() { return "PL" + RandomText(14); }

std::string NewOrderId(std::int64_t now) {
  return "CS" + FormatTime(now).substr(2, 10) + RandomText(5);
}

bool ValidCodeText(std::string_view text) {
  if (text.size() < 3 || text.size() > 64 || text.substr(0, 2) != "PL") return false;
  for (char c : text.substr(2)) {
    const bool ok = (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
    if (!ok) return false;
  }
  return true;
}

Code* Marketplace::FindMutable(std::string_view code) {
  const auto it = codes_.find(code);
  return it == codes_.end() ? nullptr : &it->second;
}

const Code* Marketplace::Find(std::string_view code) const {
  const auto it = codes_.find(code);
  return it == codes_.end() ? nullptr : &it->second;
}

std::vector<Code> Marketplace::List() const {
  std::vector<Code> out;
  out.reserve(codes_.size());
  for (const auto& [text, code] : codes_) out.push_back(code);
  return out;
}

Result<Code> Marketplace::Create(const NewCode& request, std::int64_t now) {
  Code c;
  c.code = request.code.empty() ? NewCodeText() : request.code;
  if (!ValidCodeText(c.code)) {
    return Error{ErrorCode::kInvalidArgument, "code must be PL followed by 1-62 letters or digits"};
  }
  if (codes_.count(c.code) != 0) {
    return Error{ErrorCode::kRejected, "code " + c.code + " exists already"};
  }
  if (request.product_id.empty() || request.product_id.size() > 64) {
    return Error{ErrorCode::kInvalidArgument, "product_id must be 1-64 characters"};
  }
  if (request.amount < 1 || request.amount > 999999999) {
    return Error{ErrorCode::kInvalidArgument, "amount must be from 1 to 999999999"};
  }
  if (request.expire_at <= now) {
    return Error{ErrorCode::kInvalidArgument, "the expiry must be in the future"};
  }
  c.product_id = request.product_id;
  c.sku_code = request.sku_code;
  c.customer_id = request.customer_id.empty() ? "customer-" + RandomText(8) : request.customer_id;
  c.amount = request.amount;
  c.ordered_at = now;
  c.expire_at = request.expire_at;
  c.order_id = NewOrderId(now);
  c.order_line_id = c.order_id + "-000001";
  c.state = request.claimed ? CodeState::kClaimed : CodeState::kUnclaimed;
  codes_.emplace(c.code, c);
  return c;
}

Result<Code> Marketplace::Claim(std::string_view text) {
  Code* c = FindMutable(text);
  if (c == nullptr) return NoSuchCode(text);
  if (c->state != CodeState::kUnclaimed) return Illegal(*c, "claim");
  c->state = CodeState::kClaimed;
  return *c;
}

Result<Code> Marketplace::Renew(std::string_view text, std::int64_t expire_at, bool* was_frozen) {
  Code* c = FindMutable(text);
  if (c == nullptr) return NoSuchCode(text);
  if (c->state == CodeState::kReleased) return Illegal(*c, "renew");
  if (was_frozen != nullptr) *was_frozen = c->state == CodeState::kFrozen;
  c->expire_at = expire_at;
  if (c->state == CodeState::kFrozen) c->state = CodeState::kActive;
  return *c;
}

Result<Code> Marketplace::Freeze(std::string_view text) {
  Code* c = FindMutable(text);
  if (c == nullptr) return NoSuchCode(text);
  if (c->state != CodeState::kActive) return Illegal(*c, "freeze");
  c->state = CodeState::kFrozen;
  return *c;
}

Result<Code> Marketplace::Unfreeze(std::string_view text) {
  Code* c = FindMutable(text);
  if (c == nullptr) return NoSuchCode(text);
  if (c->state != CodeState::kFrozen) return Illegal(*c, "unfreeze");
  c->state = CodeState::kActive;
  return *c;
}

Result<Code> Marketplace::Release(std::string_view text) {
  Code* c = FindMutable(text);
  if (c == nullptr) return NoSuchCode(text);
  if (c->state == CodeState::kReleased) return Illegal(*c, "release");
  c->state = CodeState::kReleased;
  return *c;
}

ApiCode Marketplace::CanActivate(std::string_view text, std::int64_t now) const {
  const Code* c = Find(text);
  if (c == nullptr) return ApiCode::kNotExist;
  if (c->state == CodeState::kUnclaimed) return ApiCode::kNotReceived;
  if (c->state != CodeState::kClaimed || now >= c->expire_at) return ApiCode::kIllegalState;
  return ApiCode::kSuccess;
}

ApiOutcome Marketplace::Activate(std::string_view text, std::int64_t now) {
  const ApiCode can = CanActivate(text, now);
  if (can != ApiCode::kSuccess) return {can, nullptr};
  Code* c = FindMutable(text);
  c->state = CodeState::kActive;
  c->activated_at = now;  // the service starts at activation (buyer guide)
  return {ApiCode::kSuccess, c};
}

ApiOutcome Marketplace::Query(std::string_view text, std::int64_t now) {
  Code* c = FindMutable(text);
  if (c == nullptr) return {ApiCode::kNotExist, nullptr};
  if (!c->activated_at) return {ApiCode::kNotActivated, nullptr};
  ++c->queries;
  c->last_query_at = now;
  return {ApiCode::kSuccess, c};
}

ApiCode Marketplace::ReportUsage(std::string_view text, const std::optional<std::string>& id,
                                 const std::optional<std::int64_t>& active_num, std::int64_t now) {
  Code* c = FindMutable(text);
  if (c == nullptr) return ApiCode::kNotExist;
  if (!c->activated_at) return ApiCode::kNotActivated;
  UsageDay& day = c->usage[FormatTime(now).substr(0, 8)];
  if (id) day.ids.insert(*id);
  if (active_num) day.active_num = *active_num;
  return ApiCode::kSuccess;
}

std::string Marketplace::Serialize() const {
  json codes = json::array();
  for (const auto& [text, c] : codes_) {
    json j = {{"code", c.code},
              {"product_id", c.product_id},
              {"sku_code", c.sku_code},
              {"order_id", c.order_id},
              {"order_line_id", c.order_line_id},
              {"customer_id", c.customer_id},
              {"amount", c.amount},
              {"ordered_at", c.ordered_at},
              {"expire_at", c.expire_at},
              {"state", ToString(c.state)},
              {"queries", c.queries},
              {"usage", UsageJson(c)}};
    if (c.activated_at) j["activated_at"] = *c.activated_at;
    if (c.last_query_at) j["last_query_at"] = *c.last_query_at;
    codes.push_back(std::move(j));
  }
  return json{{"version", 1}, {"codes", codes}}.dump(1) + "\n";
}

Result<Marketplace> Marketplace::Deserialize(std::string_view text) {
  const json j = json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object() || j.value("version", 0) != 1 || !j.contains("codes") ||
      !j["codes"].is_array()) {
    return Error{ErrorCode::kCorrupt, "not a marketsim state file (version 1)"};
  }
  Marketplace m;
  try {
    for (const json& e : j["codes"]) {
      Code c;
      c.code = e.at("code").get<std::string>();
      c.product_id = e.at("product_id").get<std::string>();
      c.sku_code = e.value("sku_code", "");
      c.order_id = e.at("order_id").get<std::string>();
      c.order_line_id = e.at("order_line_id").get<std::string>();
      c.customer_id = e.value("customer_id", "");
      c.amount = e.at("amount").get<std::int64_t>();
      c.ordered_at = e.at("ordered_at").get<std::int64_t>();
      c.expire_at = e.at("expire_at").get<std::int64_t>();
      const auto state = ParseState(e.at("state").get<std::string>());
      if (!state) return Error{ErrorCode::kCorrupt, "code " + c.code + ": unknown state"};
      c.state = *state;
      c.queries = e.value("queries", std::int64_t{0});
      if (e.contains("activated_at")) c.activated_at = e["activated_at"].get<std::int64_t>();
      if (e.contains("last_query_at")) c.last_query_at = e["last_query_at"].get<std::int64_t>();
      if (e.contains("usage")) {
        for (const auto& [day, u] : e["usage"].items()) {
          UsageDay d;
          d.ids = u.value("ids", std::set<std::string>{});
          if (u.contains("active_num")) d.active_num = u["active_num"].get<std::int64_t>();
          c.usage[day] = std::move(d);
        }
      }
      m.codes_[c.code] = std::move(c);
    }
  } catch (const json::exception& e) {
    return Error{ErrorCode::kCorrupt, std::string("marketsim state file: ") + e.what()};
  }
  return m;
}

}  // namespace licagent::marketsim
