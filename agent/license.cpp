// The license document: canonical payload JSON, strict parsing, ASCII armour and Ed25519
// verification (docs/license-format.md). Fail closed: anything unexpected is an error.
#include "licagent/license.h"

#include <algorithm>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "agent/crypto.h"
#include "agent/strict_json.h"

namespace licagent {
namespace {

using nlohmann::json;
using strict_json::Fields;

constexpr std::string_view kBegin = "-----BEGIN LICAGENT LICENSE-----";
constexpr std::string_view kEnd = "-----END LICAGENT LICENSE-----";
constexpr std::string_view kKeyIdHeader = "Key-Id: ";
constexpr std::string_view kSignatureHeader = "Signature: ";
constexpr std::string_view kDomain = "licagent-license-v1\n";
constexpr std::size_t kLineWidth = 64;
constexpr std::size_t kMaxIdLength = 64;
constexpr std::size_t kMaxTextLength = 256;

using strict_json::Corrupt;

bool IsIdChar(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' ||
         c == '_' || c == '-';
}

bool ValidKeyId(std::string_view id) {
  return !id.empty() && id.size() <= kMaxIdLength && std::all_of(id.begin(), id.end(), IsIdChar);
}

std::string Base64(const std::uint8_t* data, std::size_t size) {
  return crypto::Base64Encode(data, size);
}

// Canonical standard base64 with padding: decodes, and re-encodes to exactly the same text.
Result<std::string> Unbase64(std::string_view text, std::string_view what) {
  auto decoded = crypto::Base64Decode(text);
  if (!decoded) return Corrupt(std::string(what) + " is not valid base64");
  std::string out = std::move(*decoded);
  if (Base64(reinterpret_cast<const std::uint8_t*>(out.data()), out.size()) != text) {
    return Corrupt(std::string(what) + " is not canonical base64");
  }
  return out;
}

// ---- payload JSON -------------------------------------------------------------------------

const char* EnvironmentRuleName(EnvironmentRule rule) {
  switch (rule) {
    case EnvironmentRule::kNoLeavingBareMetal:
      return "no-leaving-bare-metal";
    case EnvironmentRule::kExact:
      return "exact";
    case EnvironmentRule::kAny:
      return "any";
  }
  return "no-leaving-bare-metal";
}

std::string TagHex(std::uint16_t tag) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  return {kHex[tag >> 12], kHex[(tag >> 8) & 0xF], kHex[(tag >> 4) & 0xF], kHex[tag & 0xF]};
}

Result<Binding> ParseBinding(const Fields& f) {
  LICAGENT_RETURN_IF_ERROR(f.OnlyKnown({"identifier", "tags", "policy"}));
  Binding b;
  LICAGENT_ASSIGN(b.identifier, strict_json::CanonicalIdentifier(f, "identifier"));

  const json* tags = f.Find("tags");
  if (tags == nullptr) return Corrupt("missing field " + f.Name("tags"));
  if (!tags->is_array() || tags->size() != kSlotCount) {
    return Corrupt(f.Name("tags") + " must be an array of 7 tags");
  }
  for (int i = 0; i < kSlotCount; ++i) {
    const json& t = (*tags)[static_cast<std::size_t>(i)];
    if (!t.is_string() || t.get<std::string>() != TagHex(b.identifier.tags[i])) {
      return Corrupt(f.Name("tags") + " disagree with the identifier at slot " +
                     SlotName(SlotAt(i)));
    }
  }

  auto policy_object = f.Object("policy");
  if (!policy_object) return policy_object.error();
  const Fields& policy = *policy_object;
  LICAGENT_RETURN_IF_ERROR(
      policy.OnlyKnown({"threshold_percent", "min_matched", "require_hardware", "environment"}));
  std::int64_t threshold = 0, min_matched = 0;
  LICAGENT_ASSIGN(threshold, policy.Integer("threshold_percent", 1, 100));
  LICAGENT_ASSIGN(min_matched, policy.Integer("min_matched", 1, kSlotCount));
  b.policy.threshold_percent = static_cast<int>(threshold);
  b.policy.min_matched = static_cast<int>(min_matched);
  LICAGENT_ASSIGN(b.policy.require_hardware, policy.Boolean("require_hardware"));
  std::string rule;
  LICAGENT_ASSIGN(rule, policy.String("environment", 32));
  if (rule == "no-leaving-bare-metal") {
    b.policy.environment = EnvironmentRule::kNoLeavingBareMetal;
  } else if (rule == "exact") {
    b.policy.environment = EnvironmentRule::kExact;
  } else if (rule == "any") {
    b.policy.environment = EnvironmentRule::kAny;
  } else {
    return Corrupt(policy.Name("environment") + " must be no-leaving-bare-metal, exact or any");
  }
  return b;
}

Result<Entitlements> ParseEntitlements(const Fields& f) {
  LICAGENT_RETURN_IF_ERROR(f.OnlyKnown({"features", "max_cores", "max_sockets", "seats"}));
  Entitlements e;
  if (f.Has("features")) {
    auto features_object = f.Object("features");
    if (!features_object) return features_object.error();
    const Fields& features = *features_object;
    for (const auto& [name, value] : features.object().items()) {
      if (name.empty() || name.size() > kMaxIdLength ||
          !std::all_of(name.begin(), name.end(), IsIdChar)) {
        return Corrupt(f.Name("features") + " has an invalid feature name");
      }
      if (!value.is_string() || value.get<std::string>().size() > kMaxTextLength) {
        return Corrupt(features.Name(name) + " must be a string of at most 256 characters");
      }
      e.features[name] = value.get<std::string>();
    }
  }
  for (const char* key : {"max_cores", "max_sockets", "seats"}) {
    if (!f.Has(key)) continue;
    std::int64_t n = 0;
    LICAGENT_ASSIGN(n, f.Integer(key, 1, 1 << 20));
    std::optional<int>& slot = std::string_view(key) == "max_cores"     ? e.max_cores
                               : std::string_view(key) == "max_sockets" ? e.max_sockets
                                                                        : e.seats;
    slot = static_cast<int>(n);
  }
  return e;
}

}  // namespace

