// Errors as values: every fallible call in licagent returns Status or Result<T>.
// The library never throws across its API; the CLI maps ErrorCode to exit codes in one place.
#pragma once

#include <cassert>
#include <string>
#include <utility>
#include <variant>

namespace licagent {

// A small closed set that says what the caller can do about a failure. Context (a path, a
// slot name, a key id) goes in Error::message, never in new codes.
enum class ErrorCode {
  kInvalidArgument,      // the caller passed something unusable
  kMalformedIdentifier,  // a hardware identifier text does not decode (typo, length, version)
  kNotFound,             // a file or value is not there
  kPermissionDenied,     // the OS refused access
  kIoError,              // the OS failed a read or write
  kCorrupt,              // present but does not parse
  kBadSignature,         // parses, but no trusted key verifies it
  kUnsupported,          // not available on this OS or build
  kInternal,             // a bug
  // Talking to the vendor's server (docs/protocol.md "Errors").
  kUnavailable,  // the server could not be reached or failed (network, proxy, timeout, 5xx,
                 // rate limit, a malformed reply): try again later; nothing changed locally
  kUntrusted,    // the server's identity or answer failed verification (TLS certificate, pinned
                 // key, license signature, echoed nonce): a configuration or security problem
  kRejected,     // the server answered and refused; Error::remote_code says why
};

// Stable lower-case name of a code, for logs and JSON ("malformed_identifier").
const char* ToString(ErrorCode code) noexcept;

struct Error {
  ErrorCode code = ErrorCode::kInternal;
  std::string message;  // for humans and logs; never parsed by code, never holds secrets
  int os_error = 0;     // errno or GetLastError(), 0 if none
  // kRejected (and kUnavailable when the server said so): the server's error code, e.g.
  // "seat_limit" (docs/protocol.md "Error codes"). Empty otherwise.
  std::string remote_code = {};
};

// A value or an Error. Accessor names follow C++23 std::expected, so moving to it later only
// touches the lines that build errors.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}      // NOLINT: implicit on purpose
  Result(Error error) : v_(std::move(error)) {}  // NOLINT: implicit on purpose

  bool has_value() const noexcept { return v_.index() == 0; }
  explicit operator bool() const noexcept { return has_value(); }

  T& value() & {
    assert(has_value());
    return std::get<0>(v_);
  }
  const T& value() const& {
    assert(has_value());
    return std::get<0>(v_);
  }
  T&& value() && {
    assert(has_value());
    return std::get<0>(std::move(v_));
  }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

  const Error& error() const {
    assert(!has_value());
    return std::get<1>(v_);
  }

 private:
  std::variant<T, Error> v_;
};

// Success or an Error: Result without a value.
class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(Error error) : error_(std::move(error)), ok_(false) {}  // NOLINT: implicit on purpose
  static Status Ok() { return Status(); }

  bool has_value() const noexcept { return ok_; }
  explicit operator bool() const noexcept { return ok_; }
  const Error& error() const {
    assert(!ok_);
    return error_;
  }

 private:
  Error error_;
  bool ok_ = true;
};

}  // namespace licagent

// Returns the error of a failed Status/Result expression from the enclosing function.
#define LICAGENT_RETURN_IF_ERROR(expr)            \
  do {                                            \
    auto licagent_r_ = (expr);                    \
    if (!licagent_r_) return licagent_r_.error(); \
  } while (false)
