// CPU topology through hwloc, hardened against its environment overrides.
#pragma once

#include "licagent/identity.h"
#include "licagent/result.h"

namespace licagent::platform {

// hwloc 2's shared library (its SONAME). It is loaded with dlopen on the first topology load,
// never linked: most processes never need a topology, and loading libhwloc + libudev at
// start-up cost every licagent process ≈ 0.3 ms (docs/performance.md).
inline constexpr const char* kHwlocLibrary = "libhwloc.so.15";

// Removes every HWLOC_* variable from this process's environment (HWLOC_XMLFILE, HWLOC_FSROOT,
// HWLOC_SYNTHETIC, HWLOC_COMPONENTS, ... would let any user feed hwloc a fake machine), then
// loads `library` (before hwloc can read any of them) and the real topology, disallowed PUs
// included (license limits count the machine, not the cgroup). Fails with kUnsupported if the
// library cannot be loaded, is not hwloc 2, or does not describe this very system. Serialised
// by a mutex; the environment change is process-wide and deliberate. `library` is a parameter
// for tests only.
Result<Topology> LoadHwlocTopology(const char* library = kHwlocLibrary);

}  // namespace licagent::platform
