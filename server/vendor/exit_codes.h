// licagent-vendor's exit codes, documented in docs/vendor.md. They use the numbers of the
// agent's CLI (agent/cli/exit_codes.h) for the same meanings, so one script can handle both
// tools; the static_asserts below keep the two in step. Never renumber, only add.
#pragma once

#include "agent/cli/exit_codes.h"
#include "licagent/result.h"

namespace licagent::vendor {

enum ExitCode : int {
  kExitOk = 0,
  kExitUsage = 2,                // bad command line or unusable input (key, request, payload)
  kExitSystem = 3,               // I/O or permission error
  kExitMalformedIdentifier = 4,  // a HW1 identifier that does not decode
  kExitLicenseInvalid = 11,      // inspect: malformed file or signature does not verify
  kExitInternal = 70,            // a bug (EX_SOFTWARE)
};

static_assert(kExitUsage == static_cast<int>(cli::kExitUsage));
static_assert(kExitSystem == static_cast<int>(cli::kExitSystem));
static_assert(kExitMalformedIdentifier == static_cast<int>(cli::kExitMalformedIdentifier));
static_assert(kExitLicenseInvalid == static_cast<int>(cli::kExitLicenseInvalid));
static_assert(kExitInternal == static_cast<int>(cli::kExitInternal));

constexpr ExitCode ExitCodeFor(ErrorCode code) {
  switch (code) {  // no default: -Wswitch flags a new ErrorCode
    case ErrorCode::kInvalidArgument:
      return kExitUsage;
    case ErrorCode::kMalformedIdentifier:
      return kExitMalformedIdentifier;
    case ErrorCode::kNotFound:
    case ErrorCode::kPermissionDenied:
    case ErrorCode::kIoError:
    case ErrorCode::kUnsupported:
      return kExitSystem;
    case ErrorCode::kCorrupt:
    case ErrorCode::kBadSignature:
      return kExitLicenseInvalid;
    case ErrorCode::kUnavailable:
    case ErrorCode::kUntrusted:
    case ErrorCode::kRejected:  // the vendor tools talk to no server
    case ErrorCode::kInternal:
      return kExitInternal;
  }
  return kExitInternal;
}

}  // namespace licagent::vendor
