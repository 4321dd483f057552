#include "server/activation/access_log.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <ctime>
#include <nlohmann/json.hpp>
#include <system_error>

namespace licagent::server {
namespace {

// "2026-11-24T10:00:00.123Z"
std::string NowText() {
  const auto now = std::chrono::system_clock::now();
  const auto ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count();
  const std::time_t secs = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[96];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                static_cast<int>(ms % 1000));
  return buf;
}

}  // namespace

AccessLog::~AccessLog() {
  if (file_ != nullptr) {
    std::fflush(file_);
    if (owned_) std::fclose(file_);
  }
}

Status AccessLog::Open(const std::string& target) {
  if (target.empty()) return Status::Ok();
  if (target == "-") {
    file_ = stdout;
    return Status::Ok();
  }
  const int fd =
      ::open(target.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) {
    const int err = errno;
    ErrorCode code = ErrorCode::kIoError;
    if (err == ENOENT) code = ErrorCode::kNotFound;
    if (err == EACCES || err == EPERM) code = ErrorCode::kPermissionDenied;
    return Error{code, target + ": " + std::generic_category().message(err), err};
  }
  file_ = ::fdopen(fd, "a");
  if (file_ == nullptr) {
    ::close(fd);
    return Error{ErrorCode::kIoError, target + ": fdopen failed"};
  }
  owned_ = true;
  return Status::Ok();
}

void AccessLog::Write(const AccessRecord& r) {
  if (file_ == nullptr) return;
  nlohmann::json j = {
      {"time", NowText()},
      {"remote", r.remote_address},
      {"method", r.method},
      {"path", r.path},
      {"status", r.status},
      {"duration_ms", static_cast<double>(static_cast<long long>(r.duration_ms * 1000)) / 1000}};
  if (!r.error_code.empty()) j["error"] = r.error_code;
  if (!r.credential_id.empty()) j["credential_id"] = r.credential_id;
  if (!r.license_id.empty()) j["license_id"] = r.license_id;
  // Paths come from clients: replace invalid UTF-8 instead of throwing.
  const std::string line = j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
  std::lock_guard<std::mutex> lock(mu_);
  std::fwrite(line.data(), 1, line.size(), file_);
  std::fflush(file_);
}

}  // namespace licagent::server
