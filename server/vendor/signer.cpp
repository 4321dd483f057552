// Ed25519 with OpenSSL 3 EVP: key generation, PKCS#8 PEM in and out, signing, and issuing a
// license that is verified by the agent's own code before it leaves this file.
#include "server/vendor/signer.h"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include <algorithm>
#include <string>
#include <vector>

namespace licagent::vendor {
namespace {

// The reason of the most recent OpenSSL error (never key material), and clears the queue.
std::string OpenSslReason() {
  unsigned long last = 0;
  while (const unsigned long e = ERR_get_error()) last = e;
  if (last == 0) return "no details";
  char buf[256];
  ERR_error_string_n(last, buf, sizeof buf);
  return buf;
}

Error OpenSslError(const std::string& what) {
  return Error{ErrorCode::kInternal, what + " failed in OpenSSL: " + OpenSslReason()};
}

struct BioFree {
  void operator()(BIO* bio) const noexcept { BIO_free(bio); }
};
struct MdCtxFree {
  void operator()(EVP_MD_CTX* ctx) const noexcept { EVP_MD_CTX_free(ctx); }
};

// PEM password callback: private key files are unencrypted, and a terminal prompt from inside
// a batch tool would hang scripts, so an encrypted key simply fails to load.
int NoPassword(char* /*buf*/, int /*size*/, int /*rwflag*/, void* /*u*/) { return -1; }

}  // namespace

bool ValidKeyId(std::string_view id) {
  return !id.empty() && id.size() <= 64 && std::all_of(id.begin(), id.end(), [](char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '_' || c == '-';
  });
}

void SigningKey::PkeyFree::operator()(EVP_PKEY* key) const noexcept { EVP_PKEY_free(key); }

Result<SigningKey> SigningKey::Adopt(EVP_PKEY* key) {
  SigningKey k;
  k.key_.reset(key);
  std::size_t size = k.public_.size();
  if (EVP_PKEY_get_raw_public_key(key, k.public_.data(), &size) != 1 || size != k.public_.size()) {
    return OpenSslError("reading the Ed25519 public key");
  }
  return k;
}

Result<SigningKey> SigningKey::Generate() {
  EVP_PKEY* key = EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519");
  if (key == nullptr) return OpenSslError("Ed25519 key generation");
  return Adopt(key);
}

Result<SigningKey> SigningKey::FromSeed(std::span<const std::uint8_t, 32> seed) {
  EVP_PKEY* key = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, nullptr, seed.data(), seed.size());
  if (key == nullptr) return OpenSslError("loading the Ed25519 private key");
  return Adopt(key);
}

Result<SigningKey> SigningKey::FromPem(std::string_view pem) {
  if (pem.find("-----BEGIN ENCRYPTED PRIVATE KEY-----") != std::string_view::npos) {
    return Error{ErrorCode::kInvalidArgument,
                 "the private key is encrypted; licagent-vendor reads unencrypted PKCS#8 keys "
                 "(keep the key on an encrypted, offline medium instead)"};
  }
  if (pem.find("-----BEGIN PRIVATE KEY-----") == std::string_view::npos) {
    return Error{ErrorCode::kInvalidArgument,
                 "not a PKCS#8 PEM private key (expected -----BEGIN PRIVATE KEY-----, as "
                 "'openssl genpkey -algorithm ed25519' writes)"};
  }
  std::unique_ptr<BIO, BioFree> bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  if (!bio) return OpenSslError("reading the private key");
  EVP_PKEY* key = PEM_read_bio_PrivateKey(bio.get(), nullptr, NoPassword, nullptr);
  if (key == nullptr) {
    return Error{ErrorCode::kInvalidArgument,
                 "the private key does not decode: " + OpenSslReason()};
  }
  if (EVP_PKEY_get_base_id(key) != EVP_PKEY_ED25519) {
    EVP_PKEY_free(key);
    return Error{ErrorCode::kInvalidArgument, "the private key is not an Ed25519 key"};
  }
  return Adopt(key);
}

Result<SecretBytes> SigningKey::ToPem() const {
  // A secure-memory BIO: OpenSSL wipes its buffer when it is freed.
  std::unique_ptr<BIO, BioFree> bio(BIO_new(BIO_s_secmem()));
  if (!bio) return OpenSslError("encoding the private key");
  if (PEM_write_bio_PrivateKey(bio.get(), key_.get(), nullptr, nullptr, 0, nullptr, nullptr) != 1) {
    return OpenSslError("encoding the private key");
  }
  char* data = nullptr;
  const long size = BIO_get_mem_data(bio.get(), &data);
  if (size <= 0 || data == nullptr) return OpenSslError("encoding the private key");
  SecretBytes pem(static_cast<std::size_t>(size));
  std::copy(data, data + size, pem.data());
  pem.set_size(static_cast<std::size_t>(size));
  return pem;
}

PublicKey SigningKey::Public(std::string key_id) const {
  PublicKey k;
  k.key_id = std::move(key_id);
  k.bytes = public_;
  return k;
}

Result<std::array<std::uint8_t, 64>> SigningKey::Sign(std::string_view message) const {
  std::unique_ptr<EVP_MD_CTX, MdCtxFree> ctx(EVP_MD_CTX_new());
  if (!ctx) return OpenSslError("signing");
  // Ed25519 hashes internally: the digest must be NULL and the message is passed whole.
  if (EVP_DigestSignInit(ctx.get(), nullptr, nullptr, nullptr, key_.get()) != 1) {
    return OpenSslError("signing");
  }
  std::array<std::uint8_t, 64> signature{};
  std::size_t size = signature.size();
  if (EVP_DigestSign(ctx.get(), signature.data(), &size,
                     reinterpret_cast<const unsigned char*>(message.data()), message.size()) != 1 ||
      size != signature.size()) {
    return OpenSslError("signing");
  }
  return signature;
}

Result<std::string> IssueLicense(const SigningKey& key, const LicensePayload& payload) {
  if (!ValidKeyId(payload.key_id)) {
    return Error{ErrorCode::kInvalidArgument,
                 "the key id must be 1 to 64 of A-Z a-z 0-9 . _ - (got '" +
                     payload.key_id.substr(0, 64) + "')"};
  }
  LicenseEnvelope envelope;
  envelope.key_id = payload.key_id;
  envelope.payload = SerializePayload(payload);
  // The agent's parser is the definition of a valid payload: ask it before signing.
  auto parsed = ParsePayload(envelope.payload);
  if (!parsed) return Error{ErrorCode::kInvalidArgument, parsed.error().message};
  if (*parsed != payload) {
    return Error{ErrorCode::kInternal, "the payload does not survive serialisation unchanged"};
  }
  auto signature = key.Sign(SignedMessage(envelope.key_id, envelope.payload));
  if (!signature) return signature.error();
  envelope.signature = *signature;
  std::string armored = ArmorLicense(envelope);
  if (armored.size() > kMaxLicenseSize) {
    return Error{ErrorCode::kInvalidArgument,
                 "the license would be " + std::to_string(armored.size()) + " bytes, over the " +
                     std::to_string(kMaxLicenseSize / 1024) +
                     " KiB agents accept (fewer or shorter features?)"};
  }

  const std::vector<PublicKey> trusted = {key.Public(payload.key_id)};
  auto verified = VerifyLicense(armored, trusted);
  if (!verified) {
    return Error{ErrorCode::kInternal, "the signed license does not verify (" +
                                           verified.error().message + "); nothing was written"};
  }
  if (verified->payload != payload) {
    return Error{ErrorCode::kInternal, "the signed license verifies but reads back differently"};
  }
  return armored;
}

}  // namespace licagent::vendor
