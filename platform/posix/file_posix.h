// POSIX file services shared by the Linux and macOS platform layers (docs/cache.md), and the
// one translation of errno values into licagent::Error. LinuxPlatform and MacPlatform delegate
// their file methods here; nothing outside platform/ sees errno.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>

#include "licagent/result.h"
#include "platform/platform.h"

namespace licagent::platform {

// Maps an errno value to an Error: ENOENT → kNotFound; EACCES, EPERM, EROFS →
// kPermissionDenied; anything else → kIoError (ENOSPC and EDQUOT say "disk full"). The message
// is `context`, then the system's text for `err`; os_error is `err`.
Error ErrnoError(std::string context, int err);

}  // namespace licagent::platform

namespace licagent::platform::posix {

// The value of environment variable `name` as a path; empty when unset or empty.
std::filesystem::path EnvPath(const char* name);

// The kStateDirEnv override: the path when set, an empty path when unset, kInvalidArgument
// when it is relative.
Result<std::filesystem::path> StateDirOverride();

// The user's home directory: $HOME when it is absolute, else the password database entry of
// the real user id (getpwuid_r). kNotFound when neither gives one.
Result<std::filesystem::path> HomeDir();

// The Platform file methods (see platform.h for their contracts).
Result<std::string> ReadFile(const std::filesystem::path& path, std::size_t max_size);
Status WriteFileAtomic(const std::filesystem::path& path, std::string_view contents);
Status RemoveFile(const std::filesystem::path& path);
Result<std::size_t> RemoveStaleTempFiles(const std::filesystem::path& target,
                                         std::int64_t min_age_seconds);
Result<std::unique_ptr<FileLock>> LockExclusive(const std::filesystem::path& lock_file);
std::int64_t Now();

}  // namespace licagent::platform::posix
