// Test-only Platform: returns whatever identity and topology the test scripted. Never compiled
// into the library.
#pragma once

#include <mutex>
#include <optional>

#include "platform/platform.h"

namespace licagent::platform {

class FakePlatform final : public Platform {
 public:
  Result<RawIdentity> CollectIdentity() override {
    std::lock_guard<std::mutex> lock(mu_);
    if (fail_with) return *fail_with;
    return identity;
  }
  Result<Topology> LoadTopology() override {
    std::lock_guard<std::mutex> lock(mu_);
    if (fail_with) return *fail_with;
    return topology;
  }

  // Test knobs: public on purpose.
  RawIdentity identity;
  Topology topology;
  std::optional<Error> fail_with;

 private:
  std::mutex mu_;
};

}  // namespace licagent::platform
