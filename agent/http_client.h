// One HTTPS POST. Linux and macOS: agent/http_client.cpp, through libcurl, which is loaded on
// first use with platform::LoadSymbol so that a process that never goes online never maps it
// (docs/performance.md). Windows: platform/windows/https_windows.cpp, through WinHTTP
// (docs/windows.md). Internal to agent/ and those two; the retry policy is agent/online.cpp's.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "licagent/online.h"
#include "licagent/result.h"

namespace licagent::http {

struct Response {
  long status = 0;
  std::string body;  // at most protocol::kMaxAnswerBody bytes
  // The Retry-After header in seconds (either form), when the server sent one.
  std::optional<std::int64_t> retry_after_seconds;
};

// A failed exchange: the error, and whether trying again may help (connection trouble, a
// timeout), as opposed to a TLS verification failure, a bad URL or an oversize answer.
struct Failure {
  Error error;
  bool transient = false;
};

// The outcome of one exchange: a Response (any HTTP status) or a Failure.
struct Outcome {
  std::optional<Response> response;
  Failure failure;
};

// POSTs `body` as application/json to `url` (https only) with `config`'s TLS, pin, proxy and
// connect timeout, taking at most `timeout_ms` in all. Never follows redirects. Errors:
// kUnavailable (network, proxy, timeout, an answer larger than the cap), kUntrusted (the
// server's certificate or pinned key), kInvalidArgument (URL, CA bundle path, pin syntax),
// kUnsupported (libcurl missing or too old; a proxy WinHTTP cannot use).
Outcome Post(const OnlineConfig& config, const std::string& url, std::string_view body,
             std::int64_t timeout_ms);

}  // namespace licagent::http
