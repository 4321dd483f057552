// Bounds-checked parser of the STORAGE_DEVICE_DESCRIPTOR that Windows returns for
// IOCTL_STORAGE_QUERY_PROPERTY (StorageDeviceProperty). OS-independent, so the layout rules are
// tested on Linux with recorded-style bytes; platform/windows/ only does the ioctl.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "licagent/result.h"

namespace licagent::platform {

// STORAGE_BUS_TYPE (winioctl.h). Windows adds values over time, so any uint32 may appear.
enum class StorageBusType : std::uint32_t {
  kUnknown = 0x00,
  kScsi = 0x01,
  kAtapi = 0x02,
  kAta = 0x03,
  k1394 = 0x04,
  kSsa = 0x05,
  kFibre = 0x06,
  kUsb = 0x07,
  kRaid = 0x08,
  kIscsi = 0x09,
  kSas = 0x0A,
  kSata = 0x0B,
  kSd = 0x0C,
  kMmc = 0x0D,
  kVirtual = 0x0E,
  kFileBackedVirtual = 0x0F,
  kSpaces = 0x10,
  kNvme = 0x11,
  kScm = 0x12,
  kUfs = 0x13,
};

struct StorageDeviceDescriptor {
  std::uint8_t device_type = 0;  // SCSI peripheral device type
  bool removable_media = false;
  StorageBusType bus_type = StorageBusType::kUnknown;
  // Strings exactly as the driver stored them (ATA serials often carry padding spaces; agent/
  // trims). Empty means absent: offset 0, an offset outside the descriptor or into its fixed
  // fields, or a string without its NUL terminator inside the descriptor.
  std::string vendor_id;
  std::string product_id;
  std::string product_revision;
  std::string serial_number;

  friend bool operator==(const StorageDeviceDescriptor&, const StorageDeviceDescriptor&) = default;
};

// Parses the bytes DeviceIoControl wrote. The descriptor's own Size field bounds every string
// together with the buffer length, so a descriptor larger than the buffer only loses strings.
// Errors: kCorrupt when the bytes do not hold the 36 bytes of fixed fields or Size is below that.
Result<StorageDeviceDescriptor> ParseStorageDeviceDescriptor(std::span<const std::uint8_t> bytes);

// Why a disk does not belong in the disk slot, or empty when it does. The slot holds fixed disks
// that are part of the machine: removable media, external buses (USB, 1394, SD, MMC) and virtual
// or file-backed disks (VHDs a user can attach and detach) are left out. Never holds raw values.
std::string_view DiskSlotExclusion(const StorageDeviceDescriptor& descriptor);

}  // namespace licagent::platform
