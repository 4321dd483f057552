// Credential keys ("LK-XXXXX-XXXXX-XXXXX-XXXXX-XXXXX", 125 random bits in Crockford base32) and
// the random ids of credentials and seats. The server stores only the SHA-256 of a key's
// normalised form, never the key.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "licagent/result.h"
#include "server/vendor/secret_bytes.h"

namespace licagent::server {

// A fresh key from OpenSSL's CSPRNG, in wiped memory. kInternal if the CSPRNG fails.
Result<vendor::SecretBytes> NewCredentialKey();

// The canonical form of a key a person typed: upper case, spaces and dashes ignored, O read as
// 0 and I/L as 1 (after the "LK" prefix), regrouped as "LK-XXXXX-XXXXX-XXXXX-XXXXX-XXXXX".
// nullopt if it is not a key (prefix, length, a character outside Crockford base32). The
// caller wipes the result if it must.
std::optional<std::string> NormalizeCredentialKey(std::string_view text);

// Lower-case hex SHA-256 of the normalised key: what the store keeps and looks keys up by.
// nullopt if `text` is not a key.
std::optional<std::string> CredentialKeyHash(std::string_view text);

// `prefix` and 2 * `bytes` random lower-case hex digits ("lic-0f3c9a7e51d2b864"). kInternal if
// the CSPRNG fails.
Result<std::string> RandomId(std::string_view prefix, std::size_t bytes);

}  // namespace licagent::server
