// The agent's cryptographic primitives behind one interface, so that the core does not depend on
// one library. Two back ends, chosen by CMake (agent/CMakeLists.txt): crypto_sodium.cpp
// (libsodium; every native build) and crypto_gcrypt.cpp (libgcrypt; the mingw-w64 cross-build,
// for which Debian has no libsodium). Both give byte-identical results (docs/windows.md).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace licagent::crypto {

inline constexpr std::size_t kEd25519PublicKeyBytes = 32;
inline constexpr std::size_t kEd25519SignatureBytes = 64;
inline constexpr std::size_t kHmacSha256Bytes = 32;

// True once the library is initialised (thread-safe, idempotent); false only if it cannot be
// (no OS randomness, library version mismatch), in which case callers fail with kInternal.
bool Ready();

// Ed25519 verification of a detached signature over `message`. Call only after Ready().
bool VerifyEd25519(const std::array<std::uint8_t, kEd25519SignatureBytes>& signature,
                   std::string_view message,
                   const std::array<std::uint8_t, kEd25519PublicKeyBytes>& public_key);

// HMAC-SHA256 of `message` under `key`; the library's state is wiped before returning. nullopt
// only if the library fails (not with libsodium).
std::optional<std::array<std::uint8_t, kHmacSha256Bytes>> HmacSha256(const std::uint8_t* key,
                                                                     std::size_t key_size,
                                                                     std::string_view message);

// Cryptographically secure random bytes, and a uniform value in [0, upper_bound) (upper_bound
// >= 1). Call only after Ready().
void RandomBytes(std::uint8_t* out, std::size_t size);
std::uint32_t RandomUniform(std::uint32_t upper_bound);

// Standard base64 (RFC 4648 §4, "+/" alphabet) with "=" padding, no line breaks.
std::string Base64Encode(const std::uint8_t* data, std::size_t size);
// Decodes standard padded base64; nullopt if it is not. May accept non-canonical text (e.g.
// non-zero unused bits): callers that need canonical text re-encode and compare.
std::optional<std::string> Base64Decode(std::string_view text);

// Lower-case hex of `size` bytes.
std::string Hex(const std::uint8_t* data, std::size_t size);

// Zeroes memory in a way the compiler may not remove (secrets, raw hardware values).
void SecureWipe(void* data, std::size_t size);

}  // namespace licagent::crypto
