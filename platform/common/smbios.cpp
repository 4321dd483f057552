// SMBIOS structure-table parser (see smbios.h). Pure C++: no OS headers, every read bounds-checked
// against the table span, so any byte sequence is safe input.
#include "platform/common/smbios.h"

#include <algorithm>
#include <array>
#include <cstddef>
#include <utility>

namespace licagent::platform {
namespace {

constexpr std::size_t kRawHeaderSize = 8;        // RawSMBIOSData fields before the table
constexpr std::size_t kStructureHeaderSize = 4;  // type, length, 16-bit handle

constexpr std::uint8_t kTypeBios = 0;
constexpr std::uint8_t kTypeSystem = 1;
constexpr std::uint8_t kTypeBaseboard = 2;
constexpr std::uint8_t kTypeChassis = 3;
constexpr std::uint8_t kTypeEndOfTable = 127;

// Field offsets in the formatted areas (DSP0134 §7.1–7.4). String fields hold a 1-based string
// number; 0 means "no string".
constexpr std::size_t kBiosVendor = 0x04;
constexpr std::size_t kSystemManufacturer = 0x04;
constexpr std::size_t kSystemProductName = 0x05;
constexpr std::size_t kSystemVersion = 0x06;
constexpr std::size_t kSystemSerialNumber = 0x07;
constexpr std::size_t kSystemUuid = 0x08;  // 16 bytes, SMBIOS 2.1+
constexpr std::size_t kUuidSize = 16;
constexpr std::size_t kBaseboardManufacturer = 0x04;
constexpr std::size_t kBaseboardProduct = 0x05;
constexpr std::size_t kBaseboardSerialNumber = 0x07;
constexpr std::size_t kBaseboardAssetTag = 0x08;
constexpr std::size_t kChassisManufacturer = 0x04;
constexpr std::size_t kChassisSerialNumber = 0x07;
constexpr std::size_t kChassisAssetTag = 0x08;

// One structure whose formatted area and string set both lie inside the table (the caller
// checked). `strings` runs from the end of the formatted area up to and including the first NUL
// of the terminating double NUL, so every string in it is NUL-terminated.
class Structure {
 public:
  Structure(std::span<const std::uint8_t> formatted, std::span<const std::uint8_t> strings)
      : formatted_(formatted), strings_(strings) {}

  bool Has(std::size_t offset, std::size_t size) const {
    return offset <= formatted_.size() && size <= formatted_.size() - offset;
  }

  // The string referenced by the string-number byte at `field_offset`. Empty when the field is
  // beyond this structure's length (an older SMBIOS version), is 0, or names a string past the
  // end of the set. Like Linux's dmi_string(), an empty string ends the set.
  std::string String(std::size_t field_offset) const {
    if (!Has(field_offset, 1)) return {};
    std::size_t number = formatted_[field_offset];
    if (number == 0) return {};
    std::size_t pos = 0;
    while (pos < strings_.size()) {
      const auto begin = strings_.begin() + static_cast<std::ptrdiff_t>(pos);
      const auto nul = std::find(begin, strings_.end(), std::uint8_t{0});
      if (nul == strings_.end() || nul == begin) return {};
      if (--number == 0) return std::string(begin, nul);
      pos = static_cast<std::size_t>(nul - strings_.begin()) + 1;
    }
    return {};
  }

  std::span<const std::uint8_t> Bytes(std::size_t offset, std::size_t size) const {
    return formatted_.subspan(offset, size);
  }

