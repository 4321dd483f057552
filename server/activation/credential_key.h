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

// A KooGallery authorization code as the agent sends it (`licagent activate --code`): surrounding
// spaces ignored, then "PL" and 1-62 ASCII letters or digits (at most 64 characters, §9.3). The
// case is kept: codes are compared exactly. nullopt if `text` is not one (an "LK-" key never is).
std::optional<std::string> NormalizeAuthorizationCode(std::string_view text);

// The key hash a code's credential is stored under: lower-case hex SHA-256 of "PL…" (disjoint
// from key hashes, whose input always starts "LK-").
std::string AuthorizationCodeHash(std::string_view code);

// A code for logs and listings: the first two and the last four characters ("PL****1234").
std::string MaskCode(std::string_view code);

// `prefix` and 2 * `bytes` random lower-case hex digits ("lic-0f3c9a7e51d2b864"). kInternal if
// the CSPRNG fails.
Result<std::string> RandomId(std::string_view prefix, std::size_t bytes);

}  // namespace licagent::server
