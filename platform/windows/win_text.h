// Windows: UTF-8 <-> UTF-16 conversion for strings passed to and returned by the Win32 API.
#pragma once

#include <string>
#include <string_view>

namespace licagent::platform {

// Converts UTF-16 text to UTF-8 with WideCharToMultiByte. Unpaired surrogates become U+FFFD, so
// the result is always valid UTF-8; text the API cannot convert (over 2 GiB) yields "".
std::string ToUtf8(std::wstring_view text);

// Converts UTF-8 text to UTF-16 with MultiByteToWideChar; invalid sequences become U+FFFD.
std::wstring ToUtf16(std::string_view text);

}  // namespace licagent::platform
