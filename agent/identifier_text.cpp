// The HW1 identifier text: header byte, seven 16-bit tags and a CRC-16/CCITT-FALSE, written in
// Crockford base32 as "HW1-" and seven groups of four (docs/identity.md "Text format").
#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "agent/identity_internal.h"
#include "licagent/identity.h"

namespace licagent {
namespace {

constexpr std::string_view kAlphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
constexpr int kBytes = 17;  // header + 7 tags + CRC
constexpr int kChars = 28;  // ceil(136 / 5); the last 4 bits are zero padding
constexpr int kGroup = 4;

Error Malformed(std::string message) {
  return Error{ErrorCode::kMalformedIdentifier, std::move(message)};
}

// Crockford decoding, with the confusable letters O→0 and I/L→1; -1 for anything else.
int DecodeChar(char c) {
  if (c == 'O') return 0;
  if (c == 'I' || c == 'L') return 1;
  const auto pos = kAlphabet.find(c);
  return pos == std::string_view::npos ? -1 : static_cast<int>(pos);
}

bool KnownEnvironment(int value) { return value <= 4 || value == 7; }

}  // namespace

std::uint16_t Crc16CcittFalse(const std::uint8_t* data, std::size_t size) {
  std::uint16_t crc = 0xFFFF;
  for (std::size_t i = 0; i < size; ++i) {
    crc = static_cast<std::uint16_t>(crc ^ (data[i] << 8));
    for (int bit = 0; bit < 8; ++bit) {
      crc = static_cast<std::uint16_t>((crc & 0x8000) ? (crc << 1) ^ 0x1021 : crc << 1);
    }
  }
  return crc;
}

std::string Identifier::ToString() const {
  std::array<std::uint8_t, kBytes> bytes{};
  bytes[0] =
      static_cast<std::uint8_t>(((version & 0x7) << 5) | ((static_cast<int>(os) & 0x3) << 3) |
                                (static_cast<int>(environment) & 0x7));
  for (int i = 0; i < kSlotCount; ++i) {
    bytes[1 + 2 * i] = static_cast<std::uint8_t>(tags[i] >> 8);
    bytes[2 + 2 * i] = static_cast<std::uint8_t>(tags[i] & 0xFF);
  }
  const std::uint16_t crc = Crc16CcittFalse(bytes.data(), kBytes - 2);
  bytes[15] = static_cast<std::uint8_t>(crc >> 8);
  bytes[16] = static_cast<std::uint8_t>(crc & 0xFF);

  std::string out = "HW" + std::to_string(version);
  unsigned buffer = 0;
  int bits = 0;
  int chars = 0;
  auto emit = [&](unsigned value) {
    if (chars % kGroup == 0) out += '-';
    out += kAlphabet[value & 0x1F];
    ++chars;
  };
  for (std::uint8_t b : bytes) {
    buffer = (buffer << 8) | b;
    bits += 8;
    while (bits >= 5) {
      emit(buffer >> (bits - 5));
      bits -= 5;
    }
  }
  if (bits > 0) emit(buffer << (5 - bits));
  return out;
}

Result<Identifier> ParseIdentifier(std::string_view text) {
  std::string clean;
  for (char c : text) {
    if (c == '-' || c == ' ' || c == '\t' || c == '\r' || c == '\n') continue;
    clean += (c >= 'a' && c <= 'z') ? static_cast<char>(c - 'a' + 'A') : c;
  }
  if (clean.empty()) return Malformed("the identifier is empty");
  if (clean.size() < 3 || clean.compare(0, 2, "HW") != 0 || clean[2] < '0' || clean[2] > '9') {
    return Malformed("the identifier must start with HW and a version digit, as in HW1-XXXX-...");
  }
  const int text_version = clean[2] - '0';
  if (text_version != 1) {
    return Malformed("unknown identifier version " + std::to_string(text_version) +
                     " (this agent reads version 1)");
  }
  const std::string_view body = std::string_view(clean).substr(3);
  if (body.size() != kChars) {
    return Malformed("wrong length: " + std::to_string(body.size()) +
                     " characters after HW1, expected 28 (seven groups of four)");
  }

  std::array<std::uint8_t, kBytes> bytes{};
  unsigned buffer = 0;
  int bits = 0;
  std::size_t out = 0;
  for (std::size_t i = 0; i < body.size(); ++i) {
    const int v = DecodeChar(body[i]);
    if (v < 0) {
      return Malformed(std::string("invalid character '") + body[i] + "' in group " +
                       std::to_string(i / kGroup + 1) +
                       " (Crockford base32 uses 0-9 and A-Z without I, L, O, U)");
    }
    buffer = ((buffer << 5) | static_cast<unsigned>(v)) & 0xFFF;
    bits += 5;
    if (bits >= 8) {
      bytes[out++] = static_cast<std::uint8_t>(buffer >> (bits - 8));
      bits -= 8;
    }
  }
  // 140 bits were read for 136: the 4 padding bits must be zero, else the last character is
  // mistyped.
  if ((buffer & ((1U << bits) - 1)) != 0) {
    return Malformed("checksum mismatch: the identifier has a typo (check the last group)");
  }
  const std::uint16_t crc = static_cast<std::uint16_t>((bytes[15] << 8) | bytes[16]);
  if (Crc16CcittFalse(bytes.data(), kBytes - 2) != crc) {
    return Malformed("checksum mismatch: the identifier has a typo (a wrong or swapped character)");
  }

  Identifier id;
  id.version = bytes[0] >> 5;
  if (id.version != text_version) {
    return Malformed("the header says version " + std::to_string(id.version) +
                     " but the text says HW" + std::to_string(text_version));
  }
  id.os = static_cast<OsFamily>((bytes[0] >> 3) & 0x3);
  const int environment = bytes[0] & 0x7;
  if (!KnownEnvironment(environment)) {
    return Malformed("unknown environment class " + std::to_string(environment));
  }
  id.environment = static_cast<Environment>(environment);
  for (int i = 0; i < kSlotCount; ++i) {
    id.tags[i] = static_cast<std::uint16_t>((bytes[1 + 2 * i] << 8) | bytes[2 + 2 * i]);
  }
  return id;
}

}  // namespace licagent
