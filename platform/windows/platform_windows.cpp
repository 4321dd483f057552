// Windows platform layer: hardware identity from Win32 calls only (registry, the RSMB firmware
// table, IP Helper, storage and volume ioctls, volume information, CPUID) and CPU topology from
// GetLogicalProcessorInformationEx. No WMI, no child process, nothing that needs admin rights.
// Files and the state directory are in file_windows.cpp.
// Built with mingw-w64 and tested under Wine on the Linux CI (docs/windows.md).

// Order matters and must not be sorted: <winsock2.h> before <windows.h>, and <ws2ipdef.h>
// before <iphlpapi.h>, or GetIfTable2 and MIB_IF_TABLE2 are not declared.
// clang-format off
#include <winsock2.h>
#include <ws2ipdef.h>
#include <iphlpapi.h>
#include <windows.h>
#include <winioctl.h>
// clang-format on

#include <algorithm>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <cwchar>
#include <filesystem>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "platform/common/cpuid.h"
#include "platform/common/smbios.h"
#include "platform/common/storage_descriptor.h"
#include "platform/platform.h"
#include "platform/windows/file_windows.h"
#include "platform/windows/win_error.h"
#include "platform/windows/win_handle.h"
#include "platform/windows/win_text.h"

namespace licagent::platform {
namespace {

constexpr DWORD kRsmbProvider = 0x52534D42;  // 'RSMB' (the character literal warns)
// Physical drive numbers are small and dense in practice, but a removed disk leaves a gap, so
// every number up to this bound is tried; a failed open of a missing drive costs microseconds.
constexpr DWORD kMaxPhysicalDrives = 64;
// A storage descriptor is a few hundred bytes; refuse to allocate for a driver that claims more.
constexpr DWORD kMaxDescriptorSize = 64 * 1024;
constexpr DWORD kMaxVolumeExtents = 1024;

// Opens a device with zero access rights: enough for the query ioctls used here (FILE_ANY_ACCESS)
// and allowed for a standard user, unlike read access to a raw disk.
Handle OpenDevice(const std::wstring& path) {
  return Handle(CreateFileW(path.c_str(), 0, FILE_SHARE_READ | FILE_SHARE_WRITE, nullptr,
                            OPEN_EXISTING, 0, nullptr));
}

std::string Hex(std::span<const std::uint8_t> bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string text;
  for (std::uint8_t b : bytes) {
    text += kDigits[b >> 4];
    text += kDigits[b & 0xF];
  }
  return text;
}

// SMBIOS: platform UUID, platform serial, environment strings.

Result<std::vector<std::uint8_t>> ReadRawSmbios() {
  const UINT size = GetSystemFirmwareTable(kRsmbProvider, 0, nullptr, 0);
  if (size == 0) return WindowsError("GetSystemFirmwareTable(RSMB)", GetLastError());
  std::vector<std::uint8_t> blob(size);
  const UINT written = GetSystemFirmwareTable(kRsmbProvider, 0, blob.data(), size);
  if (written == 0) return WindowsError("GetSystemFirmwareTable(RSMB)", GetLastError());
  // The table is fixed at boot; a larger answer the second time means the API misbehaves.
  if (written > size) {
    return Error{ErrorCode::kIoError, "GetSystemFirmwareTable(RSMB): table size changed"};
  }
  blob.resize(written);
  return blob;
}

std::string NoStructure(int type, const SmbiosInfo& info) {
  std::string outcome = "absent: no SMBIOS type " + std::to_string(type) + " structure";
  if (!info.defect.empty()) outcome += " (" + info.defect + ")";
  return outcome;
}

// Adds `value` from `source`, or an "absent" probe when the structure or string is missing.
void AddSmbiosString(RawSlot* slot, const std::string* value, int type, const std::string& source,
                     const SmbiosInfo& info) {
  if (value == nullptr) {
    slot->AddProbe(source, NoStructure(type, info));
  } else if (value->empty()) {
    slot->AddProbe(source, "absent: no string in the SMBIOS structure");
  } else {
    slot->AddValue(*value, source);
  }
}

void CollectSmbios(RawIdentity* identity) {
  RawSlot* uuid_slot = &identity->slot(Slot::kPlatformUuid);
  RawSlot* serial_slot = &identity->slot(Slot::kPlatformSerial);
  const std::string table_source = "SMBIOS (GetSystemFirmwareTable RSMB)";

  auto blob = ReadRawSmbios();
  if (!blob) {
    uuid_slot->AddProbe(table_source, ProbeOutcome(blob.error()));
    serial_slot->AddProbe(table_source, ProbeOutcome(blob.error()));
    return;
  }
  auto parsed = ParseRawSmbiosData(*blob);
  if (!parsed) {
    uuid_slot->AddProbe(table_source, ProbeOutcome(parsed.error()));
    serial_slot->AddProbe(table_source, ProbeOutcome(parsed.error()));
    return;
  }
  const SmbiosInfo& info = *parsed;

  EnvironmentSignals& env = identity->environment;
  env.dmi_available = true;
  if (info.bios) env.bios_vendor = info.bios->vendor;
  if (info.system) {
    env.sys_vendor = info.system->manufacturer;
    env.product_name = info.system->product_name;
    env.product_version = info.system->version;
  }
  if (info.baseboard) {
    env.board_vendor = info.baseboard->manufacturer;
    env.board_asset_tag = info.baseboard->asset_tag;
    identity->board_serial = info.baseboard->serial_number;
  }
  if (info.chassis) {
    env.chassis_vendor = info.chassis->manufacturer;
    env.chassis_asset_tag = info.chassis->asset_tag;
  }

  const std::string uuid_source = "SMBIOS type 1 UUID (GetSystemFirmwareTable RSMB)";
  if (!info.system) {
    uuid_slot->AddProbe(uuid_source, NoStructure(1, info));
  } else if (info.system->uuid.empty()) {
    uuid_slot->AddProbe(uuid_source, "absent: SMBIOS 2.0 type 1 structure has no UUID");
  } else {
    uuid_slot->AddValue(info.system->uuid, uuid_source);
  }

  // Baseboard first, as on Linux: it moves with the board that also carries the UUID, while
  // system and chassis serials are often left unset by integrators.
  AddSmbiosString(serial_slot, info.baseboard ? &info.baseboard->serial_number : nullptr, 2,
                  "SMBIOS type 2 baseboard serial (GetSystemFirmwareTable RSMB)", info);
  AddSmbiosString(serial_slot, info.system ? &info.system->serial_number : nullptr, 1,
                  "SMBIOS type 1 system serial (GetSystemFirmwareTable RSMB)", info);
  AddSmbiosString(serial_slot, info.chassis ? &info.chassis->serial_number : nullptr, 3,
                  "SMBIOS type 3 chassis serial (GetSystemFirmwareTable RSMB)", info);
}

// NICs: permanent MACs of hardware Ethernet and Wi-Fi interfaces.

struct FreeMibTableDeleter {
  void operator()(MIB_IF_TABLE2* table) const { FreeMibTable(table); }
};

void CollectNics(RawSlot* slot) {
  MIB_IF_TABLE2* raw_table = nullptr;
  const auto rc = static_cast<DWORD>(GetIfTable2(&raw_table));
  if (rc != NO_ERROR) {
    slot->AddProbe("GetIfTable2", ProbeOutcome(WindowsError("GetIfTable2", rc)));
    return;
  }
  const std::unique_ptr<MIB_IF_TABLE2, FreeMibTableDeleter> table(raw_table);

  struct Nic {
    bool wireless;
    std::uint64_t luid_index;
    std::string mac;
    std::string source;
  };
  std::vector<Nic> nics;
  for (ULONG i = 0; i < table->NumEntries; ++i) {
    const MIB_IF_ROW2& row = table->Table[i];
    if (row.Type != IF_TYPE_ETHERNET_CSMACD && row.Type != IF_TYPE_IEEE80211) continue;
    const auto& flags = row.InterfaceAndOperStatusFlags;
    // Filter-driver rows (WFP, QoS, VPN lightweight filters) repeat an adapter they sit on; they
    // are not devices, so they are not even worth a probe.
    if (flags.FilterInterface) continue;
    const std::string source = ToUtf8(row.Alias) + " (GetIfTable2 PermanentPhysicalAddress)";
    if (!flags.HardwareInterface) {
      slot->AddProbe(source, "skipped: not a hardware interface");
    } else if (row.TunnelType != TUNNEL_TYPE_NONE) {
      slot->AddProbe(source, "skipped: tunnel interface");
    } else if (flags.EndPointInterface) {
      slot->AddProbe(source, "skipped: endpoint device (tethered phone or similar)");
    } else if (row.PhysicalAddressLength != 6) {
      slot->AddProbe(source, "absent: no 6-byte hardware address");
    } else {
      nics.push_back(Nic{row.Type == IF_TYPE_IEEE80211, row.InterfaceLuid.Info.NetLuidIndex,
                         Hex(std::span(row.PermanentPhysicalAddress, 6)), source});
    }
  }
  // Primary first: wired before wireless, then in the order the adapters were installed (the
  // LUID index is assigned once per adapter and survives reboots, unlike the table order).
  std::sort(nics.begin(), nics.end(), [](const Nic& a, const Nic& b) {
    return std::pair(a.wireless, a.luid_index) < std::pair(b.wireless, b.luid_index);
  });
  for (Nic& nic : nics) {
    const bool duplicate = std::any_of(slot->values.begin(), slot->values.end(),
                                       [&](const RawValue& v) { return v.value == nic.mac; });
    if (duplicate) {
      slot->AddProbe(nic.source, "skipped: same address as an earlier interface");
    } else {
      slot->AddValue(std::move(nic.mac), nic.source);
    }
  }
  if (slot->probes.empty()) slot->AddProbe("GetIfTable2", "absent: no Ethernet or Wi-Fi interface");
}

// System drive, boot disk and disk serials.

// The drive holding the Windows directory ("C:"). Taken from GetSystemWindowsDirectoryW rather
// than %SystemDrive%, which any user can change in their environment.
Result<std::wstring> SystemDrive() {
  wchar_t dir[MAX_PATH + 1];
  const UINT length = GetSystemWindowsDirectoryW(dir, MAX_PATH + 1);
  if (length == 0) return WindowsError("GetSystemWindowsDirectoryW", GetLastError());
  // A larger value is the buffer size the path would need: longer than any Windows directory.
  if (length > MAX_PATH) {
    return Error{ErrorCode::kIoError, "GetSystemWindowsDirectoryW: path longer than MAX_PATH"};
  }
  if (length < 2 || dir[1] != L':') {
    return Error{ErrorCode::kUnsupported, "the Windows directory is not on a drive letter"};
  }
  return std::wstring(dir, 2);
}

// The number of the physical disk where the system volume starts (its first extent).
Result<DWORD> BootDiskNumber(const std::wstring& drive) {
  const std::string context = "IOCTL_VOLUME_GET_VOLUME_DISK_EXTENTS (" + ToUtf8(drive) + ")";
  const Handle volume = OpenDevice(L"\\\\.\\" + drive);
  if (!volume.valid()) return WindowsError(context, GetLastError());

  std::vector<std::uint8_t> buffer(sizeof(VOLUME_DISK_EXTENTS));  // the count and one extent
  DWORD returned = 0;
  const auto query = [&] {
    return DeviceIoControl(volume.get(), IOCTL_VOLUME_GET_VOLUME_DISK_EXTENTS, nullptr, 0,
                           buffer.data(), static_cast<DWORD>(buffer.size()), &returned,
                           nullptr) != FALSE;
  };
  bool ok = query();
  DWORD error = ok ? ERROR_SUCCESS : GetLastError();
  if (error == ERROR_MORE_DATA) {
    // The volume spans several disks; the first field says how many extents to make room for.
    DWORD count = 0;
    std::memcpy(&count, buffer.data(), sizeof count);
    if (count > kMaxVolumeExtents)
      return Error{ErrorCode::kCorrupt, context + ": implausible extent count"};
    buffer.assign(offsetof(VOLUME_DISK_EXTENTS, Extents) + count * sizeof(DISK_EXTENT), 0);
    ok = query();
    error = ok ? ERROR_SUCCESS : GetLastError();
  }
  if (!ok) return WindowsError(context, error);

  VOLUME_DISK_EXTENTS extents{};  // the count and the first extent
  std::memcpy(&extents, buffer.data(), std::min<std::size_t>(returned, sizeof extents));
  if (extents.NumberOfDiskExtents == 0) {
    return Error{ErrorCode::kNotFound, context + ": the volume lists no disk extent"};
  }
  if (returned < sizeof extents) return Error{ErrorCode::kCorrupt, context + ": short answer"};
  return extents.Extents[0].DiskNumber;
}

Result<StorageDeviceDescriptor> QueryStorageDescriptor(HANDLE disk) {
  STORAGE_PROPERTY_QUERY query{};
  query.PropertyId = StorageDeviceProperty;
  query.QueryType = PropertyStandardQuery;
  // The header says how large the whole descriptor (with its strings) is.
  STORAGE_DESCRIPTOR_HEADER header{};
  DWORD returned = 0;
  if (!DeviceIoControl(disk, IOCTL_STORAGE_QUERY_PROPERTY, &query, sizeof query, &header,
                       sizeof header, &returned, nullptr)) {
    return WindowsError("IOCTL_STORAGE_QUERY_PROPERTY", GetLastError());
  }
  if (returned < sizeof header || header.Size == 0 || header.Size > kMaxDescriptorSize) {
    return Error{ErrorCode::kCorrupt, "IOCTL_STORAGE_QUERY_PROPERTY: implausible descriptor size"};
  }
  std::vector<std::uint8_t> buffer(header.Size);
  if (!DeviceIoControl(disk, IOCTL_STORAGE_QUERY_PROPERTY, &query, sizeof query, buffer.data(),
                       header.Size, &returned, nullptr)) {
    return WindowsError("IOCTL_STORAGE_QUERY_PROPERTY", GetLastError());
  }
  buffer.resize(std::min<std::size_t>(returned, buffer.size()));
  return ParseStorageDeviceDescriptor(buffer);
}

void CollectDisks(const Result<std::wstring>& drive, RawSlot* slot) {
  std::optional<DWORD> boot_disk;
  if (!drive) {
    slot->AddProbe("boot disk lookup", ProbeOutcome(drive.error()));
  } else if (auto number = BootDiskNumber(*drive); !number) {
    slot->AddProbe("boot disk lookup (IOCTL_VOLUME_GET_VOLUME_DISK_EXTENTS)",
                   ProbeOutcome(number.error()));
  } else {
    boot_disk = *number;
  }

  struct Disk {
    DWORD number;
    std::string serial;
    std::string source;
  };
  std::vector<Disk> disks;
  bool any_drive = false;
  for (DWORD n = 0; n < kMaxPhysicalDrives; ++n) {
    const std::string name = "\\\\.\\PhysicalDrive" + std::to_string(n);
    const std::string source =
        name + (boot_disk == n ? " (boot disk, " : " (") + "IOCTL_STORAGE_QUERY_PROPERTY serial)";
    const Handle handle = OpenDevice(L"\\\\.\\PhysicalDrive" + std::to_wstring(n));
    if (!handle.valid()) {
      const DWORD error = GetLastError();
      if (error == ERROR_FILE_NOT_FOUND || error == ERROR_PATH_NOT_FOUND) continue;  // no drive n
      any_drive = true;
      slot->AddProbe(source, ProbeOutcome(WindowsError("CreateFileW " + name, error)));
      continue;
    }
    any_drive = true;
    auto descriptor = QueryStorageDescriptor(handle.get());
    if (!descriptor) {
      slot->AddProbe(source, ProbeOutcome(descriptor.error()));
    } else if (const std::string_view why = DiskSlotExclusion(*descriptor); !why.empty()) {
      slot->AddProbe(source, "skipped: " + std::string(why));
    } else if (descriptor->serial_number.empty()) {
      slot->AddProbe(source, "absent: the driver reports no serial number");
    } else {
      disks.push_back(Disk{n, std::move(descriptor->serial_number), source});
    }
  }
  if (!any_drive) {
    slot->AddProbe("\\\\.\\PhysicalDrive0.." + std::to_string(kMaxPhysicalDrives - 1),
                   "absent: no physical drive found");
  }
  // Boot disk first (the stored member of the set), then by drive number.
  std::stable_sort(disks.begin(), disks.end(), [&](const Disk& a, const Disk& b) {
    return (a.number == boot_disk) > (b.number == boot_disk);
  });
  for (Disk& disk : disks) {
    // Multipath I/O shows one disk under several drive numbers with the same serial.
    const bool duplicate = std::any_of(slot->values.begin(), slot->values.end(),
                                       [&](const RawValue& v) { return v.value == disk.serial; });
    if (duplicate) {
      slot->AddProbe(disk.source, "skipped: same serial as an earlier drive (multipath)");
    } else {
      slot->AddValue(std::move(disk.serial), disk.source);
    }
  }
}

// OS install id and boot volume.

Result<std::string> ReadMachineGuid() {
  // RRF_SUBKEY_WOW6464KEY: a 32-bit build on 64-bit Windows would otherwise read the
  // WOW6432Node view, which has no MachineGuid.
  constexpr DWORD kFlags = RRF_RT_REG_SZ | RRF_SUBKEY_WOW6464KEY;
  const wchar_t* key = L"SOFTWARE\\Microsoft\\Cryptography";
  const std::string context = "RegGetValueW HKLM\\SOFTWARE\\Microsoft\\Cryptography\\MachineGuid";
  DWORD bytes = 0;
  LSTATUS rc =
      RegGetValueW(HKEY_LOCAL_MACHINE, key, L"MachineGuid", kFlags, nullptr, nullptr, &bytes);
  // The value can be rewritten between the size query and the read: retry once on growth.
  for (int attempt = 0; rc == ERROR_SUCCESS && attempt < 2; ++attempt) {
    std::wstring value(bytes / sizeof(wchar_t) + 1, L'\0');
    DWORD size = static_cast<DWORD>(value.size() * sizeof(wchar_t));
    rc =
        RegGetValueW(HKEY_LOCAL_MACHINE, key, L"MachineGuid", kFlags, nullptr, value.data(), &size);
    if (rc == ERROR_MORE_DATA) {
      bytes = size;
      rc = ERROR_SUCCESS;
      continue;
    }
    if (rc != ERROR_SUCCESS) break;
    value.resize(std::wcslen(value.c_str()));  // RRF_RT_REG_SZ guarantees the terminator
    return ToUtf8(value);
  }
  return WindowsError(context, static_cast<DWORD>(rc == ERROR_SUCCESS ? ERROR_MORE_DATA : rc));
}

void CollectOsInstallId(RawSlot* slot) {
  const std::string source = "HKLM\\SOFTWARE\\Microsoft\\Cryptography\\MachineGuid";
  auto guid = ReadMachineGuid();
  if (!guid) {
    slot->AddProbe(source, ProbeOutcome(guid.error()));
  } else if (guid->empty()) {
    slot->AddProbe(source, "absent: empty value");
  } else {
    slot->AddValue(std::move(*guid), source);
  }
}

void CollectBootVolume(const Result<std::wstring>& drive, RawSlot* slot) {
  if (!drive) {
    slot->AddProbe("system volume serial", ProbeOutcome(drive.error()));
    return;
  }
  const std::wstring root = *drive + L"\\";
  const std::string source = ToUtf8(root) + " volume serial (GetVolumeInformationW)";
  DWORD serial = 0;
  if (!GetVolumeInformationW(root.c_str(), nullptr, 0, &serial, nullptr, nullptr, nullptr, 0)) {
    slot->AddProbe(source, ProbeOutcome(WindowsError("GetVolumeInformationW", GetLastError())));
    return;
  }
  // "XXXX-XXXX", as `vol` and `dir` print it.
  char text[10];
  std::snprintf(text, sizeof text, "%04X-%04X", static_cast<unsigned>(serial >> 16),
                static_cast<unsigned>(serial & 0xFFFF));
  slot->AddValue(text, source);
}

void CollectCpu(RawIdentity* identity) {
  RawSlot* slot = &identity->slot(Slot::kCpu);
  const CpuidInfo cpu = ReadCpuid();
  if (!cpu.available) {
    slot->AddProbe("CPUID", "absent: CPUID is not available on this processor");
    return;
  }
  slot->AddValue(CpuSlotValue(cpu), "CPUID");
  identity->cpu_processor_id = ProcessorId(cpu);
  identity->environment.cpuid_hypervisor_bit = cpu.hypervisor_bit;
  identity->environment.cpuid_hypervisor_vendor = cpu.hypervisor_vendor;
}

// CPU topology.

Result<std::vector<std::uint8_t>> ProcessorInformation(LOGICAL_PROCESSOR_RELATIONSHIP relation) {
  const std::string context = "GetLogicalProcessorInformationEx";
  DWORD length = 0;
  std::vector<std::uint8_t> buffer;
  // Processors can be hot-added between the size query and the read: retry on growth.
  for (int attempt = 0; attempt < 3; ++attempt) {
    buffer.resize(length);
    auto* records = reinterpret_cast<SYSTEM_LOGICAL_PROCESSOR_INFORMATION_EX*>(buffer.data());
    if (GetLogicalProcessorInformationEx(relation, length == 0 ? nullptr : records, &length)) {
      buffer.resize(length);
      return buffer;
    }
    const DWORD error = GetLastError();
    if (error != ERROR_INSUFFICIENT_BUFFER) return WindowsError(context, error);
  }
  return Error{ErrorCode::kIoError, context + ": the processor list keeps changing"};
}

struct ProcessorCount {
  int records = 0;  // packages or cores
  int logical = 0;  // logical processors they hold
};

// Walks the variable-size records with every offset checked against the buffer; fields are
// copied out, not accessed through casts, so a short or odd buffer cannot be over-read.
Result<ProcessorCount> CountProcessors(std::span<const std::uint8_t> buffer) {
  constexpr std::size_t kRecordHeader =
      offsetof(SYSTEM_LOGICAL_PROCESSOR_INFORMATION_EX, Processor);
  constexpr std::size_t kGroupCount = kRecordHeader + offsetof(PROCESSOR_RELATIONSHIP, GroupCount);
  constexpr std::size_t kGroupMasks = kRecordHeader + offsetof(PROCESSOR_RELATIONSHIP, GroupMask);
  const Error corrupt{ErrorCode::kCorrupt, "GetLogicalProcessorInformationEx: malformed record"};

  ProcessorCount count;
  std::size_t pos = 0;
  while (pos < buffer.size()) {
    DWORD size = 0;
    if (buffer.size() - pos < kRecordHeader) return corrupt;
    std::memcpy(&size,
                buffer.data() + pos + offsetof(SYSTEM_LOGICAL_PROCESSOR_INFORMATION_EX, Size),
                sizeof size);
    if (size < kGroupMasks || size > buffer.size() - pos) return corrupt;
    WORD groups = 0;
    std::memcpy(&groups, buffer.data() + pos + kGroupCount, sizeof groups);
    if (groups > (size - kGroupMasks) / sizeof(GROUP_AFFINITY)) return corrupt;
    ++count.records;
    for (WORD g = 0; g < groups; ++g) {
      GROUP_AFFINITY affinity;
      std::memcpy(&affinity, buffer.data() + pos + kGroupMasks + g * sizeof(GROUP_AFFINITY),
                  sizeof affinity);
      count.logical += std::popcount(static_cast<std::uint64_t>(affinity.Mask));
    }
    pos += size;
  }
  return count;
}

class WindowsPlatform final : public Platform {
 public:
  Result<RawIdentity> CollectIdentity() override {
    RawIdentity identity;
    identity.os = OsFamily::kWindows;
    CollectSmbios(&identity);
    CollectNics(&identity.slot(Slot::kNic));
    const Result<std::wstring> drive = SystemDrive();
    CollectDisks(drive, &identity.slot(Slot::kDisk));
    CollectOsInstallId(&identity.slot(Slot::kOsInstallId));
    CollectBootVolume(drive, &identity.slot(Slot::kBootVolume));
    CollectCpu(&identity);
    return identity;
  }

