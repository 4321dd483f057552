// STORAGE_DEVICE_DESCRIPTOR parser (see storage_descriptor.h). Pure C++: reads little-endian
// fields by offset instead of casting the buffer, so alignment and size never matter.
#include "platform/common/storage_descriptor.h"

#include <algorithm>
#include <cstddef>

namespace licagent::platform {
namespace {

// Field offsets of STORAGE_DEVICE_DESCRIPTOR (winioctl.h), identical on x86 and x64.
constexpr std::size_t kSizeField = 4;
constexpr std::size_t kDeviceType = 8;
constexpr std::size_t kRemovableMedia = 10;
constexpr std::size_t kVendorIdOffset = 12;
constexpr std::size_t kProductIdOffset = 16;
constexpr std::size_t kProductRevisionOffset = 20;
constexpr std::size_t kSerialNumberOffset = 24;
constexpr std::size_t kBusType = 28;
// Version, Size, four bytes, four string offsets, BusType, RawPropertiesLength: the fields before
// RawDeviceProperties. Strings live after them.
constexpr std::size_t kFixedFieldsSize = 36;

std::uint32_t ReadU32(std::span<const std::uint8_t> bytes, std::size_t offset) {
  return static_cast<std::uint32_t>(bytes[offset]) |
         static_cast<std::uint32_t>(bytes[offset + 1]) << 8 |
         static_cast<std::uint32_t>(bytes[offset + 2]) << 16 |
         static_cast<std::uint32_t>(bytes[offset + 3]) << 24;
}

// The NUL-terminated string at the offset stored in field `field`, or empty (see the header).
// A string without a terminator inside the descriptor is dropped rather than cut: a truncated
// serial could match another disk's.
std::string StringAt(std::span<const std::uint8_t> descriptor, std::size_t field) {
  const std::uint32_t offset = ReadU32(descriptor, field);
  if (offset < kFixedFieldsSize || offset >= descriptor.size()) return {};
  const auto begin = descriptor.begin() + static_cast<std::ptrdiff_t>(offset);
  const auto nul = std::find(begin, descriptor.end(), std::uint8_t{0});
  if (nul == descriptor.end()) return {};
  return std::string(begin, nul);
}

}  // namespace

Result<StorageDeviceDescriptor> ParseStorageDeviceDescriptor(std::span<const std::uint8_t> bytes) {
  if (bytes.size() < kFixedFieldsSize) {
    return Error{ErrorCode::kCorrupt, "storage device descriptor is " +
                                          std::to_string(bytes.size()) +
                                          " bytes, shorter than its fixed fields"};
  }
  const std::uint32_t size = ReadU32(bytes, kSizeField);
  if (size < kFixedFieldsSize) {
    return Error{ErrorCode::kCorrupt, "storage device descriptor announces a size of " +
                                          std::to_string(size) + " bytes"};
  }
  const auto descriptor = bytes.first(std::min<std::size_t>(size, bytes.size()));

  StorageDeviceDescriptor d;
  d.device_type = descriptor[kDeviceType];
  d.removable_media = descriptor[kRemovableMedia] != 0;
  d.bus_type = static_cast<StorageBusType>(ReadU32(descriptor, kBusType));
  d.vendor_id = StringAt(descriptor, kVendorIdOffset);
  d.product_id = StringAt(descriptor, kProductIdOffset);
  d.product_revision = StringAt(descriptor, kProductRevisionOffset);
  d.serial_number = StringAt(descriptor, kSerialNumberOffset);
  return d;
}

std::string_view DiskSlotExclusion(const StorageDeviceDescriptor& descriptor) {
  if (descriptor.removable_media) return "removable media";
  switch (descriptor.bus_type) {
    case StorageBusType::kUsb:
      return "USB bus";
    case StorageBusType::k1394:
      return "IEEE 1394 bus";
    case StorageBusType::kSd:
    case StorageBusType::kMmc:
      return "SD/MMC card";
    case StorageBusType::kVirtual:
    case StorageBusType::kFileBackedVirtual:
      return "virtual disk";
    default:
      return {};
  }
}

}  // namespace licagent::platform
