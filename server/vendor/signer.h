// Ed25519 signing of licenses for the vendor side, with OpenSSL 3. The agent verifies with
// libsodium, so signer and verifier are independent implementations of Ed25519 that the tests
// hold against each other. Nothing here is linked into the agent library.
#pragma once

#include <openssl/types.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "licagent/license.h"
#include "licagent/result.h"
#include "server/vendor/secret_bytes.h"

namespace licagent::vendor {

// The largest private key file read (a PEM Ed25519 key is 119 bytes).
inline constexpr std::size_t kMaxPrivateKeyFileSize = 16 * 1024;

// True if `id` can name a key: 1 to 64 of A-Z a-z 0-9 . _ - (docs/license-format.md).
bool ValidKeyId(std::string_view id);

// An Ed25519 private key. Move-only; OpenSSL wipes the key when the object is destroyed.
// Const methods are safe to call from several threads at once.
class SigningKey {
 public:
  // A fresh key from OpenSSL's CSPRNG. kInternal if OpenSSL fails.
  static Result<SigningKey> Generate();
  // The key with this 32-byte private key (the RFC 8032 seed). kInternal if OpenSSL fails.
  static Result<SigningKey> FromSeed(std::span<const std::uint8_t, 32> seed);
  // Reads an unencrypted PKCS#8 PEM Ed25519 private key, as `openssl genpkey -algorithm
  // ed25519` writes it. kInvalidArgument naming the problem (not PEM, encrypted, another
  // algorithm). The caller keeps and wipes `pem`.
  static Result<SigningKey> FromPem(std::string_view pem);

  // The key as unencrypted PKCS#8 PEM ("-----BEGIN PRIVATE KEY-----"), in wiped memory.
  // kInternal if OpenSSL fails.
  Result<SecretBytes> ToPem() const;

  // The raw 32-byte public key.
  const std::array<std::uint8_t, 32>& public_bytes() const noexcept { return public_; }
  // The public key under `key_id`, as the agent trusts it.
  PublicKey Public(std::string key_id) const;

  // The Ed25519 signature of `message` (pure Ed25519: no pre-hash). kInternal if OpenSSL
  // fails.
  Result<std::array<std::uint8_t, 64>> Sign(std::string_view message) const;

 private:
  struct PkeyFree {
    void operator()(EVP_PKEY* key) const noexcept;
  };
  static Result<SigningKey> Adopt(EVP_PKEY* key);
  SigningKey() = default;

  std::unique_ptr<EVP_PKEY, PkeyFree> key_;
  std::array<std::uint8_t, 32> public_{};
};

// Signs `payload` (whose key_id names `key`) and returns the armoured license file text.
// The payload is first checked with the agent's own strict parser, and the finished file is
// verified with VerifyLicense against `key`'s public half and must give back the same payload,
// so a license that an agent would reject is never returned. Errors: kInvalidArgument when a
// payload field breaks a rule of docs/license-format.md (the field is named); kInternal if
// OpenSSL fails or the result does not verify.
Result<std::string> IssueLicense(const SigningKey& key, const LicensePayload& payload);

}  // namespace licagent::vendor
