// An owned Win32 kernel handle (CreateFileW and friends), closed when it goes out of scope.
#pragma once

#include <windows.h>

namespace licagent::platform {

class Handle {
 public:
  explicit Handle(HANDLE handle) : handle_(handle) {}
  ~Handle() {
    if (valid()) CloseHandle(handle_);
  }
  Handle(const Handle&) = delete;
  Handle& operator=(const Handle&) = delete;
  bool valid() const { return handle_ != INVALID_HANDLE_VALUE && handle_ != nullptr; }
  HANDLE get() const { return handle_; }
  // Closes now; returns 0 or GetLastError(). The destructor then does nothing.
  DWORD Close() {
    const BOOL ok = CloseHandle(handle_);
    handle_ = INVALID_HANDLE_VALUE;
    return ok ? 0 : GetLastError();
  }

 private:
  HANDLE handle_;
};

}  // namespace licagent::platform
