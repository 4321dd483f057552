// The only door from agent/ to the operating system. agent/ never includes OS headers or tests
// _WIN32; it asks a Platform. Exactly one implementation is compiled into a build (see
// platform/CMakeLists.txt); tests use platform/fake/fake_platform.h.
// Implementations are safe to call from several threads at once.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "licagent/identity.h"
#include "licagent/result.h"

namespace licagent::platform {

// One raw value for a slot, as the OS gave it (normalisation happens in agent/). Raw values
// never leave the process, and are never logged or printed.
struct RawValue {
  std::string value;
  std::string source;  // where it came from, e.g. "/sys/block/nvme0n1/device/serial"
};

// Everything the collector found for a slot, in priority order: for single-valued slots the
// first value that survives normalisation is stored; for sets (NIC, disk) the first is the
// primary member and the others are accepted when matching.
struct RawSlot {
  std::vector<RawValue> values;
  std::vector<Probe> probes;  // every source tried, including those that gave a value

  // Records a value read from `source`, with a "read" probe.
  void AddValue(std::string value, const std::string& source) {
    values.push_back(RawValue{std::move(value), source});
    AddProbe(source, "read");
  }
  // Records a source tried, with its outcome ("absent: …", "skipped: …").
  void AddProbe(std::string source, std::string outcome) {
    probes.push_back(Probe{std::move(source), std::move(outcome)});
  }
};

// Cheap, unprivileged hints for the environment class; agent/environment.cpp decides.
struct EnvironmentSignals {
  bool dmi_available = false;  // firmware tables readable at all
  std::string sys_vendor;      // public (0444) DMI strings; empty when absent
  std::string product_name;
  std::string product_version;
  std::string board_vendor;
  std::string bios_vendor;
  std::string chassis_vendor;
  std::string chassis_asset_tag;
  std::string board_asset_tag;
  bool cpuid_hypervisor_bit = false;    // CPUID leaf 1 ECX bit 31
  std::string cpuid_hypervisor_vendor;  // CPUID leaf 0x40000000 signature, e.g. "KVMKVMKVM"
  std::string hypervisor_type;          // /sys/hypervisor/type (Xen) or similar
  std::string container_marker;         // e.g. "/.dockerenv", "wsl"; empty if none
};

struct RawIdentity {
  OsFamily os = OsFamily::kOther;
  std::array<RawSlot, kSlotCount> slots;
  EnvironmentSignals environment;
  // Only for the KooGallery "MAC|DISK|BOARD|CPU" format (reference/koogallery.md §9.1).
  std::string board_serial;      // baseboard serial as read; empty if unreadable
  std::string cpu_processor_id;  // CPUID(1) EDX:EAX as 16 upper-case hex digits; empty if none

