// POSIX file services for Linux and macOS (see file_posix.h and docs/cache.md).
#include "platform/posix/file_posix.h"

#include <dirent.h>
#include <fcntl.h>
#include <pwd.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <functional>
#include <system_error>
#include <thread>
#include <utility>
#include <vector>

#include "platform/common/temp_name.h"

namespace licagent::platform {

Error ErrnoError(std::string context, int err) {
  ErrorCode code = ErrorCode::kIoError;
  std::string message = std::move(context) + ": ";
  switch (err) {
    case ENOENT:
      code = ErrorCode::kNotFound;
      break;
    case EACCES:
    case EPERM:
    case EROFS:
      code = ErrorCode::kPermissionDenied;
      break;
    case ENOSPC:
    case EDQUOT:
      message += "disk full (";
      message += std::generic_category().message(err);
      message += ")";
      return Error{code, std::move(message), err};
    default:
      break;
  }
  message += std::generic_category().message(err);
  return Error{code, std::move(message), err};
}

namespace posix {
namespace {

namespace fs = std::filesystem;

constexpr mode_t kDirMode = 0700;
constexpr mode_t kFileMode = 0600;
// Attempts at a fresh temporary name when one exists already (a dead writer's leftover whose
// process id was reused).
constexpr int kMaxTempNameAttempts = 100;

// Owns a file descriptor.
class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }
  // Closes now and reports close()'s errno (0 on success); the destructor then does nothing.
  int Close() {
    const int rc = ::close(fd_);
    fd_ = -1;
    return rc == 0 ? 0 : errno;
  }

