// Linux identity sources (reference/fingerprint.md §1.1 and §5.1): DMI, permanent MACs of
// physical NICs, fixed-disk serials, machine-id, root file-system id, CPUID. No child process,
// no hwloc: direct reads only.
#include "platform/linux/collect_linux.h"

#include <dirent.h>
#include <fcntl.h>
#include <linux/ethtool.h>
#include <linux/sockios.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

namespace licagent::platform::linux_impl {
namespace {

constexpr std::size_t kMaxFileSize = 64 * 1024;  // sysfs attributes are at most a page or two
constexpr std::string_view kDmi = "/sys/class/dmi/id/";
constexpr std::int64_t kExtMagic = 0xEF53;
constexpr std::int64_t kBtrfsMagic = 0x9123683E;

class Reader {
 public:
  explicit Reader(const LinuxSources& s) : s_(s) {}

  std::string Path(std::string_view p) const { return s_.root + std::string(p); }

  // File contents with the trailing newline removed; *err receives 0 or errno.
  std::string Read(std::string_view path, int* err) const {
    std::string out;
    *err = s_.read_file(Path(path), &out);
    if (*err != 0) return {};
    while (!out.empty() && (out.back() == '\n' || out.back() == '\0')) out.pop_back();
    return out;
  }

  std::string ReadOrEmpty(std::string_view path) const {
    int err = 0;
    return Read(path, &err);
  }

  bool Exists(std::string_view path) const {
    struct stat st {};
    return ::lstat(Path(path).c_str(), &st) == 0;
  }

  // Symlink target as stored in the link (sysfs links are relative), or empty.
  std::string Link(std::string_view path) const {
    char buf[4096];
    const ssize_t n = ::readlink(Path(path).c_str(), buf, sizeof buf - 1);
    if (n <= 0) return {};
    return std::string(buf, static_cast<std::size_t>(n));
  }

  std::vector<std::string> List(std::string_view dir) const {
    std::vector<std::string> names;
    DIR* d = ::opendir(Path(dir).c_str());
    if (d == nullptr) return names;
    while (const dirent* e = ::readdir(d)) {
      if (e->d_name[0] != '.') names.emplace_back(e->d_name);
    }
    ::closedir(d);
    std::sort(names.begin(), names.end());
    return names;
  }

