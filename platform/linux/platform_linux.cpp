// Platform for Linux: identity from collect_linux.cpp, topology from hwloc, files and the state
// directory from the POSIX code shared with macOS (platform/posix/file_posix.h).
#include "platform/common/topology_hwloc.h"
#include "platform/linux/collect_linux.h"
#include "platform/platform.h"
#include "platform/posix/file_posix.h"

namespace licagent::platform {
namespace {

namespace fs = std::filesystem;

class LinuxPlatform final : public Platform {
 public:
  Result<RawIdentity> CollectIdentity() override { return linux_impl::Collect(sources_); }
  Result<Topology> LoadTopology() override { return LoadHwlocTopology(); }

  // User: $XDG_STATE_HOME/licagent (an absolute value only, as the XDG spec says), else
  // ~/.local/state/licagent. System: /var/lib/licagent (FHS). kStateDirEnv wins for both.
  Result<fs::path> StateDir(StateScope scope) override {
    auto override_dir = posix::StateDirOverride();
    if (!override_dir || !override_dir->empty()) return override_dir;
    if (scope == StateScope::kSystem) return fs::path("/var/lib/licagent");
    const fs::path xdg = posix::EnvPath("XDG_STATE_HOME");
    if (xdg.is_absolute()) return xdg / "licagent";
    auto home = posix::HomeDir();
    if (!home) return home.error();
    return *home / ".local" / "state" / "licagent";
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

 private:
  const linux_impl::LinuxSources sources_ = linux_impl::RealSources();
};

}  // namespace

Platform& Platform::Default() {
  static LinuxPlatform platform;
  return platform;
}

}  // namespace licagent::platform
