// The match rule on scripted machines: the scenarios and verdicts of
// reference/fingerprint.md §5.4, through the FakePlatform and the real pipeline.
#include "agent/identity_internal.h"
#include "platform/fake/fake_platform.h"
#include "tests/catch.h"
#include "tests/unit/machines.h"

namespace licagent {
namespace {

using testing::BareMetalServer;
using testing::Values;

Fingerprint Collect(const platform::RawIdentity& raw) {
  platform::FakePlatform fake;
  fake.identity = raw;
  auto fp = CollectFingerprint(fake, BuiltinIdentityKey());
  REQUIRE(fp);
  return *fp;
}

struct Scenario {
  const char* name;
  void (*change)(platform::RawIdentity&);
  int score;
  bool accepted;
};

void Nothing(platform::RawIdentity&) {}
void NicReplaced(platform::RawIdentity& m) {
  m.slot(Slot::kNic) = Values({"3c:fd:fe:a0:00:01", "3c:fd:fe:a0:00:02"});
}
void CpuUpgraded(platform::RawIdentity& m) {
  m.slot(Slot::kCpu) = Values({"GenuineIntel|6|143|8|Intel(R) Xeon(R) Gold 6438Y+"});
}
void OsReinstalled(platform::RawIdentity& m) {
  m.slot(Slot::kOsInstallId) = Values({"aa5e1c2a9b3d4e6f8a7b6c5d4e3f2a1b"});
  m.slot(Slot::kBootVolume) = Values({"11111111-4a5b-4c6d-8e7f-9a0b1c2d3e4f"});
}
void NewDiskAndReinstall(platform::RawIdentity& m) {
  OsReinstalled(m);
  m.slot(Slot::kDisk) = Values({"S5NEWDISK0001", "ZA1D2XYZ-NEW"});
}
void MotherboardSwapped(platform::RawIdentity& m) {
  m.slot(Slot::kPlatformUuid) = Values({"4c4c4544-0099-3510-8052-b4c04f339999"});
  m.slot(Slot::kPlatformSerial) = Values({".9ABC999.CNFCP0099999.", "9ABC999"});
  m.slot(Slot::kNic) = Values({"b8:ca:3a:99:99:20", "b8:ca:3a:99:99:21"});
}
// The system disk moved into another PC: only the disk and what is on it come along.
void DiskMovedToAnotherPc(platform::RawIdentity& m) {
  MotherboardSwapped(m);
  CpuUpgraded(m);
}
// A disk image copied onto another PC: machine-id, volume id and the CPU model come along.
void ImageCopiedToAnotherPc(platform::RawIdentity& m) {
  MotherboardSwapped(m);
  m.slot(Slot::kDisk) = Values({"WD-OTHERDISK01"});
}
// A hypervisor clone that regenerated the UUID, serial and MAC; disk, OS and CPU copied.
void VmCloneWithNewUuidAndMac(platform::RawIdentity& m) { MotherboardSwapped(m); }
void OnlyMachineIdLeft(platform::RawIdentity& m) {
  ImageCopiedToAnotherPc(m);
  m.slot(Slot::kBootVolume) = Values({"22222222-0000-4c6d-8e7f-9a0b1c2d3e4f"});
  CpuUpgraded(m);
}

TEST_CASE("Match scenarios give the verdicts of the reference table", "[match]") {
  const std::vector<Scenario> scenarios = {
      {"reboot / kernel upgrade", Nothing, 13, true},
      {"add-in NIC replaced", NicReplaced, 11, true},
      {"CPU upgrade", CpuUpgraded, 12, true},
      {"OS reinstall on the same disk", OsReinstalled, 10, true},
      {"new disk + OS reinstall", NewDiskAndReinstall, 8, true},
      {"motherboard swap with onboard NIC", MotherboardSwapped, 6, false},
      {"disk moved to another PC", DiskMovedToAnotherPc, 5, false},
      {"image copied to another PC", ImageCopiedToAnotherPc, 4, false},
      {"VM clone with new UUID + MAC", VmCloneWithNewUuidAndMac, 6, false},
      {"only machine-id still matches", OnlyMachineIdLeft, 2, false},
  };
  const Identifier stored = Collect(BareMetalServer()).identifier;
  REQUIRE(stored.PresentSlots() == 7);
  for (const Scenario& s : scenarios) {
    INFO(s.name);
    platform::RawIdentity machine = BareMetalServer();
    s.change(machine);
    const MatchResult m = Match(stored, Collect(machine));
    CHECK(m.possible == 13);
    CHECK(m.score == s.score);
    CHECK(m.accepted == s.accepted);
    CHECK_FALSE(m.reason.empty());
  }
}

TEST_CASE("A match explains every slot", "[match]") {
  const Identifier stored = Collect(BareMetalServer()).identifier;
  platform::RawIdentity machine = BareMetalServer();
  NewDiskAndReinstall(machine);
  machine.slot(Slot::kPlatformSerial) = {};
  const MatchResult m = Match(stored, Collect(machine));
  CHECK(m.slots[0] == SlotVerdict::kMatched);
  CHECK(m.slots[1] == SlotVerdict::kMissing);
  CHECK(m.slots[2] == SlotVerdict::kMatched);
  CHECK(m.slots[3] == SlotVerdict::kChanged);
  CHECK(m.slots[4] == SlotVerdict::kChanged);
  CHECK(m.slots[5] == SlotVerdict::kChanged);
  CHECK(m.slots[6] == SlotVerdict::kMatched);
  CHECK(m.score == 6);
  CHECK_FALSE(m.accepted);
  CHECK(m.reason.find("below the 60%") != std::string::npos);
  CHECK(m.reason.find("platform_serial") != std::string::npos);
}

TEST_CASE("Any current member of a set slot matches the stored primary", "[match]") {
  const Identifier stored = Collect(BareMetalServer()).identifier;
  platform::RawIdentity machine = BareMetalServer();
  // The onboard NIC order changed and a second disk was added in front.
  machine.slot(Slot::kNic) = Values({"b8:ca:3a:6b:11:21", "b8:ca:3a:6b:11:20"});
  machine.slot(Slot::kDisk) = Values({"NEWDISK0001", "S4EWNX0R123456"});
  const MatchResult m = Match(stored, Collect(machine));
  CHECK(m.score == 13);
  CHECK(m.accepted);
}

TEST_CASE("Making sources unreadable cannot lower the denominator", "[match]") {
  const Identifier stored = Collect(BareMetalServer()).identifier;
  platform::RawIdentity machine = BareMetalServer();
  // Read without root: DMI UUID and serials are 0400 on Linux.
  machine.slot(Slot::kPlatformUuid) = {};
  machine.slot(Slot::kPlatformSerial) = {};
  MatchResult m = Match(stored, Collect(machine));
  CHECK(m.possible == 13);
  CHECK(m.score == 8);
  CHECK(m.accepted);  // documented: a non-root check of a root activation still passes
  // ... but with one more change it does not.
  CpuUpgraded(machine);
  m = Match(stored, Collect(machine));
  CHECK_FALSE(m.accepted);
  // Stripping everything but the CPU leaves nothing.
  platform::RawIdentity cpu_only = BareMetalServer();
  for (int i = 0; i < 6; ++i) cpu_only.slots[i] = {};
  m = Match(stored, Collect(cpu_only));
  CHECK(m.score == 1);
  CHECK_FALSE(m.accepted);
}

TEST_CASE("A hardware slot must match when the stored identifier has one", "[match]") {
  Identifier stored;
  stored.environment = Environment::kBareMetal;
  stored.tags = {0, 0, 0x1111, 0, 0x2222, 0x3333, 0x4444};  // NIC + install ids + CPU
  Fingerprint current;
  current.identifier.environment = Environment::kBareMetal;
  current.slots[4].candidates = {0x2222};
  current.slots[5].candidates = {0x3333};
  current.slots[6].candidates = {0x4444};
  current.slots[2].candidates = {0x9999};
  MatchResult m = Match(stored, current);
  CHECK(m.score == 4);
  CHECK(m.possible == 6);
  CHECK_FALSE(m.accepted);
  CHECK(m.reason.find("no hardware slot") != std::string::npos);
  MatchPolicy lenient;
  lenient.require_hardware = false;
  CHECK(Match(stored, current, lenient).accepted);
}

TEST_CASE("At least two slots must match when two or more are stored", "[match]") {
  Identifier stored;
  stored.environment = Environment::kVm;
  stored.tags = {0x1234, 0, 0, 0, 0, 0, 0x0042};
  Fingerprint current;
  current.identifier.environment = Environment::kVm;
  current.slots[0].candidates = {0x1234};
  current.slots[6].candidates = {0x0043};
  MatchResult m = Match(stored, current);
  CHECK(m.score == 3);  // 3 of 4 is above 60%, but only one slot matches
  CHECK_FALSE(m.accepted);
  CHECK(m.reason.find("1 slot(s) match, 2 needed") != std::string::npos);
  // A single stored slot needs a single match.
  stored.tags = {0x1234, 0, 0, 0, 0, 0, 0};
  CHECK(Match(stored, current).accepted);
  // An empty identifier never matches.
  stored.tags = {};
  CHECK_FALSE(Match(stored, current).accepted);
}

TEST_CASE("A bare-metal identifier does not match inside a VM", "[match]") {
  const Identifier stored = Collect(BareMetalServer()).identifier;
  REQUIRE(stored.environment == Environment::kBareMetal);
  platform::RawIdentity cloned = BareMetalServer();
  cloned.environment.cpuid_hypervisor_bit = true;  // same values, now under a hypervisor
  const MatchResult m = Match(stored, Collect(cloned));
  CHECK(m.score == 13);
  CHECK_FALSE(m.environment_ok);
  CHECK_FALSE(m.accepted);
  CHECK(m.reason.find("bare-metal") != std::string::npos);
  MatchPolicy any;
  any.environment = EnvironmentRule::kAny;
  CHECK(Match(stored, Collect(cloned), any).accepted);
  // A VM identifier still matches on a VM, and kExact refuses a different class.
  const Identifier vm = Collect(cloned).identifier;
  CHECK(Match(vm, Collect(cloned)).accepted);
  MatchPolicy exact;
  exact.environment = EnvironmentRule::kExact;
  CHECK_FALSE(Match(vm, Collect(BareMetalServer()), exact).accepted);
}

TEST_CASE("The weak CI machine matches itself after a reboot", "[match]") {
  const Fingerprint first = Collect(testing::FirecrackerVm());
  const Fingerprint again = Collect(testing::FirecrackerVm());
  CHECK(first.identifier == again.identifier);
  const MatchResult m = Match(first.identifier, again);
  CHECK(m.accepted);
  CHECK(m.possible == 6);  // NIC 2 + machine-id 2 + volume 1 + CPU 1
}

}  // namespace
}  // namespace licagent