 private:
  const LinuxSources& s_;
};

bool Has(std::string_view s, std::string_view part) { return s.find(part) != s.npos; }

std::string Basename(std::string_view path) {
  const auto slash = path.rfind('/');
  return std::string(slash == path.npos ? path : path.substr(slash + 1));
}

std::string ErrnoOutcome(int err, std::string_view absent_meaning) {
  if (err == EACCES || err == EPERM) return "skipped: readable by root only";
  if (err == ENOENT || err == ENODEV || err == ENXIO)
    return "absent: " + std::string(absent_meaning);
  return "skipped: " + std::generic_category().message(err);
}

// Reads one file into a slot: a value on success, a probe either way.
void ReadInto(const Reader& r, std::string_view path, std::string_view absent_meaning,
              RawSlot* slot) {
  int err = 0;
  std::string v = r.Read(path, &err);
  if (err != 0) {
    slot->AddProbe(std::string(path), ErrnoOutcome(err, absent_meaning));
    return;
  }
  slot->AddValue(std::move(v), std::string(path));
}

void CollectDmi(const Reader& r, RawIdentity* id) {
  RawSlot& uuid = id->slots[static_cast<int>(Slot::kPlatformUuid)];
  RawSlot& serial = id->slots[static_cast<int>(Slot::kPlatformSerial)];
  EnvironmentSignals& env = id->environment;
  env.dmi_available = r.Exists(kDmi);
  if (!env.dmi_available) {
    const Probe none{std::string(kDmi), "absent: no DMI/SMBIOS tables on this machine"};
    uuid.probes.push_back(none);
    serial.probes.push_back(none);
    return;
  }
  const std::string dmi(kDmi);
  env.sys_vendor = r.ReadOrEmpty(dmi + "sys_vendor");
  env.product_name = r.ReadOrEmpty(dmi + "product_name");
  env.product_version = r.ReadOrEmpty(dmi + "product_version");
  env.board_vendor = r.ReadOrEmpty(dmi + "board_vendor");
  env.bios_vendor = r.ReadOrEmpty(dmi + "bios_vendor");
  env.chassis_vendor = r.ReadOrEmpty(dmi + "chassis_vendor");
  env.chassis_asset_tag = r.ReadOrEmpty(dmi + "chassis_asset_tag");
  env.board_asset_tag = r.ReadOrEmpty(dmi + "board_asset_tag");

  ReadInto(r, dmi + "product_uuid", "not provided by the firmware", &uuid);
  // A cloud instance id readable by everyone comes first, so root and non-root runs agree.
  if (IsAwsInstanceId(env.board_asset_tag)) {
    serial.AddProbe(dmi + "board_asset_tag", "read (cloud instance id)");
    serial.values.push_back({env.board_asset_tag, dmi + "board_asset_tag"});
  }
  for (const char* name : {"board_serial", "product_serial", "chassis_serial"}) {
    const std::string path = dmi + name;
    ReadInto(r, path, "not provided by the firmware", &serial);
    if (name == std::string_view("board_serial") && !serial.values.empty() &&
        serial.values.back().source == path) {
      id->board_serial = serial.values.back().value;
    }
  }
}

std::string FormatMac(const std::array<std::uint8_t, 6>& mac) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (std::uint8_t b : mac) {
    out += kHex[b >> 4];
    out += kHex[b & 0xF];
  }
  return out;
}

void CollectNics(const LinuxSources& s, const Reader& r, RawSlot* slot) {
  struct Nic {
    std::string order;  // bus path: stable ordering, lowest first
    RawValue value;
  };
  std::vector<Nic> nics;
  for (const std::string& name : r.List("/sys/class/net")) {
    const std::string dir = "/sys/class/net/" + name;
    const std::string source = name + " (permanent MAC)";
    const std::string target = r.Link(dir);
    auto skip = [&](std::string why) { slot->AddProbe(name, "skipped: " + why); };
    if (target.empty() || Has(target, "/devices/virtual/")) {
      skip("virtual interface (loopback, bridge, veth, tunnel, bond)");
      continue;
    }
    if (r.Link(dir + "/device").empty()) {
      skip("no underlying device");
      continue;
    }
    if (r.ReadOrEmpty(dir + "/type") != "1") {
      skip("not an Ethernet or Wi-Fi interface");
      continue;
    }
    if (Has(target, "/usb")) {
      skip("USB-attached, moves between machines");
      continue;
    }
    if (r.Exists(dir + "/device/physfn")) {
      skip("SR-IOV virtual function");
      continue;
    }
    std::string mac;
    if (auto perm = s.permanent_mac(name)) {
      if (std::any_of(perm->begin(), perm->end(), [](std::uint8_t b) { return b != 0; })) {
        mac = FormatMac(*perm);
      }
    }
    if (mac.empty()) {
      // No permanent address from the driver: the current one only if the kernel says it is
      // the permanent one (addr_assign_type 0), not random, stolen or set by a user.
      if (r.ReadOrEmpty(dir + "/addr_assign_type") != "0") {
        skip("no permanent address");
        continue;
      }
      mac = r.ReadOrEmpty(dir + "/address");
    }
    slot->AddProbe(source, "read");
    nics.push_back({target, {mac, source}});
  }
  std::sort(nics.begin(), nics.end(), [](const Nic& a, const Nic& b) { return a.order < b.order; });
  for (Nic& n : nics) slot->values.push_back(std::move(n.value));
}

std::string ReadUdevProperty(const Reader& r, const std::string& dev, std::string_view key) {
  const std::string db = r.ReadOrEmpty("/run/udev/data/b" + dev);
  const std::string prefix = "E:" + std::string(key) + "=";
  std::size_t pos = 0;
  while (pos < db.size()) {
    std::size_t end = db.find('\n', pos);
    if (end == std::string::npos) end = db.size();
    std::string_view line(db.data() + pos, end - pos);
    if (line.substr(0, prefix.size()) == prefix) return std::string(line.substr(prefix.size()));
    pos = end + 1;
  }
  return {};
}

std::string DeviceString(DeviceNumber d) {
  return std::to_string(d.major) + ":" + std::to_string(d.minor);
}

// The file system mounted at "/": its device number and the target of
// /sys/dev/block/MAJOR:MINOR. Read once per collection (disk and boot-volume slots both need it).
struct RootDevice {
  std::optional<DeviceNumber> number;
  std::string sysfs_link;  // empty if unknown
};

RootDevice FindRootDevice(const LinuxSources& s, const Reader& r) {
  RootDevice root;
  root.number = s.root_device ? s.root_device() : std::nullopt;
  if (root.number) root.sysfs_link = r.Link("/sys/dev/block/" + DeviceString(*root.number));
  return root;
}

// The whole disk under the root file system: partition → parent, dm/md → first slave.
std::string BootDisk(const Reader& r, const RootDevice& root) {
  if (!root.number || root.sysfs_link.empty()) return {};
  std::string name = Basename(root.sysfs_link);
  for (int depth = 0; depth < 4; ++depth) {
    const std::string dir = "/sys/class/block/" + name;
    if (r.Exists(dir + "/partition")) {
      const std::string target = r.Link(dir);
      const auto slash = target.rfind('/');
      if (slash == std::string::npos) return {};
      name = Basename(std::string_view(target).substr(0, slash));
      continue;
    }
    if (name.rfind("dm-", 0) == 0 || name.rfind("md", 0) == 0) {
      const auto slaves = r.List(dir + "/slaves");
      if (slaves.empty()) return {};
      name = slaves.front();
      continue;
    }
    return name;
  }
  return {};
}

void CollectDisks(const Reader& r, const RootDevice& root, RawSlot* slot) {
  const std::string boot = BootDisk(r, root);
  std::vector<RawValue> disks;
  for (const std::string& name : r.List("/sys/block")) {
    const std::string dir = "/sys/block/" + name;
    const std::string target = r.Link(dir);
    auto skip = [&](std::string why) { slot->AddProbe(name, "skipped: " + why); };
    if (target.empty() || Has(target, "/devices/virtual/")) {
      skip("virtual block device (loop, ram, zram, device-mapper, md)");
      continue;
    }
    if (r.ReadOrEmpty(dir + "/removable") == "1") {
      skip("removable media");
      continue;
    }
    if (Has(target, "/usb")) {
      skip("USB-attached, moves between machines");
      continue;
    }
    std::string serial;
    std::string source;
    for (const char* attr : {"/device/serial", "/serial"}) {
      serial = r.ReadOrEmpty(dir + attr);
      source = dir + attr;
      if (!serial.empty()) break;
    }
    if (serial.empty()) {
      source = dir + "/device/vpd_pg80";
      serial = ParseVpdPage80(r.ReadOrEmpty(source));
    }
    if (serial.empty()) {
      const std::string dev = r.ReadOrEmpty(dir + "/dev");
      if (!dev.empty()) {
        source = "/run/udev/data/b" + dev + " (ID_SERIAL_SHORT)";
        serial = ReadUdevProperty(r, dev, "ID_SERIAL_SHORT");
      }
    }
    if (serial.empty()) {
      skip("no serial number exposed");
      continue;
    }
    slot->AddProbe(source, name == boot ? "read (boot disk)" : "read");
    RawValue v{std::move(serial), std::move(source)};
    if (name == boot) {
      disks.insert(disks.begin(), std::move(v));
    } else {
      disks.push_back(std::move(v));
    }
  }
  slot->values = std::move(disks);
}

void CollectMachineId(const Reader& r, RawSlot* slot) {
  for (const char* path : {"/etc/machine-id", "/var/lib/dbus/machine-id"}) {
    ReadInto(r, path, "file missing", slot);
    if (!slot->values.empty()) return;
  }
}

std::string Hex32(std::uint32_t v) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out(8, '0');
  for (int i = 7; i >= 0; --i, v >>= 4) out[static_cast<std::size_t>(i)] = kHex[v & 0xF];
  return out;
}