const char* ToString(LicenseStatus status) noexcept {
  switch (status) {
    case LicenseStatus::kActive:
      return "active";
    case LicenseStatus::kFrozen:
      return "frozen";
    case LicenseStatus::kReleased:
      return "released";
  }
  return "active";
}

std::string SerializePayload(const LicensePayload& p) {
  json j = json::object();  // keys sorted: canonical bytes
  j["format"] = p.format;
  j["license_id"] = p.license_id;
  j["product_id"] = p.product_id;
  j["key_id"] = p.key_id;
  if (p.authorization_code) j["authorization_code"] = *p.authorization_code;
  if (p.order_id) j["order_id"] = *p.order_id;
  if (p.instance_id) j["instance_id"] = *p.instance_id;
  j["customer"] = p.customer;
  if (p.binding) {
    json tags = json::array();
    for (std::uint16_t t : p.binding->identifier.tags) tags.push_back(TagHex(t));
    j["binding"] = {{"identifier", p.binding->identifier.ToString()},
                    {"tags", tags},
                    {"policy",
                     {{"threshold_percent", p.binding->policy.threshold_percent},
                      {"min_matched", p.binding->policy.min_matched},
                      {"require_hardware", p.binding->policy.require_hardware},
                      {"environment", EnvironmentRuleName(p.binding->policy.environment)}}}};
  }
  j["issued_at"] = FormatTime(p.issued_at);
  j["not_before"] = FormatTime(p.not_before);
  if (p.expires_at) j["expires_at"] = FormatTime(*p.expires_at);
  if (p.refresh_by) j["refresh_by"] = FormatTime(*p.refresh_by);
  j["status"] = ToString(p.status);
  json e = json::object();
  if (!p.entitlements.features.empty()) e["features"] = p.entitlements.features;
  if (p.entitlements.max_cores) e["max_cores"] = *p.entitlements.max_cores;
  if (p.entitlements.max_sockets) e["max_sockets"] = *p.entitlements.max_sockets;
  if (p.entitlements.seats) e["seats"] = *p.entitlements.seats;
  j["entitlements"] = e;
  j["server_time"] = FormatTime(p.server_time);
  if (p.nonce) j["nonce"] = *p.nonce;
  return j.dump();
}

