// Windows: UTF-16 to UTF-8 conversion for strings the Win32 API returns.
#pragma once

#include <string>
#include <string_view>

namespace licagent::platform {

// Converts UTF-16 text to UTF-8 with WideCharToMultiByte. Unpaired surrogates become U+FFFD, so
// the result is always valid UTF-8; text the API cannot convert (over 2 GiB) yields "".
std::string ToUtf8(std::wstring_view text);

}  // namespace licagent::platform
