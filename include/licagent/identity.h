// Hardware identity: the seven slots, the HW1 identifier text, collection and the match rule.
// The design is docs/identity.md; nothing here ever exposes a raw serial, MAC or UUID except
// KooGalleryFingerprint(), whose format requires raw values and which callers must ask for.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "licagent/result.h"

namespace licagent {

inline constexpr int kSlotCount = 7;

// Slot order is part of the identifier format: never reorder.
enum class Slot : std::uint8_t {
  kPlatformUuid = 0,    // SMBIOS type 1 UUID / IOPlatformUUID (weight 3, hardware)
  kPlatformSerial = 1,  // baseboard → system → chassis serial, cloud instance id (2, hardware)
  kNic = 2,             // permanent MACs of physical NICs, a set (2, hardware)
  kDisk = 3,            // serials of fixed physical disks, a set; boot disk first (2, hardware)
  kOsInstallId = 4,     // machine-id / MachineGuid (2, install)
  kBootVolume = 5,      // root filesystem UUID / system volume serial (1, install)
  kCpu = 6,             // CPUID vendor|family|model|stepping|brand (1, weak)
};

// "platform_uuid", "platform_serial", "nic", "disk", "os_install_id", "boot_volume", "cpu".
const char* SlotName(Slot slot) noexcept;
// 3/2/2/2/2/1/1: total 13.
int SlotWeight(Slot slot) noexcept;
// Slots 0–3: a match on one of them is required when the stored identifier has any.
bool IsHardwareAnchored(Slot slot) noexcept;
inline Slot SlotAt(int index) { return static_cast<Slot>(index); }

enum class OsFamily : std::uint8_t { kLinux = 0, kWindows = 1, kMacos = 2, kOther = 3 };
const char* ToString(OsFamily os) noexcept;  // "linux", "windows", "macos", "other"

// Where the identity was read. Carried in the identifier header; license policy decides.
enum class Environment : std::uint8_t {
  kBareMetal = 0,
  kVm = 1,
  kContainer = 2,
  kCloudVm = 3,
  kVmContainer = 4,  // a VM whose file system also carries a container marker
  kUnknown = 7,
};
// "bare-metal", "vm", "container", "cloud-vm", "vm+container", "unknown".
const char* ToString(Environment environment) noexcept;

// The per-product HMAC key for slot tags. Different keys make identifiers of different products
// unlinkable. Not secret against the machine's owner (it ships in the binary).
struct IdentityKey {
  std::array<std::uint8_t, 32> bytes{};
};
// The key compiled into this build (CMake option LICAGENT_IDENTITY_KEY).
IdentityKey BuiltinIdentityKey();

// A decoded HW1 identifier: header and seven 16-bit tags (0 = slot absent).
struct Identifier {
  int version = 1;
  OsFamily os = OsFamily::kOther;
  Environment environment = Environment::kUnknown;
  std::array<std::uint16_t, kSlotCount> tags{};

  // Slots with a non-zero tag.
  int PresentSlots() const;
  // Slots 0–3 with a non-zero tag.
  int PresentHardwareSlots() const;
  // "HW1-XXXX-XXXX-XXXX-XXXX-XXXX-XXXX-XXXX": Crockford base32 of header, tags and CRC-16.
  std::string ToString() const;