Result<LicensePayload> ParsePayload(std::string_view text) {
  if (text.size() > kMaxLicenseSize) return Corrupt("the payload is larger than 64 KiB");
  auto parsed = strict_json::Parse(text, "the payload");
  if (!parsed) return parsed.error();
  if (!parsed->is_object()) return Corrupt("the payload must be a JSON object");
  const Fields f(*parsed, "");
  LICAGENT_RETURN_IF_ERROR(
      f.OnlyKnown({"format", "license_id", "product_id", "key_id", "authorization_code", "order_id",
                   "instance_id", "customer", "binding", "issued_at", "not_before", "expires_at",
                   "refresh_by", "status", "entitlements", "server_time", "nonce"}));

  LicensePayload p;
  std::int64_t format = 0;
  LICAGENT_ASSIGN(format, f.Integer("format", 0, 1 << 30));
  if (format != 1) {
    return Corrupt("unsupported license format " + std::to_string(format) +
                   " (this agent reads format 1)");
  }
  p.format = 1;
  LICAGENT_ASSIGN(p.license_id, f.String("license_id", kMaxIdLength));
  LICAGENT_ASSIGN(p.product_id, f.String("product_id", kMaxIdLength));
  LICAGENT_ASSIGN(p.key_id, f.String("key_id", kMaxIdLength));
  if (!ValidKeyId(p.key_id)) return Corrupt("key_id has characters outside A-Z a-z 0-9 . _ -");
  LICAGENT_ASSIGN(p.authorization_code, f.OptionalString("authorization_code", kMaxIdLength));
  LICAGENT_ASSIGN(p.order_id, f.OptionalString("order_id", kMaxIdLength));
  LICAGENT_ASSIGN(p.instance_id, f.OptionalString("instance_id", kMaxIdLength));
  LICAGENT_ASSIGN(p.customer, f.String("customer", kMaxTextLength));
  if (f.Has("binding")) {
    auto binding = f.Object("binding");
    if (!binding) return binding.error();
    LICAGENT_ASSIGN(p.binding, ParseBinding(*binding));
  }
  LICAGENT_ASSIGN(p.issued_at, f.Time("issued_at"));
  LICAGENT_ASSIGN(p.not_before, f.Time("not_before"));
  LICAGENT_ASSIGN(p.expires_at, f.OptionalTime("expires_at"));
  LICAGENT_ASSIGN(p.refresh_by, f.OptionalTime("refresh_by"));
  if (p.expires_at && *p.expires_at <= p.not_before) {
    return Corrupt("expires_at must be later than not_before");
  }
  std::string status;
  LICAGENT_ASSIGN(status, f.String("status", 16));
  if (status == "active") {
    p.status = LicenseStatus::kActive;
  } else if (status == "frozen") {
    p.status = LicenseStatus::kFrozen;
  } else if (status == "released") {
    p.status = LicenseStatus::kReleased;
  } else {
    return Corrupt("status must be active, frozen or released");
  }
  auto entitlements = f.Object("entitlements");
  if (!entitlements) return entitlements.error();
  LICAGENT_ASSIGN(p.entitlements, ParseEntitlements(*entitlements));
  LICAGENT_ASSIGN(p.server_time, f.Time("server_time"));
  LICAGENT_ASSIGN(p.nonce, f.OptionalString("nonce", kMaxIdLength));
  return p;
}

std::string SignedMessage(std::string_view key_id, std::string_view payload) {
  std::string m(kDomain);
  m += key_id;
  m += '\n';
  m += payload;
  return m;
}

std::string ArmorLicense(const LicenseEnvelope& e) {
  std::string out(kBegin);
  out += '\n';
  out += kKeyIdHeader;
  out += e.key_id;
  out += '\n';
  out += kSignatureHeader;
  out += Base64(e.signature.data(), e.signature.size());
  out += "\n\n";
  const std::string body =
      Base64(reinterpret_cast<const std::uint8_t*>(e.payload.data()), e.payload.size());
  for (std::size_t i = 0; i < body.size(); i += kLineWidth) {
    out += body.substr(i, kLineWidth);
    out += '\n';
  }
  out += kEnd;
  out += '\n';
  return out;
}

