// hwloc topology loading (POSIX: uses environ/unsetenv to scrub HWLOC_* overrides). hwloc's
// header gives the types and constants only: its functions are resolved at run time through
// LoadSymbol, so no licagent binary links libhwloc (tests/cli/linkage_test.sh checks that).
#include "platform/common/topology_hwloc.h"

#include <hwloc.h>
#include <stdlib.h>

#include <mutex>
#include <string>
#include <vector>

#include "platform/platform.h"

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

// The hwloc functions used here, resolved from the loaded library. The inline helpers of
// hwloc.h (hwloc_get_nbobjs_by_type, ...) would call the linked symbols, so they are
// rewritten below on top of this table.
struct HwlocApi {
  decltype(&hwloc_get_api_version) get_api_version = nullptr;
  decltype(&hwloc_topology_init) topology_init = nullptr;
  decltype(&hwloc_topology_destroy) topology_destroy = nullptr;
  decltype(&hwloc_topology_set_flags) topology_set_flags = nullptr;
  decltype(&hwloc_topology_load) topology_load = nullptr;
  decltype(&hwloc_topology_is_thissystem) topology_is_thissystem = nullptr;
  decltype(&hwloc_get_type_depth) get_type_depth = nullptr;
  decltype(&hwloc_get_nbobjs_by_depth) get_nbobjs_by_depth = nullptr;
  decltype(&hwloc_get_obj_by_depth) get_obj_by_depth = nullptr;
};

template <typename Function>
Status Resolve(const char* library, const char* symbol, Function& out) {
  auto address = LoadSymbol(library, symbol);
  if (!address) {
    return Error{ErrorCode::kUnsupported,
                 "counting CPU cores needs hwloc 2 (" + std::string(kHwlocLibrary) +
                     "), which is not usable here: " + address.error().message};
  }
  out = reinterpret_cast<Function>(*address);  // dlsym's documented use
  return {};
}

Result<HwlocApi> LoadHwloc(const char* library) {
  HwlocApi api;
  for (Status s : {Resolve(library, "hwloc_get_api_version", api.get_api_version),
                   Resolve(library, "hwloc_topology_init", api.topology_init),
                   Resolve(library, "hwloc_topology_destroy", api.topology_destroy),
                   Resolve(library, "hwloc_topology_set_flags", api.topology_set_flags),
                   Resolve(library, "hwloc_topology_load", api.topology_load),
                   Resolve(library, "hwloc_topology_is_thissystem", api.topology_is_thissystem),
                   Resolve(library, "hwloc_get_type_depth", api.get_type_depth),
                   Resolve(library, "hwloc_get_nbobjs_by_depth", api.get_nbobjs_by_depth),
                   Resolve(library, "hwloc_get_obj_by_depth", api.get_obj_by_depth)}) {
    if (!s) return s.error();
  }
  // The structures read below (hwloc_obj infos) are those of the headers compiled against:
  // hwloc keeps them stable within one major API version (its documented run-time check).
  const unsigned version = api.get_api_version();
  if ((version >> 16) != (HWLOC_API_VERSION >> 16)) {
    return Error{ErrorCode::kUnsupported, std::string(library) + " is hwloc API " +
                                              std::to_string(version >> 16) +
                                              ".x, licagent was built for " +
                                              std::to_string(HWLOC_API_VERSION >> 16) + ".x"};
  }
  return api;
}

std::string Info(hwloc_obj_t obj, const char* name) {
  if (obj == nullptr) return {};
  const char* v = hwloc_obj_get_info_by_name(obj, name);  // inline: reads obj->infos only
  return v == nullptr ? std::string() : std::string(v);
}

// hwloc_get_nbobjs_by_type, through the table.
int Count(const HwlocApi& api, hwloc_topology_t topology, hwloc_obj_type_t type) {
  const int depth = api.get_type_depth(topology, type);
  if (depth == HWLOC_TYPE_DEPTH_UNKNOWN || depth == HWLOC_TYPE_DEPTH_MULTIPLE) return 0;
  return static_cast<int>(api.get_nbobjs_by_depth(topology, depth));
}

// hwloc_get_obj_by_type, through the table.
hwloc_obj_t First(const HwlocApi& api, hwloc_topology_t topology, hwloc_obj_type_t type) {
  const int depth = api.get_type_depth(topology, type);
  if (depth == HWLOC_TYPE_DEPTH_UNKNOWN || depth == HWLOC_TYPE_DEPTH_MULTIPLE) return nullptr;
  return api.get_obj_by_depth(topology, depth, 0);
}

}  // namespace

Result<Topology> LoadHwlocTopology(const char* library) {
  static std::mutex mu;
  std::lock_guard<std::mutex> lock(mu);
  ScrubHwlocEnvironment();  // before the library is loaded, in case anything reads them early
  auto api = LoadHwloc(library);
  if (!api) return api.error();

  hwloc_topology_t topology = nullptr;
  if (api->topology_init(&topology) != 0) {
    return Error{ErrorCode::kInternal, "hwloc_topology_init failed"};
  }
  struct Closer {
    const HwlocApi& api;
    hwloc_topology_t t;
    ~Closer() { api.topology_destroy(t); }
  } closer{*api, topology};
  api->topology_set_flags(topology, HWLOC_TOPOLOGY_FLAG_INCLUDE_DISALLOWED);
  if (api->topology_load(topology) != 0) {
    return Error{ErrorCode::kIoError, "hwloc could not read the CPU topology"};
  }
  if (api->topology_is_thissystem(topology) != 1) {
    return Error{ErrorCode::kUnsupported, "hwloc describes another system than this one"};
  }

  Topology t;
  t.packages = Count(*api, topology, HWLOC_OBJ_PACKAGE);
  t.cores = Count(*api, topology, HWLOC_OBJ_CORE);
  t.pus = Count(*api, topology, HWLOC_OBJ_PU);
  hwloc_obj_t package = First(*api, topology, HWLOC_OBJ_PACKAGE);
  t.cpu_vendor = Info(package, "CPUVendor");
  t.cpu_model = Info(package, "CPUModel");
  const unsigned v = api->get_api_version();
  t.backend = "hwloc API " + std::to_string(v >> 16) + "." + std::to_string((v >> 8) & 0xFF) + "." +
              std::to_string(v & 0xFF);
  return t;
}

}  // namespace licagent::platform
