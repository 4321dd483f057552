// What the vendor server parses from the network, on arbitrary bytes (docs/fuzzing.md): the
// activate, seat (refresh/deactivate) and offline bodies, and offline request files. Properties:
//  - every parser fails only with kCorrupt, with a message, and never crashes;
//  - whatever parses serialises to bytes that parse back equal (the agent's side of the same
//    messages), so the two halves of the protocol cannot drift apart.
// A violated property aborts with __builtin_trap(), which libFuzzer reports as a crash.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "licagent/protocol.h"

namespace {

void Check(bool ok) {
  if (!ok) __builtin_trap();
}

template <typename T, typename Parse>
void RoundTrip(std::string_view text, Parse parse) {
  licagent::Result<T> parsed = parse(text);
  if (!parsed) {
    Check(parsed.error().code == licagent::ErrorCode::kCorrupt);
    Check(!parsed.error().message.empty());
    return;
  }
  licagent::Result<T> again = parse(licagent::protocol::Serialize(*parsed));
  Check(again.has_value());
  Check(*again == *parsed);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  namespace p = licagent::protocol;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  RoundTrip<p::ActivateRequest>(text, p::ParseActivateRequest);
  RoundTrip<p::SeatRequest>(text, p::ParseSeatRequest);
  RoundTrip<p::OfflineAnswerRequest>(text, p::ParseOfflineAnswerRequest);
  RoundTrip<p::OfflineRequest>(text, p::ParseOfflineRequest);
  return 0;
}