void CollectBootVolume(const LinuxSources& s, const Reader& r, const RootDevice& root,
                       RawSlot* slot) {
  if (root.number) {
    const std::string d = DeviceString(*root.number);
    const std::string uuid = ReadUdevProperty(r, d, "ID_FS_UUID");
    const std::string source = "/run/udev/data/b" + d + " (ID_FS_UUID)";
    if (!uuid.empty()) {
      slot->AddValue(uuid, source);
      return;
    }
    slot->AddProbe(source, "absent: no udev record for the root device");
    const std::string root_name = Basename(root.sysfs_link);
    for (const std::string& name : r.List("/dev/disk/by-uuid")) {
      if (!root_name.empty() && Basename(r.Link("/dev/disk/by-uuid/" + name)) == root_name) {
        slot->AddValue(name, "/dev/disk/by-uuid");
        return;
      }
    }
    slot->AddProbe("/dev/disk/by-uuid", "absent: no link for the root device");
  }
  // ext2/3/4 and btrfs derive f_fsid from the file-system UUID; others (overlay, tmpfs, xfs)
  // derive it from device numbers, which are not stable.
  const auto fs = s.root_filesystem ? s.root_filesystem() : std::nullopt;
  const std::string source = "statfs(/) f_fsid";
  if (fs && (fs->type == kExtMagic || fs->type == kBtrfsMagic)) {
    slot->AddValue(Hex32(fs->fsid[0]) + Hex32(fs->fsid[1]), source);
  } else {
    slot->AddProbe(source, "skipped: the root file system has no stable volume id");
  }
}

