// Signed licenses: the document format (docs/license-format.md), strict parsing and signature
// verification. The agent only verifies; signing lives in the vendor tools (server/).
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "licagent/identity.h"
#include "licagent/result.h"

namespace licagent {

// Seconds since the Unix epoch, UTC. Licenses carry RFC 3339 "YYYY-MM-DDTHH:MM:SSZ" text.
using UnixTime = std::int64_t;

// Formats/parses "YYYY-MM-DDTHH:MM:SSZ" exactly (UTC, no fractions, no offsets).
std::string FormatTime(UnixTime t);
Result<UnixTime> ParseTime(std::string_view text);

// The largest license file accepted, armour included.
inline constexpr std::size_t kMaxLicenseSize = 64 * 1024;

enum class LicenseStatus { kActive, kFrozen, kReleased };
const char* ToString(LicenseStatus status) noexcept;  // "active", "frozen", "released"

// The machine a license is bound to. Absent binding = a floating license.
struct Binding {
  Identifier identifier;  // from the HW1 text; the tags in the payload must agree with it
  MatchPolicy policy;     // how strictly this machine must match

  friend bool operator==(const Binding&, const Binding&) = default;
};

struct Entitlements {
  // Feature name → value ("" for a plain on/off feature).
  std::map<std::string, std::string> features;
  std::optional<int> max_cores;
  std::optional<int> max_sockets;
  std::optional<int> seats;

  friend bool operator==(const Entitlements&, const Entitlements&) = default;
};

// Every field that affects a verdict is inside the signed payload.
struct LicensePayload {
  int format = 1;
  std::string license_id;
  std::string product_id;
  std::string key_id;                             // must equal the envelope's key id
  std::optional<std::string> authorization_code;  // KooGallery code (PL...)
  std::optional<std::string> order_id;
  std::optional<std::string> instance_id;
  std::string customer;
  std::optional<Binding> binding;
  UnixTime issued_at = 0;
  UnixTime not_before = 0;
  std::optional<UnixTime> expires_at;  // absent = perpetual
  std::optional<UnixTime> refresh_by;  // end of the offline grace; absent = no refresh needed
  LicenseStatus status = LicenseStatus::kActive;
  Entitlements entitlements;
  UnixTime server_time = 0;          // the issuing server's clock when it signed
  std::optional<std::string> nonce;  // the request nonce this license answers

  friend bool operator==(const LicensePayload&, const LicensePayload&) = default;
};

// Canonical JSON of a payload (the bytes a vendor signs). Deterministic: same payload, same
// bytes.
std::string SerializePayload(const LicensePayload& payload);

// Strict parse of payload JSON: unknown or duplicate fields, wrong types, out-of-range values,
// an identifier whose tags disagree with "tags" → kCorrupt with the field named.
Result<LicensePayload> ParsePayload(std::string_view json);

// An Ed25519 public key and the id licenses name it by. Several may be trusted at once
// (rotation).
struct PublicKey {
  std::string key_id;
  std::array<std::uint8_t, 32> bytes{};
};

// A license file split into its parts, not yet verified.
struct LicenseEnvelope {
  std::string key_id;
  std::string payload;  // the exact signed payload bytes (JSON)
  std::array<std::uint8_t, 64> signature{};
};

// The bytes an Ed25519 signature covers: a domain-separation prefix, the key id and the exact
// payload bytes (docs/license-format.md "Signature").
std::string SignedMessage(std::string_view key_id, std::string_view payload);

// ASCII armour: "-----BEGIN LICAGENT LICENSE-----", Key-Id and Signature headers, the base64
// payload, the END line.
std::string ArmorLicense(const LicenseEnvelope& envelope);
// Strict: exact armour lines, no trailing bytes, size ≤ kMaxLicenseSize, canonical base64.
// kCorrupt with the problem named.
Result<LicenseEnvelope> ParseArmoredLicense(std::string_view text);

// A verified license: signature checked against a trusted key, payload parsed.
struct License {
  LicensePayload payload;
  std::string armored;  // the exact file text it came from
};

// Parses the armour, finds the key by id, verifies the signature, parses the payload and
// checks that the payload's key id and the envelope's agree. Errors: kCorrupt (malformed),
// kBadSignature (unknown key id or signature mismatch).
Result<License> VerifyLicense(std::string_view text, const std::vector<PublicKey>& trusted);

// Parses "KEY_ID:BASE64" (the form vendor tools print and CMake options take).
Result<PublicKey> ParsePublicKey(std::string_view text);
std::string FormatPublicKey(const PublicKey& key);

}  // namespace licagent
