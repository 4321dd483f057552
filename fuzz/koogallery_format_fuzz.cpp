// FormatKooGalleryFingerprint on a RawIdentity built from arbitrary bytes. The input is split on
// NUL: the first field is the board serial, the second the CPU processor id, and every further
// field is one raw value whose first byte picks the slot (even: NIC, odd: disk) and whose rest
// is the value. Properties (trap on violation):
//  - the result is at most 1024 characters (the marketplace's limit) with no lower-case letter;
//  - it does not depend on the order the platform listed NICs and disks in.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "agent/identity_internal.h"

namespace {

using licagent::Slot;
using licagent::platform::RawIdentity;

void Check(bool ok) {
  if (!ok) __builtin_trap();
}

RawIdentity Build(std::string_view input) {
  RawIdentity raw;
  raw.os = licagent::OsFamily::kLinux;
  auto& nics = raw.slots[static_cast<int>(Slot::kNic)].values;
  auto& disks = raw.slots[static_cast<int>(Slot::kDisk)].values;
  int field = 0;
  for (;;) {
    const std::size_t nul = input.find('\0');
    const std::string_view part = input.substr(0, nul);
    if (field == 0) {
      raw.board_serial = std::string(part);
    } else if (field == 1) {
      raw.cpu_processor_id = std::string(part);
    } else if (!part.empty()) {
      auto& list = (static_cast<unsigned char>(part[0]) & 1) ? disks : nics;
      list.push_back({std::string(part.substr(1)), "fuzz"});
    }
    ++field;
    if (nul == std::string_view::npos) break;
    input.remove_prefix(nul + 1);
  }
  return raw;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  RawIdentity raw = Build(std::string_view(reinterpret_cast<const char*>(data), size));
  const std::string out = licagent::FormatKooGalleryFingerprint(raw);
  Check(out.size() <= 1024);
  Check(std::none_of(out.begin(), out.end(), [](char c) { return c >= 'a' && c <= 'z'; }));

  for (int slot : {static_cast<int>(Slot::kNic), static_cast<int>(Slot::kDisk)}) {
    auto& values = raw.slots[slot].values;
    std::reverse(values.begin(), values.end());
  }
  Check(licagent::FormatKooGalleryFingerprint(raw) == out);
  return 0;
}
