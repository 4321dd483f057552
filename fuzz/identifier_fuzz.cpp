// ParseIdentifier on arbitrary text, plus its properties (docs/fuzzing.md):
//  - it fails only with kMalformedIdentifier and a non-empty message;
//  - when it succeeds, ToString() of the result is canonical "HW1-XXXX-...", parses back to an
//    equal Identifier and prints the same text again;
//  - independently of the text, an Identifier built from the input bytes survives
//    ToString() -> ParseIdentifier(), also after the typing liberties the parser allows
//    (lower case, spaces instead of dashes, O for 0, I/L for 1).
// A violated property aborts with __builtin_trap(), which libFuzzer reports as a crash.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "licagent/identity.h"

namespace {

using licagent::Identifier;

void Check(bool ok) {
  if (!ok) __builtin_trap();
}

bool IsCanonical(const std::string& text) {
  // "HW1" and seven groups "-XXXX" of upper-case Crockford base32.
  if (text.size() != 3 + 7 * 5 || text.compare(0, 3, "HW1") != 0) return false;
  constexpr std::string_view kAlphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
  for (std::size_t i = 3; i < text.size(); ++i) {
    const bool dash = (i - 3) % 5 == 0;
    if (dash ? text[i] != '-' : kAlphabet.find(text[i]) == std::string_view::npos) return false;
  }
  return true;
}

// Parse -> ToString -> Parse gives the same Identifier and the same text.
void CheckRoundTrip(const Identifier& id) {
  const std::string text = id.ToString();
  Check(IsCanonical(text));
  auto again = licagent::ParseIdentifier(text);
  Check(again.has_value());
  Check(*again == id);
  Check(again->ToString() == text);
}

// The input's first 15 bytes as header and tags, the rest as a choice of spelling.
void CheckBuiltIdentifier(const std::uint8_t* data, std::size_t size) {
  if (size < 15) return;
  static constexpr licagent::Environment kEnvironments[] = {
      licagent::Environment::kBareMetal,   licagent::Environment::kVm,
      licagent::Environment::kContainer,   licagent::Environment::kCloudVm,
      licagent::Environment::kVmContainer, licagent::Environment::kUnknown};
  Identifier id;
  id.version = 1;
  id.os = static_cast<licagent::OsFamily>(data[0] & 0x3);
  id.environment = kEnvironments[(data[0] >> 2) % 6];
  for (int i = 0; i < licagent::kSlotCount; ++i) {
    id.tags[i] = static_cast<std::uint16_t>(data[1 + 2 * i] << 8 | data[2 + 2 * i]);
  }
  const std::string canonical = id.ToString();
  Check(IsCanonical(canonical));
  auto parsed = licagent::ParseIdentifier(canonical);
  Check(parsed.has_value());
  Check(*parsed == id);

  // Retype it as a person might: one input byte per character decides its spelling.
  std::string typed;
  for (std::size_t i = 0; i < canonical.size(); ++i) {
    const std::uint8_t how = 15 + i < size ? data[15 + i] : 0;
    char c = canonical[i];
    if (c == '-') {
      static constexpr const char* kSeparators[] = {"-", " ", "", "\t", "\r\n", "--"};
      typed += kSeparators[how % 6];
      continue;
    }
    const bool body = i >= 3;  // the version digit in "HW1" must stay a digit
    if (body && c == '0' && (how & 0x2)) c = 'O';
    if (body && c == '1' && (how & 0x2)) c = (how & 0x4) ? 'L' : 'I';
    if ((how & 0x1) && c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    typed += c;
  }
  auto retyped = licagent::ParseIdentifier(typed);
  Check(retyped.has_value());
  Check(*retyped == id);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto parsed = licagent::ParseIdentifier(text);
  if (parsed.has_value()) {
    CheckRoundTrip(*parsed);
  } else {
    Check(parsed.error().code == licagent::ErrorCode::kMalformedIdentifier);
    Check(!parsed.error().message.empty());
  }
  CheckBuiltIdentifier(data, size);
  return 0;
}
