// Normalisation and the deny-list (docs/identity.md "Normalisation").
#include "agent/identity_internal.h"
#include "tests/catch.h"

namespace licagent {
namespace {

std::string Accepted(Slot slot, std::string_view raw) {
  Normalized n = NormalizeValue(slot, raw);
  INFO(raw);
  REQUIRE(n.rejected.empty());
  return n.value;
}

std::string Rejected(Slot slot, std::string_view raw) {
  Normalized n = NormalizeValue(slot, raw);
  INFO(raw);
  REQUIRE_FALSE(n.rejected.empty());
  CHECK(n.value.empty());
  return n.rejected;
}

TEST_CASE("UUIDs become canonical lower-case 8-4-4-4-12", "[normalize]") {
  const std::string canonical = "4c4c4544-0042-3510-8052-b4c04f333432";
  CHECK(Accepted(Slot::kPlatformUuid, "4C4C4544-0042-3510-8052-B4C04F333432\n") == canonical);
  CHECK(Accepted(Slot::kPlatformUuid, "{4c4c4544-0042-3510-8052-b4c04f333432}") == canonical);
  CHECK(Accepted(Slot::kPlatformUuid, "4C4C454400423510-8052B4C04F333432") == canonical);
  CHECK(Rejected(Slot::kPlatformUuid, "not-a-uuid") == "not a UUID");
  CHECK(Rejected(Slot::kPlatformUuid, "4c4c4544-0042-3510-8052") == "not a UUID");
}

TEST_CASE("Placeholder UUIDs are absent, never values", "[normalize]") {
  for (const char* junk :
       {"00000000-0000-0000-0000-000000000000", "FFFFFFFF-FFFF-FFFF-FFFF-FFFFFFFFFFFF",
        "03000200-0400-0500-0006-000700080009", ""}) {
    CHECK_FALSE(Rejected(Slot::kPlatformUuid, junk).empty());
  }
}

TEST_CASE("Serials are upper-cased with white space removed", "[normalize]") {
  CHECK(Accepted(Slot::kPlatformSerial, "  cn fcp 00123\t") == "CNFCP00123");
  CHECK(Accepted(Slot::kDisk, "S4EWNX0R123456   ") == "S4EWNX0R123456");
  CHECK(Accepted(Slot::kDisk, "001B_444A_488B_5CEC.") == "001B_444A_488B_5CEC.");
}

TEST_CASE("Firmware placeholder serials are deny-listed", "[normalize]") {
  for (const char* junk : {"To Be Filled By O.E.M.", "TO BE FILLED BY O.E.M.", "Default string",
                           "System Serial Number", "Not Specified", "Not Applicable", "None", "N/A",
                           "0123456789", "0", "000000000000", "FFFFFFFF", " ", "\n"}) {
    CHECK(Rejected(Slot::kPlatformSerial, junk) == "placeholder value");
  }
}

TEST_CASE("Generic virtual disk serials are absent", "[normalize]") {
  CHECK(Rejected(Slot::kDisk, "overlayblk").find("generic virtual disk") != std::string::npos);
  CHECK(Rejected(Slot::kDisk, "QM00001").find("generic virtual disk") != std::string::npos);
  CHECK(Accepted(Slot::kDisk, "QM000010") == "QM000010");
  // The same string is a fine platform serial: the rule is specific to disks.
  CHECK(Accepted(Slot::kPlatformSerial, "overlayblk") == "OVERLAYBLK");
}

TEST_CASE("MACs become 12 lower-case hex digits; local ones are weak", "[normalize]") {
  CHECK(Accepted(Slot::kNic, "B8:CA:3A:6B:11:20") == "b8ca3a6b1120");
  CHECK(Accepted(Slot::kNic, "b8-ca-3a-6b-11-20") == "b8ca3a6b1120");
  CHECK(Accepted(Slot::kNic, "b8ca.3a6b.1120") == "b8ca3a6b1120");
  CHECK_FALSE(NormalizeValue(Slot::kNic, "b8:ca:3a:6b:11:20").weak);
  const Normalized local = NormalizeValue(Slot::kNic, "02:fc:00:00:00:01");
  CHECK(local.rejected.empty());
  CHECK(local.weak);
  CHECK(Rejected(Slot::kNic, "01:00:5e:00:00:01") == "multicast address");
  CHECK(Rejected(Slot::kNic, "00:00:00:00:00:00") == "placeholder value");
  CHECK(Rejected(Slot::kNic, "ff:ff:ff:ff:ff:ff") == "placeholder value");
  CHECK(Rejected(Slot::kNic, "b8:ca:3a:6b:11") == "not a MAC address");
}

TEST_CASE("Install ids, volume ids and CPU strings", "[normalize]") {
  CHECK(Accepted(Slot::kOsInstallId, "3D1219C7C4C5404AAA1F6D2A48ADFDA4\n") ==
        "3d1219c7c4c5404aaa1f6d2a48adfda4");
  CHECK(Accepted(Slot::kOsInstallId, "{6F9619FF-8B86-D011-B42D-00C04FC964FF}") ==
        "6f9619ff-8b86-d011-b42d-00c04fc964ff");
  CHECK(Rejected(Slot::kOsInstallId, "uninitialized") == "placeholder value");
  // Found by normalize_fuzz: white space inside braces is not part of the id.
  CHECK(Accepted(Slot::kOsInstallId, "{ 6F9619FF-8B86-D011-B42D-00C04FC964FF }") ==
        "6f9619ff-8b86-d011-b42d-00c04fc964ff");
  CHECK(Accepted(Slot::kBootVolume, " {4300-0000} ") == "4300-0000");
  CHECK(Rejected(Slot::kBootVolume, "{ }") == "placeholder value");
  CHECK(Accepted(Slot::kBootVolume, "6B1D2E3F-4A5B") == "6b1d2e3f-4a5b");
  CHECK(Accepted(Slot::kCpu, "  GenuineIntel|6|106|6|Intel(R)   Xeon(R)  Gold ") ==
        "GenuineIntel|6|106|6|Intel(R) Xeon(R) Gold");
}

TEST_CASE("Slot tags are keyed HMAC-SHA256 prefixes (independent vectors)", "[tags]") {
  IdentityKey key;
  for (std::size_t i = 0; i < key.bytes.size(); ++i) key.bytes[i] = static_cast<std::uint8_t>(i);
  CHECK(SlotTag(key, Slot::kNic, "b8ca3a6b1120").value() == 0xDFBD);
  CHECK(SlotTag(key, Slot::kPlatformUuid, "4c4c4544-0042-3510-8052-b4c04f333432").value() ==
        0xF1BA);
  CHECK(SlotTag(key, Slot::kCpu, "GenuineIntel|6|106|6|Intel(R) Xeon(R) Gold 6338 CPU @ 2.00GHz")
            .value() == 0x7709);
  // Domain separation: the same value in another slot, or under another key, tags differently.
  CHECK(SlotTag(key, Slot::kDisk, "b8ca3a6b1120").value() != 0xDFBD);
  IdentityKey other = key;
  other.bytes[0] ^= 1;
  CHECK(SlotTag(other, Slot::kNic, "b8ca3a6b1120").value() != 0xDFBD);
}

}  // namespace
}  // namespace licagent
