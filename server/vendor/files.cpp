// POSIX file I/O for licagent-vendor. The vendor tools run on the vendor's own machine; they
// are not part of the agent, so they talk to the OS directly instead of through platform/.
#include "server/vendor/files.h"

#include <fcntl.h>
#include <openssl/rand.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <string>
#include <system_error>

namespace licagent::vendor {
namespace {

Error ErrnoError(const std::string& context, int err) {
  ErrorCode code = ErrorCode::kIoError;
  if (err == ENOENT || err == ENOTDIR) code = ErrorCode::kNotFound;
  if (err == EACCES || err == EPERM || err == EROFS) code = ErrorCode::kPermissionDenied;
  return Error{code, context + ": " + std::generic_category().message(err), err};
}

// Closes on scope exit.
class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }
  // Closes now and reports the result (close can report a delayed write error).
  int Close() {
    const int rc = ::close(fd_);
    fd_ = -1;
    return rc;
  }

 private:
  int fd_;
};

// Reads `path` into `buffer` (capacity `capacity`); returns the byte count. Fails if the file
// holds more than `max_size` bytes.
Result<std::size_t> ReadInto(const std::string& path, std::size_t max_size, unsigned char* buffer,
                             std::size_t capacity, unsigned* mode, ErrorCode too_large_code) {
  Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY));
  if (fd.get() < 0) return ErrnoError(path, errno);
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) return ErrnoError(path, errno);
  if (!S_ISREG(st.st_mode)) {
    return Error{ErrorCode::kInvalidArgument, path + ": not a regular file"};
  }
  if (mode != nullptr) *mode = static_cast<unsigned>(st.st_mode) & 07777U;
  const auto too_large = [&] {
    return Error{too_large_code, path + ": larger than " + std::to_string(max_size) + " bytes"};
  };
  if (static_cast<std::uintmax_t>(st.st_size) > max_size) return too_large();
  std::size_t total = 0;
  for (;;) {
    if (total == capacity) return too_large();  // grew while we read it
    const ssize_t n = ::read(fd.get(), buffer + total, capacity - total);
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoError(path, errno);
    }
    if (n == 0) break;
    total += static_cast<std::size_t>(n);
  }
  if (total > max_size) return too_large();
  return total;
}

Status WriteAll(int fd, std::string_view contents, const std::string& path) {
  std::size_t done = 0;
  while (done < contents.size()) {
    const ssize_t n = ::write(fd, contents.data() + done, contents.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoError(path, errno);
    }
    done += static_cast<std::size_t>(n);
  }
  return Status::Ok();
}

std::string DirectoryOf(const std::string& path) {
  const auto slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

std::string RandomSuffix() {
  unsigned char bytes[6] = {};
  if (RAND_bytes(bytes, sizeof bytes) != 1) {
    // The name only has to be unlikely to exist; O_EXCL makes a clash an error, not a race.
    const auto pid = static_cast<unsigned long>(::getpid());
    for (std::size_t i = 0; i < sizeof bytes; ++i) {
      bytes[i] = static_cast<unsigned char>(pid >> (8 * (i % sizeof pid)));
    }
  }
  static constexpr char kHex[] = "0123456789abcdef";
  std::string s;
  for (unsigned char b : bytes) {
    s += kHex[b >> 4];
    s += kHex[b & 0xF];
  }
  return s;
}

}  // namespace

Result<std::string> ReadFile(const std::string& path, std::size_t max_size, ErrorCode too_large) {
  std::string buffer(max_size + 1, '\0');
  auto n = ReadInto(path, max_size, reinterpret_cast<unsigned char*>(buffer.data()), buffer.size(),
                    nullptr, too_large);
  if (!n) return n.error();
  buffer.resize(*n);
  return buffer;
}

Result<std::string> ReadStdin(std::size_t max_size, ErrorCode too_large) {
  std::string buffer(max_size + 1, '\0');
  std::size_t total = 0;
  while (total < buffer.size()) {
    const ssize_t n = ::read(STDIN_FILENO, buffer.data() + total, buffer.size() - total);
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoError("standard input", errno);
    }
    if (n == 0) break;
    total += static_cast<std::size_t>(n);
  }
  if (total > max_size) {
    return Error{too_large, "standard input: larger than " + std::to_string(max_size) + " bytes"};
  }
  buffer.resize(total);
  return buffer;
}

Result<SecretBytes> ReadSecretFile(const std::string& path, std::size_t max_size, unsigned* mode) {
  SecretBytes buffer(max_size + 1);
  auto n =
      ReadInto(path, max_size, buffer.data(), buffer.capacity(), mode, ErrorCode::kInvalidArgument);
  if (!n) return n.error();
  buffer.set_size(*n);
  return buffer;
}

Status CreateFileExclusive(const std::string& path, std::string_view contents, unsigned mode) {
  Fd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY,
               static_cast<mode_t>(mode)));
  if (fd.get() < 0) {
    const int err = errno;
    if (err == EEXIST) {
      return Error{ErrorCode::kInvalidArgument, path + " already exists; refusing to overwrite it",
                   err};
    }
    return ErrnoError(path, err);
  }
  Status written = WriteAll(fd.get(), contents, path);
  if (written && ::fsync(fd.get()) != 0) written = ErrnoError(path, errno);
  if (written && fd.Close() != 0) written = ErrnoError(path, errno);
  if (!written) RemoveQuietly(path);
  return written;
}

Status ReplaceFile(const std::string& path, std::string_view contents, unsigned mode) {
  const std::string dir = DirectoryOf(path);
  const std::string tmp = path + ".tmp-" + RandomSuffix();
  {
    Fd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY,
                 static_cast<mode_t>(mode)));
    if (fd.get() < 0) return ErrnoError(tmp, errno);
    Status written = WriteAll(fd.get(), contents, tmp);
    if (written && ::fsync(fd.get()) != 0) written = ErrnoError(tmp, errno);
    if (written && fd.Close() != 0) written = ErrnoError(tmp, errno);
    if (!written) {
      RemoveQuietly(tmp);
      return written;
    }
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    const int err = errno;
    RemoveQuietly(tmp);
    return ErrnoError(path, err);
  }
  Fd dir_fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (dir_fd.get() < 0 || ::fsync(dir_fd.get()) != 0) {
    // The file is in place; only its durability across a power loss is in doubt.
    return ErrnoError(dir + " (fsync after writing " + path + ")", errno);
  }
  return Status::Ok();
}

Status WriteStdout(std::string_view contents) {
  if (std::fwrite(contents.data(), 1, contents.size(), stdout) != contents.size() ||
      std::fflush(stdout) != 0) {
    return ErrnoError("standard output", errno);
  }
  return Status::Ok();
}

void RemoveQuietly(const std::string& path) noexcept { ::unlink(path.c_str()); }

}  // namespace licagent::vendor
