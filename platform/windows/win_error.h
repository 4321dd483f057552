// Windows: the one translation of Win32 error codes into licagent::Error.
#pragma once

#include <windows.h>

#include <string>

#include "licagent/result.h"

namespace licagent::platform {

// Maps a GetLastError()/LSTATUS/NETIO code to an Error: kNotFound, kPermissionDenied,
// kUnsupported or kIoError, with `context` and the system's message for the code in `message`
// and the code itself in os_error. A full disk (ERROR_DISK_FULL, ERROR_HANDLE_DISK_FULL) says
// "disk full" in the message. Nothing outside platform/windows/ sees Win32 error codes.
Error WindowsError(std::string context, DWORD error);

}  // namespace licagent::platform
