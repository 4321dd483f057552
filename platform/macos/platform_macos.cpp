// macOS platform layer: hardware identity from IOKit, sysctl and getattrlist; CPU topology from
// sysctl; files and the state directory from platform/posix/file_posix.cpp. UNVERIFIED: this
// project's CI has no macOS compiler or machine, so this file has never been compiled or run. It
// follows Apple's documented APIs (TN1103 for the MAC address) and must be built and checked with
// tests/platform on a Mac before it ships (docs/macos.md).
#include <CoreFoundation/CoreFoundation.h>
#include <IOKit/IOKitLib.h>
#include <IOKit/network/IOEthernetController.h>
#include <IOKit/network/IOEthernetInterface.h>
#include <IOKit/network/IONetworkInterface.h>
#include <IOKit/storage/IOStorageDeviceCharacteristics.h>
#include <IOKit/storage/IOStorageProtocolCharacteristics.h>
#include <sys/attr.h>
#include <sys/sysctl.h>
#include <unistd.h>
#include <uuid/uuid.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include "platform/common/cpuid.h"
#include "platform/platform.h"
#include "platform/posix/file_posix.h"

namespace licagent::platform {
namespace {

namespace fs = std::filesystem;

// errno values become Errors in one place for Linux and macOS: ErrnoError in
// platform/posix/file_posix.cpp.

// Owns one Core Foundation reference (a Create/Copy result).
class CfRef {
 public:
  explicit CfRef(CFTypeRef ref) : ref_(ref) {}
  ~CfRef() {
    if (ref_ != nullptr) CFRelease(ref_);
  }
  CfRef(const CfRef&) = delete;
  CfRef& operator=(const CfRef&) = delete;
  CFTypeRef get() const { return ref_; }
  bool Is(CFTypeID type) const { return ref_ != nullptr && CFGetTypeID(ref_) == type; }

 private:
  CFTypeRef ref_;
};

// Owns one IOKit object (service or iterator).
class IoObject {
 public:
  explicit IoObject(io_object_t object) : object_(object) {}
  ~IoObject() {
    if (object_ != IO_OBJECT_NULL) IOObjectRelease(object_);
  }
  IoObject(const IoObject&) = delete;
  IoObject& operator=(const IoObject&) = delete;
  io_object_t get() const { return object_; }

