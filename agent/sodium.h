// libsodium initialisation shared by every agent/ use of it.
#pragma once

namespace licagent {

// True once libsodium is initialised (thread-safe, idempotent); false only if the OS gives no
// randomness, in which case callers fail with kInternal.
bool SodiumReady();

}  // namespace licagent
