// A license signer for tests only (the agent never signs): a deterministic Ed25519 key from a
// seed byte, signing payloads into armoured license text. libsodium, or libgcrypt where the
// build defines LICAGENT_TEST_SIGNER_GCRYPT (the mingw-w64 tests, tests/windows/CMakeLists.txt).
#pragma once

#ifdef LICAGENT_TEST_SIGNER_GCRYPT
#include <gcrypt.h>
#else
#include <sodium.h>
#endif

#include <algorithm>
#include <array>
#include <cstdint>
#include <iterator>
#include <string>

#include "agent/crypto.h"
#include "licagent/license.h"
#include "tests/catch.h"

namespace licagent::testing {

struct TestSigner {
  explicit TestSigner(std::string id, unsigned char seed_byte = 7) : key_id(std::move(id)) {
    seed.fill(seed_byte);
#ifdef LICAGENT_TEST_SIGNER_GCRYPT
    // The public key is Q of the context built from the secret scalar seed d.
    REQUIRE(crypto::Ready());  // initialises libgcrypt
    gcry_sexp_t secret = nullptr;
    REQUIRE(gcry_sexp_build(&secret, nullptr,
                            "(private-key(ecc(curve Ed25519)(flags eddsa)(d %b)))",
                            static_cast<int>(seed.size()), seed.data()) == 0);
    gcry_ctx_t ctx = nullptr;
    REQUIRE(gcry_mpi_ec_new(&ctx, secret, nullptr) == 0);
    gcry_sexp_release(secret);
    gcry_sexp_t pub = nullptr;
    REQUIRE(gcry_pubkey_get_sexp(&pub, GCRY_PK_GET_PUBKEY, ctx) == 0);
    gcry_ctx_release(ctx);
    CopyToken(pub, "q", pk.data(), pk.size());
    gcry_sexp_release(pub);
#else
    REQUIRE(sodium_init() >= 0);
    static_assert(sizeof seed == crypto_sign_SEEDBYTES);
    crypto_sign_seed_keypair(pk.data(), sk, seed.data());
#endif
  }
  PublicKey Public() const {
    PublicKey k;
    k.key_id = key_id;
    std::copy(pk.begin(), pk.end(), k.bytes.begin());
    return k;
  }
  std::string Sign(const LicensePayload& payload) const {
    LicenseEnvelope e;
    e.key_id = key_id;
    e.payload = SerializePayload(payload);
    const std::string m = SignedMessage(e.key_id, e.payload);
#ifdef LICAGENT_TEST_SIGNER_GCRYPT
    gcry_sexp_t secret = nullptr;
    gcry_sexp_t data = nullptr;
    gcry_sexp_t signature = nullptr;
    REQUIRE(gcry_sexp_build(&secret, nullptr,
                            "(private-key(ecc(curve Ed25519)(flags eddsa)(q %b)(d %b)))",
                            static_cast<int>(pk.size()), pk.data(), static_cast<int>(seed.size()),
                            seed.data()) == 0);
    REQUIRE(gcry_sexp_build(&data, nullptr, "(data(flags eddsa)(hash-algo sha512)(value %b))",
                            static_cast<int>(m.size()), m.data()) == 0);
    REQUIRE(gcry_pk_sign(&signature, data, secret) == 0);
    CopyToken(signature, "r", e.signature.data(), 32);
    CopyToken(signature, "s", e.signature.data() + 32, 32);
    gcry_sexp_release(signature);
    gcry_sexp_release(data);
    gcry_sexp_release(secret);
#else
    crypto_sign_detached(e.signature.data(), nullptr,
                         reinterpret_cast<const unsigned char*>(m.data()), m.size(), sk);
#endif
    return ArmorLicense(e);
  }
  std::string key_id;
  std::array<unsigned char, 32> seed{};
  std::array<unsigned char, 32> pk{};
#ifdef LICAGENT_TEST_SIGNER_GCRYPT

 private:
  // The bytes of the (TOKEN value) list in `sexp`, which must be exactly `size` long.
  static void CopyToken(gcry_sexp_t sexp, const char* token, unsigned char* out, std::size_t size) {
    gcry_sexp_t list = gcry_sexp_find_token(sexp, token, 0);
    REQUIRE(list != nullptr);
    std::size_t length = 0;
    const char* bytes = gcry_sexp_nth_data(list, 1, &length);
    REQUIRE(bytes != nullptr);
    REQUIRE(length == size);
    std::copy(bytes, bytes + length, out);
    gcry_sexp_release(list);
  }
#else
  unsigned char sk[crypto_sign_SECRETKEYBYTES];
#endif
};

}  // namespace licagent::testing
