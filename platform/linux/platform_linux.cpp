// Platform for Linux: identity from collect_linux.cpp, topology from hwloc.
#include "platform/common/topology_hwloc.h"
#include "platform/linux/collect_linux.h"
#include "platform/platform.h"

namespace licagent::platform {
namespace {

class LinuxPlatform final : public Platform {
 public:
  Result<RawIdentity> CollectIdentity() override { return linux_impl::Collect(sources_); }
  Result<Topology> LoadTopology() override { return LoadHwlocTopology(); }

 private:
  const linux_impl::LinuxSources sources_ = linux_impl::RealSources();
};

}  // namespace

Platform& Platform::Default() {
  static LinuxPlatform platform;
  return platform;
}

}  // namespace licagent::platform
