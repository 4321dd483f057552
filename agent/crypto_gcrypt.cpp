// agent/crypto.h with libgcrypt and libgpg-error: the mingw-w64 cross-build, for which Debian 12
// has no libsodium (docs/windows.md). Same results as crypto_sodium.cpp, byte for byte.
#include <gcrypt.h>
#include <gpg-error.h>

#include <algorithm>
#include <limits>
#include <random>

#include "agent/crypto.h"

namespace licagent::crypto {

namespace {

// An S-expression, released on every path.
struct Sexp {
  gcry_sexp_t value = nullptr;
  Sexp() = default;
  Sexp(const Sexp&) = delete;
  Sexp& operator=(const Sexp&) = delete;
  ~Sexp() { gcry_sexp_release(value); }
};

// A uniform random bit generator over gcry_randomize, for std::uniform_int_distribution.
struct GcryptBits {
  using result_type = std::uint32_t;
  static constexpr result_type min() { return 0; }
  static constexpr result_type max() { return std::numeric_limits<result_type>::max(); }
  result_type operator()() {
    result_type value = 0;
    gcry_randomize(&value, sizeof value, GCRY_STRONG_RANDOM);
    return value;
  }
};

// RFC 8032 §5.1.7: S must be below the group order L. libsodium checks this; libgcrypt 1.10
// does not, and would accept S + L, a second encoding of a valid signature. L comes from
// libgcrypt's own Ed25519 curve parameters ("n"); S is little-endian, MPIs read big-endian.
bool CanonicalS(const std::uint8_t* s_little_endian, std::size_t size) {
  gcry_ctx_t curve = nullptr;
  if (gcry_mpi_ec_new(&curve, nullptr, "Ed25519") != 0) return false;
  gcry_mpi_t order = gcry_mpi_ec_get_mpi("n", curve, 1);
  gcry_ctx_release(curve);
  if (order == nullptr) return false;
  std::array<std::uint8_t, kEd25519SignatureBytes / 2> big_endian{};
  std::reverse_copy(s_little_endian, s_little_endian + size, big_endian.begin());
  gcry_mpi_t s = nullptr;
  const bool scanned =
      gcry_mpi_scan(&s, GCRYMPI_FMT_USG, big_endian.data(), big_endian.size(), nullptr) == 0;
  const bool below = scanned && gcry_mpi_cmp(s, order) < 0;
  gcry_mpi_release(s);
  gcry_mpi_release(order);
  return below;
}

}  // namespace

bool Ready() {
  static const bool ready = [] {
    gpg_err_init();  // libgpg-error is linked statically: no DllMain initialises it
    if (gcry_check_version(GCRYPT_VERSION) == nullptr) return false;
    // No secure memory: the agent holds no private keys, and its pool would need privileges.
    gcry_control(GCRYCTL_DISABLE_SECMEM, 0);
    gcry_control(GCRYCTL_INITIALIZATION_FINISHED, 0);
    return true;
  }();
  return ready;
}

bool VerifyEd25519(const std::array<std::uint8_t, kEd25519SignatureBytes>& signature,
                   std::string_view message,
                   const std::array<std::uint8_t, kEd25519PublicKeyBytes>& public_key) {
  constexpr int kHalf = kEd25519SignatureBytes / 2;  // R and S
  if (!CanonicalS(signature.data() + kHalf, kHalf)) return false;
  Sexp key;
  Sexp sig;
  Sexp data;
  if (gcry_sexp_build(&key.value, nullptr, "(public-key(ecc(curve Ed25519)(flags eddsa)(q %b)))",
                      static_cast<int>(public_key.size()), public_key.data()) != 0 ||
      gcry_sexp_build(&sig.value, nullptr, "(sig-val(eddsa(r %b)(s %b)))", kHalf, signature.data(),
                      kHalf, signature.data() + kHalf) != 0 ||
      message.size() > static_cast<std::size_t>(std::numeric_limits<int>::max()) ||
      gcry_sexp_build(&data.value, nullptr, "(data(flags eddsa)(hash-algo sha512)(value %b))",
                      static_cast<int>(message.size()), message.data()) != 0) {
    return false;
  }
  return gcry_pk_verify(sig.value, data.value, key.value) == 0;
}

std::optional<std::array<std::uint8_t, kHmacSha256Bytes>> HmacSha256(const std::uint8_t* key,
                                                                     std::size_t key_size,
                                                                     std::string_view message) {
  std::array<std::uint8_t, kHmacSha256Bytes> mac{};
  gcry_mac_hd_t handle = nullptr;
  if (gcry_mac_open(&handle, GCRY_MAC_HMAC_SHA256, 0, nullptr) != 0) return std::nullopt;
  std::size_t length = mac.size();
  const bool ok = gcry_mac_setkey(handle, key, key_size) == 0 &&
                  gcry_mac_write(handle, message.data(), message.size()) == 0 &&
                  gcry_mac_read(handle, mac.data(), &length) == 0 && length == mac.size();
  gcry_mac_close(handle);  // wipes the context
  if (!ok) return std::nullopt;
  return mac;
}

void RandomBytes(std::uint8_t* out, std::size_t size) {
  gcry_randomize(out, size, GCRY_STRONG_RANDOM);
}

std::uint32_t RandomUniform(std::uint32_t upper_bound) {
  if (upper_bound <= 1) return 0;
  GcryptBits bits;
  return std::uniform_int_distribution<std::uint32_t>(0, upper_bound - 1)(bits);
}

std::string Base64Encode(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return {};
  gpgrt_stream_t stream = gpgrt_fopenmem(0, "w+b");
  if (stream == nullptr) return {};
  // An empty title: no armour lines. Line feeds, if the version inserts any, are removed below.
  gpgrt_b64state_t state = gpgrt_b64enc_start(stream, "");
  bool ok = state != nullptr && gpgrt_b64enc_write(state, data, size) == 0;
  if (state != nullptr) ok = gpgrt_b64enc_finish(state) == 0 && ok;
  void* buffer = nullptr;
  std::size_t length = 0;
  if (gpgrt_fclose_snatch(stream, &buffer, &length) != 0) return {};
  std::string out;
  if (ok) {
    out.reserve(length);
    for (std::size_t i = 0; i < length; ++i) {
      const char c = static_cast<const char*>(buffer)[i];
      if (c != '\n' && c != '\r') out += c;
    }
  }
  gpgrt_free(buffer);
  return out;
}

std::optional<std::string> Base64Decode(std::string_view text) {
  if (text.empty()) return std::string();
  if (text.size() % 4 != 0) return std::nullopt;         // padded base64 comes in whole quads
  gpgrt_b64state_t state = gpgrt_b64dec_start(nullptr);  // no title: plain base64
  if (state == nullptr) return std::nullopt;
  std::string out(text);
  std::size_t length = 0;
  const bool decoded = gpgrt_b64dec_proc(state, out.data(), out.size(), &length) == 0;
  const bool finished = gpgrt_b64dec_finish(state) == 0;
  if (!decoded || !finished) return std::nullopt;
  out.resize(length);
  return out;
}

std::string Hex(const std::uint8_t* data, std::size_t size) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string hex;
  hex.reserve(size * 2);
  for (std::size_t i = 0; i < size; ++i) {
    hex += kDigits[data[i] >> 4];
    hex += kDigits[data[i] & 0x0F];
  }
  return hex;
}

void SecureWipe(void* data, std::size_t size) {
  // Writes through a volatile pointer are observable behaviour: the compiler keeps them.
  volatile auto* p = static_cast<volatile unsigned char*>(data);
  for (std::size_t i = 0; i < size; ++i) p[i] = 0;
}

}  // namespace licagent::crypto
