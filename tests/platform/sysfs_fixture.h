// Materialises a recorded sysfs manifest (tests/data/sysfs/*.manifest, written by
// scripts/record-sysfs.sh or by hand) into a temporary directory and returns LinuxSources that
// read it. Manifest lines:
//   file PATH CONTENT      a file holding CONTENT and a newline ("\n" and "\\" escapes)
//   hex PATH HEXBYTES      a binary file (e.g. SCSI VPD page 0x80)
//   link PATH TARGET       a symlink; a relative target's directory is created
//   dir PATH               an empty directory
//   denied PATH            reading PATH fails with EACCES (root-only DMI files as non-root)
//   permaddr IFNAME MAC    what ETHTOOL_GPERMADDR returns for IFNAME
//   rootdev MAJ:MIN        device number of "/"
//   rootfs TYPE FSID0 FSID1   statfs("/") f_type and f_fsid words, hex
//   cpuid VENDOR|FAMILY|MODEL|STEPPING|BRAND|EAX|EDX|HYPERVISOR   (HYPERVISOR "-" if none)
#pragma once

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>

#include "platform/linux/collect_linux.h"

namespace licagent::testing {

class SysfsFixture {
 public:
  explicit SysfsFixture(const std::string& manifest_name) {
    char tmpl[] = "/tmp/licagent-sysfs-XXXXXX";
    if (::mkdtemp(tmpl) == nullptr) throw std::runtime_error("mkdtemp failed");
    root_ = tmpl;
    std::ifstream in(std::string(LICAGENT_TEST_DATA_DIR) + "/sysfs/" + manifest_name);
    if (!in) throw std::runtime_error("missing manifest " + manifest_name);
    std::string line;
    while (std::getline(in, line)) Apply(line);
  }
  ~SysfsFixture() {
    std::error_code ec;
    std::filesystem::remove_all(root_, ec);
  }
  SysfsFixture(const SysfsFixture&) = delete;
  SysfsFixture& operator=(const SysfsFixture&) = delete;

  // Sources reading this fixture; the fixture must outlive them.
  platform::linux_impl::LinuxSources Sources() const {
    platform::linux_impl::LinuxSources s = platform::linux_impl::RealSources();
    s.root = root_;
    auto real_read = s.read_file;
    s.read_file = [this, real_read](const std::string& path, std::string* out) {
      if (denied_.count(path.substr(root_.size()))) return EACCES;
      return real_read(path, out);
    };
    s.permanent_mac =
        [this](const std::string& ifname) -> std::optional<std::array<std::uint8_t, 6>> {
      auto it = perm_.find(ifname);
      if (it == perm_.end()) return std::nullopt;
      return it->second;
    };
    s.root_device = [this] { return root_device_; };
    s.root_filesystem = [this] { return root_fs_; };
    s.cpuid = [this] { return cpuid_; };
    return s;
  }

  const std::string& root() const { return root_; }

  // Makes reads of PATH fail with EACCES from now on (as for a non-root user).
  void Deny(const std::string& path) { denied_.insert(path); }

 private:
  static std::string Unescape(const std::string& s) {
    std::string out;
    for (std::size_t i = 0; i < s.size(); ++i) {
      if (s[i] == '\\' && i + 1 < s.size()) {
        ++i;
        out += s[i] == 'n' ? '\n' : s[i];
      } else {
        out += s[i];
      }
    }
    return out;
  }

  std::filesystem::path At(const std::string& path) const { return root_ + path; }

  void Write(const std::string& path, const std::string& content) const {
    std::filesystem::create_directories(At(path).parent_path());
    std::ofstream(At(path), std::ios::binary) << content;
  }

  void Apply(const std::string& line) {
    if (line.empty() || line[0] == '#') return;
    std::istringstream in(line);
    std::string kind, arg;
    in >> kind >> arg;
    std::string rest;
    std::getline(in, rest);
    if (!rest.empty() && rest[0] == ' ') rest.erase(0, 1);
    if (kind == "file") {
      Write(arg, Unescape(rest) + "\n");
    } else if (kind == "hex") {
      std::string bytes;
      for (std::size_t i = 0; i + 1 < rest.size(); i += 2) {
        bytes += static_cast<char>(std::stoi(rest.substr(i, 2), nullptr, 16));
      }
      Write(arg, bytes);
    } else if (kind == "link") {
      const std::filesystem::path link = At(arg);
      std::filesystem::create_directories(link.parent_path());
      if (!rest.empty() && rest[0] != '/') {
        std::filesystem::create_directories(link.parent_path() / rest);
      }
      std::filesystem::create_symlink(rest, link);
    } else if (kind == "dir") {
      std::filesystem::create_directories(At(arg));
    } else if (kind == "denied") {
      denied_.insert(arg);
      Write(arg, "secret\n");  // present, but reads fail as for a non-root user
    } else if (kind == "permaddr") {
      std::array<std::uint8_t, 6> mac{};
      for (int i = 0; i < 6; ++i) {
        mac[static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(
            std::stoi(rest.substr(static_cast<std::size_t>(i) * 3, 2), nullptr, 16));
      }
      perm_[arg] = mac;
    } else if (kind == "rootdev") {
      const auto colon = arg.find(':');
      root_device_ = platform::linux_impl::DeviceNumber{
          static_cast<unsigned>(std::stoul(arg.substr(0, colon))),
          static_cast<unsigned>(std::stoul(arg.substr(colon + 1)))};
    } else if (kind == "rootfs") {
      std::istringstream words(rest);
      std::string f0, f1;
      words >> f0 >> f1;
      platform::linux_impl::RootFilesystem fs;
      fs.type = static_cast<std::int64_t>(std::stoll(arg, nullptr, 16));
      fs.fsid[0] = static_cast<std::uint32_t>(std::stoul(f0, nullptr, 16));
      fs.fsid[1] = static_cast<std::uint32_t>(std::stoul(f1, nullptr, 16));
      root_fs_ = fs;
    } else if (kind == "cpuid") {
      const std::string all = arg + (rest.empty() ? "" : " " + rest);
      std::vector<std::string> f;
      std::stringstream ss(all);
      for (std::string part; std::getline(ss, part, '|');) f.push_back(part);
      if (f.size() != 8) throw std::runtime_error("bad cpuid line: " + line);
      cpuid_.available = true;
      cpuid_.vendor = f[0];
      cpuid_.family = static_cast<unsigned>(std::stoul(f[1]));
      cpuid_.model = static_cast<unsigned>(std::stoul(f[2]));
      cpuid_.stepping = static_cast<unsigned>(std::stoul(f[3]));
      cpuid_.brand = f[4];
      cpuid_.leaf1_eax = static_cast<std::uint32_t>(std::stoul(f[5], nullptr, 16));
      cpuid_.leaf1_edx = static_cast<std::uint32_t>(std::stoul(f[6], nullptr, 16));
      cpuid_.hypervisor_bit = f[7] != "-";
      cpuid_.hypervisor_vendor = f[7] == "-" ? "" : f[7];
    } else {
      throw std::runtime_error("unknown manifest line: " + line);
    }
  }

  std::string root_;
  std::set<std::string> denied_;
  std::map<std::string, std::array<std::uint8_t, 6>> perm_;
  std::optional<platform::linux_impl::DeviceNumber> root_device_;
  std::optional<platform::linux_impl::RootFilesystem> root_fs_;
  platform::CpuidInfo cpuid_;
};

}  // namespace licagent::testing
