// The simulated marketplace's book of authorization codes (reference/koogallery.md §4, §8.1):
// issue, claim, activate, query, renew, freeze, unfreeze, release, usage reports. Pure logic:
// no I/O, no clock of its own (every call takes `now`), not thread-safe (the server holds one
// mutex around it). The open-API result codes are in result_codes.h.
#pragma once

#include <cstdint>
#include <map>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "licagent/result.h"
#include "server/marketsim/result_codes.h"

namespace licagent::marketsim {

// §8.1. "Expired" is not stored: an active code whose expiry has passed reads as EXPIRED.
enum class CodeState { kUnclaimed, kClaimed, kActive, kFrozen, kReleased };

const char* ToString(CodeState state) noexcept;  // "unclaimed", "claimed", ...

// One day's usage report for one code (§4.3): distinct client ids and/or the active count.
struct UsageDay {
  std::set<std::string> ids;
  std::optional<std::int64_t> active_num;
};

struct Code {
  std::string code;  // "PL" + alphanumerics, at most 64 characters
  std::string product_id;
  std::string sku_code;
  std::string order_id;       // the purchase order
  std::string order_line_id;  // "<order_id>-000001"
  std::string customer_id;
  std::int64_t amount = 1;      // quantity attribute (seats for the vendor)
  std::int64_t ordered_at = 0;  // UNIX seconds
  std::int64_t expire_at = 0;   // UNIX seconds
  std::optional<std::int64_t> activated_at;
  CodeState state = CodeState::kUnclaimed;
  std::int64_t queries = 0;  // heartbeat calls seen (seller center's "已检测")
  std::optional<std::int64_t> last_query_at;
  std::map<std::string, UsageDay> usage;  // by UTC day "yyyyMMdd"
};

// The code's usage reports as JSON: {"yyyyMMdd": {"ids": [...], "active_num": N}}, as the
// state file keeps them and the admin API shows them.
nlohmann::json UsageJson(const Code& code);

// What the query API reports as `status`: ALIVE, EXPIRED or RELEASED. A frozen code reads as
// `frozen_status` (EXPIRED by default: the published enum has no frozen value).
std::string QueryStatus(const Code& code, std::int64_t now, std::string_view frozen_status);

// "yyyyMMddHHmmss" in UTC, and back (14 digits, or 17 with milliseconds, which are dropped).
std::string FormatTime(std::int64_t unix_seconds);
std::optional<std::int64_t> ParseTime(std::string_view text);

// A fresh code "PL" + 14 of [0-9A-Z], and a fresh order id "CS" + yyMMddHHmm + 5 of [0-9A-Z].
std::string NewCodeText();
std::string NewOrderId(std::int64_t now);
// PL followed by 1-62 of [0-9A-Za-z].
bool ValidCodeText(std::string_view text);

struct NewCode {
  std::string code;  // empty: a fresh one
  std::string product_id;
  std::string sku_code;
  std::string customer_id;
  std::int64_t amount = 1;
  std::int64_t expire_at = 0;
  bool claimed = false;  // skip the unclaimed step
};

// An open-API outcome: the result code, and the code it concerns when it succeeded.
struct ApiOutcome {
  ApiCode result = ApiCode::kSuccess;
  const Code* code = nullptr;
};

class Marketplace {
 public:
  // ---- Admin side. kInvalidArgument for bad input, kNotFound for an unknown code,
  // kRejected for a transition the state does not allow (the message says which).
  Result<Code> Create(const NewCode& request, std::int64_t now);
  Result<Code> Claim(std::string_view code);
  // New expiry (refreshLicenseCode). A frozen code becomes active again (the marketplace then
  // also sends UNFREEZE); `was_frozen` says whether that happened. Not for released codes.
  Result<Code> Renew(std::string_view code, std::int64_t expire_at, bool* was_frozen);
  Result<Code> Freeze(std::string_view code);    // active -> frozen
  Result<Code> Unfreeze(std::string_view code);  // frozen -> active
  Result<Code> Release(std::string_view code);   // anything but released -> released
  const Code* Find(std::string_view code) const;
  std::vector<Code> List() const;

  // ---- Open API (§4.1-§4.3); `now` in UNIX seconds.
  // 92020005 unknown, 92020004 not claimed, 92020003 active/frozen/released/expired already.
  ApiOutcome Activate(std::string_view code, std::int64_t now);
  // Whether Activate would succeed, without changing anything (for the v2 batch check).
  ApiCode CanActivate(std::string_view code, std::int64_t now) const;
  // 92020005 unknown, 92020011 not activated yet; counts the query.
  ApiOutcome Query(std::string_view code, std::int64_t now);
  // Records one usage report. 92020005 unknown, 92020011 not activated.
  ApiCode ReportUsage(std::string_view code, const std::optional<std::string>& id,
                      const std::optional<std::int64_t>& active_num, std::int64_t now);

  // ---- Persistence: the whole book as JSON text, and back. kCorrupt if it does not parse.
  std::string Serialize() const;
  static Result<Marketplace> Deserialize(std::string_view text);

 private:
  Code* FindMutable(std::string_view code);
  std::map<std::string, Code, std::less<>> codes_;
};

}  // namespace licagent::marketsim
