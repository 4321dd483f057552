// Scripted machines for identity tests: a fully populated bare-metal server, the DMI-less
// micro-VM this CI runs on, and helpers to change one component at a time.
#pragma once

#include <string>

#include "platform/platform.h"

namespace licagent::testing {

inline platform::RawSlot Values(std::initializer_list<std::string> values) {
  platform::RawSlot slot;
  for (const std::string& v : values) {
    slot.values.push_back({v, "test"});
    slot.probes.push_back({"test", "read"});
  }
  return slot;
}

// A Dell rack server read as root: every slot present.
inline platform::RawIdentity BareMetalServer() {
  platform::RawIdentity id;
  id.os = OsFamily::kLinux;
  id.environment.dmi_available = true;
  id.environment.sys_vendor = "Dell Inc.";
  id.environment.product_name = "PowerEdge R650";
  id.environment.board_vendor = "Dell Inc.";
  id.environment.bios_vendor = "Dell Inc.";
  id.environment.chassis_vendor = "Dell Inc.";
  id.slot(Slot::kPlatformUuid) = Values({"4C4C4544-0042-3510-8052-B4C04F333432"});
  id.slot(Slot::kPlatformSerial) = Values({".7XYZ123.CNFCP0012345.", "7XYZ123"});
  id.slot(Slot::kNic) = Values({"b8:ca:3a:6b:11:20", "b8:ca:3a:6b:11:21"});
  id.slot(Slot::kDisk) = Values({"S4EWNX0R123456", "ZA1D2XYZ"});
  id.slot(Slot::kOsInstallId) = Values({"0f5e1c2a9b3d4e6f8a7b6c5d4e3f2a1b"});
  id.slot(Slot::kBootVolume) = Values({"6b1d2e3f-4a5b-4c6d-8e7f-9a0b1c2d3e4f"});
  id.slot(Slot::kCpu) = Values({"GenuineIntel|6|106|6|Intel(R) Xeon(R) Gold 6338 CPU @ 2.00GHz"});
  id.board_serial = ".7XYZ123.CNFCP0012345.";
  id.cpu_processor_id = "BFEBFBFF000606A6";
  return id;
}

// The Firecracker micro-VM of this CI: no DMI, a locally administered MAC, a generic disk
// serial, machine-id and ext4 root from the image, a /.dockerenv marker.
inline platform::RawIdentity FirecrackerVm() {
  platform::RawIdentity id;
  id.os = OsFamily::kLinux;
  id.environment.dmi_available = false;
  id.environment.cpuid_hypervisor_bit = true;
  id.environment.cpuid_hypervisor_vendor = "KVMKVMKVM";
  id.environment.container_marker = "/.dockerenv";
  id.slot(Slot::kPlatformUuid).probes.push_back({"/sys/class/dmi/id/", "absent: no DMI"});
  id.slot(Slot::kPlatformSerial).probes.push_back({"/sys/class/dmi/id/", "absent: no DMI"});
  id.slot(Slot::kNic) = Values({"02:fc:00:00:00:01"});
  id.slot(Slot::kDisk) = Values({"overlayblk"});
  id.slot(Slot::kOsInstallId) = Values({"3d1219c7c4c5404aaa1f6d2a48adfda4"});
  id.slot(Slot::kBootVolume) = Values({"75d01d969b1fcb9e"});
  id.slot(Slot::kCpu) = Values({"AuthenticAMD|25|17|1|AMD EPYC"});
  id.cpu_processor_id = "178BFBFF00A00F11";
  return id;
}

}  // namespace licagent::testing
