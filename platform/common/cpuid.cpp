// CPUID reading for x86 and x86-64 (GCC/Clang <cpuid.h>, also under mingw-w64).
#include "platform/common/cpuid.h"

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#endif

#include <cstdio>
#include <cstring>
#include <initializer_list>

namespace licagent::platform {
namespace {

std::string Trim(std::string s) {
  const char* ws = " \t\r\n";
  s.erase(0, s.find_first_not_of(ws));
  s.erase(s.find_last_not_of(ws) + 1);
  return s;
}

std::string FromRegisters(std::initializer_list<unsigned> regs) {
  std::string out;
  for (unsigned r : regs) {
    char bytes[4];
    std::memcpy(bytes, &r, 4);
    out.append(bytes, 4);
  }
  std::erase(out, '\0');  // vendor signatures and brand strings are NUL-padded
  return out;
}

}  // namespace

void DecodeSignature(std::uint32_t eax, unsigned* family, unsigned* model, unsigned* stepping) {
  const unsigned base_family = (eax >> 8) & 0xF;
  const unsigned base_model = (eax >> 4) & 0xF;
  *stepping = eax & 0xF;
  *family = base_family == 0xF ? base_family + ((eax >> 20) & 0xFF) : base_family;
  *model = (base_family == 0x6 || base_family == 0xF) ? base_model | (((eax >> 16) & 0xF) << 4)
                                                      : base_model;
}

CpuidInfo ReadCpuid() {
  CpuidInfo info;
#if defined(__x86_64__) || defined(__i386__)
  unsigned a = 0, b = 0, c = 0, d = 0;
  if (__get_cpuid(0, &a, &b, &c, &d) == 0) return info;
  info.available = true;
  info.vendor = FromRegisters({b, d, c});
  if (a >= 1 && __get_cpuid(1, &a, &b, &c, &d) != 0) {
    info.leaf1_eax = a;
    info.leaf1_edx = d;
    info.hypervisor_bit = (c >> 31) & 1U;
    DecodeSignature(a, &info.family, &info.model, &info.stepping);
  }
  if (info.hypervisor_bit) {
    __cpuid(0x40000000, a, b, c, d);
    info.hypervisor_vendor = FromRegisters({b, c, d});
  }
  if (__get_cpuid(0x80000000, &a, &b, &c, &d) != 0 && a >= 0x80000004) {
    std::string brand;
    for (unsigned leaf = 0x80000002; leaf <= 0x80000004; ++leaf) {
      __cpuid(leaf, a, b, c, d);
      brand += FromRegisters({a, b, c, d});
    }
    info.brand = Trim(brand);
  }
#endif
  return info;
}

std::string CpuSlotValue(const CpuidInfo& info) {
  if (!info.available) return {};
  return info.vendor + "|" + std::to_string(info.family) + "|" + std::to_string(info.model) + "|" +
         std::to_string(info.stepping) + "|" + info.brand;
}

std::string ProcessorId(const CpuidInfo& info) {
  if (!info.available) return {};
  char buf[17];
  std::snprintf(buf, sizeof buf, "%08X%08X", static_cast<unsigned>(info.leaf1_edx),
                static_cast<unsigned>(info.leaf1_eax));
  return buf;
}

}  // namespace licagent::platform
