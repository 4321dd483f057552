// hwloc topology loading (POSIX: uses environ/unsetenv to scrub HWLOC_* overrides).
#include "platform/common/topology_hwloc.h"

#include <hwloc.h>
#include <stdlib.h>

#include <mutex>
#include <string>
#include <vector>

extern char** environ;  // NOLINT: POSIX

namespace licagent::platform {
namespace {

void ScrubHwlocEnvironment() {
  std::vector<std::string> names;
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
    const std::string entry(*e);
    if (entry.rfind("HWLOC_", 0) == 0) names.push_back(entry.substr(0, entry.find('=')));
  }
  for (const std::string& name : names) ::unsetenv(name.c_str());
}

std::string Info(hwloc_obj_t obj, const char* name) {
  if (obj == nullptr) return {};
  const char* v = hwloc_obj_get_info_by_name(obj, name);
  return v == nullptr ? std::string() : std::string(v);
}

int Count(hwloc_topology_t topology, hwloc_obj_type_t type) {
  const int n = hwloc_get_nbobjs_by_type(topology, type);
  return n < 0 ? 0 : n;
}

}  // namespace

Result<Topology> LoadHwlocTopology() {
  static std::mutex mu;
  std::lock_guard<std::mutex> lock(mu);
  ScrubHwlocEnvironment();

  hwloc_topology_t topology = nullptr;
  if (hwloc_topology_init(&topology) != 0) {
    return Error{ErrorCode::kInternal, "hwloc_topology_init failed"};
  }
  struct Closer {
    hwloc_topology_t t;
    ~Closer() { hwloc_topology_destroy(t); }
  } closer{topology};
  hwloc_topology_set_flags(topology, HWLOC_TOPOLOGY_FLAG_INCLUDE_DISALLOWED);
  if (hwloc_topology_load(topology) != 0) {
    return Error{ErrorCode::kIoError, "hwloc could not read the CPU topology"};
  }
  if (hwloc_topology_is_thissystem(topology) != 1) {
    return Error{ErrorCode::kUnsupported, "hwloc describes another system than this one"};
  }

  Topology t;
  t.packages = Count(topology, HWLOC_OBJ_PACKAGE);
  t.cores = Count(topology, HWLOC_OBJ_CORE);
  t.pus = Count(topology, HWLOC_OBJ_PU);
  hwloc_obj_t package = hwloc_get_obj_by_type(topology, HWLOC_OBJ_PACKAGE, 0);
  t.cpu_vendor = Info(package, "CPUVendor");
  t.cpu_model = Info(package, "CPUModel");
  const unsigned v = hwloc_get_api_version();
  t.backend = "hwloc API " + std::to_string(v >> 16) + "." + std::to_string((v >> 8) & 0xFF) + "." +
              std::to_string(v & 0xFF);
  return t;
}

}  // namespace licagent::platform
