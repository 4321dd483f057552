// platform::LoadSymbol with dlopen/dlsym (Linux, macOS).
#include <dlfcn.h>

#include <string>

#include "platform/platform.h"

namespace licagent::platform {

Result<void*> LoadSymbol(const char* file_name, const char* symbol) {
  // A second dlopen of a loaded library returns the same handle; the handle is never closed.
  void* library = dlopen(file_name, RTLD_NOW | RTLD_LOCAL);
  if (library == nullptr) {
    const char* why = dlerror();
    return Error{ErrorCode::kNotFound,
                 std::string("cannot load ") + file_name + ": " + (why ? why : "unknown error")};
  }
  void* address = dlsym(library, symbol);
  if (address == nullptr) {
    return Error{ErrorCode::kNotFound, std::string(file_name) + " has no symbol " + symbol};
  }
  return address;
}

}  // namespace licagent::platform
