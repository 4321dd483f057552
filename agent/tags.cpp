// Keyed per-slot tags: the only form in which a hardware value leaves this process.
// HMAC-SHA256 comes from libsodium: its first call in a process costs ~0.07 ms where OpenSSL
// 3's provider start-up costs ~1.7 ms (docs/performance.md), and every `licagent` start pays it.
#include <sodium.h>

#include <array>
#include <string>

#include "agent/identity_internal.h"
#include "agent/sodium.h"

namespace licagent {

Result<std::uint16_t> SlotTag(const IdentityKey& key, Slot slot, std::string_view value) {
  if (!SodiumReady()) return Error{ErrorCode::kInternal, "libsodium failed to initialise"};

  std::string message = "fp1|";
  message += SlotName(slot);
  message += '|';
  message += value;
  std::array<unsigned char, crypto_auth_hmacsha256_BYTES> mac{};
  crypto_auth_hmacsha256_state state;
  crypto_auth_hmacsha256_init(&state, key.bytes.data(), key.bytes.size());
  crypto_auth_hmacsha256_update(&state, reinterpret_cast<const unsigned char*>(message.data()),
                                message.size());
  crypto_auth_hmacsha256_final(&state, mac.data());
  const auto tag = static_cast<std::uint16_t>((mac[0] << 8) | mac[1]);
  // The message holds a raw serial: wipe it, the MAC and the HMAC state before reuse.
  sodium_memzero(message.data(), message.size());
  sodium_memzero(mac.data(), mac.size());
  sodium_memzero(&state, sizeof state);
  return tag == 0 ? std::uint16_t{1} : tag;
}

}  // namespace licagent
