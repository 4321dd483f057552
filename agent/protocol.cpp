// The agent ↔ vendor server protocol (docs/protocol.md): JSON forms of the messages, parsed
// the same strict way on both sides.
#include "licagent/protocol.h"

#include <algorithm>
#include <string>

#include "agent/crypto.h"
#include "agent/strict_json.h"

namespace licagent::protocol {
namespace {

using strict_json::Corrupt;
using strict_json::Fields;
using strict_json::json;

constexpr std::size_t kMaxIdLength = 64;
constexpr std::size_t kMaxCredentialLength = 128;
constexpr std::size_t kMaxMessageLength = 300;  // of a server's error message, as shown
constexpr std::size_t kNonceLength = 32;

// Parses `body` as one JSON object of at most `max_size` bytes.
Result<json> ParseObject(std::string_view body, std::size_t max_size, std::string_view what) {
  if (body.size() > max_size) {
    return Corrupt(std::string(what) + " is larger than " + std::to_string(max_size) + " bytes");
  }
  auto parsed = strict_json::Parse(body, what);
  if (!parsed) return parsed.error();
  if (!parsed->is_object()) return Corrupt(std::string(what) + " must be a JSON object");
  return parsed;
}

bool ValidVersion(std::string_view v) {
  // MAJOR.MINOR.PATCH, each 1 to 5 digits.
  int parts = 0;
  std::size_t digits = 0;
  for (char c : v) {
    if (c >= '0' && c <= '9') {
      if (++digits > 5) return false;
    } else if (c == '.' && digits > 0 && parts < 2) {
      ++parts;
      digits = 0;
    } else {
      return false;
    }
  }
  return parts == 2 && digits > 0;
}

json CandidatesJson(const Machine& m) {
  json j = json::object();
  for (int i = 0; i < kSlotCount; ++i) {
    if (m.identifier.tags[i] == 0) continue;
    j[SlotName(SlotAt(i))] = m.candidates[i];
  }
  return j;
}

void AddMachine(json& j, const Machine& m) {
  j["identifier"] = m.identifier.ToString();
  j["environment"] = ToString(m.identifier.environment);
  j["candidates"] = CandidatesJson(m);
}

Result<Machine> ParseMachine(const Fields& f) {
  Machine m;
  LICAGENT_ASSIGN(m.identifier, strict_json::CanonicalIdentifier(f, "identifier"));
  std::string environment;
  LICAGENT_ASSIGN(environment, f.String("environment", 32));
  if (environment != ToString(m.identifier.environment)) {
    return Corrupt("environment disagrees with the identifier");
  }
  auto candidates_object = f.Object("candidates");
  if (!candidates_object) return candidates_object.error();
  const Fields& candidates = *candidates_object;
  for (const auto& [name, value] : candidates.object().items()) {
    int slot = -1;
    for (int i = 0; i < kSlotCount; ++i) {
      if (name == SlotName(SlotAt(i))) slot = i;
    }
    if (slot < 0) return Corrupt("candidates has an unknown slot " + name.substr(0, 32));
    const std::string field = candidates.Name(name);
    if (m.identifier.tags[slot] == 0) return Corrupt(field + " is absent from the identifier");
    if (!value.is_array() || value.empty() || value.size() > kMaxCandidates) {
      return Corrupt(field + " must be an array of 1 to " + std::to_string(kMaxCandidates) +
                     " tags");
    }
    auto& tags = m.candidates[slot];
    for (const json& t : value) {
      if (!t.is_number_integer() || t.get<std::int64_t>() < 1 || t.get<std::int64_t>() > 65535) {
        return Corrupt(field + " must hold integers from 1 to 65535");
      }
      const auto tag = static_cast<std::uint16_t>(t.get<std::int64_t>());
      if (std::find(tags.begin(), tags.end(), tag) != tags.end()) {
        return Corrupt(field + " repeats a tag");
      }
      tags.push_back(tag);
    }
    if (tags.front() != m.identifier.tags[slot]) {
      return Corrupt(field + " must start with the identifier's own tag");
    }
  }
  // A slot the identifier has but the candidates leave out accepts just its own tag.
  for (int i = 0; i < kSlotCount; ++i) {
    if (m.identifier.tags[i] != 0 && m.candidates[i].empty()) {
      m.candidates[i].push_back(m.identifier.tags[i]);
    }
  }
  return m;
}

Result<std::string> ParseNonce(const Fields& f) {
  std::string nonce;
  LICAGENT_ASSIGN(nonce, f.String("nonce", kNonceLength));
  if (!ValidNonce(nonce)) return Corrupt("nonce must be 32 lower-case hex digits");
  return nonce;
}

Result<std::string> ParseAgentVersion(const Fields& f) {
  std::string version;
  LICAGENT_ASSIGN(version, f.String("agent_version", 20));
  if (!ValidVersion(version)) return Corrupt("agent_version must be MAJOR.MINOR.PATCH");
  return version;
}

// Server text shown to a user: bounded, one line, printable.
std::string Printable(std::string_view text) {
  std::string out;
  for (char c : text.substr(0, kMaxMessageLength)) {
    out.push_back(static_cast<unsigned char>(c) < 0x20 || c == 0x7f ? ' ' : c);
  }
  return out;
}

}  // namespace

Machine MachineOf(const Fingerprint& fingerprint) {
  Machine m;
  m.identifier = fingerprint.identifier;
  for (int i = 0; i < kSlotCount; ++i) {
    const std::uint16_t tag = m.identifier.tags[i];
    if (tag == 0) continue;
    auto& out = m.candidates[i];
    out.push_back(tag);
    for (std::uint16_t c : fingerprint.slots[i].candidates) {
      if (out.size() == kMaxCandidates) break;
      if (c != 0 && std::find(out.begin(), out.end(), c) == out.end()) out.push_back(c);
    }
  }
  return m;
}

Fingerprint FingerprintOf(const Machine& machine) {
  Fingerprint f;
  f.identifier = machine.identifier;
  for (int i = 0; i < kSlotCount; ++i) {
    f.slots[i].slot = SlotAt(i);
    f.slots[i].tag = machine.identifier.tags[i];
    f.slots[i].candidates = machine.candidates[i];
  }
  return f;
}

Result<std::string> NewNonce() {
  if (!crypto::Ready()) return Error{ErrorCode::kInternal, "no randomness for a request nonce"};
  std::uint8_t bytes[kNonceLength / 2];
  crypto::RandomBytes(bytes, sizeof bytes);
  return crypto::Hex(bytes, sizeof bytes);
}

bool ValidNonce(std::string_view nonce) {
  return nonce.size() == kNonceLength && std::all_of(nonce.begin(), nonce.end(), [](char c) {
           return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
         });
}

// ---- requests ----------------------------------------------------------------------------

namespace {

// Activate and seat requests differ in one field: which credential or seat they name
// (`id_field`). T has product_id, machine, nonce and agent_version.
template <typename T>
std::string SerializeMachineRequest(const T& r, const char* id_field, const std::string& id) {
  json j = json::object();
  j["product_id"] = r.product_id;
  j[id_field] = id;
  AddMachine(j, r.machine);
  j["nonce"] = r.nonce;
  j["agent_version"] = r.agent_version;
  return j.dump();
}

template <typename T>
Result<T> ParseMachineRequest(std::string_view body, const char* id_field, std::size_t id_max,
                              std::string T::*id) {
  json j;
  LICAGENT_ASSIGN(j, ParseObject(body, kMaxRequestBody, "the request"));
  const Fields f(j, "");
  T r;
  LICAGENT_ASSIGN(r.product_id, f.String("product_id", kMaxIdLength));
  LICAGENT_ASSIGN(r.*id, f.String(id_field, id_max));
  LICAGENT_ASSIGN(r.machine, ParseMachine(f));
  LICAGENT_ASSIGN(r.nonce, ParseNonce(f));
  LICAGENT_ASSIGN(r.agent_version, ParseAgentVersion(f));
  return r;
}

}  // namespace

std::string Serialize(const ActivateRequest& r) {
  return SerializeMachineRequest(r, "credential", r.credential);
}

Result<ActivateRequest> ParseActivateRequest(std::string_view body) {
  return ParseMachineRequest<ActivateRequest>(body, "credential", kMaxCredentialLength,
                                              &ActivateRequest::credential);
}

std::string Serialize(const SeatRequest& r) {
  return SerializeMachineRequest(r, "license_id", r.license_id);
}

Result<SeatRequest> ParseSeatRequest(std::string_view body) {
  return ParseMachineRequest<SeatRequest>(body, "license_id", kMaxIdLength,
                                          &SeatRequest::license_id);
}

std::string Serialize(const OfflineRequest& r) {
  json j = json::object();
  j["request_format"] = 1;
  j["product_id"] = r.product_id;
  j["identifier"] = r.identifier.ToString();
  j["nonce"] = r.nonce;
  j["created_at"] = FormatTime(r.created_at);
  return j.dump() + "\n";
}

Result<OfflineRequest> ParseOfflineRequest(std::string_view text) {
  json j;
  LICAGENT_ASSIGN(j, ParseObject(text, kMaxOfflineRequestSize, "the request file"));
  const Fields f(j, "");
  LICAGENT_RETURN_IF_ERROR(
      f.OnlyKnown({"request_format", "product_id", "identifier", "nonce", "created_at"}));
  const json* format = f.Find("request_format");
  if (format == nullptr) return Corrupt("missing field request_format");
  if (!format->is_number_integer() || format->get<std::int64_t>() != 1) {
    return Corrupt("unsupported request_format (this version reads request_format 1)");
  }
  OfflineRequest r;
  LICAGENT_ASSIGN(r.product_id, f.String("product_id", kMaxIdLength));
  LICAGENT_ASSIGN(r.identifier, strict_json::CanonicalIdentifier(f, "identifier"));
  LICAGENT_ASSIGN(r.nonce, f.String("nonce", kMaxIdLength));
  LICAGENT_ASSIGN(r.created_at, f.Time("created_at"));
  return r;
}

std::string Serialize(const OfflineAnswerRequest& r) {
  return json{{"credential", r.credential}, {"request", r.request}}.dump();
}

Result<OfflineAnswerRequest> ParseOfflineAnswerRequest(std::string_view body) {
  json j;
  LICAGENT_ASSIGN(j, ParseObject(body, kMaxRequestBody, "the request"));
  const Fields f(j, "");
  OfflineAnswerRequest r;
  LICAGENT_ASSIGN(r.credential, f.String("credential", kMaxCredentialLength));
  LICAGENT_ASSIGN(r.request, f.String("request", kMaxOfflineRequestSize));
  return r;
}

// ---- answers -----------------------------------------------------------------------------

std::string Serialize(const LicenseAnswer& a) {
  json j = json::object();
  j["license"] = a.license;
  if (a.seats) j["seats"] = *a.seats;
  if (a.seats_used) j["seats_used"] = *a.seats_used;
  return j.dump();
}

Result<LicenseAnswer> ParseLicenseAnswer(std::string_view body) {
  json j;
  LICAGENT_ASSIGN(j, ParseObject(body, kMaxAnswerBody, "the server's answer"));
  const Fields f(j, "");
  LicenseAnswer a;
  LICAGENT_ASSIGN(a.license, f.String("license", kMaxLicenseSize));
  for (const char* key : {"seats", "seats_used"}) {
    if (!f.Has(key)) continue;
    std::int64_t n = 0;
    LICAGENT_ASSIGN(n, f.Integer(key, 0, 1 << 20));
    (std::string_view(key) == "seats" ? a.seats : a.seats_used) = static_cast<int>(n);
  }
  return a;
}

const char* ToString(RemoteError error) noexcept {
  switch (error) {
    case RemoteError::kUnknownProduct:
      return "unknown_product";
    case RemoteError::kUnknownCredential:
      return "unknown_credential";
    case RemoteError::kCredentialExpired:
      return "credential_expired";
    case RemoteError::kCredentialFrozen:
      return "credential_frozen";
    case RemoteError::kCredentialReleased:
      return "credential_released";
    case RemoteError::kSeatLimit:
      return "seat_limit";
    case RemoteError::kUnknownLicense:
      return "unknown_license";
    case RemoteError::kWrongMachine:
      return "wrong_machine";
    case RemoteError::kEnvironmentNotAllowed:
      return "environment_not_allowed";
    case RemoteError::kCodeNotClaimed:
      return "code_not_claimed";
    case RemoteError::kMalformedRequest:
      return "malformed_request";
    case RemoteError::kUnsupportedVersion:
      return "unsupported_version";
    case RemoteError::kTooLarge:
      return "too_large";
    case RemoteError::kNotFound:
      return "not_found";
    case RemoteError::kMethodNotAllowed:
      return "method_not_allowed";
    case RemoteError::kRateLimited:
      return "rate_limited";
    case RemoteError::kInternal:
      return "internal";
    case RemoteError::kUnavailable:
      return "unavailable";
  }
  return "internal";
}

std::optional<RemoteError> ParseRemoteError(std::string_view code) {
  for (int i = 0; i <= static_cast<int>(RemoteError::kUnavailable); ++i) {
    const auto e = static_cast<RemoteError>(i);
    if (code == ToString(e)) return e;
  }
  return std::nullopt;
}

int HttpStatus(RemoteError error) noexcept {
  switch (error) {
    case RemoteError::kUnknownProduct:
    case RemoteError::kUnknownCredential:
    case RemoteError::kUnknownLicense:
    case RemoteError::kNotFound:
      return 404;
    case RemoteError::kCredentialExpired:
    case RemoteError::kCredentialFrozen:
    case RemoteError::kCredentialReleased:
    case RemoteError::kWrongMachine:
    case RemoteError::kEnvironmentNotAllowed:
    case RemoteError::kCodeNotClaimed:
      return 403;
    case RemoteError::kSeatLimit:
      return 409;
    case RemoteError::kMalformedRequest:
    case RemoteError::kUnsupportedVersion:
      return 400;
    case RemoteError::kTooLarge:
      return 413;
    case RemoteError::kMethodNotAllowed:
      return 405;
    case RemoteError::kRateLimited:
      return 429;
    case RemoteError::kInternal:
      return 500;
    case RemoteError::kUnavailable:
      return 503;
  }
  return 500;
}

bool IsTransient(RemoteError error) noexcept {
  return error == RemoteError::kRateLimited || error == RemoteError::kInternal ||
         error == RemoteError::kUnavailable;
}

std::string SerializeError(RemoteError error, std::string_view message) {
  return json{{"error", {{"code", ToString(error)}, {"message", std::string(message)}}}}.dump();
}

Result<ErrorAnswer> ParseErrorAnswer(std::string_view body) {
  json j;
  LICAGENT_ASSIGN(j, ParseObject(body, kMaxAnswerBody, "the server's error answer"));
  auto error_object = Fields(j, "").Object("error");
  if (!error_object) return error_object.error();
  const Fields& error = *error_object;
  ErrorAnswer a;
  LICAGENT_ASSIGN(a.code, error.String("code", kMaxIdLength));
  if (error.Has("message")) {
    const json* m = error.Find("message");
    if (!m->is_string()) return Corrupt("error.message must be a string");
    a.message = m->get<std::string>();
  }
  return a;
}

Error ErrorFromAnswer(long http_status, std::string_view body) {
  const bool transient_status = http_status == 429 || http_status >= 500;
  const std::string status_text = "HTTP " + std::to_string(http_status);
  auto answer = ParseErrorAnswer(body);
  if (!answer) {
    return Error{ErrorCode::kUnavailable,
                 "the server answered " + status_text + " without a valid error body"};
  }
  const auto known = ParseRemoteError(answer->code);
  const bool transient = known ? IsTransient(*known) : transient_status;
  Error e;
  e.code = transient ? ErrorCode::kUnavailable : ErrorCode::kRejected;
  e.remote_code = Printable(answer->code);
  const std::string message = Printable(answer->message);
  e.message = (transient ? "the server could not serve the request: " : "the server refused: ") +
              (message.empty() ? e.remote_code : message) + " (" + e.remote_code + ", " +
              status_text + ")";
  return e;
}

}  // namespace licagent::protocol
