// ParseStorageDeviceDescriptor on arbitrary bytes as DeviceIoControl would have written them,
// then DiskSlotExclusion on the result. Properties (trap on violation):
//  - it fails only with kCorrupt, and only for fewer than 36 bytes or a Size field below 36;
//  - strings hold no NUL, each lies inside the buffer and inside the descriptor's own Size;
//  - parsing is unaffected by bytes after Size (a buffer larger than the descriptor).
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "platform/common/storage_descriptor.h"

namespace {

using licagent::platform::StorageDeviceDescriptor;

void Check(bool ok) {
  if (!ok) __builtin_trap();
}

std::uint32_t SizeField(std::span<const std::uint8_t> bytes) {
  return static_cast<std::uint32_t>(bytes[4]) | static_cast<std::uint32_t>(bytes[5]) << 8 |
         static_cast<std::uint32_t>(bytes[6]) << 16 | static_cast<std::uint32_t>(bytes[7]) << 24;
}

void CheckString(const std::string& s, std::size_t bound) {
  Check(s.find('\0') == std::string::npos);
  // At least the 36 fixed bytes and the NUL terminator precede/follow the string.
  Check(s.empty() || s.size() + 37 <= bound);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::span<const std::uint8_t> bytes(data, size);
  auto parsed = licagent::platform::ParseStorageDeviceDescriptor(bytes);
  if (!parsed.has_value()) {
    Check(parsed.error().code == licagent::ErrorCode::kCorrupt);
    Check(size < 36 || SizeField(bytes) < 36);
    return 0;
  }
  Check(size >= 36 && SizeField(bytes) >= 36);
  const StorageDeviceDescriptor& d = *parsed;
  const std::size_t bound = std::min<std::size_t>(size, SizeField(bytes));
  CheckString(d.vendor_id, bound);
  CheckString(d.product_id, bound);
  CheckString(d.product_revision, bound);
  CheckString(d.serial_number, bound);
  (void)licagent::platform::DiskSlotExclusion(d);

  // Bytes beyond the descriptor's Size never change the result.
  if (SizeField(bytes) < size) {
    auto cut = licagent::platform::ParseStorageDeviceDescriptor(bytes.first(SizeField(bytes)));
    Check(cut.has_value());
    Check(*cut == d);
  }
  return 0;
}
