// The licagent command's exit codes: documented in README.md ("Exit codes") and docs/cli.md.
// Installers and scripts depend on these numbers: never renumber, only add.
#pragma once

#include "licagent/result.h"

namespace licagent::cli {

enum ExitCode : int {
  kExitOk = 0,
  kExitUsage = 2,                // bad command line
  kExitSystem = 3,               // environment or system error (I/O, permissions, unsupported)
  kExitMalformedIdentifier = 4,  // a HW1 identifier that does not decode
  kExitNoLicense = 10,           // reserved for `check`: nothing installed
  kExitLicenseInvalid = 11,      // reserved for `check`: tampered, corrupt, wrong key/product
  kExitExpired = 12,             // reserved for `check`
  kExitFrozen = 13,              // reserved for `check`: frozen or released
  kExitWrongMachine = 14,        // the identifier does not match this machine
  kExitClockTampered = 15,       // reserved for `check`
  kExitEntitlement = 16,         // reserved for `check`: feature or core limit
  kExitInternal = 70,            // a bug (EX_SOFTWARE)
};

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
    case ErrorCode::kInternal:
      return kExitInternal;
  }
  return kExitInternal;
}

}  // namespace licagent::cli
