// platform::LoadSymbol with LoadLibraryExA/GetProcAddress.
#include <windows.h>

#include <string>

#include "platform/platform.h"
#include "platform/windows/win_error.h"

namespace licagent::platform {

Result<void*> LoadSymbol(const char* file_name, const char* symbol) {
  // The application directory and System32 only, never the current directory (DLL planting).
  HMODULE library = LoadLibraryExA(
      file_name, nullptr, LOAD_LIBRARY_SEARCH_APPLICATION_DIR | LOAD_LIBRARY_SEARCH_SYSTEM32);
  if (library == nullptr) {
    Error error = WindowsError(std::string("cannot load ") + file_name, GetLastError());
    error.code = ErrorCode::kNotFound;
    return error;
  }
  FARPROC address = GetProcAddress(library, symbol);
  if (address == nullptr) {
    return Error{ErrorCode::kNotFound, std::string(file_name) + " has no symbol " + symbol};
  }
  return reinterpret_cast<void*>(address);
}

}  // namespace licagent::platform
