// Live test of the Windows platform layer against the running system. On the Linux CI that is
// Wine 8, whose answers docs/windows.md lists; the checks hold on real Windows too.
#include <windows.h>

#include <regex>
#include <string>
#include <vector>

#include "platform/platform.h"
#include "platform/windows/win_error.h"
#include "platform/windows/win_text.h"
#include "tests/catch.h"

namespace licagent::platform {
namespace {

bool Matches(const std::string& text, const char* pattern) {
  return std::regex_match(text, std::regex(pattern));
}

TEST_CASE("WindowsPlatform collects an identity", "[windows]") {
  auto result = Platform::Default().CollectIdentity();
  REQUIRE(result.has_value());
  const RawIdentity& identity = *result;
  CHECK(identity.os == OsFamily::kWindows);

  for (int i = 0; i < kSlotCount; ++i) {
    INFO("slot " << i);
    CHECK_FALSE(identity.slots[static_cast<std::size_t>(i)].probes.empty());
  }

  // MachineGuid: Wine creates one per prefix.
  const RawSlot& install = identity.slot(Slot::kOsInstallId);
  REQUIRE(install.values.size() == 1);
  CHECK(Matches(install.values[0].value,
                "[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"));

  const RawSlot& cpu = identity.slot(Slot::kCpu);
  REQUIRE(cpu.values.size() == 1);
  CHECK(Matches(cpu.values[0].value, "[^|]+\\|[0-9]+\\|[0-9]+\\|[0-9]+\\|.*"));
  CHECK(Matches(identity.cpu_processor_id, "[0-9A-F]{16}"));

  const RawSlot& boot_volume = identity.slot(Slot::kBootVolume);
  REQUIRE(boot_volume.values.size() == 1);
  CHECK(Matches(boot_volume.values[0].value, "[0-9A-F]{4}-[0-9A-F]{4}"));

  // Wine's synthetic SMBIOS table has a type 1 UUID (from /etc/machine-id) and no strings.
  CHECK(identity.environment.dmi_available);
  for (const RawValue& uuid : identity.slot(Slot::kPlatformUuid).values) {
    CHECK(Matches(uuid.value, "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"));
  }
  for (const RawValue& mac : identity.slot(Slot::kNic).values) {
    CHECK(Matches(mac.value, "[0-9a-fA-F]{12}"));
  }
}

TEST_CASE("WindowsPlatform never puts a raw value in a source or probe", "[windows]") {
  auto result = Platform::Default().CollectIdentity();
  REQUIRE(result.has_value());
  const RawIdentity& identity = *result;

  std::vector<std::string> raw = {identity.board_serial, identity.cpu_processor_id};
  std::vector<std::string> labels;
  for (const RawSlot& slot : identity.slots) {
    for (const RawValue& v : slot.values) {
      raw.push_back(v.value);
      labels.push_back(v.source);
    }
    for (const Probe& p : slot.probes) {
      labels.push_back(p.source);
      labels.push_back(p.outcome);
    }
  }
  for (const std::string& value : raw) {
    if (value.empty()) continue;
    for (const std::string& label : labels) {
      INFO("label: " << label);
      CHECK(label.find(value) == std::string::npos);
    }
  }
}

TEST_CASE("WindowsPlatform loads the CPU topology", "[windows]") {
  auto topology = Platform::Default().LoadTopology();
  REQUIRE(topology.has_value());
  CHECK(topology->packages >= 1);
  CHECK(topology->cores >= topology->packages);
  CHECK(topology->pus >= topology->cores);
  CHECK(topology->backend == "win32");
  CHECK_FALSE(topology->cpu_vendor.empty());
}

TEST_CASE("WindowsError maps codes and keeps the context", "[windows]") {
  const Error not_found = WindowsError("opening the thing", ERROR_FILE_NOT_FOUND);
  CHECK(not_found.code == ErrorCode::kNotFound);
  CHECK(not_found.os_error == ERROR_FILE_NOT_FOUND);
  CHECK(not_found.message.rfind("opening the thing: ", 0) == 0);
  CHECK(not_found.message.find("(error 2)") != std::string::npos);
  CHECK(WindowsError("x", ERROR_ACCESS_DENIED).code == ErrorCode::kPermissionDenied);
  CHECK(WindowsError("x", ERROR_NOT_SUPPORTED).code == ErrorCode::kUnsupported);
  CHECK(WindowsError("x", ERROR_CRC).code == ErrorCode::kIoError);
}

TEST_CASE("ToUtf8 converts UTF-16 to UTF-8", "[windows]") {
  CHECK(ToUtf8(L"").empty());
  CHECK(ToUtf8(L"Ethernet 2") == "Ethernet 2");
  CHECK(ToUtf8(L"\u00e9\u03a9") == "\xc3\xa9\xce\xa9");
  CHECK(ToUtf8(L"\U0001F600") == "\xf0\x9f\x98\x80");                 // surrogate pair
  CHECK(ToUtf8(std::wstring(1, wchar_t{0xD800})) == "\xef\xbf\xbd");  // unpaired: U+FFFD
}

}  // namespace
}  // namespace licagent::platform