  RawSlot& slot(Slot s) { return slots[static_cast<std::size_t>(s)]; }
  const RawSlot& slot(Slot s) const { return slots[static_cast<std::size_t>(s)]; }
};

// An AWS EC2 instance id ("i-" and 8 to 17 lower-case hex digits): Nitro instances put it in
// the public DMI board asset tag, making it a platform serial readable without root.
inline bool IsAwsInstanceId(std::string_view s) {
  if (s.size() < 10 || s.size() > 19 || s.substr(0, 2) != "i-") return false;
  for (char c : s.substr(2)) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

// The probe outcome for a source that failed: "skipped: …" when access was refused, else
// "absent: …". Error messages carry context, never a value that was read.
inline std::string ProbeOutcome(const Error& error) {
  return (error.code == ErrorCode::kPermissionDenied ? "skipped: " : "absent: ") + error.message;
}

// Where licagent keeps its state (docs/cache.md "Locations").
enum class StateScope {
  kUser,    // this user's own state: XDG state dir, %LOCALAPPDATA%, ~/Library/Application Support
  kSystem,  // machine-wide: /var/lib, %ProgramData%, /Library/Application Support
};

// The environment variable that, when set to an absolute path, replaces the state directory of
// both scopes (tests, relocated installs). A relative value is an error, never ignored.
inline constexpr const char* kStateDirEnv = "LICAGENT_STATE_DIR";

// An exclusive advisory lock on a lock file, held until this object is destroyed. Only writers
// take it; readers never wait for it.
class FileLock {
 public:
  virtual ~FileLock() = default;
  FileLock(const FileLock&) = delete;
  FileLock& operator=(const FileLock&) = delete;

 protected:
  FileLock() = default;
};

// Loads the shared library `file_name` ("libcurl.so.4", "libhwloc.so.15") unless it is
// already loaded, and returns the address of `symbol` in it. For dependencies that only some
// calls need, so that the start-up check does not pay to load them (docs/performance.md).
// Libraries stay loaded until the process exits. kNotFound naming the library or the symbol.
// Thread-safe. Not part of Platform: tests load the real libraries. Linux and macOS only
// (platform/posix/): Windows uses neither libcurl (WinHTTP instead) nor hwloc.
Result<void*> LoadSymbol(const char* file_name, const char* symbol);

// Where licagent's configuration file (agent.json, docs/activation.md) is looked for, never
// created here. Linux: user $XDG_CONFIG_HOME/licagent (absolute values only) else
// ~/.config/licagent, system /etc/licagent. macOS: ~/Library/Application Support/licagent and
// /Library/Application Support/licagent. Windows: FOLDERID_RoamingAppData\licagent and
// FOLDERID_ProgramData\licagent. Not part of Platform: it reads only the environment.
Result<std::filesystem::path> ConfigDir(StateScope scope);

// The absolute path of the running program (/proc/self/exe, _NSGetExecutablePath,
// GetModuleFileNameW).
Result<std::filesystem::path> CurrentExecutable();

// Starts the program `argv[0]` (an absolute path; no PATH search) with `argv` detached from
// this process: a new session (POSIX setsid) or DETACHED_PROCESS (Windows), standard input and
// output on the null device, inheriting no other descriptor or handle. Does not wait for it;
// on POSIX a background thread of this process reaps it, so it never lingers as a zombie.
// Fails only when the program could not be started.
Status SpawnDetached(const std::vector<std::string>& argv);

class Platform {
 public:
  virtual ~Platform() = default;

  // Reads every identity source with direct system calls. Unreadable sources are recorded in
  // the slot's probes, not returned as errors.
  virtual Result<RawIdentity> CollectIdentity() = 0;

  // CPU topology (hwloc on Linux). Costs milliseconds; callers load it only when needed.
  virtual Result<Topology> LoadTopology() = 0;

  // --- Files (docs/cache.md). Besides the errors each method names, the OS's refusals and
  // failures are kPermissionDenied and kIoError, with the path in the message and errno /
  // GetLastError() in os_error.

  // The licagent state directory of `scope` (not created here). kStateDirEnv wins for both
  // scopes; a relative override is kInvalidArgument.
  virtual Result<std::filesystem::path> StateDir(StateScope scope) = 0;

  // The whole file. kNotFound if it does not exist; kCorrupt if it is not a regular file or
  // holds more than `max_size` bytes (the message says so).
  virtual Result<std::string> ReadFile(const std::filesystem::path& path, std::size_t max_size) = 0;

  // Replaces `path` atomically: a reader (or a crash at any point) sees the old contents or
  // the new, never a mix. Creates missing parent directories owner-only (0700); the file is
  // owner-only (0600). Writes a uniquely named temporary file beside `path`, flushes it to
  // disk, renames it over `path` and flushes the directory. On failure the temporary file is
  // removed and the old file is untouched; a full disk is kIoError with "disk full" in the
  // message. A writer killed mid-write can leave its temporary file: see RemoveStaleTempFiles.
  virtual Status WriteFileAtomic(const std::filesystem::path& path, std::string_view contents) = 0;

  // Deletes a file; a missing file is success.
  virtual Status RemoveFile(const std::filesystem::path& path) = 0;

  // Deletes the temporary files WriteFileAtomic(target) leaves behind when its process dies
  // mid-write, if they were last modified at least `min_age_seconds` ago. Never touches
  // `target` itself or any other file. Returns how many were removed.
  virtual Result<std::size_t> RemoveStaleTempFiles(const std::filesystem::path& target,
                                                   std::int64_t min_age_seconds) = 0;

  // Takes an exclusive advisory lock on `lock_file` (created 0600 with its parent directories
  // if missing), blocking until it is free. Excludes other processes and other threads of this
  // one. Released when the returned object is destroyed or the process dies.
  virtual Result<std::unique_ptr<FileLock>> LockExclusive(
      const std::filesystem::path& lock_file) = 0;

  // Wall-clock time: seconds since the Unix epoch, UTC (licagent::UnixTime).
  virtual std::int64_t Now() = 0;

  // The implementation for this OS. Defined in the per-OS file; owned by the library.
  static Platform& Default();
};

}  // namespace licagent::platform
