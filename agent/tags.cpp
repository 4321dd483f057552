// Keyed per-slot tags: the only form in which a hardware value leaves this process.
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <array>
#include <string>

#include "agent/identity_internal.h"

namespace licagent {

Result<std::uint16_t> SlotTag(const IdentityKey& key, Slot slot, std::string_view value) {
  std::string message = "fp1|";
  message += SlotName(slot);
  message += '|';
  message += value;
  std::array<unsigned char, EVP_MAX_MD_SIZE> mac{};
  unsigned int mac_size = 0;
  const unsigned char* ok = HMAC(EVP_sha256(), key.bytes.data(), static_cast<int>(key.bytes.size()),
                                 reinterpret_cast<const unsigned char*>(message.data()),
                                 message.size(), mac.data(), &mac_size);
  // The message holds a raw serial: wipe it before the memory is reused.
  OPENSSL_cleanse(message.data(), message.size());
  if (ok == nullptr || mac_size < 2) {
    return Error{ErrorCode::kInternal, "HMAC-SHA256 failed in the crypto library"};
  }
  const auto tag = static_cast<std::uint16_t>((mac[0] << 8) | mac[1]);
  OPENSSL_cleanse(mac.data(), mac.size());
  return tag == 0 ? 1 : tag;
}

}  // namespace licagent
