// Offline activation requests: the file a customer's machine writes for a vendor to answer
// with a license (docs/license-format.md, "Offline request").
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "licagent/identity.h"
#include "licagent/license.h"
#include "licagent/result.h"

namespace licagent::vendor {

// The largest request file accepted.
inline constexpr std::size_t kMaxRequestSize = 16 * 1024;

struct OfflineRequest {
  std::string product_id;  // the product the customer wants a license for
  Identifier identifier;   // the requesting machine
  std::string nonce;       // echoed in the license's "nonce": ties the answer to this request
  UnixTime created_at = 0;
};

// Strict parse of request JSON: {"request_format":1,"product_id":...,"identifier":"HW1-...",
// "nonce":...,"created_at":"YYYY-MM-DDTHH:MM:SSZ"}, all fields required. Unknown or duplicate
// fields, wrong types, an identifier that does not decode or is not in canonical form, strings
// outside 1-64 characters, another request_format, or more than kMaxRequestSize bytes →
// kCorrupt naming the problem.
Result<OfflineRequest> ParseOfflineRequest(std::string_view json);

}  // namespace licagent::vendor
