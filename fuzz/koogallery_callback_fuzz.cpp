// The KooGallery callback parsers (server/koogallery/callbacks.h) on arbitrary bytes: the first
// byte picks a POST body (even) or a legacy GET query string (odd), the rest is the input; a
// parsed getLicenseAsync fingerprint also goes through IdentifierFromKooGalleryFingerprint.
// Properties:
//  - the parsers never crash or throw and fail only with kInvalidArgument;
//  - a parsed event's activity round-trips through its name and belongs to the model of its
//    transport (POST: License 2.0 / model B; GET: legacy); `test` is testFlag "1"/"true";
//  - an idempotency key is absent or 64 lower-case hex digits;
//  - the answer built from any message (even one quoting bytes that are not UTF-8) is JSON
//    whose resultCode reads back;
//  - a derived identifier has 1-3 slots, never the cpu slot.
// A violated property aborts with __builtin_trap(), which libFuzzer reports as a crash.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "licagent/identity.h"
#include "server/koogallery/callbacks.h"

namespace {

void Check(bool ok) {
  if (!ok) __builtin_trap();
}

namespace kg = licagent::koogallery;

void CheckAnswer(std::string_view message) {
  const std::string answer = kg::CallbackAnswer(kg::result::kIllegalParameter, message);
  Check(kg::AnswerResultCode(answer) == kg::result::kIllegalParameter);
}

void CheckEvent(const licagent::Result<kg::CallbackEvent>& event, bool legacy) {
  if (!event) {
    Check(event.error().code == licagent::ErrorCode::kInvalidArgument);
    CheckAnswer(event.error().message);
    return;
  }
  Check(kg::ParseActivity(kg::ToString(event->activity)) == event->activity);
  Check((kg::ModelOf(event->activity) == kg::CallbackModel::kLegacy) == legacy);
  const std::string& flag = event->Field("testFlag");
  Check(event->test == (flag == "1" || flag == "true"));
  if (const auto key = kg::IdempotencyKey(*event)) {
    Check(key->size() == 64);
    Check(key->find_first_not_of("0123456789abcdef") == std::string::npos);
  }
  const std::string& fingerprint = event->Field("deviceFingerprint");
  if (!fingerprint.empty()) {
    auto id = licagent::IdentifierFromKooGalleryFingerprint(fingerprint);
    if (id) {
      Check(id->PresentSlots() >= 1 && id->PresentSlots() <= 3);
      Check(id->tags[static_cast<std::size_t>(licagent::Slot::kCpu)] == 0);
    } else {
      Check(id.error().code == licagent::ErrorCode::kInvalidArgument);
    }
  }
  CheckAnswer(event->Field("activity"));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const bool legacy = (data[0] & 1U) != 0;
  const std::string_view input(reinterpret_cast<const char*>(data + 1), size - 1);
  if (legacy) {
    CheckEvent(kg::ParseLegacyCallback(kg::ParseQueryString(input)), true);
  } else {
    CheckEvent(kg::ParseCallbackBody(input), false);
  }
  return 0;
}
