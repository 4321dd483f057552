// Names of the temporary files WriteFileAtomic writes beside its target, shared by every
// platform layer so that RemoveStaleTempFiles (and the tests) recognise them and nothing else:
//   "." <target name> "." <process id> "." <thread> "." <counter> ".tmp"   (numbers in hex)
// e.g. ".license.lic.1f2a.7c3e91.0.tmp". The leading dot hides them from `ls`; readers open the
// target by its exact name, so a leftover temporary file is never read as the target.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace licagent::platform {

template <typename CharT>
std::basic_string<CharT> TempFileName(std::basic_string_view<CharT> target_name,
                                      std::uint64_t process, std::uint64_t thread,
                                      std::uint64_t counter) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::basic_string<CharT> name;
  name += CharT('.');
  name += target_name;
  for (std::uint64_t n : {process, thread, counter}) {
    name += CharT('.');
    CharT digits[16];
    int count = 0;
    do {
      digits[count++] = CharT(kHex[n & 0xF]);
      n >>= 4;
    } while (n != 0);
    while (count > 0) name += digits[--count];
  }
  for (char c : std::string_view(".tmp")) name += CharT(c);
  return name;
}

// True when `name` is a TempFileName of `target_name` (any process, thread and counter).
template <typename CharT>
bool IsTempFileNameFor(std::basic_string_view<CharT> name,
                       std::basic_string_view<CharT> target_name) {
  // "." target "." hex "." hex "." hex ".tmp"
  if (name.size() < target_name.size() + 11 || name[0] != CharT('.') ||
      name.substr(1, target_name.size()) != target_name) {
    return false;
  }
  std::basic_string_view<CharT> rest = name.substr(1 + target_name.size());
  static constexpr std::string_view kSuffix = ".tmp";
  for (std::size_t i = 0; i < kSuffix.size(); ++i) {
    if (rest[rest.size() - kSuffix.size() + i] != CharT(kSuffix[i])) return false;
  }
  rest.remove_suffix(kSuffix.size());
  // Now exactly three groups, each "." followed by 1 to 16 lower-case hex digits.
  int groups = 0;
  std::size_t digits = 0;
  for (std::size_t i = 0; i < rest.size(); ++i) {
    const CharT c = rest[i];
    if (c == CharT('.')) {
      if (i != 0 && digits == 0) return false;
      ++groups;
      digits = 0;
    } else if (i == 0 ||
               !((c >= CharT('0') && c <= CharT('9')) || (c >= CharT('a') && c <= CharT('f'))) ||
               ++digits > 16) {
      return false;
    }
  }
  return groups == 3 && digits != 0;
}

}  // namespace licagent::platform