 private:
  io_object_t object_;
};

std::string Utf8(CFStringRef text) {
  const CFIndex max =
      CFStringGetMaximumSizeForEncoding(CFStringGetLength(text), kCFStringEncodingUTF8) + 1;
  std::string out(static_cast<std::size_t>(max), '\0');
  if (!CFStringGetCString(text, out.data(), max, kCFStringEncodingUTF8)) return {};
  out.resize(std::strlen(out.c_str()));
  return out;
}

// A string property of a registry entry: CFString, or CFData holding NUL-terminated text (as
// IOPlatformExpertDevice stores "manufacturer" and "model"). Empty when missing.
std::string RegistryString(io_registry_entry_t entry, CFStringRef key) {
  const CfRef value(IORegistryEntryCreateCFProperty(entry, key, kCFAllocatorDefault, 0));
  if (value.Is(CFStringGetTypeID())) return Utf8(static_cast<CFStringRef>(value.get()));
  if (value.Is(CFDataGetTypeID())) {
    const auto data = static_cast<CFDataRef>(value.get());
    const auto* bytes = reinterpret_cast<const char*>(CFDataGetBytePtr(data));
    const auto length = static_cast<std::size_t>(CFDataGetLength(data));
    return std::string(bytes, std::find(bytes, bytes + length, '\0'));
  }
  return {};
}

// A string from a dictionary property (e.g. "Device Characteristics"/"Serial Number").
std::string DictionaryString(io_registry_entry_t entry, CFStringRef dictionary, CFStringRef key) {
  const CfRef value(IORegistryEntryCreateCFProperty(entry, dictionary, kCFAllocatorDefault, 0));
  if (!value.Is(CFDictionaryGetTypeID())) return {};
  const void* item = CFDictionaryGetValue(static_cast<CFDictionaryRef>(value.get()), key);
  if (item == nullptr || CFGetTypeID(item) != CFStringGetTypeID()) return {};
  return Utf8(static_cast<CFStringRef>(item));
}

Result<std::string> SysctlString(const char* name) {
  // The value can grow between the size query and the read; retry once.
  for (int attempt = 0; attempt < 2; ++attempt) {
    std::size_t size = 0;
    if (sysctlbyname(name, nullptr, &size, nullptr, 0) != 0) return ErrnoError(name, errno);
    std::string value(size, '\0');
    if (sysctlbyname(name, value.data(), &size, nullptr, 0) == 0) {
      value.resize(std::strlen(value.c_str()));
      return value;
    }
    if (errno != ENOMEM) return ErrnoError(name, errno);
  }
  return Error{ErrorCode::kIoError, std::string(name) + ": value keeps changing size"};
}

int SysctlInt(const char* name) {
  int value = 0;
  std::size_t size = sizeof value;
  return sysctlbyname(name, &value, &size, nullptr, 0) == 0 ? value : 0;
}

void CollectPlatformExpert(RawIdentity* identity) {
  RawSlot* uuid_slot = &identity->slot(Slot::kPlatformUuid);
  RawSlot* serial_slot = &identity->slot(Slot::kPlatformSerial);
  // MACH_PORT_NULL selects the default main port on every macOS version (kIOMainPortDefault is
  // macOS 12+, kIOMasterPortDefault is deprecated).
  const IoObject expert(
      IOServiceGetMatchingService(MACH_PORT_NULL, IOServiceMatching("IOPlatformExpertDevice")));
  if (expert.get() == IO_OBJECT_NULL) {
    uuid_slot->AddProbe("IOPlatformExpertDevice", "absent: no platform expert in the registry");
    serial_slot->AddProbe("IOPlatformExpertDevice", "absent: no platform expert in the registry");
    return;
  }
  const std::string uuid_source = "IOPlatformExpertDevice IOPlatformUUID";
  std::string uuid = RegistryString(expert.get(), CFSTR(kIOPlatformUUIDKey));
  if (uuid.empty()) {
    uuid_slot->AddProbe(uuid_source, "absent: property missing");
  } else {
    // IOKit prints upper case; the slot's canonical text is lower case, as on Linux.
    std::transform(uuid.begin(), uuid.end(), uuid.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    uuid_slot->AddValue(std::move(uuid), uuid_source);
  }
  const std::string serial_source = "IOPlatformExpertDevice IOPlatformSerialNumber";
  std::string serial = RegistryString(expert.get(), CFSTR(kIOPlatformSerialNumberKey));
  if (serial.empty()) {
    serial_slot->AddProbe(serial_source, "absent: property missing");
  } else {
    serial_slot->AddValue(std::move(serial), serial_source);
  }
  // "Apple Inc." and e.g. "MacBookPro18,3"; VMs show their own ("VirtualMac2,1", Parallels...).
  identity->environment.sys_vendor = RegistryString(expert.get(), CFSTR("manufacturer"));
  identity->environment.product_name = RegistryString(expert.get(), CFSTR("model"));
}

// The primary interface's MAC (en0: built-in Ethernet, or Wi-Fi on Macs without Ethernet), read
// from its controller as Apple's TN1103 recommends; a user-set address does not change it.
void CollectNic(RawSlot* slot) {
  const std::string source = "IOEthernetInterface IOPrimaryInterface (IOMACAddress)";
  // {IOProviderClass: IOEthernetInterface, IOPropertyMatch: {IOPrimaryInterface: true}}
  CFMutableDictionaryRef matching = IOServiceMatching(kIOEthernetInterfaceClass);
  CFMutableDictionaryRef primary = CFDictionaryCreateMutable(
      kCFAllocatorDefault, 0, &kCFTypeDictionaryKeyCallBacks, &kCFTypeDictionaryValueCallBacks);
  const CfRef primary_owner(primary);
  if (matching == nullptr || primary == nullptr) {
    if (matching != nullptr) CFRelease(matching);
    slot->AddProbe(source, "absent: cannot build the IOKit matching dictionary");
    return;
  }
  CFDictionarySetValue(primary, CFSTR(kIOPrimaryInterface), kCFBooleanTrue);
  CFDictionarySetValue(matching, CFSTR(kIOPropertyMatchKey), primary);
  io_iterator_t raw_iterator = IO_OBJECT_NULL;
  // IOServiceGetMatchingServices consumes `matching`, even on failure.
  if (IOServiceGetMatchingServices(MACH_PORT_NULL, matching, &raw_iterator) != KERN_SUCCESS) {
    slot->AddProbe(source, "absent: IOServiceGetMatchingServices failed");
    return;
  }
  const IoObject iterator(raw_iterator);
  while (true) {
    const IoObject interface_service(IOIteratorNext(iterator.get()));
    if (interface_service.get() == IO_OBJECT_NULL) break;
    io_object_t raw_controller = IO_OBJECT_NULL;
    if (IORegistryEntryGetParentEntry(interface_service.get(), kIOServicePlane, &raw_controller) !=
        KERN_SUCCESS) {
      continue;
    }
    const IoObject controller(raw_controller);
    const CfRef mac(IORegistryEntryCreateCFProperty(controller.get(), CFSTR(kIOMACAddress),
                                                    kCFAllocatorDefault, 0));
    if (!mac.Is(CFDataGetTypeID()) ||
        CFDataGetLength(static_cast<CFDataRef>(mac.get())) != kIOEthernetAddressSize) {
      continue;
    }
    const UInt8* bytes = CFDataGetBytePtr(static_cast<CFDataRef>(mac.get()));
    static constexpr char kDigits[] = "0123456789abcdef";
    std::string text;
    for (CFIndex i = 0; i < kIOEthernetAddressSize; ++i) {
      text += kDigits[bytes[i] >> 4];
      text += kDigits[bytes[i] & 0xF];
    }
    slot->AddValue(std::move(text), source);
  }
  if (slot->values.empty()) slot->AddProbe(source, "absent: no primary interface with a MAC");
}

// Serials of internal block storage devices, in registry order (the internal SSD is normally the
// only one). Disk images and external disks report a location other than "Internal".
void CollectDisks(RawSlot* slot) {
  io_iterator_t raw_iterator = IO_OBJECT_NULL;
  if (IOServiceGetMatchingServices(MACH_PORT_NULL, IOServiceMatching("IOBlockStorageDevice"),
                                   &raw_iterator) != KERN_SUCCESS) {
    slot->AddProbe("IOBlockStorageDevice", "absent: IOServiceGetMatchingServices failed");
    return;
  }
  const IoObject iterator(raw_iterator);
  int index = 0;
  while (true) {
    const IoObject device(IOIteratorNext(iterator.get()));
    if (device.get() == IO_OBJECT_NULL) break;
    const std::string source = "IOBlockStorageDevice #" + std::to_string(index++) +
                               " (Device Characteristics Serial Number)";
    const std::string location =
        DictionaryString(device.get(), CFSTR(kIOPropertyProtocolCharacteristicsKey),
                         CFSTR(kIOPropertyPhysicalInterconnectLocationKey));
    if (location != kIOPropertyInternalKey) {
      slot->AddProbe(source, "skipped: not an internal disk");
      continue;
    }
    std::string serial = DictionaryString(device.get(), CFSTR(kIOPropertyDeviceCharacteristicsKey),
                                          CFSTR(kIOPropertyProductSerialNumberKey));
    if (serial.empty()) {
      slot->AddProbe(source, "absent: the device reports no serial number");
    } else {
      slot->AddValue(std::move(serial), source);
    }
  }
  if (slot->probes.empty()) slot->AddProbe("IOBlockStorageDevice", "absent: no block device");
}

// The UUID of the volume mounted at `path` (getattrlist ATTR_VOL_UUID).
Result<std::string> VolumeUuid(const char* path) {
  attrlist request{};
  request.bitmapcount = ATTR_BIT_MAP_COUNT;
  request.volattr = ATTR_VOL_INFO | ATTR_VOL_UUID;
  // The reply is a u_int32_t length followed by the attribute: a 16-byte uuid_t.
  std::uint8_t reply[sizeof(std::uint32_t) + sizeof(uuid_t)] = {};
  if (getattrlist(path, &request, reply, sizeof reply, 0) != 0) {
    return ErrnoError(std::string("getattrlist ATTR_VOL_UUID ") + path, errno);
  }
  std::uint32_t length = 0;
  std::memcpy(&length, reply, sizeof length);
  if (length < sizeof reply) {
    return Error{ErrorCode::kCorrupt, std::string("getattrlist ATTR_VOL_UUID ") + path + ": short"};
  }
  uuid_t uuid;
  std::memcpy(uuid, reply + sizeof(std::uint32_t), sizeof uuid);
  uuid_string_t text;
  uuid_unparse_lower(uuid, text);
  return std::string(text);
}

// The Data volume survives OS updates, unlike the sealed system volume (macOS 10.15+); older
// systems have one volume at "/".
void CollectBootVolume(RawSlot* slot) {
  for (const char* path : {"/System/Volumes/Data", "/"}) {
    const std::string source = std::string(path) + " volume UUID (getattrlist)";
    auto uuid = VolumeUuid(path);
    if (uuid) {
      slot->AddValue(std::move(*uuid), source);
      return;
    }
    slot->AddProbe(source, ProbeOutcome(uuid.error()));
  }
}

void CollectCpu(RawIdentity* identity) {
  RawSlot* slot = &identity->slot(Slot::kCpu);
  const CpuidInfo cpu = ReadCpuid();
  if (cpu.available) {  // Intel Macs: the same value as Linux and Windows on that CPU
    slot->AddValue(CpuSlotValue(cpu), "CPUID");
    identity->cpu_processor_id = ProcessorId(cpu);
    identity->environment.cpuid_hypervisor_bit = cpu.hypervisor_bit;
    identity->environment.cpuid_hypervisor_vendor = cpu.hypervisor_vendor;
    return;
  }
  // Apple silicon: no CPUID. The brand ("Apple M1 Pro") and the machine model identify the SoC.
  const std::string source = "sysctl machdep.cpu.brand_string|hw.model";
  auto brand = SysctlString("machdep.cpu.brand_string");
  auto model = SysctlString("hw.model");
  if (!brand || !model) {
    slot->AddProbe(source, ProbeOutcome(!brand ? brand.error() : model.error()));
  } else {
    slot->AddValue(*brand + "|" + *model, source);
  }
  // The hypervisor bit's equivalent on Apple silicon (macOS 11+).
  identity->environment.cpuid_hypervisor_bit = SysctlInt("kern.hv_vmm_present") == 1;
}

class MacPlatform final : public Platform {
 public:
  Result<RawIdentity> CollectIdentity() override {
    RawIdentity identity;
    identity.os = OsFamily::kMacos;
    CollectPlatformExpert(&identity);
    CollectNic(&identity.slot(Slot::kNic));
    CollectDisks(&identity.slot(Slot::kDisk));
    identity.slot(Slot::kOsInstallId)
        .AddProbe("macOS", "absent: macOS keeps no OS installation id");
    CollectBootVolume(&identity.slot(Slot::kBootVolume));
    CollectCpu(&identity);
    return identity;
  }

  Result<Topology> LoadTopology() override {
    Topology topology;
    topology.packages = SysctlInt("hw.packages");
    topology.cores = SysctlInt("hw.physicalcpu");
    topology.pus = SysctlInt("hw.logicalcpu");
    if (topology.packages <= 0 || topology.cores <= 0 || topology.pus <= 0) {
      return Error{ErrorCode::kIoError, "sysctl hw.packages/physicalcpu/logicalcpu failed"};
    }
    const CpuidInfo cpu = ReadCpuid();
    if (cpu.available) {
      topology.cpu_vendor = cpu.vendor;
      topology.cpu_model = cpu.brand;
    } else {
      topology.cpu_vendor = "Apple";
      auto brand = SysctlString("machdep.cpu.brand_string");
      if (brand) topology.cpu_model = *brand;
    }
    topology.backend = "sysctl";
    return topology;
  }

  // User: ~/Library/Application Support/licagent; system: /Library/Application Support/licagent
  // (Apple's File System Programming Guide). kStateDirEnv wins for both.
  Result<fs::path> StateDir(StateScope scope) override {
    auto override_dir = posix::StateDirOverride();
    if (!override_dir || !override_dir->empty()) return override_dir;
    if (scope == StateScope::kSystem) return fs::path("/Library/Application Support/licagent");
    auto home = posix::HomeDir();
    if (!home) return home.error();
    return *home / "Library" / "Application Support" / "licagent";
  }
  Result<std::string> ReadFile(const fs::path& path, std::size_t max_size) override {
    return posix::ReadFile(path, max_size);
  }
  Status WriteFileAtomic(const fs::path& path, std::string_view contents) override {
    return posix::WriteFileAtomic(path, contents);
  }
  Status RemoveFile(const fs::path& path) override { return posix::RemoveFile(path); }
  Result<std::size_t> RemoveStaleTempFiles(const fs::path& target,
                                           std::int64_t min_age_seconds) override {
    return posix::RemoveStaleTempFiles(target, min_age_seconds);
  }
  Result<std::unique_ptr<FileLock>> LockExclusive(const fs::path& lock_file) override {
    return posix::LockExclusive(lock_file);
  }
  std::int64_t Now() override { return posix::Now(); }
};

}  // namespace

Platform& Platform::Default() {
  static MacPlatform platform;
  return platform;
}

}  // namespace licagent::platform
