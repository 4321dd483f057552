// Windows: UTF-8 <-> UTF-16 conversion (see win_text.h).
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

std::wstring ToUtf16(std::string_view text) {
  if (text.empty() || text.size() > static_cast<std::size_t>(INT_MAX)) return {};
  const int length = static_cast<int>(text.size());
  const int size = MultiByteToWideChar(CP_UTF8, 0, text.data(), length, nullptr, 0);
  if (size <= 0) return {};
  std::wstring out(static_cast<std::size_t>(size), L'\0');
  if (MultiByteToWideChar(CP_UTF8, 0, text.data(), length, out.data(), size) != size) return {};
  return out;
}

}  // namespace licagent::platform
