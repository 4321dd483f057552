// File input and output for the vendor tools (POSIX): bounded reads, key files created
// exclusively, outputs replaced atomically. OS errors become licagent::Error values here.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "licagent/result.h"
#include "server/vendor/secret_bytes.h"

namespace licagent::vendor {

// Reads a whole regular file of at most `max_size` bytes. Errors: kNotFound,
// kPermissionDenied, kIoError (the path in the message); kInvalidArgument if it is not a
// regular file; `too_large` if it is larger than `max_size`.
Result<std::string> ReadFile(const std::string& path, std::size_t max_size,
                             ErrorCode too_large = ErrorCode::kInvalidArgument);

// Reads standard input to its end, at most `max_size` bytes (else `too_large`). kIoError if
// the read fails.
Result<std::string> ReadStdin(std::size_t max_size, ErrorCode too_large);

// ReadFile into wiped memory, for private keys. `mode`, if not null, receives the file's
// permission bits (e.g. 0600).
Result<SecretBytes> ReadSecretFile(const std::string& path, std::size_t max_size,
                                   unsigned* mode = nullptr);

// Creates `path` with permission bits `mode` (before the umask), writes `contents` and
// fsyncs. If anything (file, directory, dangling symlink) is already at `path` it fails with
// kInvalidArgument "PATH already exists; refusing to overwrite it" and touches nothing; it
// never follows a symlink. Other errors as ReadFile; a partly written file is removed.
Status CreateFileExclusive(const std::string& path, std::string_view contents, unsigned mode);

// Replaces `path` atomically: writes a temporary file beside it (created exclusively), fsyncs
// it, renames it over `path` and fsyncs the directory. Readers see the old or the new file,
// never a part. The temporary file is removed on failure.
Status ReplaceFile(const std::string& path, std::string_view contents, unsigned mode);

// Writes `contents` to standard output and flushes. kIoError if the write fails (a closed
// pipe, a full disk).
Status WriteStdout(std::string_view contents);

// Removes `path`; errors are ignored (clean-up after a failure).
void RemoveQuietly(const std::string& path) noexcept;

}  // namespace licagent::vendor