void CollectCpu(const LinuxSources& s, const Reader& r, RawIdentity* id) {
  RawSlot& slot = id->slots[static_cast<int>(Slot::kCpu)];
  const CpuidInfo cpu = s.cpuid();
  id->environment.cpuid_hypervisor_bit = cpu.hypervisor_bit;
  id->environment.cpuid_hypervisor_vendor = cpu.hypervisor_vendor;
  id->cpu_processor_id = ProcessorId(cpu);
  if (cpu.available) {
    slot.AddValue(CpuSlotValue(cpu), "cpuid");
    return;
  }
  ReadInto(r, "/sys/devices/system/cpu/cpu0/regs/identification/midr_el1",
           "no CPU identification register exposed", &slot);
}

void CollectEnvironment(const Reader& r, EnvironmentSignals* env) {
  env->hypervisor_type = r.ReadOrEmpty("/sys/hypervisor/type");
  // systemd detect_container() order; /.dockerenv last because images may carry it.
  if (std::string m = r.ReadOrEmpty("/run/host/container-manager"); !m.empty()) {
    env->container_marker = m;
  } else if (std::string c = r.ReadOrEmpty("/run/systemd/container"); !c.empty()) {
    env->container_marker = c;
  } else if (r.Exists("/run/.containerenv")) {
    env->container_marker = "/run/.containerenv";
  } else if (r.Exists("/.dockerenv")) {
    env->container_marker = "/.dockerenv";
  }
  const std::string release = r.ReadOrEmpty("/proc/sys/kernel/osrelease");
  if (Has(release, "microsoft") || Has(release, "Microsoft") || Has(release, "WSL")) {
    env->container_marker = env->container_marker.empty() ? "wsl" : env->container_marker;
  }
}