 private:
  std::span<const std::uint8_t> formatted_;
  std::span<const std::uint8_t> strings_;
};

// Records the first structure of each type the caller needs; later ones are ignored.
void Decode(const Structure& s, std::uint8_t type, SmbiosInfo* out) {
  switch (type) {
    case kTypeBios:
      if (!out->bios) out->bios = SmbiosBios{s.String(kBiosVendor)};
      break;
    case kTypeSystem:
      if (!out->system) {
        SmbiosSystem system{s.String(kSystemManufacturer),
                            s.String(kSystemProductName),
                            s.String(kSystemVersion),
                            s.String(kSystemSerialNumber),
                            {}};
        if (s.Has(kSystemUuid, kUuidSize)) {
          system.uuid = FormatSmbiosUuid(s.Bytes(kSystemUuid, kUuidSize).first<kUuidSize>(),
                                         out->major_version, out->minor_version);
        }
        out->system = std::move(system);
      }
      break;
    case kTypeBaseboard:
      if (!out->baseboard) {
        out->baseboard =
            SmbiosBaseboard{s.String(kBaseboardManufacturer), s.String(kBaseboardProduct),
                            s.String(kBaseboardSerialNumber), s.String(kBaseboardAssetTag)};
      }
      break;
    case kTypeChassis:
      if (!out->chassis) {
        out->chassis = SmbiosChassis{s.String(kChassisManufacturer), s.String(kChassisSerialNumber),
                                     s.String(kChassisAssetTag)};
      }
      break;
    default:
      break;
  }
}

std::string AtOffset(std::size_t offset) {
  return "SMBIOS structure at table offset " + std::to_string(offset);
}

}  // namespace

std::string FormatSmbiosUuid(std::span<const std::uint8_t, 16> bytes, std::uint8_t major_version,
                             std::uint8_t minor_version) {
  std::array<std::uint8_t, 16> b{};
  std::copy(bytes.begin(), bytes.end(), b.begin());
  if (major_version > 2 || (major_version == 2 && minor_version >= 6)) {
    std::reverse(b.begin(), b.begin() + 4);      // time_low
    std::reverse(b.begin() + 4, b.begin() + 6);  // time_mid
    std::reverse(b.begin() + 6, b.begin() + 8);  // time_hi_and_version
  }
  static constexpr char kHex[] = "0123456789abcdef";
  std::string text;
  text.reserve(36);
  for (std::size_t i = 0; i < b.size(); ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) text += '-';
    text += kHex[b[i] >> 4];
    text += kHex[b[i] & 0xF];
  }
  return text;
}

SmbiosInfo ParseSmbiosTable(std::span<const std::uint8_t> table, std::uint8_t major_version,
                            std::uint8_t minor_version) {
  SmbiosInfo info;
  info.major_version = major_version;
  info.minor_version = minor_version;

  std::size_t pos = 0;
  while (pos < table.size()) {
    const std::size_t remaining = table.size() - pos;
    if (remaining < kStructureHeaderSize) {
      info.defect = AtOffset(pos) + " is cut off inside its header";
      break;
    }
    const std::uint8_t type = table[pos];
    const std::size_t length = table[pos + 1];
    // A length below the header size would make the next structure start inside this one.
    if (length < kStructureHeaderSize) {
      info.defect = AtOffset(pos) + " has length " + std::to_string(length) + " (< 4)";
      break;
    }
    if (length > remaining) {
      info.defect = AtOffset(pos) + " overruns the table";
      break;
    }
    // The string set ends at the first double NUL at or after the formatted area. As Linux's
    // dmi_scan does, a structure without one is not decoded: its strings cannot be bounded.
    std::size_t end = pos + length;
    while (end + 1 < table.size() && (table[end] != 0 || table[end + 1] != 0)) ++end;
    if (end + 1 >= table.size()) {
      info.defect = AtOffset(pos) + " has no string-set terminator";
      break;
    }
    const Structure structure(table.subspan(pos, length),
                              table.subspan(pos + length, end + 1 - (pos + length)));
    Decode(structure, type, &info);
    if (type == kTypeEndOfTable) break;
    pos = end + 2;
  }
  return info;
}

Result<SmbiosInfo> ParseRawSmbiosData(std::span<const std::uint8_t> blob) {
  if (blob.size() < kRawHeaderSize) {
    return Error{ErrorCode::kCorrupt, "SMBIOS data is " + std::to_string(blob.size()) +
                                          " bytes, shorter than its header"};
  }
  const std::uint32_t length =
      static_cast<std::uint32_t>(blob[4]) | static_cast<std::uint32_t>(blob[5]) << 8 |
      static_cast<std::uint32_t>(blob[6]) << 16 | static_cast<std::uint32_t>(blob[7]) << 24;
  const std::size_t available = blob.size() - kRawHeaderSize;
  if (length > available) {
    return Error{ErrorCode::kCorrupt, "SMBIOS header announces a " + std::to_string(length) +
                                          "-byte table but " + std::to_string(available) +
                                          " bytes follow it"};
  }
  return ParseSmbiosTable(blob.subspan(kRawHeaderSize, length), blob[1], blob[2]);
}

}  // namespace licagent::platform
