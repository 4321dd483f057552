// Keyed per-slot tags: the only form in which a hardware value leaves this process.
// HMAC-SHA256 comes from agent/crypto.h, libsodium on native builds: its first call in a process
// costs ~0.07 ms where OpenSSL 3's provider start-up costs ~1.7 ms (docs/performance.md), and
// every `licagent` start pays it.
#include <string>

#include "agent/crypto.h"
#include "agent/identity_internal.h"

namespace licagent {

Result<std::uint16_t> SlotTag(const IdentityKey& key, Slot slot, std::string_view value) {
  if (!crypto::Ready()) {
    return Error{ErrorCode::kInternal, "the crypto library failed to initialise"};
  }

  std::string message = "fp1|";
  message += SlotName(slot);
  message += '|';
  message += value;
  auto mac = crypto::HmacSha256(key.bytes.data(), key.bytes.size(), message);
  // The message holds a raw serial: wipe it and the MAC before reuse.
  crypto::SecureWipe(message.data(), message.size());
  if (!mac) return Error{ErrorCode::kInternal, "HMAC-SHA256 failed"};
  const auto tag = static_cast<std::uint16_t>(((*mac)[0] << 8) | (*mac)[1]);
  crypto::SecureWipe(mac->data(), mac->size());
  return tag == 0 ? std::uint16_t{1} : tag;
}

}  // namespace licagent
