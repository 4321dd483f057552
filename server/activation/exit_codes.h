// licagent-server's exit codes, documented in docs/server.md. Scripts depend on these numbers:
// never renumber, only add. 2, 3 and 70 mean what they mean for licagent and licagent-vendor.
#pragma once

#include "licagent/result.h"

namespace licagent::server {

enum ExitCode : int {
  kExitOk = 0,
  kExitUsage = 2,      // bad command line or configuration file
  kExitSystem = 3,     // a file, the store or the listen address failed
  kExitNotFound = 5,   // no credential or seat with that id
  kExitInternal = 70,  // a bug (EX_SOFTWARE)
};

constexpr ExitCode ExitCodeFor(ErrorCode code) {
  switch (code) {  // no default: -Wswitch flags a new ErrorCode
    case ErrorCode::kInvalidArgument:
    case ErrorCode::kMalformedIdentifier:
      return kExitUsage;
    case ErrorCode::kNotFound:
    case ErrorCode::kPermissionDenied:
    case ErrorCode::kIoError:
    case ErrorCode::kUnsupported:
    case ErrorCode::kCorrupt:
    case ErrorCode::kBadSignature:
    case ErrorCode::kUnavailable:
    case ErrorCode::kUntrusted:
    case ErrorCode::kRejected:
      return kExitSystem;
    case ErrorCode::kInternal:
      return kExitInternal;
  }
  return kExitInternal;
}

}  // namespace licagent::server