 private:
  int fd_;
};

int OpenRetry(const char* path, int flags, mode_t mode = 0) {
  for (;;) {
    const int fd = ::open(path, flags, mode);
    if (fd >= 0 || errno != EINTR) return fd;
  }
}

fs::path DirectoryOf(const fs::path& path) {
  fs::path dir = path.parent_path();
  return dir.empty() ? fs::path(".") : dir;
}

// Creates `dir` and its missing parents, each 0700 (whatever the umask). Existing directories
// keep their permissions.
Status CreateDirectories(const fs::path& dir) {
  struct stat st {};
  if (::stat(dir.c_str(), &st) == 0) {
    if (S_ISDIR(st.st_mode)) return Status::Ok();
    return Error{ErrorCode::kIoError, "create directory " + dir.string() + ": not a directory"};
  }
  if (errno != ENOENT) return ErrnoError("stat " + dir.string(), errno);
  const fs::path parent = dir.parent_path();
  if (!parent.empty() && parent != dir) LICAGENT_RETURN_IF_ERROR(CreateDirectories(parent));
  if (::mkdir(dir.c_str(), kDirMode) != 0) {
    if (errno == EEXIST) return CreateDirectories(dir);  // created by someone else meanwhile
    return ErrnoError("create directory " + dir.string(), errno);
  }
  if (::chmod(dir.c_str(), kDirMode) != 0) return ErrnoError("chmod " + dir.string(), errno);
  return Status::Ok();
}

// The mode of a file written in `dir`: owner read-write, plus read for the group and for others
// where the directory lets them both list and enter it (0755 → 0644, 0750 → 0640, 0700 → 0600).
// Directories the agent creates are 0700, so the user cache stays owner-only; a machine-wide
// cache that the package created 0755 shares its license, which is signed and holds no secret
// (docs/cache.md "Permissions").
mode_t FileModeIn(const fs::path& dir) {
  struct stat st {};
  if (::stat(dir.c_str(), &st) != 0) return kFileMode;
  mode_t mode = kFileMode;
  if ((st.st_mode & 0050) == 0050) mode |= 0040;
  if ((st.st_mode & 0005) == 0005) mode |= 0004;
  return mode;
}

// Flushes `fd`'s data and metadata to the device (on macOS, past the drive's cache).
int FullSync(int fd) {
#if defined(__APPLE__)
  if (::fcntl(fd, F_FULLFSYNC) == 0) return 0;  // fsync alone stops at the drive's cache
#endif
  for (;;) {
    if (::fsync(fd) == 0) return 0;
    if (errno != EINTR) return errno;
  }
}

// Makes the directory entries of `dir` (a rename, an unlink) durable.
Status SyncDirectory(const fs::path& dir) {
  Fd fd(OpenRetry(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (fd.get() < 0) return ErrnoError("open directory " + dir.string(), errno);
  const int err = FullSync(fd.get());
  // Some file systems cannot sync a directory; their renames are as durable as they get.
  if (err != 0 && err != EINVAL && err != ENOTSUP) {
    return ErrnoError("flush directory " + dir.string(), err);
  }
  return Status::Ok();
}

Status WriteAll(int fd, std::string_view data, const fs::path& path) {
  while (!data.empty()) {
    const std::size_t chunk = std::min<std::size_t>(data.size(), std::size_t{1} << 30);
    const ssize_t n = ::write(fd, data.data(), chunk);
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoError("write " + path.string(), errno);
    }
    if (n == 0) return ErrnoError("write " + path.string(), EIO);
    data.remove_prefix(static_cast<std::size_t>(n));
  }
  return Status::Ok();
}

std::uint64_t ThreadNumber() {
  return static_cast<std::uint64_t>(std::hash<std::thread::id>{}(std::this_thread::get_id()));
}

std::atomic<std::uint64_t> temp_counter{0};

class PosixFileLock final : public FileLock {
 public:
  explicit PosixFileLock(int fd) : fd_(fd) {}
  ~PosixFileLock() override { ::close(fd_); }  // closing the last descriptor releases flock

 private:
  int fd_;
};

}  // namespace

fs::path EnvPath(const char* name) {
  const char* value = std::getenv(name);
  return value == nullptr ? fs::path() : fs::path(value);
}

Result<fs::path> StateDirOverride() {
  fs::path dir = EnvPath(kStateDirEnv);
  if (!dir.empty() && !dir.is_absolute()) {
    return Error{ErrorCode::kInvalidArgument,
                 std::string(kStateDirEnv) + " must be an absolute path, not " + dir.string()};
  }
  return dir;
}

Result<fs::path> HomeDir() {
  const fs::path home = EnvPath("HOME");
  if (home.is_absolute()) return home;
  long size = ::sysconf(_SC_GETPW_R_SIZE_MAX);
  std::vector<char> buffer(size > 0 ? static_cast<std::size_t>(size) : 16384);
  for (;;) {
    struct passwd pwd {};
    struct passwd* entry = nullptr;
    const int err = ::getpwuid_r(::getuid(), &pwd, buffer.data(), buffer.size(), &entry);
    if (err == ERANGE && buffer.size() < (std::size_t{1} << 20)) {
      buffer.resize(buffer.size() * 2);
      continue;
    }
    if (err != 0) return ErrnoError("getpwuid_r", err);
    if (entry == nullptr || entry->pw_dir == nullptr || entry->pw_dir[0] != '/') {
      return Error{ErrorCode::kNotFound, "no home directory: HOME is not set and uid " +
                                             std::to_string(::getuid()) +
                                             " has no absolute home in the password database"};
    }
    return fs::path(entry->pw_dir);
  }
}

Result<std::string> ReadFile(const fs::path& path, std::size_t max_size) {
  // O_NONBLOCK: opening a FIFO planted at `path` must not hang; it is refused below.
  Fd fd(OpenRetry(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK));
  if (fd.get() < 0) return ErrnoError("open " + path.string(), errno);
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) return ErrnoError("stat " + path.string(), errno);
  const auto too_large = [&] {
    return Error{ErrorCode::kCorrupt, path.string() + ": larger than the limit of " +
                                          std::to_string(max_size) + " bytes"};
  };
  if (!S_ISREG(st.st_mode)) {
    return Error{ErrorCode::kCorrupt, path.string() + ": not a regular file"};
  }
  if (st.st_size < 0 || static_cast<std::uintmax_t>(st.st_size) > max_size) return too_large();

  std::string out;
  out.reserve(static_cast<std::size_t>(st.st_size));
  char buffer[16384];
  for (;;) {
    const ssize_t n = ::read(fd.get(), buffer, sizeof buffer);
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoError("read " + path.string(), errno);
    }
    if (n == 0) break;
    out.append(buffer, static_cast<std::size_t>(n));
    if (out.size() > max_size) return too_large();  // it grew while being read
  }
  return out;
}

