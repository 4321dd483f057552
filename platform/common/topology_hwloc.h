// CPU topology through hwloc, hardened against its environment overrides.
#pragma once

#include "licagent/identity.h"
#include "licagent/result.h"

namespace licagent::platform {

// Removes every HWLOC_* variable from this process's environment (HWLOC_XMLFILE, HWLOC_FSROOT,
// HWLOC_SYNTHETIC, HWLOC_COMPONENTS, ... would let any user feed hwloc a fake machine), then
// loads the real topology, disallowed PUs included (license limits count the machine, not the
// cgroup). Fails with kUnsupported if hwloc does not describe this very system. Serialised by
// a mutex; the environment change is process-wide and deliberate.
Result<Topology> LoadHwlocTopology();

}  // namespace licagent::platform
