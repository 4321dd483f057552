// From raw values to a fingerprint: choice of values, weakness, privacy, determinism.
#include "agent/identity_internal.h"
#include "platform/fake/fake_platform.h"
#include "tests/catch.h"
#include "tests/unit/machines.h"

namespace licagent {
namespace {

using testing::Values;

Fingerprint Compute(const platform::RawIdentity& raw,
                    const IdentityKey& key = BuiltinIdentityKey()) {
  auto fp = ComputeFingerprint(raw, key);
  REQUIRE(fp);
  return *fp;
}

TEST_CASE("A fully populated server has a strong identifier", "[fingerprint]") {
  const Fingerprint fp = Compute(testing::BareMetalServer());
  CHECK(fp.identifier.PresentSlots() == 7);
  CHECK(fp.identifier.environment == Environment::kBareMetal);
  CHECK(fp.identifier.os == OsFamily::kLinux);
  CHECK_FALSE(fp.weak);
  CHECK(fp.weak_reasons.empty());
  for (const SlotReport& s : fp.slots) {
    CHECK(s.tag != 0);
    CHECK(s.tag == s.candidates.front());
    CHECK(s.absent_reason.empty());
  }
  CHECK(fp.slots[2].candidates.size() == 2);  // both NICs are accepted when matching
  CHECK(fp.slots[1].candidates.size() == 2);  // board and system serial
}

TEST_CASE("The weak CI micro-VM still gets an identifier that says it is weak", "[fingerprint]") {
  const Fingerprint fp = Compute(testing::FirecrackerVm());
  CHECK(fp.identifier.environment == Environment::kVmContainer);
  CHECK(fp.weak);
  CHECK(fp.identifier.tags[0] == 0);
  CHECK(fp.identifier.tags[1] == 0);
  CHECK(fp.identifier.tags[3] == 0);  // "overlayblk" is generic
  CHECK(fp.identifier.tags[2] != 0);  // the local MAC is kept: nothing better exists in this VM
  CHECK(fp.slots[2].weak);
  CHECK(fp.identifier.PresentSlots() == 4);
  CHECK(fp.slots[0].absent_reason.find("no DMI") != std::string::npos);
  CHECK(fp.slots[3].absent_reason.find("generic virtual disk") != std::string::npos);
  CHECK(fp.weak_reasons.size() >= 2);
}

TEST_CASE("A locally administered MAC is ignored outside a VM or beside a real one",
          "[fingerprint]") {
  platform::RawIdentity server = testing::BareMetalServer();
  server.slot(Slot::kNic) = Values({"02:42:ac:11:00:02"});  // Docker-style MAC on bare metal
  Fingerprint fp = Compute(server);
  CHECK(fp.identifier.tags[2] == 0);
  CHECK(fp.slots[2].absent_reason.find("locally administered") != std::string::npos);

  server.slot(Slot::kNic) = Values({"02:42:ac:11:00:02", "b8:ca:3a:6b:11:20"});
  fp = Compute(server);
  CHECK(fp.identifier.tags[2] != 0);
  CHECK(fp.slots[2].candidates.size() == 1);
  CHECK_FALSE(fp.slots[2].weak);
}

TEST_CASE("Junk values fall through to the next source of the slot", "[fingerprint]") {
  platform::RawIdentity server = testing::BareMetalServer();
  server.slot(Slot::kPlatformSerial) = Values({"To Be Filled By O.E.M.", "7XYZ123"});
  server.slot(Slot::kPlatformUuid) = Values({"03000200-0400-0500-0006-000700080009"});
  const Fingerprint fp = Compute(server);
  CHECK(fp.identifier.tags[0] == 0);
  CHECK(fp.slots[0].absent_reason == "rejected: placeholder value");
  CHECK(fp.identifier.tags[1] != 0);
  CHECK(fp.slots[1].candidates.size() == 1);
}

TEST_CASE("Identifiers depend on the product key and nothing else", "[fingerprint]") {
  const platform::RawIdentity server = testing::BareMetalServer();
  IdentityKey other = BuiltinIdentityKey();
  other.bytes[31] ^= 0x80;
  const Fingerprint a = Compute(server);
  const Fingerprint b = Compute(server);
  const Fingerprint c = Compute(server, other);
  CHECK(a.identifier == b.identifier);
  CHECK(a.identifier.ToString() == b.identifier.ToString());
  int differing = 0;
  for (int i = 0; i < kSlotCount; ++i) differing += a.identifier.tags[i] != c.identifier.tags[i];
  CHECK(differing >= 6);  // 16-bit tags: a chance collision in one slot is possible, not in 6
}

TEST_CASE("Equivalent spellings of the same hardware give the same identifier", "[fingerprint]") {
  platform::RawIdentity a = testing::BareMetalServer();
  platform::RawIdentity b = testing::BareMetalServer();
  b.slot(Slot::kPlatformUuid) = Values({"{4c4c4544-0042-3510-8052-b4c04f333432}\n"});
  b.slot(Slot::kNic) = Values({"B8-CA-3A-6B-11-20", "b8ca3a6b1121"});
  b.slot(Slot::kDisk) = Values({"  s4ewnx0r123456 ", "ZA1D2XYZ"});
  CHECK(Compute(a).identifier == Compute(b).identifier);
}

TEST_CASE("No raw value appears in any report string", "[fingerprint][privacy]") {
  const platform::RawIdentity raw = testing::BareMetalServer();
  const Fingerprint fp = Compute(raw);
  std::string text = fp.identifier.ToString();
  for (const SlotReport& s : fp.slots) {
    text += s.source + s.absent_reason;
    for (const Probe& p : s.probes) text += p.source + p.outcome;
  }
  for (const std::string& r : fp.environment_signals) text += r;
  for (const std::string& r : fp.weak_reasons) text += r;
  for (const platform::RawSlot& slot : raw.slots) {
    for (const platform::RawValue& v : slot.values) {
      INFO(v.value);
      CHECK(text.find(v.value) == std::string::npos);
    }
  }
}

TEST_CASE("A platform failure is reported, not turned into an identifier", "[fingerprint]") {
  platform::FakePlatform fake;
  fake.fail_with = Error{ErrorCode::kIoError, "sysfs is not mounted"};
  auto fp = CollectFingerprint(fake, BuiltinIdentityKey());
  REQUIRE_FALSE(fp);
  CHECK(fp.error().code == ErrorCode::kIoError);
}

}  // namespace
}  // namespace licagent
