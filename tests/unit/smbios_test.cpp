// SMBIOS table parser: realistic tables built byte by byte, Wine's recorded table, and every
// class of malformed input. Also compiled into the mingw test executable and run under Wine.
#include "platform/common/smbios.h"

#include <cstdint>
#include <fstream>
#include <iterator>
#include <random>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "tests/catch.h"

namespace licagent::platform {
namespace {

using Bytes = std::vector<std::uint8_t>;

// Builds a structure table: each structure is its 4-byte header, the formatted bytes after the
// header, then its string set (or the two NULs of an empty set).
class TableBuilder {
 public:
  TableBuilder& Add(std::uint8_t type, const Bytes& body, const std::vector<std::string>& strings) {
    table_.push_back(type);
    table_.push_back(static_cast<std::uint8_t>(4 + body.size()));
    table_.push_back(static_cast<std::uint8_t>(handle_ & 0xFF));
    table_.push_back(static_cast<std::uint8_t>(handle_ >> 8));
    ++handle_;
    table_.insert(table_.end(), body.begin(), body.end());
    for (const std::string& s : strings) {
      table_.insert(table_.end(), s.begin(), s.end());
      table_.push_back(0);
    }
    if (strings.empty()) table_.push_back(0);
    table_.push_back(0);
    return *this;
  }
  TableBuilder& End() { return Add(127, {}, {}); }

  const Bytes& Table() const { return table_; }

