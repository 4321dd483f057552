// Windows: UTF-16 to UTF-8 conversion (see win_text.h).
#include "platform/windows/win_text.h"

#include <windows.h>

#include <climits>

namespace licagent::platform {

std::string ToUtf8(std::wstring_view text) {
  // WideCharToMultiByte takes int lengths; every string converted here is a registry value, an
  // interface alias or a system message, far below that limit.
  if (text.empty() || text.size() > static_cast<std::size_t>(INT_MAX)) return {};
  const int length = static_cast<int>(text.size());
  const int size =
      WideCharToMultiByte(CP_UTF8, 0, text.data(), length, nullptr, 0, nullptr, nullptr);
  if (size <= 0) return {};
  std::string out(static_cast<std::size_t>(size), '\0');
  if (WideCharToMultiByte(CP_UTF8, 0, text.data(), length, out.data(), size, nullptr, nullptr) !=
      size) {
    return {};
  }
  return out;
}

}  // namespace licagent::platform
