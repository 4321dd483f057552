// The local license cache (see license_store.h and docs/cache.md).
#include "agent/license_store.h"

#include <limits>
#include <memory>
#include <utility>

#include "licagent/license.h"

namespace licagent {

LicenseStore::LicenseStore(platform::Platform& platform, std::filesystem::path dir)
    : platform_(&platform), dir_(std::move(dir)) {}

Status LicenseStore::Install(std::string_view license_text) {
  if (license_text.empty()) {
    return Error{ErrorCode::kInvalidArgument, "license text is empty"};
  }
  if (license_text.size() > kMaxLicenseSize) {
    return Error{ErrorCode::kInvalidArgument,
                 "license text is " + std::to_string(license_text.size()) +
                     " bytes, more than the limit of " + std::to_string(kMaxLicenseSize)};
  }
  auto lock = platform_->LockExclusive(Path(kLockFile));
  if (!lock) return lock.error();
  SweepTempFiles(kLicenseFile);
  return platform_->WriteFileAtomic(Path(kLicenseFile), license_text);
}

Result<std::string> LicenseStore::Read() {
  return platform_->ReadFile(Path(kLicenseFile), kMaxLicenseSize);
}

Status LicenseStore::Remove() {
  auto lock = platform_->LockExclusive(Path(kLockFile));
  if (!lock) return lock.error();
  SweepTempFiles(kLicenseFile);
  return platform_->RemoveFile(Path(kLicenseFile));
}

Result<std::int64_t> LicenseStore::ClockMark() {
  const std::filesystem::path path = Path(kClockMarkFile);
  auto text = platform_->ReadFile(path, kMaxClockMarkSize);
  if (!text) return text.error();
  auto mark = ParseClockMark(*text);
  if (!mark) return Error{ErrorCode::kCorrupt, path.string() + ": " + mark.error().message};
  return mark;
}

Status LicenseStore::RaiseClockMark(std::int64_t t) {
  if (t < 0) {
    return Error{ErrorCode::kInvalidArgument,
                 "clock mark must not be negative: " + std::to_string(t)};
  }
  auto lock = platform_->LockExclusive(Path(kLockFile));
  if (!lock) return lock.error();
  auto current = ClockMark();
  if (current && *current >= t) return Status::Ok();
  if (!current && current.error().code != ErrorCode::kNotFound) return current.error();
  SweepTempFiles(kClockMarkFile);
  return platform_->WriteFileAtomic(Path(kClockMarkFile), FormatClockMark(t));
}

Result<std::string> LicenseStore::ReadSmallFile(std::string_view name) {
  return platform_->ReadFile(Path(name), kMaxSmallFileSize);
}

Status LicenseStore::WriteSmallFile(std::string_view name, std::string_view contents) {
  if (contents.size() > kMaxSmallFileSize) {
    return Error{ErrorCode::kInvalidArgument, std::string(name) + " contents are too large"};
  }
  auto lock = platform_->LockExclusive(Path(kLockFile));
  if (!lock) return lock.error();
  SweepTempFiles(name);
  return platform_->WriteFileAtomic(Path(name), contents);
}

Status LicenseStore::RemoveSmallFile(std::string_view name) {
  auto lock = platform_->LockExclusive(Path(kLockFile));
  if (!lock) return lock.error();
  return platform_->RemoveFile(Path(name));
}

void LicenseStore::SweepTempFiles(std::string_view name) {
  // A failed sweep costs disk space only, never correctness: leftovers are never read.
  (void)platform_->RemoveStaleTempFiles(Path(name), kStaleTempAgeSeconds);
}

Result<std::filesystem::path> DefaultStoreDir(platform::Platform& platform,
                                              platform::StateScope scope) {
  return platform.StateDir(scope);
}

Result<std::int64_t> ParseClockMark(std::string_view text) {
  const auto corrupt = [](std::string what) {
    return Error{ErrorCode::kCorrupt, "clock mark " + std::move(what)};
  };
  if (text.empty() || text.back() != '\n') return corrupt("does not end in a newline");
  text.remove_suffix(1);
  if (text.empty()) return corrupt("is empty");
  if (text.size() > 19) return corrupt("has too many digits");
  if (text.size() > 1 && text[0] == '0') return corrupt("has a leading zero");
  std::uint64_t value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return corrupt("is not a decimal number");
    value = value * 10 + static_cast<std::uint64_t>(c - '0');
  }
  if (value > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
    return corrupt("is out of range");
  }
  return static_cast<std::int64_t>(value);
}

std::string FormatClockMark(std::int64_t t) { return std::to_string(t) + "\n"; }

}  // namespace licagent
