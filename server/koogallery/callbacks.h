// The marketplace's callbacks to the vendor's production URL (reference/koogallery.md §5-§7):
// parsing the License 2.0 and online-license (model B) JSON bodies and the legacy GET query
// parameters into one CallbackEvent, the result codes, the answers, and the idempotency keys of
// the activities that carry an identity. Pure: no store, no clock, no I/O (docs/koogallery.md
// "Callbacks"). Signature checks are in signing.h; applying events is the server's.
#pragma once

#include <chrono>
#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "licagent/result.h"
#include "server/koogallery/signing.h"

namespace licagent::koogallery {

// resultCode values the merchant answers (§5.4, §6.6, §7.5): always six characters.
namespace result {
inline constexpr std::string_view kSuccess = "000000";
inline constexpr std::string_view kAuthFailed = "000001";
inline constexpr std::string_view kIllegalParameter = "000002";
inline constexpr std::string_view kNotFound = "000003";  // code / instance does not exist
inline constexpr std::string_view kProcessing = "000004";
inline constexpr std::string_view kInternalError = "000005";
inline constexpr std::string_view kNoInstanceResource = "000100";
inline constexpr std::string_view kOutsideValidity = "000901";  // getLicenseAsync
inline constexpr std::string_view kNeedsExpiry = "000902";
inline constexpr std::string_view kNeedsFingerprint = "000903";
}  // namespace result

enum class Activity {
  // License 2.0 (model A)
  kRefreshLicenseCode,
  kUpdateLicenseCodeStatus,
  kReleaseLicenseCode,
  // Online license (model B)
  kNewInstance,
  kRefreshInstance,
  kUpdateInstanceStatus,
  kReleaseInstance,
  kGetLicenseAsync,
  // Legacy GET (model C)
  kGetLicense,
  kRefreshLicense,
  kExpireLicense,
  kReleaseLicense,
};
enum class CallbackModel { kLicenseCode, kInstance, kLegacy };

std::optional<Activity> ParseActivity(std::string_view name);  // exact, case-sensitive
const char* ToString(Activity activity) noexcept;              // "refreshLicenseCode", ...
CallbackModel ModelOf(Activity activity) noexcept;

// A callback body larger than this is refused with 000002 (the largest documented body, a
// getLicenseAsync with a 1024-character fingerprint, is well under 2 KiB).
inline constexpr std::size_t kMaxCallbackBody = 8 * 1024;

// One parsed callback. Every field is kept as text (JSON numbers as their decimal text, null as
// absent), unknown fields included; the typed members are derived from them.
struct CallbackEvent {
  Activity activity = Activity::kRefreshLicenseCode;
  std::map<std::string, std::string> fields;
  bool test = false;  // testFlag "1" (or "true")
  // expireTime and effectiveTime in UTC, when present (yyyyMMddHHmmss, read in the
  // marketplace's time zone; 17 digits with milliseconds and "yyyy-MM-dd HH:mm:ss z" tolerated).
  std::optional<std::chrono::system_clock::time_point> expire_time;
  std::optional<std::chrono::system_clock::time_point> effective_time;

  // The field's text, "" when absent.
  const std::string& Field(const std::string& name) const;
};

// Parses a License 2.0 / model-B POST body: a JSON object whose `activity` is one of the eight
// POST activities, with every mandatory field of that activity present, non-empty and within
// its documented length, FREEZE/UNFREEZE for `status`, a parsable `expireTime` /
// `effectiveTime`, and testFlag "0", "1", "true", "false" or absent. kInvalidArgument naming the
// problem (the caller answers 000002) — also for an unknown activity and a body over
// kMaxCallbackBody.
Result<CallbackEvent> ParseCallbackBody(std::string_view body,
                                        std::chrono::minutes utc_offset = std::chrono::minutes(0));

// The same for the decoded query parameters of a legacy GET (authToken and timeStamp are
// ignored: they are the signature's); the four GET activities only.
Result<CallbackEvent> ParseLegacyCallback(
    const QueryParams& params, std::chrono::minutes utc_offset = std::chrono::minutes(0));

// The identity of an event that must be answered the same way on every retry, as a hex
// SHA-256 over the activity, the test flag and the fields that identify it; nullopt for the
// activities that are idempotent by their effect alone (status changes and releases):
//   refreshLicenseCode  license, orderId, orderLineId (each renewal is a new order)
//   newInstance         orderId, orderLineId (businessId differs on every retry)
//   refreshInstance     instanceId, orderId, orderLineId
//   getLicenseAsync     instanceId, eventId, deviceFingerprint
//   getLicense          orderId (the legacy rule: same order, same instance and license)
//   refreshLicense      instanceId, orderId
std::optional<std::string> IdempotencyKey(const CallbackEvent& event);

// {"resultCode":"…","resultMsg":"…"} plus `extra` string members (instanceId, license), in
// this order, compact.
std::string CallbackAnswer(std::string_view result_code, std::string_view message,
                           const std::vector<std::pair<std::string, std::string>>& extra = {});

// The resultCode of an answer body, "" if there is none.
std::string AnswerResultCode(std::string_view answer);

}  // namespace licagent::koogallery
