// What the agent parses from the vendor server, on arbitrary bytes (docs/fuzzing.md): license
// answers and error answers, and the Error an HTTP status plus body becomes. Properties:
//  - the parsers fail only with kCorrupt and never crash; a parsed answer round-trips;
//  - ErrorFromAnswer always yields kUnavailable or kRejected, with a bounded, printable message
//    (server text can never drive the user's terminal).
// A violated property aborts with __builtin_trap(), which libFuzzer reports as a crash.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "licagent/protocol.h"

namespace {

void Check(bool ok) {
  if (!ok) __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  namespace p = licagent::protocol;
  using licagent::ErrorCode;
  if (size < 1) return 0;
  const long status = 400 + data[0] % 200;  // every 4xx and 5xx class
  const std::string_view text(reinterpret_cast<const char*>(data) + 1, size - 1);

  auto answer = p::ParseLicenseAnswer(text);
  if (answer) {
    auto again = p::ParseLicenseAnswer(p::Serialize(*answer));
    Check(again.has_value() && *again == *answer);
  } else {
    Check(answer.error().code == ErrorCode::kCorrupt);
  }

  auto error = p::ParseErrorAnswer(text);
  Check(error.has_value() || error.error().code == ErrorCode::kCorrupt);

  const licagent::Error e = p::ErrorFromAnswer(status, text);
  Check(e.code == ErrorCode::kUnavailable || e.code == ErrorCode::kRejected);
  Check(!e.message.empty() && e.message.size() < 1024 && e.remote_code.size() <= 64);
  for (char c : e.message + e.remote_code)
    Check(static_cast<unsigned char>(c) >= 0x20 && c != 0x7f);
  return 0;
}
