// Key generation and normalisation. Base32 here is the 25-character Crockford alphabet of the
// key format only, not a general codec.
#include "server/activation/credential_key.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <array>
#include <cstdint>

namespace licagent::server {
namespace {

constexpr char kAlphabet[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
constexpr std::size_t kKeyChars = 25;  // 125 bits
constexpr std::size_t kGroup = 5;
// "LK-" + 25 characters + 4 dashes.
constexpr std::size_t kKeyTextSize = 3 + kKeyChars + kKeyChars / kGroup - 1;

int DigitValue(char c) {
  if (c == 'O') c = '0';
  if (c == 'I' || c == 'L') c = '1';
  for (int i = 0; i < 32; ++i) {
    if (kAlphabet[i] == c) return i;
  }
  return -1;
}

// Writes "LK-" and the 25 digits in groups of five into `out` (kKeyTextSize bytes).
void Format(const std::array<std::uint8_t, kKeyChars>& digits, char* out) {
  std::size_t n = 0;
  out[n++] = 'L';
  out[n++] = 'K';
  for (std::size_t i = 0; i < kKeyChars; ++i) {
    if (i % kGroup == 0) out[n++] = '-';
    out[n++] = kAlphabet[digits[i]];
  }
}

std::string Hex(const unsigned char* bytes, std::size_t size) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string s;
  s.reserve(size * 2);
  for (std::size_t i = 0; i < size; ++i) {
    s += kHex[bytes[i] >> 4];
    s += kHex[bytes[i] & 0xF];
  }
  return s;
}

}  // namespace

Result<vendor::SecretBytes> NewCredentialKey() {
  std::array<std::uint8_t, 16> random{};
  if (RAND_bytes(random.data(), static_cast<int>(random.size())) != 1) {
    return Error{ErrorCode::kInternal, "the CSPRNG failed"};
  }
  // 125 bits: five bits a digit from the top of the 128, the last three bits unused.
  std::array<std::uint8_t, kKeyChars> digits{};
  for (std::size_t i = 0; i < kKeyChars; ++i) {
    unsigned value = 0;
    for (std::size_t b = 0; b < 5; ++b) {
      const std::size_t bit = i * 5 + b;
      value = (value << 1) | ((random[bit / 8] >> (7 - bit % 8)) & 1U);
    }
    digits[i] = static_cast<std::uint8_t>(value);
  }
  OPENSSL_cleanse(random.data(), random.size());
  vendor::SecretBytes key(kKeyTextSize);
  Format(digits, reinterpret_cast<char*>(key.data()));
  key.set_size(kKeyTextSize);
  OPENSSL_cleanse(digits.data(), digits.size());
  return key;
}

std::optional<std::string> NormalizeCredentialKey(std::string_view text) {
  std::string compact;
  compact.reserve(text.size());
  for (char c : text) {
    if (c == ' ' || c == '-' || c == '\t') continue;
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
    compact += c;
  }
  if (compact.size() != 2 + kKeyChars || compact.compare(0, 2, "LK") != 0) return std::nullopt;
  std::array<std::uint8_t, kKeyChars> digits{};
  for (std::size_t i = 0; i < kKeyChars; ++i) {
    const int v = DigitValue(compact[2 + i]);
    if (v < 0) return std::nullopt;
    digits[i] = static_cast<std::uint8_t>(v);
  }
  OPENSSL_cleanse(compact.data(), compact.size());
  std::string out(kKeyTextSize, '\0');
  Format(digits, out.data());
  return out;
}

std::optional<std::string> CredentialKeyHash(std::string_view text) {
  auto key = NormalizeCredentialKey(text);
  if (!key) return std::nullopt;
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  const int ok = EVP_Digest(key->data(), key->size(), digest, &size, EVP_sha256(), nullptr);
  OPENSSL_cleanse(key->data(), key->size());
  if (ok != 1) return std::nullopt;
  return Hex(digest, size);
}

std::optional<std::string> NormalizeAuthorizationCode(std::string_view text) {
  const auto space = [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; };
  while (!text.empty() && space(text.front())) text.remove_prefix(1);
  while (!text.empty() && space(text.back())) text.remove_suffix(1);
  if (text.size() < 3 || text.size() > 64 || text.substr(0, 2) != "PL") return std::nullopt;
  for (char c : text) {
    const bool alnum = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
    if (!alnum) return std::nullopt;
  }
  return std::string(text);
}

std::string AuthorizationCodeHash(std::string_view code) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  if (EVP_Digest(code.data(), code.size(), digest, &size, EVP_sha256(), nullptr) != 1) return {};
  return Hex(digest, size);
}

std::string MaskCode(std::string_view code) {
  if (code.size() <= 6) return std::string(code.substr(0, 2)) + "****";
  return std::string(code.substr(0, 2)) + "****" + std::string(code.substr(code.size() - 4));
}

Result<std::string> RandomId(std::string_view prefix, std::size_t bytes) {
  std::array<unsigned char, 32> random{};
  if (bytes > random.size() || RAND_bytes(random.data(), static_cast<int>(bytes)) != 1) {
    return Error{ErrorCode::kInternal, "the CSPRNG failed"};
  }
  return std::string(prefix) + Hex(random.data(), bytes);
}

}  // namespace licagent::server
