// The licagent command's exit codes: documented in README.md ("Exit codes") and docs/cli.md.
// Installers and scripts depend on these numbers: never renumber, only add.
#pragma once

#include <string_view>

#include "licagent/check.h"
#include "licagent/result.h"

namespace licagent::cli {

enum ExitCode : int {
  kExitOk = 0,
  kExitUsage = 2,                // bad command line
  kExitSystem = 3,               // environment or system error (I/O, permissions, unsupported)
  kExitMalformedIdentifier = 4,  // a HW1 identifier that does not decode
  kExitNoLicense = 10,           // no license installed
  kExitLicenseInvalid = 11,      // tampered, corrupt, unknown key, another product
  kExitExpired = 12,             // outside its validity: expired, not yet valid, refresh overdue
  kExitFrozen = 13,              // frozen or released
  kExitWrongMachine = 14,        // bound to (or an identifier of) another machine
  kExitClockTampered = 15,       // the clock was set back
  kExitEntitlement = 16,         // a requested feature, or the core/socket limit
  kExitUnavailable = 20,         // the server could not be reached or failed: try again later
  kExitUntrusted = 21,           // the server's certificate, pinned key or answer did not verify
  kExitRefused = 22,             // the server refused the credential (unknown, wrong product...)
  kExitSeatLimit = 23,           // every seat of the credential is in use
  kExitInternal = 70,            // a bug (EX_SOFTWARE)
};

// A server refusal (ErrorCode::kRejected) by its docs/protocol.md code: license states share
// the exit codes of the same verdicts from a local check.
ExitCode ExitCodeForRemote(std::string_view remote_code);

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
    case ErrorCode::kUnavailable:
      return kExitUnavailable;
    case ErrorCode::kUntrusted:
      return kExitUntrusted;
    case ErrorCode::kRejected:
      return kExitRefused;
  }
  return kExitInternal;
}

// The exit code of any error: refusals by their server code, the rest by ErrorCode.
inline ExitCode ExitCodeFor(const Error& error) {
  return error.code == ErrorCode::kRejected ? ExitCodeForRemote(error.remote_code)
                                            : ExitCodeFor(error.code);
}

constexpr ExitCode ExitCodeFor(Verdict verdict) {
  switch (verdict) {  // no default: -Wswitch flags a new Verdict
    case Verdict::kValid:
      return kExitOk;
    case Verdict::kNoLicense:
      return kExitNoLicense;
    case Verdict::kInvalid:
      return kExitLicenseInvalid;
    case Verdict::kNotYetValid:
    case Verdict::kExpired:
    case Verdict::kRefreshOverdue:
      return kExitExpired;
    case Verdict::kFrozen:
    case Verdict::kReleased:
      return kExitFrozen;
    case Verdict::kWrongMachine:
      return kExitWrongMachine;
    case Verdict::kClockTampered:
      return kExitClockTampered;
    case Verdict::kEntitlementMissing:
      return kExitEntitlement;
    case Verdict::kSystemError:
      return kExitSystem;
  }
  return kExitInternal;
}

}  // namespace licagent::cli
