// STORAGE_DEVICE_DESCRIPTOR parser and the disk-slot filter: descriptors as Windows drivers lay
// them out, Wine's recorded one, and malformed bytes. Also run under Wine in the mingw build.
#include "platform/common/storage_descriptor.h"

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "tests/catch.h"

namespace licagent::platform {
namespace {

using Bytes = std::vector<std::uint8_t>;

void PutU32(Bytes* b, std::size_t offset, std::uint32_t v) {
  for (std::size_t i = 0; i < 4; ++i) (*b)[offset + i] = static_cast<std::uint8_t>(v >> (8 * i));
}

struct DescriptorSpec {
  std::uint8_t device_type = 0;
  bool removable = false;
  StorageBusType bus = StorageBusType::kUnknown;
  // nullopt: offset 0 (no string)
  std::optional<std::string> vendor = std::nullopt;
  std::optional<std::string> product = std::nullopt;
  std::optional<std::string> revision = std::nullopt;
  std::optional<std::string> serial = std::nullopt;
};

// Lays a descriptor out as Windows does: the 40-byte structure (Version = 40), then the strings
// NUL-terminated, each string offset pointing at its first byte; Size covers everything.
Bytes Descriptor(const DescriptorSpec& spec) {
  Bytes b(40, 0);
  PutU32(&b, 0, 40);
  b[8] = spec.device_type;
  b[10] = spec.removable ? 1 : 0;
  PutU32(&b, 28, static_cast<std::uint32_t>(spec.bus));
  const std::pair<std::size_t, const std::optional<std::string>*> fields[] = {
      {12, &spec.vendor}, {16, &spec.product}, {20, &spec.revision}, {24, &spec.serial}};
  for (const auto& [field, text] : fields) {
    if (!*text) continue;
    PutU32(&b, field, static_cast<std::uint32_t>(b.size()));
    b.insert(b.end(), (*text)->begin(), (*text)->end());
    b.push_back(0);
  }
  PutU32(&b, 4, static_cast<std::uint32_t>(b.size()));
  return b;
}

StorageDeviceDescriptor ParseOk(const Bytes& bytes) {
  auto result = ParseStorageDeviceDescriptor(bytes);
  REQUIRE(result.has_value());
  return std::move(result).value();
}

// What Wine 8.0 returns for \\.\PhysicalDrive0 (recorded): 40 bytes, every string offset 0.
const Bytes kWineDescriptor = {0x28, 0, 0, 0, 0x28, 0, 0, 0, 0x07, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
                               0,    0, 0, 0, 0,    0, 0, 0, 0x01, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};

TEST_CASE("NVMe descriptor without a vendor string", "[storage]") {
  const auto d = ParseOk(Descriptor({.device_type = 0,
                                     .bus = StorageBusType::kNvme,
                                     .product = "Samsung SSD 970 EVO Plus 1TB",
                                     .revision = "2B2QEXM7",
                                     .serial = "S4EWNX0N123456A"}));
  CHECK(d.vendor_id.empty());  // NVMe has no vendor string: offset 0
  CHECK(d.product_id == "Samsung SSD 970 EVO Plus 1TB");
  CHECK(d.product_revision == "2B2QEXM7");
  CHECK(d.serial_number == "S4EWNX0N123456A");
  CHECK(d.bus_type == StorageBusType::kNvme);
  CHECK_FALSE(d.removable_media);
  CHECK(DiskSlotExclusion(d).empty());
}

TEST_CASE("SATA serial keeps the driver's padding", "[storage]") {
  const auto d = ParseOk(Descriptor({.bus = StorageBusType::kSata,
                                     .vendor = "",
                                     .product = "WDC WD10EZEX-08WN4A0",
                                     .revision = "01.01A01",
                                     .serial = "     WD-WCC6Y1234567"}));
  CHECK(d.vendor_id.empty());
  CHECK(d.serial_number == "     WD-WCC6Y1234567");  // agent/ trims
  CHECK(DiskSlotExclusion(d).empty());
}

TEST_CASE("Recorded Wine descriptor has no strings", "[storage]") {
  const auto d = ParseOk(kWineDescriptor);
  CHECK(d.device_type == 7);
  CHECK(d.bus_type == StorageBusType::kScsi);
  CHECK_FALSE(d.removable_media);
  CHECK(d.vendor_id.empty());
  CHECK(d.product_id.empty());
  CHECK(d.product_revision.empty());
  CHECK(d.serial_number.empty());
}

TEST_CASE("Removable, external and virtual disks are left out of the disk slot", "[storage]") {
  CHECK(DiskSlotExclusion(ParseOk(Descriptor(
            {.removable = true, .bus = StorageBusType::kUsb, .serial = "4C530001230101117045"}))) ==
        "removable media");
  CHECK(DiskSlotExclusion(
            ParseOk(Descriptor({.bus = StorageBusType::kUsb, .serial = "NA8F0A1B"}))) == "USB bus");
  CHECK(DiskSlotExclusion(ParseOk(Descriptor({.bus = StorageBusType::k1394}))) == "IEEE 1394 bus");
  CHECK(DiskSlotExclusion(ParseOk(Descriptor({.bus = StorageBusType::kSd}))) == "SD/MMC card");
  CHECK(DiskSlotExclusion(ParseOk(Descriptor({.bus = StorageBusType::kFileBackedVirtual}))) ==
        "virtual disk");
  CHECK(DiskSlotExclusion(ParseOk(Descriptor({.bus = StorageBusType::kVirtual}))) ==
        "virtual disk");
  // Hyper-V and most hypervisors present disks on a SCSI bus: those stay.
  CHECK(DiskSlotExclusion(ParseOk(Descriptor({.bus = StorageBusType::kScsi}))).empty());
  CHECK(DiskSlotExclusion(ParseOk(Descriptor({.bus = StorageBusType::kRaid}))).empty());
  // A bus type newer than this code is kept, not rejected.
  CHECK(DiskSlotExclusion(ParseOk(Descriptor({.bus = static_cast<StorageBusType>(0x7E)}))).empty());
}

TEST_CASE("Descriptors shorter than the fixed fields are kCorrupt", "[storage]") {
  for (std::size_t n = 0; n < 36; ++n) {
    const Bytes cut(kWineDescriptor.begin(),
                    kWineDescriptor.begin() + static_cast<std::ptrdiff_t>(n));
    auto result = ParseStorageDeviceDescriptor(cut);
    REQUIRE_FALSE(result.has_value());
    CHECK(result.error().code == ErrorCode::kCorrupt);
  }
  Bytes small_size = kWineDescriptor;
  PutU32(&small_size, 4, 35);
  auto result = ParseStorageDeviceDescriptor(small_size);
  REQUIRE_FALSE(result.has_value());
  CHECK(result.error().code == ErrorCode::kCorrupt);
}

TEST_CASE("Bad string offsets give absent strings", "[storage]") {
  Bytes b = Descriptor({.bus = StorageBusType::kSata, .product = "Model", .serial = "SERIAL1"});
  const std::uint32_t serial_offset = b[24];

  SECTION("offset into the fixed fields") {
    PutU32(&b, 24, 12);
    CHECK(ParseOk(b).serial_number.empty());
  }
  SECTION("offset past the end") {
    PutU32(&b, 24, static_cast<std::uint32_t>(b.size()));
    CHECK(ParseOk(b).serial_number.empty());
    PutU32(&b, 24, 0xFFFFFFFF);
    CHECK(ParseOk(b).serial_number.empty());
  }
  SECTION("string without its NUL") {
    b.pop_back();
    PutU32(&b, 4, static_cast<std::uint32_t>(b.size()));
    CHECK(ParseOk(b).serial_number.empty());
    CHECK(ParseOk(b).product_id == "Model");
  }
  SECTION("Size smaller than the buffer bounds the strings") {
    PutU32(&b, 4, serial_offset + 3);  // Size ends inside the serial
    CHECK(ParseOk(b).serial_number.empty());
    CHECK(ParseOk(b).product_id == "Model");
  }
  SECTION("Size larger than the buffer: only the strings inside the buffer count") {
    PutU32(&b, 4, 4096);
    CHECK(ParseOk(b).serial_number == "SERIAL1");
  }
}

TEST_CASE("Every truncation of a descriptor is safe", "[storage]") {
  const Bytes full = Descriptor({.bus = StorageBusType::kNvme,
                                 .vendor = "NVMe",
                                 .product = "KXG60ZNV512G TOSHIBA",
                                 .revision = "AGGA4104",
                                 .serial = "Y9SF71ABCDEF"});
  const auto whole = ParseOk(full);
  for (std::size_t n = 36; n < full.size(); ++n) {
    // An exactly-sized copy, so a sanitizer or a guard page catches a read past the end.
    const Bytes cut(full.begin(), full.begin() + static_cast<std::ptrdiff_t>(n));
    const auto d = ParseOk(cut);
    for (const auto& [got, want] :
         {std::pair{&d.vendor_id, &whole.vendor_id}, std::pair{&d.product_id, &whole.product_id},
          std::pair{&d.product_revision, &whole.product_revision},
          std::pair{&d.serial_number, &whole.serial_number}}) {
      CHECK((got->empty() || *got == *want));
    }
  }
  CHECK(ParseOk(Bytes(full.begin(), full.end() - 1)).serial_number.empty());
}

}  // namespace
}  // namespace licagent::platform
