// Bounds-checked parser of raw SMBIOS structure tables (DMTF DSP0134), OS-independent: Windows
// hands the table over as the GetSystemFirmwareTable('RSMB') blob, Linux (root only) as
// /sys/firmware/dmi/tables/DMI. Extracts only the identity and environment fields licagent uses.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>

#include "licagent/result.h"

namespace licagent::platform {

// Strings are exactly as the firmware stored them: not trimmed, not deny-listed (agent/ does
// both). An empty string means absent: string number 0, a number beyond the structure's string
// set, or a structure too short to hold the field (older SMBIOS versions).
struct SmbiosBios {  // type 0
  std::string vendor;

  friend bool operator==(const SmbiosBios&, const SmbiosBios&) = default;
};

struct SmbiosSystem {  // type 1
  std::string manufacturer;
  std::string product_name;
  std::string version;
  std::string serial_number;
  // Canonical lower-case 8-4-4-4-12 text (FormatSmbiosUuid), the same as Linux's
  // /sys/class/dmi/id/product_uuid. All-zero and all-FF UUIDs are kept. Empty only when the
  // structure is too short to hold a UUID (SMBIOS 2.0).
  std::string uuid;

  friend bool operator==(const SmbiosSystem&, const SmbiosSystem&) = default;
};

struct SmbiosBaseboard {  // type 2
  std::string manufacturer;
  std::string product;
  std::string serial_number;
  std::string asset_tag;

  friend bool operator==(const SmbiosBaseboard&, const SmbiosBaseboard&) = default;
};

struct SmbiosChassis {  // type 3
  std::string manufacturer;
  std::string serial_number;
  std::string asset_tag;

  friend bool operator==(const SmbiosChassis&, const SmbiosChassis&) = default;
};

struct SmbiosInfo {
  std::uint8_t major_version = 0;
  std::uint8_t minor_version = 0;
  // The first structure of each type (on multi-board systems the first type 2 is the main
  // board, as in Linux's dmi_scan); nullopt when the table has no such structure.
  std::optional<SmbiosBios> bios;
  std::optional<SmbiosSystem> system;
  std::optional<SmbiosBaseboard> baseboard;
  std::optional<SmbiosChassis> chassis;
  // Why decoding stopped before the end of the table (a structure shorter than its 4-byte
  // header, overrunning the table, or without its double-NUL terminator); empty when every
  // structure up to the end-of-table structure (type 127) or the table's end was well-formed.
  // Structures before the defect are still reported. Never contains table contents.
  std::string defect;
};

// Parses a RawSMBIOSData blob as GetSystemFirmwareTable(0x52534D42 'RSMB', 0, ...) returns it:
// Used20CallingMethod, SMBIOSMajorVersion, SMBIOSMinorVersion, DmiRevision, a little-endian
// uint32 Length, then Length bytes of structure table. Bytes after the table are ignored.
// Errors: kCorrupt when the blob is shorter than the 8-byte header or than 8 + Length.
Result<SmbiosInfo> ParseRawSmbiosData(std::span<const std::uint8_t> blob);

// Parses a bare structure table whose version comes from elsewhere (the SMBIOS entry point on
// Linux). Never fails: malformed input yields fewer fields and a non-empty SmbiosInfo::defect.
SmbiosInfo ParseSmbiosTable(std::span<const std::uint8_t> table, std::uint8_t major_version,
                            std::uint8_t minor_version);

// Formats the 16 bytes of a type 1 UUID as lower-case 8-4-4-4-12 text. From SMBIOS 2.6 on the
// first three fields are stored little-endian (DSP0134 §7.2.1), so they are byte-swapped for
// versions >= 2.6 and printed in stored order before, which is the rule Linux's dmi_scan uses.
std::string FormatSmbiosUuid(std::span<const std::uint8_t, 16> bytes, std::uint8_t major_version,
                             std::uint8_t minor_version);

}  // namespace licagent::platform
