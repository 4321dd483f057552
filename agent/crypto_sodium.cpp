// agent/crypto.h with libsodium: every build but the mingw-w64 cross-build.
#include <sodium.h>

#include "agent/crypto.h"

namespace licagent::crypto {

bool Ready() {
  static const bool ready = sodium_init() >= 0;
  return ready;
}

bool VerifyEd25519(const std::array<std::uint8_t, kEd25519SignatureBytes>& signature,
                   std::string_view message,
                   const std::array<std::uint8_t, kEd25519PublicKeyBytes>& public_key) {
  static_assert(kEd25519SignatureBytes == crypto_sign_BYTES);
  static_assert(kEd25519PublicKeyBytes == crypto_sign_PUBLICKEYBYTES);
  return crypto_sign_verify_detached(signature.data(),
                                     reinterpret_cast<const unsigned char*>(message.data()),
                                     message.size(), public_key.data()) == 0;
}

std::optional<std::array<std::uint8_t, kHmacSha256Bytes>> HmacSha256(const std::uint8_t* key,
                                                                     std::size_t key_size,
                                                                     std::string_view message) {
  static_assert(kHmacSha256Bytes == crypto_auth_hmacsha256_BYTES);
  std::array<std::uint8_t, kHmacSha256Bytes> mac{};
  crypto_auth_hmacsha256_state state;
  crypto_auth_hmacsha256_init(&state, key, key_size);
  crypto_auth_hmacsha256_update(&state, reinterpret_cast<const unsigned char*>(message.data()),
                                message.size());
  crypto_auth_hmacsha256_final(&state, mac.data());
  sodium_memzero(&state, sizeof state);
  return mac;
}

void RandomBytes(std::uint8_t* out, std::size_t size) { randombytes_buf(out, size); }

std::uint32_t RandomUniform(std::uint32_t upper_bound) { return randombytes_uniform(upper_bound); }

std::string Base64Encode(const std::uint8_t* data, std::size_t size) {
  std::string out(sodium_base64_ENCODED_LEN(size, sodium_base64_VARIANT_ORIGINAL), '\0');
  sodium_bin2base64(out.data(), out.size(), data, size, sodium_base64_VARIANT_ORIGINAL);
  out.resize(out.size() - 1);  // the encoder's NUL terminator
  return out;
}

std::optional<std::string> Base64Decode(std::string_view text) {
  std::string out(text.size() / 4 * 3 + 3, '\0');
  std::size_t size = 0;
  if (sodium_base642bin(reinterpret_cast<unsigned char*>(out.data()), out.size(), text.data(),
                        text.size(), nullptr, &size, nullptr,
                        sodium_base64_VARIANT_ORIGINAL) != 0) {
    return std::nullopt;
  }
  out.resize(size);
  return out;
}

std::string Hex(const std::uint8_t* data, std::size_t size) {
  std::string hex(size * 2 + 1, '\0');
  sodium_bin2hex(hex.data(), hex.size(), data, size);
  hex.pop_back();  // the encoder's NUL terminator
  return hex;
}

void SecureWipe(void* data, std::size_t size) { sodium_memzero(data, size); }

}  // namespace licagent::crypto
