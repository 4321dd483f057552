#include "agent/sodium.h"

#include <sodium.h>

namespace licagent {

bool SodiumReady() {
  static const bool ready = sodium_init() >= 0;
  return ready;
}

}  // namespace licagent