Status WriteFileAtomic(const fs::path& path, std::string_view contents) {
  const fs::path name = path.filename();
  if (name.empty() || name == "." || name == "..") {
    return Error{ErrorCode::kInvalidArgument, "write " + path.string() + ": not a file name"};
  }
  const fs::path dir = DirectoryOf(path);
  LICAGENT_RETURN_IF_ERROR(CreateDirectories(dir));

  const mode_t mode = FileModeIn(dir);
  fs::path temp;
  int raw_fd = -1;
  for (int attempt = 0; raw_fd < 0; ++attempt) {
    temp = dir / TempFileName<char>(name.native(), static_cast<std::uint64_t>(::getpid()),
                                    ThreadNumber(), temp_counter.fetch_add(1));
    raw_fd = OpenRetry(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, mode);
    if (raw_fd < 0 && (errno != EEXIST || attempt + 1 >= kMaxTempNameAttempts)) {
      return ErrnoError("create " + temp.string(), errno);
    }
  }
  Fd fd(raw_fd);

  Status status = Status::Ok();
  if (::fchmod(fd.get(), mode) != 0) status = ErrnoError("chmod " + temp.string(), errno);
  if (status) status = WriteAll(fd.get(), contents, temp);
  if (status) {
    if (const int err = FullSync(fd.get()); err != 0) {
      status = ErrnoError("flush " + temp.string(), err);
    }
  }
  if (const int err = fd.Close(); status && err != 0) {
    status = ErrnoError("close " + temp.string(), err);
  }
  if (status && ::rename(temp.c_str(), path.c_str()) != 0) {
    status = ErrnoError("rename " + temp.string() + " to " + path.string(), errno);
  }
  if (!status) {
    ::unlink(temp.c_str());
    return status;
  }
  // The new contents are in place; this makes the rename itself survive a power loss.
  return SyncDirectory(dir);
}

Status RemoveFile(const fs::path& path) {
  if (::unlink(path.c_str()) != 0) {
    if (errno == ENOENT) return Status::Ok();
    return ErrnoError("remove " + path.string(), errno);
  }
  return SyncDirectory(DirectoryOf(path));
}

Result<std::size_t> RemoveStaleTempFiles(const fs::path& target, std::int64_t min_age_seconds) {
  const fs::path dir = DirectoryOf(target);
  const std::string name = target.filename().native();
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) {
    if (errno == ENOENT) return std::size_t{0};
    return ErrnoError("open directory " + dir.string(), errno);
  }
  const std::int64_t now = Now();
  std::size_t removed = 0;
  std::vector<std::string> stale;
  while (const dirent* e = ::readdir(d)) {
    if (!IsTempFileNameFor<char>(e->d_name, name)) continue;
    struct stat st {};
    if (::fstatat(::dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0) continue;  // gone
    if (!S_ISREG(st.st_mode) || now - static_cast<std::int64_t>(st.st_mtime) < min_age_seconds) {
      continue;
    }
    stale.emplace_back(e->d_name);
  }
  Status status = Status::Ok();
  for (const std::string& s : stale) {
    if (::unlinkat(::dirfd(d), s.c_str(), 0) == 0) {
      ++removed;
    } else if (errno != ENOENT && status) {  // ENOENT: another sweeper was first
      status = ErrnoError("remove " + (dir / s).string(), errno);
    }
  }
  ::closedir(d);
  if (!status) return status.error();
  return removed;
}

Result<std::unique_ptr<FileLock>> LockExclusive(const fs::path& lock_file) {
  LICAGENT_RETURN_IF_ERROR(CreateDirectories(DirectoryOf(lock_file)));
  const int fd = OpenRetry(lock_file.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, kFileMode);
  if (fd < 0) return ErrnoError("open lock file " + lock_file.string(), errno);
  auto lock = std::make_unique<PosixFileLock>(fd);  // owns fd from here on
  while (::flock(fd, LOCK_EX) != 0) {
    if (errno != EINTR) return ErrnoError("lock " + lock_file.string(), errno);
  }
  return std::unique_ptr<FileLock>(std::move(lock));
}

std::int64_t Now() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace posix
}  // namespace licagent::platform