 private:
  Bytes table_;
  std::uint16_t handle_ = 0;
};

// Wraps a table in the RawSMBIOSData header GetSystemFirmwareTable('RSMB') returns.
Bytes Raw(std::uint8_t major, std::uint8_t minor, const Bytes& table) {
  const auto length = static_cast<std::uint32_t>(table.size());
  Bytes raw = {0,
               major,
               minor,
               0,
               static_cast<std::uint8_t>(length),
               static_cast<std::uint8_t>(length >> 8),
               static_cast<std::uint8_t>(length >> 16),
               static_cast<std::uint8_t>(length >> 24)};
  raw.insert(raw.end(), table.begin(), table.end());
  return raw;
}

Bytes Concat(Bytes a, const Bytes& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

Bytes Zeros(std::size_t n) { return Bytes(n, 0); }

// Type 1 formatted area after the header: four string numbers, 16 UUID bytes, wake-up type, and
// from SMBIOS 2.4 on SKU and family string numbers.
Bytes SystemBody(std::uint8_t manufacturer, std::uint8_t product, std::uint8_t version,
                 std::uint8_t serial, const Bytes& uuid, std::uint8_t sku, std::uint8_t family) {
  Bytes body = {manufacturer, product, version, serial};
  body.insert(body.end(), uuid.begin(), uuid.end());
  body.push_back(0x06);  // wake-up type: power switch
  body.push_back(sku);
  body.push_back(family);
  return body;
}

// A laptop as a Dell Latitude with SMBIOS 3.3 firmware presents itself (values invented). The
// UUID is stored with its first three fields little-endian, as SMBIOS >= 2.6 requires.
Bytes DellTable() {
  TableBuilder b;
  // Type 0: vendor, version, segment, release date, ROM size, characteristics.
  b.Add(0, Concat({1, 2, 0x00, 0xF0, 3, 0xFF}, Zeros(14)), {"Dell Inc.", "1.18.0", "07/12/2022"});
  b.Add(1,
        SystemBody(1, 2, 0, 3,
                   {0x44, 0x45, 0x4C, 0x4C, 0x58, 0x00, 0x10, 0x4B, 0x80, 0x34, 0xB7, 0xC0, 0x4F,
                    0x51, 0x39, 0x33},
                   4, 5),
        {"Dell Inc.", "Latitude 7420", "7XK4Q93", "0A6B", "Latitude"});
  // Type 4 (processor) before the board: structures of other types must be skipped by length
  // and string set.
  b.Add(4, Concat({1, 3, 0xC6, 2}, Zeros(44)),
        {"CPU 1", "Intel(R) Corporation", "11th Gen Intel(R) Core(TM) i7-1185G7 @ 3.00GHz"});
  // Type 2: manufacturer, product, version, serial, asset tag, features, location, chassis
  // handle, board type, contained-object count.
  b.Add(2, {1, 2, 3, 4, 0, 0x09, 0, 0x03, 0x00, 0x0A, 0},
        {"Dell Inc.", "0WKN4X", "A00", "/7XK4Q93/CNCMK0017E00AB/"});
  // Type 3: manufacturer, type (notebook), version, serial, asset tag, states, security, OEM,
  // height, power cords, contained elements, SKU.
  b.Add(3, Concat({1, 0x0A, 0, 2, 0, 3, 3, 3, 2}, Zeros(13)), {"Dell Inc.", "7XK4Q93"});
  b.Add(17, Concat({0x00, 0x10, 0xFE, 0xFF}, Zeros(80)),
        {"DIMM A", "BANK 0", "80AD000080AD", "23A1B2C3", "HMA81GS6DJR8N-XN"});
  return b.End().Table();
}

// A ThinkPad with SMBIOS 3.2 (values invented), asset tags present on board and chassis.
Bytes LenovoTable() {
  TableBuilder b;
  b.Add(0, Concat({1, 2, 0x00, 0xE0, 3, 0xFF}, Zeros(14)),
        {"LENOVO", "N2IET94W (1.72 )", "07/01/2021"});
  b.Add(1,
        SystemBody(1, 2, 3, 4,
                   {0x3C, 0x5A, 0x21, 0x8B, 0x2E, 0x41, 0x11, 0xB2, 0xA8, 0x5C, 0xE1, 0x38, 0x09,
                    0x2F, 0x77, 0x10},
                   5, 6),
        {"LENOVO", "20T0S0B400", "ThinkPad T14 Gen 1", "PF2QWE7R", "LENOVO_MT_20T0_BU_Think_FM",
         "ThinkPad T14 Gen 1"});
  b.Add(2, {1, 2, 3, 4, 5, 0x09, 0, 0x03, 0x00, 0x0A, 0},
        {"LENOVO", "20T0S0B400", "SDK0J40697 WIN", "L1HF04E01AB", "Not Available"});
  b.Add(3, Concat({1, 0x0A, 2, 3, 4, 3, 3, 3, 2}, Zeros(13)),
        {"LENOVO", "None", "PF2QWE7R", "No Asset Information"});
  return b.End().Table();
}

// SMBIOS 2.4 as VMware Workstation presents it: the UUID bytes are printed in stored order.
Bytes Vmware24Table() {
  TableBuilder b;
  b.Add(0, Concat({1, 2, 0x00, 0xEA, 3, 0x7F}, Zeros(14)),
        {"Phoenix Technologies LTD", "6.00", "11/12/2020"});
  b.Add(1,
        SystemBody(1, 2, 0, 3,
                   {0x56, 0x4D, 0x8A, 0x2E, 0x5F, 0x3B, 0x1C, 0x7D, 0x9E, 0x0A, 0x11, 0x22, 0x33,
                    0x44, 0x55, 0x66},
                   0, 0),
        {"VMware, Inc.", "VMware Virtual Platform",
         "VMware-56 4d 8a 2e 5f 3b 1c 7d-9e 0a 11 22 33 44 55 66"});
  b.Add(2, {1, 2, 3, 4}, {"Intel Corporation", "440BX Desktop Reference Platform", "None", "None"});
  b.Add(3, Concat({1, 0x01, 2, 3, 4}, Zeros(8)), {"No Enclosure", "N/A", "None", "No Asset Tag"});
  return b.End().Table();
}

// Wine 8's synthetic table: types 0, 1, 2, 3, 32, 127 with every string number 0.
Bytes WineLikeTable() {
  TableBuilder b;
  b.Add(0, Concat({0, 0, 0, 0, 0, 0}, Zeros(14)), {});
  b.Add(1,
        SystemBody(0, 0, 0, 0,
                   {0x12, 0x34, 0x56, 0x78, 0x9A, 0xBC, 0xDE, 0xF0, 0x01, 0x23, 0x45, 0x67, 0x89,
                    0xAB, 0xCD, 0xEF},
                   0, 0),
        {});
  b.Add(3, Concat({0, 0x02, 0, 0, 0, 2, 2, 2, 2}, Zeros(8)), {});
  b.Add(2, {0, 0, 0, 0, 0, 0x05, 0, 0x02, 0x00, 0x0A, 0}, {});
  b.Add(32, Zeros(16), {});
  return b.End().Table();
}

SmbiosInfo ParseOk(const Bytes& raw) {
  auto result = ParseRawSmbiosData(raw);
  REQUIRE(result.has_value());
  return std::move(result).value();
}

// Every reported structure of `partial` must be exactly the one `full` reports: a damaged table
// may lose structures, never produce different values.
void CheckSubsetOf(const SmbiosInfo& partial, const SmbiosInfo& full) {
  if (partial.bios) CHECK(partial.bios == full.bios);
  if (partial.system) CHECK(partial.system == full.system);
  if (partial.baseboard) CHECK(partial.baseboard == full.baseboard);
  if (partial.chassis) CHECK(partial.chassis == full.chassis);
}

TEST_CASE("SMBIOS 3.x table of a Dell laptop", "[smbios]") {
  const SmbiosInfo info = ParseOk(Raw(3, 3, DellTable()));
  CHECK(info.major_version == 3);
  CHECK(info.minor_version == 3);
  CHECK(info.defect.empty());
  REQUIRE(info.bios);
  CHECK(info.bios->vendor == "Dell Inc.");
  REQUIRE(info.system);
  CHECK(info.system->manufacturer == "Dell Inc.");
  CHECK(info.system->product_name == "Latitude 7420");
  CHECK(info.system->version.empty());  // string number 0
  CHECK(info.system->serial_number == "7XK4Q93");
  // Dell UUIDs read "4c4c4544-..." ("DELL" in ASCII) once the little-endian fields are swapped.
  CHECK(info.system->uuid == "4c4c4544-0058-4b10-8034-b7c04f513933");
  REQUIRE(info.baseboard);
  CHECK(info.baseboard->manufacturer == "Dell Inc.");
  CHECK(info.baseboard->product == "0WKN4X");
  CHECK(info.baseboard->serial_number == "/7XK4Q93/CNCMK0017E00AB/");
  CHECK(info.baseboard->asset_tag.empty());
  REQUIRE(info.chassis);
  CHECK(info.chassis->manufacturer == "Dell Inc.");
  CHECK(info.chassis->serial_number == "7XK4Q93");
  CHECK(info.chassis->asset_tag.empty());
}

TEST_CASE("SMBIOS 3.2 table of a Lenovo laptop with asset tags", "[smbios]") {
  const SmbiosInfo info = ParseOk(Raw(3, 2, LenovoTable()));
  CHECK(info.defect.empty());
  REQUIRE(info.system);
  CHECK(info.system->product_name == "20T0S0B400");
  CHECK(info.system->version == "ThinkPad T14 Gen 1");
  CHECK(info.system->serial_number == "PF2QWE7R");
  CHECK(info.system->uuid == "8b215a3c-412e-b211-a85c-e138092f7710");
  REQUIRE(info.baseboard);
  CHECK(info.baseboard->serial_number == "L1HF04E01AB");
  CHECK(info.baseboard->asset_tag == "Not Available");  // kept: agent/ deny-lists junk
  REQUIRE(info.chassis);
  CHECK(info.chassis->serial_number == "PF2QWE7R");
  CHECK(info.chassis->asset_tag == "No Asset Information");
}

TEST_CASE("SMBIOS 2.4 UUID is printed in stored byte order", "[smbios]") {
  const SmbiosInfo info = ParseOk(Raw(2, 4, Vmware24Table()));
  CHECK(info.defect.empty());
  REQUIRE(info.system);
  CHECK(info.system->manufacturer == "VMware, Inc.");
  CHECK(info.system->uuid == "564d8a2e-5f3b-1c7d-9e0a-112233445566");
  REQUIRE(info.baseboard);
  CHECK(info.baseboard->serial_number == "None");
  CHECK(info.baseboard->asset_tag.empty());  // a 2.4 type 2 of length 8 has no asset tag field
  REQUIRE(info.chassis);
  CHECK(info.chassis->manufacturer == "No Enclosure");
  CHECK(info.chassis->asset_tag == "No Asset Tag");

  // The same table claimed as 2.6 swaps the first three fields.
  const SmbiosInfo as26 = ParseOk(Raw(2, 6, Vmware24Table()));
  REQUIRE(as26.system);
  CHECK(as26.system->uuid == "2e8a4d56-3b5f-7d1c-9e0a-112233445566");
}

TEST_CASE("FormatSmbiosUuid switches byte order at SMBIOS 2.6", "[smbios]") {
  const std::uint8_t bytes[16] = {0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77,
                                  0x88, 0x99, 0xAA, 0xBB, 0xCC, 0xDD, 0xEE, 0xFF};
  const std::span<const std::uint8_t, 16> uuid(bytes);
  CHECK(FormatSmbiosUuid(uuid, 2, 0) == "00112233-4455-6677-8899-aabbccddeeff");
  CHECK(FormatSmbiosUuid(uuid, 2, 5) == "00112233-4455-6677-8899-aabbccddeeff");
  CHECK(FormatSmbiosUuid(uuid, 2, 6) == "33221100-5544-7766-8899-aabbccddeeff");
  CHECK(FormatSmbiosUuid(uuid, 2, 8) == "33221100-5544-7766-8899-aabbccddeeff");
  CHECK(FormatSmbiosUuid(uuid, 3, 0) == "33221100-5544-7766-8899-aabbccddeeff");

  // "Not present" and "not set" UUIDs stay text; agent/ deny-lists them.
  const std::uint8_t ff[16] = {0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
                               0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF};
  const std::uint8_t zero[16] = {};
  CHECK(FormatSmbiosUuid(std::span<const std::uint8_t, 16>(ff), 3, 4) ==
        "ffffffff-ffff-ffff-ffff-ffffffffffff");
  CHECK(FormatSmbiosUuid(std::span<const std::uint8_t, 16>(zero), 3, 4) ==
        "00000000-0000-0000-0000-000000000000");
}

TEST_CASE("Wine-like synthetic SMBIOS 2.4 table with no strings", "[smbios]") {
  const SmbiosInfo info = ParseOk(Raw(2, 4, WineLikeTable()));
  CHECK(info.defect.empty());
  REQUIRE(info.bios);
  CHECK(info.bios->vendor.empty());
  REQUIRE(info.system);
  CHECK(info.system->manufacturer.empty());
  CHECK(info.system->serial_number.empty());
  CHECK(info.system->uuid == "12345678-9abc-def0-0123-456789abcdef");
  REQUIRE(info.baseboard);
  CHECK(info.baseboard->serial_number.empty());
  REQUIRE(info.chassis);
  CHECK(info.chassis->serial_number.empty());
}

TEST_CASE("Recorded Wine 8.0 RSMB blob", "[smbios]") {
  // GetSystemFirmwareTable('RSMB') under Wine 8.0 on Debian 12; the type 1 UUID bytes (Wine
  // copies /etc/machine-id there) were replaced before committing. See tests/data/smbios/.
  std::ifstream in(LICAGENT_TEST_DATA_DIR "/smbios/wine-8.0-rsmb.bin", std::ios::binary);
  REQUIRE(in);
  const Bytes raw{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  REQUIRE(raw.size() == 131);
  const SmbiosInfo info = ParseOk(raw);
  CHECK(info.major_version == 2);
  CHECK(info.minor_version == 4);
  CHECK(info.defect.empty());
  REQUIRE(info.bios);
  REQUIRE(info.system);
  REQUIRE(info.baseboard);
  REQUIRE(info.chassis);
  CHECK(info.system->uuid == "12345678-9abc-def0-0123-456789abcdef");
  CHECK(info.system->serial_number.empty());
  CHECK(info.baseboard->serial_number.empty());
  CHECK(info.chassis->serial_number.empty());
  CHECK(info.bios->vendor.empty());
}

TEST_CASE("String numbers out of range, zero, or past an empty string are absent", "[smbios]") {
  TableBuilder b;
  // Serial names string 9 of a set of 2; version names string 0.
  b.Add(1, SystemBody(1, 2, 0, 9, Zeros(16), 0, 0), {"Maker", "Model"});
  // A set that starts with an empty string has no strings (Linux's dmi_string() agrees).
  b.Add(2, {1, 2, 0, 0, 0}, {"", "Board"});
  const SmbiosInfo info = ParseOk(Raw(3, 0, b.End().Table()));
  CHECK(info.defect.empty());
  REQUIRE(info.system);
  CHECK(info.system->manufacturer == "Maker");
  CHECK(info.system->product_name == "Model");
  CHECK(info.system->version.empty());
  CHECK(info.system->serial_number.empty());
  REQUIRE(info.baseboard);
  CHECK(info.baseboard->manufacturer.empty());
  CHECK(info.baseboard->product.empty());
}

TEST_CASE("Structures too short for a field leave it absent", "[smbios]") {
  TableBuilder b;
  b.Add(0, {}, {"Vendor"});                         // length 4: no vendor field
  b.Add(1, {1, 2, 3, 4}, {"A", "B", "C", "SER"});   // SMBIOS 2.0 type 1: no UUID
  b.Add(3, {1, 0x03, 0}, {"Chassis maker", "CS"});  // ends before the serial field
  const SmbiosInfo info = ParseOk(Raw(2, 0, b.End().Table()));
  CHECK(info.defect.empty());
  REQUIRE(info.bios);
  CHECK(info.bios->vendor.empty());
  REQUIRE(info.system);
  CHECK(info.system->serial_number == "SER");
  CHECK(info.system->uuid.empty());
  REQUIRE(info.chassis);
  CHECK(info.chassis->manufacturer == "Chassis maker");
  CHECK(info.chassis->serial_number.empty());
  CHECK_FALSE(info.baseboard);
}

TEST_CASE("The first structure of a type wins and type 127 ends the table", "[smbios]") {
  TableBuilder b;
  b.Add(2, {1, 2, 0, 3, 0}, {"First", "Main", "S1"});
  b.Add(2, {1, 2, 0, 3, 0}, {"Second", "Daughter", "S2"});
  b.End();
  b.Add(1, SystemBody(1, 0, 0, 0, Zeros(16), 0, 0), {"After end"});
  const SmbiosInfo info = ParseOk(Raw(3, 0, b.Table()));
  CHECK(info.defect.empty());
  REQUIRE(info.baseboard);
  CHECK(info.baseboard->manufacturer == "First");
  CHECK(info.baseboard->serial_number == "S1");
  CHECK_FALSE(info.system);
}

TEST_CASE("A table without type 127 and bytes after the table are accepted", "[smbios]") {
  TableBuilder b;
  b.Add(1, SystemBody(1, 0, 0, 0, Zeros(16), 0, 0), {"Maker"});
  Bytes raw = Raw(3, 0, b.Table());
  raw.push_back(0xAB);  // trailing byte beyond Length: not part of the table
  const SmbiosInfo info = ParseOk(raw);
  CHECK(info.defect.empty());
  REQUIRE(info.system);
  CHECK(info.system->manufacturer == "Maker");

  const SmbiosInfo empty = ParseOk(Raw(3, 0, {}));
  CHECK(empty.defect.empty());
  CHECK_FALSE(empty.system);
}

TEST_CASE("Broken RawSMBIOSData headers are kCorrupt", "[smbios]") {
  const Bytes valid = Raw(3, 3, DellTable());
  for (std::size_t n = 0; n < 8; ++n) {
    const Bytes cut(valid.begin(), valid.begin() + static_cast<std::ptrdiff_t>(n));
    auto result = ParseRawSmbiosData(cut);
    REQUIRE_FALSE(result.has_value());
    CHECK(result.error().code == ErrorCode::kCorrupt);
  }
  Bytes too_long = valid;
  too_long[4] = static_cast<std::uint8_t>(too_long[4] + 1);  // Length one past the data
  auto result = ParseRawSmbiosData(too_long);
  REQUIRE_FALSE(result.has_value());
  CHECK(result.error().code == ErrorCode::kCorrupt);

  Bytes huge = valid;
  huge[7] = 0xFF;  // Length near 4 GiB: must not wrap or allocate
  CHECK(ParseRawSmbiosData(huge).error().code == ErrorCode::kCorrupt);
}

TEST_CASE("Malformed structures stop decoding and keep earlier ones", "[smbios]") {
  TableBuilder good;
  good.Add(1, SystemBody(1, 0, 0, 2, Zeros(16), 0, 0), {"Maker", "SER"});

  SECTION("length below the 4-byte header") {
    Bytes table = good.Table();
    table.insert(table.end(), {2, 3, 0, 0, 0, 0});
    const SmbiosInfo info = ParseOk(Raw(3, 0, table));
    CHECK_FALSE(info.defect.empty());
    REQUIRE(info.system);
    CHECK(info.system->serial_number == "SER");
    CHECK_FALSE(info.baseboard);
  }
  SECTION("formatted area overruns the table") {
    Bytes table = good.Table();
    table.insert(table.end(), {2, 0x40, 0, 0, 1, 2, 0, 0});
    const SmbiosInfo info = ParseOk(Raw(3, 0, table));
    CHECK(info.defect.find("overruns") != std::string::npos);
    CHECK(info.system);
    CHECK_FALSE(info.baseboard);
  }
  SECTION("string set without its double-NUL terminator") {
    Bytes table = good.Table();
    table.insert(table.end(), {2, 8, 0, 0, 1, 0, 0, 0, 'B', 'o', 'a', 'r', 'd', 0});
    const SmbiosInfo info = ParseOk(Raw(3, 0, table));
    CHECK(info.defect.find("terminator") != std::string::npos);
    CHECK(info.system);
    CHECK_FALSE(info.baseboard);
  }
  SECTION("header cut off at the end of the table") {
    Bytes table = good.Table();
    table.insert(table.end(), {2, 8});
    const SmbiosInfo info = ParseOk(Raw(3, 0, table));
    CHECK_FALSE(info.defect.empty());
    CHECK(info.system);
  }
  SECTION("the defect text never carries table contents") {
    Bytes table = good.Table();
    table.insert(table.end(), {1, 0x40, 0, 0});
    const SmbiosInfo info = ParseOk(Raw(3, 0, table));
    CHECK(info.defect.find("SER") == std::string::npos);
    CHECK(info.defect.find("Maker") == std::string::npos);
  }
}

TEST_CASE("Every truncation of a valid table is safe", "[smbios]") {
  for (const Bytes& table : {DellTable(), LenovoTable(), Vmware24Table(), WineLikeTable()}) {
    const SmbiosInfo full = ParseOk(Raw(3, 3, table));
    const Bytes raw = Raw(3, 3, table);
    for (std::size_t n = 0; n < raw.size(); ++n) {
      // An exactly-sized copy, so a sanitizer or a guard page catches a read past the end.
      const Bytes cut(raw.begin(), raw.begin() + static_cast<std::ptrdiff_t>(n));
      auto result = ParseRawSmbiosData(cut);
      REQUIRE_FALSE(result.has_value());  // Length announces more than is there
      CHECK(result.error().code == ErrorCode::kCorrupt);
    }
    for (std::size_t n = 0; n < table.size(); ++n) {
      // The same cut with a consistent Length: the table itself ends early.
      const Bytes cut(table.begin(), table.begin() + static_cast<std::ptrdiff_t>(n));
      const SmbiosInfo partial = ParseOk(Raw(3, 3, cut));
      CheckSubsetOf(partial, full);
    }
  }
}

TEST_CASE("Random and mutated tables are safe", "[smbios]") {
  std::mt19937 rng(20261101);  // fixed seed: failures reproduce
  std::uniform_int_distribution<int> byte(0, 255);
  const Bytes dell = DellTable();
  for (int round = 0; round < 3000; ++round) {
    Bytes table;
    if (round % 2 == 0) {
      table.resize(static_cast<std::size_t>(byte(rng)));
      for (auto& b : table) b = static_cast<std::uint8_t>(byte(rng));
    } else {
      table = dell;
      std::uniform_int_distribution<std::size_t> index(0, table.size() - 1);
      for (int flips = 1 + byte(rng) % 8; flips > 0; --flips) {
        table[index(rng)] = static_cast<std::uint8_t>(byte(rng));
      }
    }
    const SmbiosInfo info = ParseOk(Raw(3, static_cast<std::uint8_t>(round % 8), table));
    if (info.system && !info.system->uuid.empty()) CHECK(info.system->uuid.size() == 36);
  }
}

}  // namespace
}  // namespace licagent::platform
