// The local license cache (docs/cache.md): the installed license text and the clock
// high-water mark, in one directory, written atomically and owner-only through the Platform.
// The store keeps opaque text; parsing and verification are agent/license.cpp's.
//
//   <dir>/license.lic   the installed license, exactly as given (≤ kMaxLicenseSize bytes)
//   <dir>/clock.mark    the latest trusted time seen: Unix seconds in decimal, then "\n"
//   <dir>/.lock         the writers' lock file (empty)
//   <dir>/request.pending  the nonce and time of the last offline request not yet answered
//   <dir>/refresh.stamp    when the last background refresh was started (Unix seconds, "\n")
//
// Writers (Install, Remove, RaiseClockMark) hold an exclusive lock on .lock for their whole
// read-modify-write, so concurrent writers in any process never interleave. Readers (Read,
// ClockMark) never lock: atomic replacement already gives them the old or the new file whole.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

#include "licagent/result.h"
#include "platform/platform.h"

namespace licagent {

class LicenseStore {
 public:
  static constexpr std::string_view kLicenseFile = "license.lic";
  static constexpr std::string_view kClockMarkFile = "clock.mark";
  static constexpr std::string_view kLockFile = ".lock";
  static constexpr std::string_view kPendingRequestFile = "request.pending";
  static constexpr std::string_view kRefreshStampFile = "refresh.stamp";
  // The largest small state file (pending request, refresh stamp) accepted.
  static constexpr std::size_t kMaxSmallFileSize = 256;
  // The largest clock.mark accepted (20 digits and a newline fit; anything larger is corrupt).
  static constexpr std::size_t kMaxClockMarkSize = 32;
  // Temporary files left by a writer that died mid-write are removed by the next writer of the
  // same file once they are this old. A live writer finishes in far less; the age keeps a
  // writer that does not take the lock (an older agent) safe from the sweep.
  static constexpr std::int64_t kStaleTempAgeSeconds = 60;

  // `dir` is not touched until the first write, which creates it (0700). `platform` must
  // outlive the store. Cheap to copy; copies share the files, not any state.
  LicenseStore(platform::Platform& platform, std::filesystem::path dir);

  // Stores `license_text` as the license, replacing any previous one atomically. The text is
  // opaque here (verify it before installing). Empty or larger than kMaxLicenseSize →
  // kInvalidArgument, and nothing is written.
  Status Install(std::string_view license_text);

  // The installed license text. kNotFound when none is installed; kCorrupt when the file is
  // larger than kMaxLicenseSize or not a regular file. Never waits for a writer.
  Result<std::string> Read();

  // Removes the installed license; no license is success. The clock mark stays (removing and
  // reinstalling must not reset rollback detection).
  Status Remove();

  // The clock high-water mark. kNotFound when none has been recorded; kCorrupt when the file is
  // not exactly decimal digits and a newline (it is never reset silently: a deleted or damaged
  // mark is for the caller to judge). Never waits for a writer.
  Result<std::int64_t> ClockMark();

  // Raises the mark to `t` if `t` is later; never lowers it. Negative `t` → kInvalidArgument.
  // A corrupt existing mark → kCorrupt, and it is left as it is.
  Status RaiseClockMark(std::int64_t t);

  // The small state files beside the license (kPendingRequestFile, kRefreshStampFile): read
  // without a lock, written atomically and removed under the writers' lock. Reading a missing
  // file is kNotFound; one larger than kMaxSmallFileSize is kCorrupt.
  Result<std::string> ReadSmallFile(std::string_view name);
  Status WriteSmallFile(std::string_view name, std::string_view contents);
  Status RemoveSmallFile(std::string_view name);

  std::filesystem::path dir() const { return dir_; }

 private:
  std::filesystem::path Path(std::string_view name) const { return dir_ / name; }
  // Best effort: removes a dead writer's temporary files of `name` (docs/cache.md).
  void SweepTempFiles(std::string_view name);

  platform::Platform* platform_;  // not owned; a pointer so that stores can be reassigned
  std::filesystem::path dir_;
};

// The store directory of `scope`: the platform's licagent state directory (docs/cache.md).
Result<std::filesystem::path> DefaultStoreDir(platform::Platform& platform,
                                              platform::StateScope scope);

// Parses clock.mark contents: 1 to 19 decimal digits, no sign or leading zero (except "0"),
// then exactly one "\n". kCorrupt otherwise.
Result<std::int64_t> ParseClockMark(std::string_view text);
std::string FormatClockMark(std::int64_t t);

}  // namespace licagent
