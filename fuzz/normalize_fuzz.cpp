// NormalizeValue for every Slot on the same arbitrary raw value, and IsJunkValue. Properties of
// the documented contract (agent/identity_internal.h, docs/identity.md), trap on violation:
//  - exactly one of value and rejected is non-empty; only the NIC slot marks values weak;
//  - an accepted value is not a placeholder and has no leading or trailing white space;
//  - UUIDs come out as lower-case 8-4-4-4-12, MACs as 12 lower-case hex digits of a unicast
//    address, weak exactly when locally administered; serials carry no white space.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "agent/identity_internal.h"

namespace {

using licagent::Normalized;
using licagent::Slot;

void Check(bool ok) {
  if (!ok) __builtin_trap();
}

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\0'; }
bool IsLowerHex(char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); }

int HexValue(char c) { return c <= '9' ? c - '0' : c - 'a' + 10; }

void CheckAccepted(Slot slot, const std::string& v, bool weak) {
  Check(!IsSpace(v.front()) && !IsSpace(v.back()));
  if (slot != Slot::kCpu) Check(!licagent::IsJunkValue(v));
  switch (slot) {
    case Slot::kPlatformUuid:
      Check(v.size() == 36);
      for (std::size_t i = 0; i < v.size(); ++i) {
        Check((i == 8 || i == 13 || i == 18 || i == 23) ? v[i] == '-' : IsLowerHex(v[i]));
      }
      break;
    case Slot::kNic: {
      Check(v.size() == 12);
      for (char c : v) Check(IsLowerHex(c));
      const int first = HexValue(v[0]) * 16 + HexValue(v[1]);
      Check((first & 0x01) == 0);
      Check(weak == ((first & 0x02) != 0));
      break;
    }
    case Slot::kPlatformSerial:
    case Slot::kDisk:
      for (char c : v) Check(!IsSpace(c));
      break;
    case Slot::kOsInstallId:
    case Slot::kBootVolume:
    case Slot::kCpu:
      break;
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view raw(reinterpret_cast<const char*>(data), size);
  for (int i = 0; i < licagent::kSlotCount; ++i) {
    const Slot slot = licagent::SlotAt(i);
    const Normalized n = licagent::NormalizeValue(slot, raw);
    Check(n.value.empty() != n.rejected.empty());
    if (slot != Slot::kNic) Check(!n.weak);
    if (!n.value.empty()) CheckAccepted(slot, n.value, n.weak);
  }
  (void)licagent::IsJunkValue(raw);
  return 0;
}