Result<LicenseEnvelope> ParseArmoredLicense(std::string_view text) {
  if (text.empty()) return Corrupt("the license file is empty");
  if (text.size() > kMaxLicenseSize) return Corrupt("the license file is larger than 64 KiB");
  // Lines end in "\n" throughout, or in "\r\n" throughout (a file that went through Windows);
  // the final line ending is optional. Nothing may follow the END line.
  const bool crlf = text.find("\r\n") != std::string_view::npos;
  const std::string_view eol = crlf ? "\r\n" : "\n";
  std::vector<std::string_view> lines;
  std::size_t pos = 0;
  while (pos < text.size()) {
    const std::size_t end = text.find(eol, pos);
    if (end == std::string_view::npos) {
      lines.push_back(text.substr(pos));
      break;
    }
    lines.push_back(text.substr(pos, end - pos));
    pos = end + eol.size();
  }
  for (std::string_view line : lines) {
    if (line.find_first_of(crlf ? "\r\n" : "\r") != std::string_view::npos) {
      return Corrupt("the license file mixes line endings");
    }
  }
  if (lines.empty() || lines.front() != kBegin) {
    return Corrupt("the license file does not start with " + std::string(kBegin));
  }
  if (lines.back() != kEnd) {
    return Corrupt("the license file does not end with " + std::string(kEnd) +
                   " (truncated, or bytes after it)");
  }
  if (lines.size() < 6) return Corrupt("the license file is truncated");
  LicenseEnvelope e;
  if (lines[1].substr(0, kKeyIdHeader.size()) != kKeyIdHeader) {
    return Corrupt("line 2 must be 'Key-Id: <id>'");
  }
  e.key_id = std::string(lines[1].substr(kKeyIdHeader.size()));
  if (!ValidKeyId(e.key_id)) return Corrupt("the key id must be 1 to 64 of A-Z a-z 0-9 . _ -");
  if (lines[2].substr(0, kSignatureHeader.size()) != kSignatureHeader) {
    return Corrupt("line 3 must be 'Signature: <base64>'");
  }
  auto signature = Unbase64(lines[2].substr(kSignatureHeader.size()), "the signature");
  if (!signature) return signature.error();
  if (signature->size() != e.signature.size()) {
    return Corrupt("the signature must be 64 bytes");
  }
  std::copy(signature->begin(), signature->end(), e.signature.begin());
  if (!lines[3].empty()) return Corrupt("line 4 must be empty");

  std::string body;
  for (std::size_t i = 4; i + 1 < lines.size(); ++i) {
    const bool last = i + 2 == lines.size();
    if (lines[i].empty() || lines[i].size() > kLineWidth ||
        (!last && lines[i].size() != kLineWidth)) {
      return Corrupt("payload line " + std::to_string(i - 3) + " must be 64 base64 characters");
    }
    body += lines[i];
  }
  auto payload = Unbase64(body, "the payload");
  if (!payload) return payload.error();
  e.payload = std::move(*payload);
  return e;
}

Result<License> VerifyLicense(std::string_view text, const std::vector<PublicKey>& trusted) {
  if (!crypto::Ready()) {
    return Error{ErrorCode::kInternal, "the crypto library failed to initialise"};
  }
  auto envelope = ParseArmoredLicense(text);
  if (!envelope) return envelope.error();
  const auto key = std::find_if(trusted.begin(), trusted.end(),
                                [&](const PublicKey& k) { return k.key_id == envelope->key_id; });
  if (key == trusted.end()) {
    return Error{ErrorCode::kBadSignature, "the license is signed with key '" + envelope->key_id +
                                               "', which this product does not trust"};
  }
  const std::string message = SignedMessage(envelope->key_id, envelope->payload);
  if (!crypto::VerifyEd25519(envelope->signature, message, key->bytes)) {
    return Error{ErrorCode::kBadSignature,
                 "the license signature does not verify: the file was altered or is not from "
                 "this vendor"};
  }
  auto payload = ParsePayload(envelope->payload);
  if (!payload) return payload.error();
  if (payload->key_id != envelope->key_id) {
    return Corrupt("the payload names key '" + payload->key_id + "' but was signed with '" +
                   envelope->key_id + "'");
  }
  return License{std::move(*payload), std::string(text)};
}

Result<PublicKey> ParsePublicKey(std::string_view text) {
  const auto colon = text.find(':');
  if (colon == std::string_view::npos) {
    return Error{ErrorCode::kInvalidArgument, "a public key is KEY_ID:BASE64"};
  }
  PublicKey key;
  key.key_id = std::string(text.substr(0, colon));
  if (!ValidKeyId(key.key_id)) {
    return Error{ErrorCode::kInvalidArgument, "the key id must be 1 to 64 of A-Z a-z 0-9 . _ -"};
  }
  auto bytes = Unbase64(text.substr(colon + 1), "the public key");
  if (!bytes || bytes->size() != key.bytes.size()) {
    return Error{ErrorCode::kInvalidArgument, "the public key must be 32 bytes of base64"};
  }
  std::copy(bytes->begin(), bytes->end(), key.bytes.begin());
  return key;
}

std::string FormatPublicKey(const PublicKey& key) {
  return key.key_id + ":" + Base64(key.bytes.data(), key.bytes.size());
}

}  // namespace licagent
