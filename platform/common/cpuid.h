// CPU identity from the CPUID instruction, shared by every x86 platform layer (Linux, Windows,
// macOS on Intel). On other architectures ReadCpuid() reports available = false.
#pragma once

#include <cstdint>
#include <string>

namespace licagent::platform {

struct CpuidInfo {
  bool available = false;
  std::string vendor;   // leaf 0, e.g. "GenuineIntel", "AuthenticAMD"
  unsigned family = 0;  // display family (base + extended)
  unsigned model = 0;   // display model (base + extended where the vendor rules say so)
  unsigned stepping = 0;
  std::string brand;  // leaves 0x80000002..4, whitespace trimmed
  std::uint32_t leaf1_eax = 0;
  std::uint32_t leaf1_edx = 0;
  bool hypervisor_bit = false;    // leaf 1 ECX bit 31
  std::string hypervisor_vendor;  // leaf 0x40000000 EBX ECX EDX, NULs stripped
};

CpuidInfo ReadCpuid();

// Decodes leaf 1 EAX into display family/model/stepping (Intel SDM / AMD APM rules).
void DecodeSignature(std::uint32_t eax, unsigned* family, unsigned* model, unsigned* stepping);

// The cpu slot's raw value: "vendor|family|model|stepping|brand". Identical on every OS for the
// same CPU, so one machine has one identifier whatever reads it. Empty when unavailable.
std::string CpuSlotValue(const CpuidInfo& info);

// Windows' "ProcessorId": CPUID(1) EDX then EAX as 16 upper-case hex digits, the CPU field of
// the KooGallery device fingerprint. Empty when unavailable.
std::string ProcessorId(const CpuidInfo& info);

}  // namespace licagent::platform
