// Windows: Win32 error codes to licagent::Error (see win_error.h).
#include "platform/windows/win_error.h"

#include <cwctype>
#include <iterator>
#include <utility>

#include "platform/windows/win_text.h"

namespace licagent::platform {
namespace {

ErrorCode CodeFor(DWORD error) {
  switch (error) {
    case ERROR_FILE_NOT_FOUND:
    case ERROR_PATH_NOT_FOUND:
    case ERROR_INVALID_DRIVE:
    case ERROR_NOT_FOUND:
      return ErrorCode::kNotFound;
    case ERROR_ACCESS_DENIED:
    case ERROR_PRIVILEGE_NOT_HELD:
      return ErrorCode::kPermissionDenied;
    case ERROR_INVALID_FUNCTION:
    case ERROR_NOT_SUPPORTED:
    case ERROR_CALL_NOT_IMPLEMENTED:
      return ErrorCode::kUnsupported;
    default:
      return ErrorCode::kIoError;
  }
}

// The system's one-line description of `error` in the user's language, or "" if it has none.
std::wstring SystemMessage(DWORD error) {
  wchar_t buffer[512];
  const DWORD length = FormatMessageW(
      FORMAT_MESSAGE_FROM_SYSTEM | FORMAT_MESSAGE_IGNORE_INSERTS | FORMAT_MESSAGE_MAX_WIDTH_MASK,
      nullptr, error, 0, buffer, static_cast<DWORD>(std::size(buffer)), nullptr);
  std::wstring message(buffer, length);
  while (!message.empty() && std::iswspace(message.back())) message.pop_back();
  return message;
}

}  // namespace

Error WindowsError(std::string context, DWORD error) {
  std::string message = std::move(context) + ": ";
  if (error == ERROR_DISK_FULL || error == ERROR_HANDLE_DISK_FULL) message += "disk full: ";
  const std::string text = ToUtf8(SystemMessage(error));
  message += text.empty() ? "Windows error" : text;
  message += " (error " + std::to_string(error) + ")";
  return Error{CodeFor(error), std::move(message), static_cast<int>(error)};
}

}  // namespace licagent::platform
