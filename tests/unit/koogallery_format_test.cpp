// The KooGallery device fingerprint "MAC|DISK|BOARD|CPU" (reference/koogallery.md §9.1).
#include "agent/identity_internal.h"
#include "tests/catch.h"
#include "tests/unit/machines.h"

namespace licagent {
namespace {

using testing::Values;

TEST_CASE("KooGallery fingerprint of a populated server", "[koogallery]") {
  CHECK(FormatKooGalleryFingerprint(testing::BareMetalServer()) ==
        "B8:CA:3A:6B:11:20,B8:CA:3A:6B:11:21|S4EWNX0R123456,ZA1D2XYZ|.7XYZ123.CNFCP0012345.|"
        "BFEBFBFF000606A6");
}

TEST_CASE("Huawei's example shape: missing board serial leaves an empty field", "[koogallery]") {
  platform::RawIdentity m;
  m.slot(Slot::kNic) = Values({"04:7c:16:5e:e3:5d"});
  m.slot(Slot::kDisk) = Values({"001b_444a_488b_5cec."});
  m.board_serial = "To Be Filled By O.E.M.";
  m.cpu_processor_id = "BFEBFBFF00090672";
  CHECK(FormatKooGalleryFingerprint(m) ==
        "04:7C:16:5E:E3:5D|001B_444A_488B_5CEC.||BFEBFBFF00090672");
}

TEST_CASE("Lists are sorted and de-duplicated, so every run prints the same", "[koogallery]") {
  platform::RawIdentity a;
  a.slot(Slot::kNic) = Values({"b8:ca:3a:6b:11:21", "B8CA3A6B1120", "b8:ca:3a:6b:11:20"});
  a.slot(Slot::kDisk) = Values({"ZZZ", "AAA"});
  CHECK(FormatKooGalleryFingerprint(a) == "B8:CA:3A:6B:11:20,B8:CA:3A:6B:11:21|AAA,ZZZ||");
}

TEST_CASE("An empty machine gives three separators", "[koogallery]") {
  CHECK(FormatKooGalleryFingerprint(platform::RawIdentity{}) == "|||");
}

TEST_CASE("The string never exceeds the 1024-character deviceFingerprint field", "[koogallery]") {
  platform::RawIdentity m;
  for (int i = 0; i < 200; ++i) {
    char mac[18];
    std::snprintf(mac, sizeof mac, "00:1b:21:00:%02x:%02x", i / 256, i % 256);
    m.slot(Slot::kNic).values.push_back({mac, "test"});
    m.slot(Slot::kDisk).values.push_back({"SERIALNUMBER" + std::to_string(1000 + i), "test"});
  }
  m.cpu_processor_id = "BFEBFBFF00090672";
  const std::string s = FormatKooGalleryFingerprint(m);
  CHECK(s.size() <= 1024);
  CHECK(s.size() > 900);
  CHECK(s.rfind("|BFEBFBFF00090672") == s.size() - 17);
  CHECK(s.find("00:1B:21:00:00:00") != std::string::npos);
}

// The vendor side binds a license to the fingerprint string: the identifier it derives must
// match the machine that printed the string, under the default policy, and no other machine.
Fingerprint Computed(const platform::RawIdentity& raw) {
  auto fp = ComputeFingerprint(raw, BuiltinIdentityKey());
  REQUIRE(fp);
  return *fp;
}

TEST_CASE("An identifier derived from the fingerprint string matches its machine", "[koogallery]") {
  for (const platform::RawIdentity& machine :
       {testing::BareMetalServer(), testing::FirecrackerVm()}) {
    const std::string text = FormatKooGalleryFingerprint(machine);
    auto id = IdentifierFromKooGalleryFingerprint(text);
    REQUIRE(id);
    CHECK(id->environment == Environment::kUnknown);
    CHECK(id->tags[static_cast<std::size_t>(Slot::kCpu)] == 0);
    const MatchResult r = Match(*id, Computed(machine));
    INFO(text << ": " << r.reason);
    CHECK(r.accepted);
    CHECK(r.score == r.possible);
  }
  // Server: nic, disk and board serial; the VM: only its (weak) MAC, the disk serial is generic.
  CHECK(IdentifierFromKooGalleryFingerprint(FormatKooGalleryFingerprint(testing::BareMetalServer()))
            ->PresentSlots() == 3);
  CHECK(IdentifierFromKooGalleryFingerprint(FormatKooGalleryFingerprint(testing::FirecrackerVm()))
            ->PresentSlots() == 1);
}

TEST_CASE("A derived identifier does not match another machine", "[koogallery]") {
  platform::RawIdentity other = testing::BareMetalServer();
  other.slot(Slot::kNic) = Values({"00:1b:21:aa:bb:cc"});
  other.slot(Slot::kDisk) = Values({"OTHERDISK1"});
  other.slot(Slot::kPlatformSerial) = Values({"OTHERBOARD"});
  other.board_serial = "OTHERBOARD";
  auto id =
      IdentifierFromKooGalleryFingerprint(FormatKooGalleryFingerprint(testing::BareMetalServer()));
  REQUIRE(id);
  CHECK_FALSE(Match(*id, Computed(other)).accepted);
  // One replaced disk still matches (nic and board remain: 4 of 6).
  platform::RawIdentity new_disk = testing::BareMetalServer();
  new_disk.slot(Slot::kDisk) = Values({"NEWDISK0001"});
  CHECK(Match(*id, Computed(new_disk)).accepted);
}

TEST_CASE("A universally administered MAC is preferred to a local one", "[koogallery]") {
  auto both = IdentifierFromKooGalleryFingerprint("02:00:00:00:00:01,B8:CA:3A:6B:11:20|||");
  auto strong = IdentifierFromKooGalleryFingerprint("B8:CA:3A:6B:11:20|||");
  REQUIRE(both);
  REQUIRE(strong);
  CHECK(both->tags == strong->tags);
}

TEST_CASE("Unusable fingerprint strings are refused with a reason", "[koogallery]") {
  for (const char* bad : {"", "|||", "a|b|c", "a|b|c|d|e", "00:00:00:00:00:00|OVERLAYBLK||CPU"}) {
    auto id = IdentifierFromKooGalleryFingerprint(bad);
    INFO(bad);
    REQUIRE_FALSE(id);
    CHECK(id.error().code == ErrorCode::kInvalidArgument);
  }
  CHECK_FALSE(IdentifierFromKooGalleryFingerprint(std::string(6000, 'A') + "|||"));
  // Case and separators do not matter, as for the agent's own normalisation.
  CHECK(IdentifierFromKooGalleryFingerprint("b8-ca-3a-6b-11-20|s4ewnx0r123456||")->tags ==
        IdentifierFromKooGalleryFingerprint("B8:CA:3A:6B:11:20|S4EWNX0R123456||")->tags);
}

}  // namespace
}  // namespace licagent
