// The Linux collector on recorded sysfs trees (tests/data/sysfs/*.manifest): what is read, what
// is skipped and why, ordering, and the identifiers that result.
#include <algorithm>

#include "agent/identity_internal.h"
#include "platform/linux/collect_linux.h"
#include "tests/catch.h"
#include "tests/platform/sysfs_fixture.h"

namespace licagent {
namespace {

using platform::RawIdentity;
using platform::RawSlot;
using testing::SysfsFixture;

std::vector<std::string> ValuesOf(const RawSlot& slot) {
  std::vector<std::string> out;
  for (const auto& v : slot.values) out.push_back(v.value);
  return out;
}

std::string OutcomeFor(const RawSlot& slot, std::string_view source) {
  for (const Probe& p : slot.probes) {
    if (p.source == source) return p.outcome;
  }
  return "<no probe>";
}

TEST_CASE("A populated server read as root fills every slot", "[linux]") {
  SysfsFixture fx("dell-r650.manifest");
  const RawIdentity id = platform::linux_impl::Collect(fx.Sources());
  CHECK(id.os == OsFamily::kLinux);
  CHECK(id.environment.dmi_available);
  CHECK(id.environment.sys_vendor == "Dell Inc.");
  CHECK(ValuesOf(id.slot(Slot::kPlatformUuid)) ==
        std::vector<std::string>{"4c4c4544-0042-3510-8052-b4c04f333432"});
  CHECK(ValuesOf(id.slot(Slot::kPlatformSerial)) ==
        std::vector<std::string>{".7XYZ123.CNFCP0012345.", "7XYZ123", "7XYZ123"});
  CHECK(id.board_serial == ".7XYZ123.CNFCP0012345.");
  CHECK(ValuesOf(id.slot(Slot::kOsInstallId)) ==
        std::vector<std::string>{"0f5e1c2a9b3d4e6f8a7b6c5d4e3f2a1b"});
  CHECK(ValuesOf(id.slot(Slot::kBootVolume)) ==
        std::vector<std::string>{"6b1d2e3f-4a5b-4c6d-8e7f-9a0b1c2d3e4f"});
  CHECK(ValuesOf(id.slot(Slot::kCpu)) ==
        std::vector<std::string>{"GenuineIntel|6|106|6|Intel(R) Xeon(R) Gold 6338 CPU @ 2.00GHz"});
  CHECK(id.cpu_processor_id == "BFEBFBFF000606A6");

  auto fp = ComputeFingerprint(id, BuiltinIdentityKey());
  REQUIRE(fp);
  CHECK(fp->identifier.PresentSlots() == 7);
  CHECK(fp->identifier.environment == Environment::kBareMetal);
  CHECK_FALSE(fp->weak);
}

TEST_CASE("Only physical, fixed NICs count, by permanent MAC, in bus order", "[linux]") {
  SysfsFixture fx("dell-r650.manifest");
  const RawIdentity id = platform::linux_impl::Collect(fx.Sources());
  const RawSlot& nic = id.slot(Slot::kNic);
  // eno2 shows the bond's stolen MAC in `address`; ETHTOOL_GPERMADDR gives its own.
  CHECK(ValuesOf(nic) ==
        std::vector<std::string>{"b8ca3a6b1120", "b8ca3a6b1121", "9c:fc:e8:12:34:56"});
  CHECK(OutcomeFor(nic, "bond0").find("virtual interface") != std::string::npos);
  CHECK(OutcomeFor(nic, "docker0").find("virtual interface") != std::string::npos);
  CHECK(OutcomeFor(nic, "veth1a2b3c4").find("virtual interface") != std::string::npos);
  CHECK(OutcomeFor(nic, "lo").find("virtual interface") != std::string::npos);
  CHECK(OutcomeFor(nic, "enx00e04c680001").find("USB") != std::string::npos);
  CHECK(OutcomeFor(nic, "ens1f0v0").find("SR-IOV") != std::string::npos);
  CHECK(OutcomeFor(nic, "ib0").find("not an Ethernet") != std::string::npos);
  CHECK(OutcomeFor(nic, "enp9s0").find("no permanent address") != std::string::npos);
}

TEST_CASE("Fixed disks: boot disk first through LVM and partitions, then by name", "[linux]") {
  SysfsFixture fx("dell-r650.manifest");
  const RawIdentity id = platform::linux_impl::Collect(fx.Sources());
  const RawSlot& disk = id.slot(Slot::kDisk);
  CHECK(ValuesOf(disk) ==
        std::vector<std::string>{"S4EWNX0R123456      ", "ZA1D2XYZ", "WD-WCC4E1234567"});
  CHECK(disk.values[0].source == "/sys/block/nvme0n1/device/serial");
  CHECK(disk.values[1].source == "/sys/block/sda/device/vpd_pg80");
  CHECK(disk.values[2].source == "/run/udev/data/b8:32 (ID_SERIAL_SHORT)");
  CHECK(OutcomeFor(disk, "/sys/block/nvme0n1/device/serial") == "read (boot disk)");
  CHECK(OutcomeFor(disk, "sdb").find("removable") != std::string::npos);
  CHECK(OutcomeFor(disk, "sr0").find("removable") != std::string::npos);
  CHECK(OutcomeFor(disk, "loop0").find("virtual block device") != std::string::npos);
  CHECK(OutcomeFor(disk, "dm-0").find("virtual block device") != std::string::npos);
}

TEST_CASE(
    "Root-only DMI files are skipped without error, and the root identifier still "
    "matches",
    "[linux]") {
  SysfsFixture fx("dell-r650.manifest");
  auto as_root =
      ComputeFingerprint(platform::linux_impl::Collect(fx.Sources()), BuiltinIdentityKey());
  REQUIRE(as_root);
  for (const char* f : {"product_uuid", "board_serial", "product_serial", "chassis_serial"}) {
    fx.Deny(std::string("/sys/class/dmi/id/") + f);
  }
  const RawIdentity id = platform::linux_impl::Collect(fx.Sources());
  CHECK(id.slot(Slot::kPlatformUuid).values.empty());
  CHECK(id.slot(Slot::kPlatformSerial).values.empty());
  CHECK(OutcomeFor(id.slot(Slot::kPlatformUuid), "/sys/class/dmi/id/product_uuid") ==
        "skipped: readable by root only");
  CHECK(id.board_serial.empty());
  auto as_user = ComputeFingerprint(id, BuiltinIdentityKey());
  REQUIRE(as_user);
  CHECK(as_user->identifier.PresentSlots() == 5);
  CHECK(as_user->slots[0].absent_reason.find("root only") != std::string::npos);
  const MatchResult m = Match(as_root->identifier, *as_user);
  CHECK(m.score == 8);
  CHECK(m.accepted);
}

TEST_CASE("The recorded CI micro-VM gives a weak but stable identifier", "[linux]") {
  SysfsFixture fx("firecracker-ci.manifest");
  const RawIdentity id = platform::linux_impl::Collect(fx.Sources());
  CHECK_FALSE(id.environment.dmi_available);
  CHECK(id.environment.container_marker == "/.dockerenv");
  CHECK(id.environment.cpuid_hypervisor_vendor == "KVMKVMKVM");
  CHECK(ValuesOf(id.slot(Slot::kNic)) == std::vector<std::string>{"02:fc:00:00:00:01"});
  CHECK(ValuesOf(id.slot(Slot::kDisk)) == std::vector<std::string>{"overlayblk"});
  CHECK(ValuesOf(id.slot(Slot::kBootVolume)) == std::vector<std::string>{"75d01d969b1fcb9e"});
  CHECK(id.slot(Slot::kBootVolume).values[0].source == "statfs(/) f_fsid");

  auto fp = ComputeFingerprint(id, BuiltinIdentityKey());
  REQUIRE(fp);
  CHECK(fp->identifier.environment == Environment::kVmContainer);
  CHECK(fp->weak);
  CHECK(fp->identifier.tags[0] == 0);
  CHECK(fp->identifier.tags[1] == 0);
  CHECK(fp->identifier.tags[3] == 0);
  CHECK(fp->identifier.PresentSlots() == 4);
  CHECK(fp->slots[0].absent_reason.find("no DMI") != std::string::npos);

  auto again =
      ComputeFingerprint(platform::linux_impl::Collect(fx.Sources()), BuiltinIdentityKey());
  REQUIRE(again);
  CHECK(again->identifier == fp->identifier);
}

TEST_CASE("A root file system without a stable id leaves boot_volume absent", "[linux]") {
  SysfsFixture fx("firecracker-ci.manifest");
  platform::linux_impl::LinuxSources s = fx.Sources();
  s.root_filesystem = [] {
    return std::optional<platform::linux_impl::RootFilesystem>(
        platform::linux_impl::RootFilesystem{0x794c7630, {1, 2}});  // overlayfs
  };
  const RawIdentity id = platform::linux_impl::Collect(s);
  CHECK(id.slot(Slot::kBootVolume).values.empty());
  CHECK(OutcomeFor(id.slot(Slot::kBootVolume), "statfs(/) f_fsid").find("no stable") !=
        std::string::npos);
}

TEST_CASE("SCSI VPD page 0x80 parsing is bounds-checked", "[linux]") {
  using platform::linux_impl::ParseVpdPage80;
  CHECK(ParseVpdPage80(std::string("\x00\x80\x00\x04WXYZ", 8)) == "WXYZ");
  CHECK(ParseVpdPage80(std::string("\x00\x80\x00\x06  AB  ", 10)) == "AB");
  CHECK(ParseVpdPage80(std::string("\x00\x80\x00\x09WXYZ", 8)).empty());  // length overruns
  CHECK(ParseVpdPage80(std::string("\x00\x83\x00\x04WXYZ", 8)).empty());  // wrong page
  CHECK(ParseVpdPage80(std::string("\x00\x80\x00", 3)).empty());
  CHECK(ParseVpdPage80(std::string("\x00\x80\x00\x03   ", 7)).empty());
  CHECK(ParseVpdPage80("").empty());
}

TEST_CASE("The real machine: collection works and is repeatable", "[linux][live]") {
  auto a = CollectFingerprint(BuiltinIdentityKey());
  auto b = CollectFingerprint(BuiltinIdentityKey());
  REQUIRE(a);
  REQUIRE(b);
  CHECK(a->identifier == b->identifier);
  CHECK(a->identifier.os == OsFamily::kLinux);
  CHECK(a->identifier.PresentSlots() >= 2);  // machine-id and CPU exist on any Linux
  CHECK(a->slots[static_cast<int>(Slot::kOsInstallId)].tag != 0);
  CHECK(a->slots[static_cast<int>(Slot::kCpu)].tag != 0);
}

}  // namespace
}  // namespace licagent