  friend bool operator==(const Identifier&, const Identifier&) = default;
};

// Decodes an identifier typed by a person: case-insensitive, spaces and dashes ignored, O read
// as 0 and I/L as 1. Fails with kMalformedIdentifier naming the problem (prefix, length,
// character, checksum, version, platform).
Result<Identifier> ParseIdentifier(std::string_view text);

// One source the collector tried, for explanations. Never holds a raw value.
struct Probe {
  std::string source;   // e.g. "/sys/class/dmi/id/product_uuid", "eth0 (ETHTOOL_GPERMADDR)"
  std::string outcome;  // e.g. "read", "absent: no DMI on this machine", "skipped: root only"
};

// What one slot contributed on this machine.
struct SlotReport {
  Slot slot = Slot::kPlatformUuid;
  std::uint16_t tag = 0;                  // the tag stored in the identifier; 0 = absent
  std::vector<std::uint16_t> candidates;  // tags of every accepted value (stored one first)
  bool weak = false;                      // present but not unique evidence (e.g. a local MAC)
  std::string source;                     // where the stored value came from; empty if absent
  std::string absent_reason;              // why the slot is absent; empty if present
  std::vector<Probe> probes;              // every source tried
};

// This machine's identity under one product key.
struct Fingerprint {
  Identifier identifier;
  std::array<SlotReport, kSlotCount> slots;
  std::vector<std::string> environment_signals;  // why the environment class was chosen
  std::string cloud_provider;                    // e.g. "huawei-cloud-ecs"; empty if none
  bool weak = false;                             // see weak_reasons
  std::vector<std::string> weak_reasons;
};

// Reads this machine with direct system calls (no child process) and computes its
// fingerprint. Thread-safe. Errors: kIoError/kInternal only when the OS itself fails;
// unreadable sources just leave slots absent.
Result<Fingerprint> CollectFingerprint(const IdentityKey& key = BuiltinIdentityKey());

// The KooGallery online-license device fingerprint "MAC|DISK|BOARD|CPU" (upper case, lists
// joined with ','). It carries RAW hardware values: only for a user who asks for it.
Result<std::string> KooGalleryFingerprint();

// For a vendor server that must bind a license to a KooGallery device fingerprint (the
// online-license model's getLicenseAsync): an identifier made of the tags of the values the
// fingerprint carries, normalised and tagged exactly as this machine's own slots are, so that
// Match() of it against the machine that printed the fingerprint accepts. Slots: nic (the first
// MAC, in the string's sorted order, that is not locally administered; else the first one),
// disk (the first usable serial) and platform_serial (the board serial); the CPU part is
// Windows' ProcessorId, not the cpu slot's value, and is not used. Header: OS kOther,
// environment kUnknown (the string does not say). kInvalidArgument if `text` does not have
// exactly four '|'-separated parts, is longer than 5120 bytes, or yields no slot at all.
Result<Identifier> IdentifierFromKooGalleryFingerprint(
    std::string_view text, const IdentityKey& key = BuiltinIdentityKey());

// How strict a match is. Defaults are reference/fingerprint.md §5.4.
enum class EnvironmentRule {
  kNoLeavingBareMetal,  // a bare-metal identifier does not match in a VM/container (default)
  kExact,               // the environment class must be identical
  kAny,                 // ignore the environment class
};
struct MatchPolicy {
  int threshold_percent = 60;  // score must reach this share of the stored weight
  int min_matched = 2;         // at least this many matching slots (fewer if fewer stored)
  bool require_hardware = true;
  EnvironmentRule environment = EnvironmentRule::kNoLeavingBareMetal;

  friend bool operator==(const MatchPolicy&, const MatchPolicy&) = default;
};

enum class SlotVerdict {
  kNotStored,  // absent in the stored identifier: not counted
  kMatched,    // stored tag is among this machine's candidates
  kChanged,    // present on both sides with different tags
  kMissing,    // stored, but this machine no longer has a value
};
const char* ToString(SlotVerdict verdict) noexcept;  // "not-stored", "matched", "changed", ...

struct MatchResult {
  bool accepted = false;
  int score = 0;     // weight of matching slots
  int possible = 0;  // weight of the stored identifier's present slots
  int matched = 0;   // number of matching slots
  int stored_slots = 0;
  bool hardware_present = false;
  bool hardware_matched = false;
  bool environment_ok = true;
  std::array<SlotVerdict, kSlotCount> slots{};
  std::string reason;  // one sentence: why accepted or rejected
};

// The weighted k-of-n rule; the denominator comes from the stored identifier, so making
// sources unreadable cannot lower it.
MatchResult Match(const Identifier& stored, const Fingerprint& current,
                  const MatchPolicy& policy = {});

// CPU topology for explanations and core/socket entitlements, from hwloc with every HWLOC_*
// environment override removed first. Costs milliseconds: call only when needed.
struct Topology {
  int packages = 0;
  int cores = 0;
  int pus = 0;
  std::string cpu_vendor;
  std::string cpu_model;
  std::string backend;  // e.g. "hwloc 2.9.0"
};
Result<Topology> LoadTopology();

}  // namespace licagent
