// Messages of licagent-vendor: errors, warnings, and text from files made safe to print.
#include <cstdio>
#include <iostream>
#include <nlohmann/json.hpp>
#include <string>

#include "server/vendor/commands.h"
#include "server/vendor/exit_codes.h"

namespace licagent::vendor {
namespace {

// Length of the valid UTF-8 sequence at s[i] that is printable (not a C1 control), or 0.
std::size_t PrintableSequence(std::string_view s, std::size_t i) {
  const auto byte = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
  const unsigned char b = byte(i);
  std::size_t n = 0;
  std::uint32_t cp = 0;
  if (b >= 0xC2 && b <= 0xDF) {
    n = 2;
    cp = b & 0x1FU;
  } else if (b >= 0xE0 && b <= 0xEF) {
    n = 3;
    cp = b & 0x0FU;
  } else if (b >= 0xF0 && b <= 0xF4) {
    n = 4;
    cp = b & 0x07U;
  } else {
    return 0;
  }
  if (i + n > s.size()) return 0;
  for (std::size_t k = 1; k < n; ++k) {
    if ((byte(i + k) & 0xC0U) != 0x80U) return 0;
    cp = (cp << 6) | (byte(i + k) & 0x3FU);
  }
  const bool overlong = (n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000);
  const bool surrogate = cp >= 0xD800 && cp <= 0xDFFF;
  const bool c1_control = cp >= 0x80 && cp <= 0x9F;
  if (overlong || surrogate || c1_control || cp > 0x10FFFF) return 0;
  return n;
}

}  // namespace

std::string Printable(std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size();) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c >= 0x20 && c < 0x7F) {
      out += static_cast<char>(c);
      ++i;
      continue;
    }
    if (const std::size_t n = c >= 0x80 ? PrintableSequence(text, i) : 0; n > 0) {
      out.append(text.substr(i, n));
      i += n;
      continue;
    }
    out += "\\x";
    out += kHex[c >> 4];
    out += kHex[c & 0xF];
    ++i;
  }
  return out;
}

int Fail(const Error& error, bool json) {
  if (json) {
    // JSON escapes control characters itself; invalid UTF-8 is replaced, never thrown on.
    std::cout << nlohmann::json{{"error",
                                 {{"code", ToString(error.code)}, {"message", error.message}}}}
                     .dump(2, ' ', false, nlohmann::json::error_handler_t::replace)
              << "\n";
  }
  std::fprintf(stderr, "licagent-vendor: %s\n", Printable(error.message).c_str());
  return ExitCodeFor(error.code);
}

void Warn(std::string_view message) {
  std::fprintf(stderr, "licagent-vendor: warning: %s\n", Printable(message).c_str());
}

}  // namespace licagent::vendor