int ReadSmallFile(const std::string& path, std::string* out) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return errno;
  char buf[4096];
  int err = 0;
  for (;;) {
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      err = errno;
      break;
    }
    if (n == 0) break;
    out->append(buf, static_cast<std::size_t>(n));
    if (out->size() > kMaxFileSize) {
      err = EFBIG;
      break;
    }
  }
  ::close(fd);
  return err;
}

std::optional<std::array<std::uint8_t, 6>> PermanentMac(const std::string& ifname) {
  if (ifname.size() >= IFNAMSIZ) return std::nullopt;
  const int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return std::nullopt;
  // struct ethtool_perm_addr ends in a flexible array: give it room for any address size.
  alignas(ethtool_perm_addr) unsigned char buffer[sizeof(ethtool_perm_addr) + 32] = {};
  auto* request = reinterpret_cast<ethtool_perm_addr*>(buffer);
  request->cmd = ETHTOOL_GPERMADDR;
  request->size = 32;
  ifreq ifr{};
  std::memcpy(ifr.ifr_name, ifname.c_str(), ifname.size());
  ifr.ifr_data = reinterpret_cast<char*>(buffer);
  const int rc = ::ioctl(fd, SIOCETHTOOL, &ifr);
  ::close(fd);
  if (rc != 0 || request->size != 6) return std::nullopt;
  std::array<std::uint8_t, 6> mac{};
  std::memcpy(mac.data(), buffer + sizeof(ethtool_perm_addr), 6);
  return mac;
}

}  // namespace

std::string ParseVpdPage80(const std::string& page) {
  if (page.size() < 4 || static_cast<unsigned char>(page[1]) != 0x80) return {};
  const std::size_t length = (static_cast<std::size_t>(static_cast<unsigned char>(page[2])) << 8) |
                             static_cast<unsigned char>(page[3]);
  if (length == 0 || page.size() < 4 + length) return {};
  std::string serial = page.substr(4, length);
  const auto first = serial.find_first_not_of(" \t\0", 0, 3);
  if (first == std::string::npos) return {};
  const auto last = serial.find_last_not_of(" \t\0", std::string::npos, 3);
  return serial.substr(first, last - first + 1);
}

LinuxSources RealSources() {
  LinuxSources s;
  s.read_file = ReadSmallFile;
  s.permanent_mac = PermanentMac;
  s.root_device = []() -> std::optional<DeviceNumber> {
    struct stat st {};
    if (::stat("/", &st) != 0) return std::nullopt;
    return DeviceNumber{major(st.st_dev), minor(st.st_dev)};
  };
  s.root_filesystem = []() -> std::optional<RootFilesystem> {
    struct statfs fs {};
    if (::statfs("/", &fs) != 0) return std::nullopt;
    RootFilesystem out;
    out.type = static_cast<std::int64_t>(fs.f_type);
    std::memcpy(out.fsid, &fs.f_fsid, sizeof out.fsid);
    return out;
  };
  // Each CPUID instruction is a VM exit in a guest (5-10 us here; seven leaves per read), and
  // CPUID cannot change under a running process: hypervisors keep it fixed across live
  // migration, and glibc has already cached it for its own dispatch. Read it once per process.
  s.cpuid = [] {
    static const CpuidInfo info = ReadCpuid();
    return info;
  };
  return s;
}

RawIdentity Collect(const LinuxSources& sources) {
  const Reader r(sources);
  RawIdentity id;
  id.os = OsFamily::kLinux;
  CollectDmi(r, &id);
  CollectNics(sources, r, &id.slots[static_cast<int>(Slot::kNic)]);
  const RootDevice root = FindRootDevice(sources, r);
  CollectDisks(r, root, &id.slots[static_cast<int>(Slot::kDisk)]);
  CollectMachineId(r, &id.slots[static_cast<int>(Slot::kOsInstallId)]);
  CollectBootVolume(sources, r, root, &id.slots[static_cast<int>(Slot::kBootVolume)]);
  CollectCpu(sources, r, &id);
  CollectEnvironment(r, &id.environment);
  return id;
}

}  // namespace licagent::platform::linux_impl
