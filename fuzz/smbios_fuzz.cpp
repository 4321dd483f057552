// The SMBIOS parser on arbitrary bytes read as a RawSMBIOSData blob (the Windows 'RSMB' layout,
// tests/data/smbios/wine-8.0-rsmb.bin): ParseRawSmbiosData on the whole input, and
// ParseSmbiosTable on everything after the 8-byte header whatever its Length field says, so
// mutated lengths do not hide the structure walk. Properties (trap on violation):
//  - ParseRawSmbiosData fails only with kCorrupt;
//  - decoded strings hold no NUL, a type 1 UUID is empty or canonical 8-4-4-4-12 lower-case hex.
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

#include "platform/common/smbios.h"

namespace {

using licagent::platform::SmbiosInfo;

void Check(bool ok) {
  if (!ok) __builtin_trap();
}

void CheckString(const std::string& s) { Check(s.find('\0') == std::string::npos); }

void CheckUuid(const std::string& uuid) {
  if (uuid.empty()) return;
  Check(uuid.size() == 36);
  for (std::size_t i = 0; i < uuid.size(); ++i) {
    const char c = uuid[i];
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      Check(c == '-');
    } else {
      Check((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'));
    }
  }
}

void CheckInfo(const SmbiosInfo& info) {
  if (info.bios) CheckString(info.bios->vendor);
  if (info.system) {
    CheckString(info.system->manufacturer);
    CheckString(info.system->product_name);
    CheckString(info.system->version);
    CheckString(info.system->serial_number);
    CheckUuid(info.system->uuid);
  }
  if (info.baseboard) {
    CheckString(info.baseboard->manufacturer);
    CheckString(info.baseboard->product);
    CheckString(info.baseboard->serial_number);
    CheckString(info.baseboard->asset_tag);
  }
  if (info.chassis) {
    CheckString(info.chassis->manufacturer);
    CheckString(info.chassis->serial_number);
    CheckString(info.chassis->asset_tag);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::span<const std::uint8_t> blob(data, size);
  auto raw = licagent::platform::ParseRawSmbiosData(blob);
  if (raw.has_value()) {
    CheckInfo(*raw);
  } else {
    Check(raw.error().code == licagent::ErrorCode::kCorrupt);
  }
  if (size >= 8) {
    CheckInfo(licagent::platform::ParseSmbiosTable(blob.subspan(8), data[1], data[2]));
  }
  return 0;
}
