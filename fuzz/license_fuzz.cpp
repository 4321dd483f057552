// The license parsers on arbitrary bytes, plus their properties (docs/fuzzing.md):
//  - VerifyLicense fails only with kCorrupt or kBadSignature and never crashes (the trusted key
//    is the test vectors' vendor-2026 key, so the seeds reach the payload parser);
//  - ParseArmoredLicense, when it succeeds, round-trips: ArmorLicense(envelope) parses back to
//    the same envelope;
//  - ParsePayload on the same bytes fails only with kCorrupt, and when it succeeds the payload
//    serialises canonically to bytes that parse back equal.
// A violated property aborts with __builtin_trap(), which libFuzzer reports as a crash.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "licagent/license.h"

namespace {

void Check(bool ok) {
  if (!ok) __builtin_trap();
}

const std::vector<licagent::PublicKey>& Trusted() {
  // tests/data/licenses/vendor-2026.pub
  static const std::vector<licagent::PublicKey> keys = {
      licagent::ParsePublicKey("vendor-2026:aYbo9rO530llXRiJT83XT75pD3LNssb4LzzLjaUeinU=").value()};
  return keys;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  using licagent::ErrorCode;

  auto license = licagent::VerifyLicense(text, Trusted());
  if (!license) {
    const ErrorCode code = license.error().code;
    Check(code == ErrorCode::kCorrupt || code == ErrorCode::kBadSignature);
    Check(!license.error().message.empty());
  }

  auto envelope = licagent::ParseArmoredLicense(text);
  if (envelope) {
    auto again = licagent::ParseArmoredLicense(licagent::ArmorLicense(*envelope));
    Check(again.has_value());
    Check(again->key_id == envelope->key_id && again->payload == envelope->payload &&
          again->signature == envelope->signature);
  }

  auto payload = licagent::ParsePayload(text);
  if (!payload) {
    Check(payload.error().code == ErrorCode::kCorrupt);
  } else {
    const std::string canonical = licagent::SerializePayload(*payload);
    auto back = licagent::ParsePayload(canonical);
    Check(back.has_value());
    Check(*back == *payload);
    Check(licagent::SerializePayload(*back) == canonical);
  }
  return 0;
}