  Result<Topology> LoadTopology() override {
    auto package_records = ProcessorInformation(RelationProcessorPackage);
    if (!package_records) return package_records.error();
    auto packages = CountProcessors(*package_records);
    if (!packages) return packages.error();
    auto core_records = ProcessorInformation(RelationProcessorCore);
    if (!core_records) return core_records.error();
    auto cores = CountProcessors(*core_records);
    if (!cores) return cores.error();
    if (packages->records == 0 || cores->records == 0) {
      return Error{ErrorCode::kIoError, "GetLogicalProcessorInformationEx: no processors listed"};
    }
    const CpuidInfo cpu = ReadCpuid();
    Topology topology;
    topology.packages = packages->records;
    topology.cores = cores->records;
    topology.pus = cores->logical;
    topology.cpu_vendor = cpu.vendor;
    topology.cpu_model = cpu.brand;
    topology.backend = "win32";
    return topology;
  }

  // Files and the state directory: platform/windows/file_windows.cpp.
  Result<std::filesystem::path> StateDir(StateScope scope) override {
    return windows_impl::StateDir(scope);
  }
  Result<std::string> ReadFile(const std::filesystem::path& path, std::size_t max_size) override {
    return windows_impl::ReadFile(path, max_size);
  }
  Status WriteFileAtomic(const std::filesystem::path& path, std::string_view contents) override {
    return windows_impl::WriteFileAtomic(path, contents);
  }
  Status RemoveFile(const std::filesystem::path& path) override {
    return windows_impl::RemoveFile(path);
  }
  Result<std::size_t> RemoveStaleTempFiles(const std::filesystem::path& target,
                                           std::int64_t min_age_seconds) override {
    return windows_impl::RemoveStaleTempFiles(target, min_age_seconds);
  }
  Result<std::unique_ptr<FileLock>> LockExclusive(const std::filesystem::path& lock_file) override {
    return windows_impl::LockExclusive(lock_file);
  }
  std::int64_t Now() override { return windows_impl::Now(); }
};

}  // namespace

Platform& Platform::Default() {
  static WindowsPlatform platform;
  return platform;
}

}  // namespace licagent::platform
