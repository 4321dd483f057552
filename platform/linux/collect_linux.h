// Linux identity collection over sysfs, /etc and a few system calls. Every path is read below
// LinuxSources::root, and the few non-file sources are hooks, so recorded sysfs fixtures drive
// the same code in tests (tests/platform/linux_collect_test.cpp).
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "platform/common/cpuid.h"
#include "platform/platform.h"

namespace licagent::platform::linux_impl {

struct DeviceNumber {
  unsigned major = 0;
  unsigned minor = 0;
};

struct RootFilesystem {
  std::int64_t type = 0;  // statfs f_type
  std::uint32_t fsid[2] = {0, 0};
};

struct LinuxSources {
  // Prefix for every absolute path; empty for the real system.
  std::string root;
  // Reads a small file into *out; returns 0 or an errno value.
  std::function<int(const std::string& path, std::string* out)> read_file;
  // ETHTOOL_GPERMADDR for an interface; nullopt when the ioctl fails.
  std::function<std::optional<std::array<std::uint8_t, 6>>(const std::string& ifname)>
      permanent_mac;
  // Device number of the file system mounted at "/"; nullopt if unknown.
  std::function<std::optional<DeviceNumber>()> root_device;
  // statfs("/"); nullopt if it fails.
  std::function<std::optional<RootFilesystem>()> root_filesystem;
  std::function<CpuidInfo()> cpuid;
};

// Real system calls on the running system.
LinuxSources RealSources();

// Reads every slot. Never fails: unreadable sources become probes.
RawIdentity Collect(const LinuxSources& sources);

// Parses SCSI VPD page 0x80 (unit serial number): 4-byte header, then the serial. Returns the
// trimmed serial, or an empty string when the page is malformed.
std::string ParseVpdPage80(const std::string& page);

}  // namespace licagent::platform::linux_impl
