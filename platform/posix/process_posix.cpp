// platform::ConfigDir, CurrentExecutable and SpawnDetached for Linux and macOS.
#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <string>
#include <thread>
#include <vector>

#if defined(__APPLE__)
#include <mach-o/dyld.h>
#endif

#include "platform/platform.h"
#include "platform/posix/file_posix.h"

extern char** environ;  // NOLINT: POSIX declares it nowhere else

namespace licagent::platform {

namespace fs = std::filesystem;

Result<fs::path> ConfigDir(StateScope scope) {
#if defined(__APPLE__)
  if (scope == StateScope::kSystem) return fs::path("/Library/Application Support/licagent");
  auto home = posix::HomeDir();
  if (!home) return home.error();
  return *home / "Library" / "Application Support" / "licagent";
#else
  if (scope == StateScope::kSystem) return fs::path("/etc/licagent");
  const fs::path xdg = posix::EnvPath("XDG_CONFIG_HOME");
  if (xdg.is_absolute()) return xdg / "licagent";
  auto home = posix::HomeDir();
  if (!home) return home.error();
  return *home / ".config" / "licagent";
#endif
}

Result<fs::path> CurrentExecutable() {
#if defined(__APPLE__)
  std::uint32_t size = 0;
  (void)_NSGetExecutablePath(nullptr, &size);
  std::string buffer(size, '\0');
  if (_NSGetExecutablePath(buffer.data(), &size) != 0) {
    return Error{ErrorCode::kInternal, "_NSGetExecutablePath failed"};
  }
  buffer.resize(buffer.find('\0'));
  std::error_code ec;
  fs::path path = fs::canonical(buffer, ec);
  if (ec) return Error{ErrorCode::kIoError, "canonical " + buffer + ": " + ec.message()};
  return path;
#else
  std::error_code ec;
  fs::path path = fs::read_symlink("/proc/self/exe", ec);
  if (ec) return ErrnoError("readlink /proc/self/exe", ec.value());
  return path;
#endif
}

namespace {

// posix_spawn's attributes and file actions, destroyed on every path.
struct SpawnSetup {
  posix_spawnattr_t attr;
  posix_spawn_file_actions_t actions;
  bool attr_ok = false;
  bool actions_ok = false;
  ~SpawnSetup() {
    if (attr_ok) posix_spawnattr_destroy(&attr);
    if (actions_ok) posix_spawn_file_actions_destroy(&actions);
  }
};

}  // namespace

Status SpawnDetached(const std::vector<std::string>& argv) {
  if (argv.empty() || argv[0].empty() || argv[0][0] != '/') {
    return Error{ErrorCode::kInvalidArgument, "SpawnDetached needs an absolute program path"};
  }
  SpawnSetup s;
  int err = posix_spawnattr_init(&s.attr);
  if (err != 0) return ErrnoError("posix_spawnattr_init", err);
  s.attr_ok = true;
  err = posix_spawn_file_actions_init(&s.actions);
  if (err != 0) return ErrnoError("posix_spawn_file_actions_init", err);
  s.actions_ok = true;

  // A new session: the child outlives this process and no terminal signal (Ctrl-C, hang-up)
  // of ours reaches it. Default signal dispositions and an empty mask, whatever ours are.
  short flags = POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF;
#if defined(POSIX_SPAWN_SETSID)
  flags |= POSIX_SPAWN_SETSID;
#else
  flags |= POSIX_SPAWN_SETPGROUP;  // older libcs: at least its own process group
#endif
  err = posix_spawnattr_setflags(&s.attr, flags);
  if (err != 0) return ErrnoError("posix_spawnattr_setflags", err);
  sigset_t empty;
  sigemptyset(&empty);
  (void)posix_spawnattr_setsigmask(&s.attr, &empty);
  sigset_t defaults;
  sigemptyset(&defaults);
  sigaddset(&defaults, SIGPIPE);
  sigaddset(&defaults, SIGHUP);
  sigaddset(&defaults, SIGINT);
  sigaddset(&defaults, SIGTERM);
  (void)posix_spawnattr_setsigdefault(&s.attr, &defaults);

  for (int fd : {0, 1, 2}) {
    err = posix_spawn_file_actions_addopen(&s.actions, fd, "/dev/null",
                                           fd == 0 ? O_RDONLY : O_WRONLY, 0);
    if (err != 0) return ErrnoError("posix_spawn_file_actions_addopen", err);
  }
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 34))
  (void)posix_spawn_file_actions_addclosefrom_np(&s.actions, 3);
#endif

  std::vector<char*> args;
  args.reserve(argv.size() + 1);
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = 0;
  err = posix_spawn(&pid, argv[0].c_str(), &s.actions, &s.attr, args.data(), environ);
  if (err != 0) return ErrnoError("posix_spawn " + argv[0], err);

  // Reap the child when it ends, so that a long-running caller keeps no zombie.
  std::thread([pid] {
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
  }).detach();
  return Status::Ok();
}

}  // namespace licagent::platform
