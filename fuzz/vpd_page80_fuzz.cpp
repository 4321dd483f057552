// ParseVpdPage80 (SCSI unit serial number page, read from sysfs vpd_pg80) on arbitrary bytes.
// Properties (trap on violation): the serial is empty or a substring of the page's payload
// (bytes 4 .. 4 + PAGE LENGTH) without leading or trailing space, tab or NUL; pages shorter
// than their header, of another page code or with a length beyond the data give "".
#include <cstddef>
#include <cstdint>
#include <string>

#include "platform/linux/collect_linux.h"

namespace {

void Check(bool ok) {
  if (!ok) __builtin_trap();
}

bool IsPadding(char c) { return c == ' ' || c == '\t' || c == '\0'; }

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string page(reinterpret_cast<const char*>(data), size);
  const std::string serial = licagent::platform::linux_impl::ParseVpdPage80(page);
  const bool header_ok = size >= 4 && data[1] == 0x80;
  const std::size_t length = header_ok ? (std::size_t{data[2]} << 8 | data[3]) : 0;
  if (!header_ok || length == 0 || size < 4 + length) {
    Check(serial.empty());
    return 0;
  }
  if (serial.empty()) return 0;
  Check(!IsPadding(serial.front()) && !IsPadding(serial.back()));
  Check(page.substr(4, length).find(serial) != std::string::npos);
  return 0;
}
