// The access log: one JSON object a line per request (docs/server.md "Access log"). It never
// holds a license key. Thread-safe.
#pragma once

#include <cstdio>
#include <mutex>
#include <string>

#include "licagent/result.h"

namespace licagent::server {

struct AccessRecord {
  std::string remote_address;
  std::string method;
  std::string path;
  int status = 0;
  std::string error_code;
  double duration_ms = 0;
  std::string credential_id;
  std::string license_id;
};

class AccessLog {
 public:
  AccessLog() = default;
  ~AccessLog();
  AccessLog(const AccessLog&) = delete;
  AccessLog& operator=(const AccessLog&) = delete;

  // `target`: a file (appended to, created 0600), "-" for standard output, "" for no log.
  // kNotFound/kPermissionDenied/kIoError if the file cannot be opened.
  Status Open(const std::string& target);
  void Write(const AccessRecord& record);

 private:
  std::mutex mu_;
  std::FILE* file_ = nullptr;
  bool owned_ = false;
};

}  // namespace licagent::server
