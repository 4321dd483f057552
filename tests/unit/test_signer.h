// A license signer for tests only (the agent never signs): a deterministic Ed25519 key from a
// seed byte, signing payloads into armoured license text.
#pragma once

#include <sodium.h>

#include <algorithm>
#include <iterator>
#include <string>

#include "licagent/license.h"
#include "tests/catch.h"

namespace licagent::testing {

struct TestSigner {
  explicit TestSigner(std::string id, unsigned char seed_byte = 7) : key_id(std::move(id)) {
    REQUIRE(sodium_init() >= 0);
    unsigned char seed[crypto_sign_SEEDBYTES];
    std::fill(std::begin(seed), std::end(seed), seed_byte);
    crypto_sign_seed_keypair(pk, sk, seed);
  }
  PublicKey Public() const {
    PublicKey k;
    k.key_id = key_id;
    std::copy(std::begin(pk), std::end(pk), k.bytes.begin());
    return k;
  }
  std::string Sign(const LicensePayload& payload) const {
    LicenseEnvelope e;
    e.key_id = key_id;
    e.payload = SerializePayload(payload);
    const std::string m = SignedMessage(e.key_id, e.payload);
    crypto_sign_detached(e.signature.data(), nullptr,
                         reinterpret_cast<const unsigned char*>(m.data()), m.size(), sk);
    return ArmorLicense(e);
  }
  std::string key_id;
  unsigned char pk[crypto_sign_PUBLICKEYBYTES];
  unsigned char sk[crypto_sign_SECRETKEYBYTES];
};

}  // namespace licagent::testing
