// The agent ↔ vendor server protocol (docs/protocol.md): message types and their JSON forms,
// shared by the agent's client and the vendor server so that both parse the same way.
// Parsers accept at most the documented sizes, reject duplicate keys, wrong types and missing
// fields (kCorrupt, the field named), and ignore unknown fields.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "licagent/identity.h"
#include "licagent/license.h"
#include "licagent/result.h"

namespace licagent::protocol {

inline constexpr std::size_t kMaxRequestBody = 16 * 1024;
inline constexpr std::size_t kMaxAnswerBody = 128 * 1024;
// Tags accepted per slot in "candidates".
inline constexpr std::size_t kMaxCandidates = 16;

// What a machine says about itself in every online request.
struct Machine {
  Identifier identifier;
  // Per slot, every tag this machine accepts, the identifier's own tag first; empty for the
  // slots the identifier does not have.
  std::array<std::vector<std::uint16_t>, kSlotCount> candidates;

  friend bool operator==(const Machine&, const Machine&) = default;
};
// This machine as the protocol describes it (no raw values: tags only).
Machine MachineOf(const Fingerprint& fingerprint);
// The fingerprint Match() needs on the server side: identifier and candidates.
Fingerprint FingerprintOf(const Machine& machine);

// A fresh nonce: 128 bits from the CSPRNG as 32 lower-case hex digits. kInternal if the
// CSPRNG is unavailable.
Result<std::string> NewNonce();
bool ValidNonce(std::string_view nonce);

// POST /v1/activate
struct ActivateRequest {
  std::string product_id;
  std::string credential;
  Machine machine;
  std::string nonce;
  std::string agent_version;

  friend bool operator==(const ActivateRequest&, const ActivateRequest&) = default;
};
std::string Serialize(const ActivateRequest& request);
Result<ActivateRequest> ParseActivateRequest(std::string_view body);

// POST /v1/refresh and POST /v1/deactivate
struct SeatRequest {
  std::string product_id;
  std::string license_id;
  Machine machine;
  std::string nonce;
  std::string agent_version;

  friend bool operator==(const SeatRequest&, const SeatRequest&) = default;
};
std::string Serialize(const SeatRequest& request);
Result<SeatRequest> ParseSeatRequest(std::string_view body);

// The offline request file `licagent request` writes (docs/license-format.md "Offline
// request"). Strict: unknown fields are rejected too, as the file is never written by a newer
// server.
inline constexpr std::size_t kMaxOfflineRequestSize = 16 * 1024;
struct OfflineRequest {
  std::string product_id;
  Identifier identifier;
  std::string nonce;
  UnixTime created_at = 0;

  friend bool operator==(const OfflineRequest&, const OfflineRequest&) = default;
};
std::string Serialize(const OfflineRequest& request);
Result<OfflineRequest> ParseOfflineRequest(std::string_view text);

// POST /v1/offline: a request file brought to the server with the credential to charge.
struct OfflineAnswerRequest {
  std::string credential;
  std::string request;  // the request file's text

  friend bool operator==(const OfflineAnswerRequest&, const OfflineAnswerRequest&) = default;
};
std::string Serialize(const OfflineAnswerRequest& request);
Result<OfflineAnswerRequest> ParseOfflineAnswerRequest(std::string_view body);

// 200 answer of activate, refresh, deactivate and offline.
struct LicenseAnswer {
  std::string license;  // armoured license text: the only part an agent trusts
  std::optional<int> seats;
  std::optional<int> seats_used;

  friend bool operator==(const LicenseAnswer&, const LicenseAnswer&) = default;
};
std::string Serialize(const LicenseAnswer& answer);
Result<LicenseAnswer> ParseLicenseAnswer(std::string_view body);

// docs/protocol.md "Error codes". Never renumber or rename: the names are the wire format.
enum class RemoteError {
  kUnknownProduct,
  kUnknownCredential,
  kCredentialExpired,
  kCredentialFrozen,
  kCredentialReleased,
  kSeatLimit,
  kUnknownLicense,
  kWrongMachine,
  kEnvironmentNotAllowed,
  kCodeNotClaimed,  // a KooGallery authorization code the buyer has not received yet
  kMalformedRequest,
  kUnsupportedVersion,
  kTooLarge,
  kNotFound,
  kMethodNotAllowed,
  kRateLimited,
  kInternal,
  kUnavailable,
};
const char* ToString(RemoteError error) noexcept;  // "seat_limit"
std::optional<RemoteError> ParseRemoteError(std::string_view code);
int HttpStatus(RemoteError error) noexcept;
// True for the "try again later" class: rate_limited, internal, unavailable.
bool IsTransient(RemoteError error) noexcept;

// A non-2xx answer. The code stays text: a newer server may send codes this agent lacks.
struct ErrorAnswer {
  std::string code;
  std::string message;

  friend bool operator==(const ErrorAnswer&, const ErrorAnswer&) = default;
};
std::string SerializeError(RemoteError error, std::string_view message);
Result<ErrorAnswer> ParseErrorAnswer(std::string_view body);

// The agent-side Error for an HTTP answer that is not 200: kUnavailable for the transient
// class (and for a body that is not an error object), kRejected otherwise, with remote_code
// set from the body (or from the status when the body has none).
Error ErrorFromAnswer(long http_status, std::string_view body);

}  // namespace licagent::protocol
