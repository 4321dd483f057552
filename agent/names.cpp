// Stable names of enumerations: they appear in JSON output and docs, so never rename them.
#include "licagent/identity.h"
#include "licagent/result.h"

namespace licagent {

const char* ToString(ErrorCode code) noexcept {
  switch (code) {
    case ErrorCode::kInvalidArgument:
      return "invalid_argument";
    case ErrorCode::kMalformedIdentifier:
      return "malformed_identifier";
    case ErrorCode::kNotFound:
      return "not_found";
    case ErrorCode::kPermissionDenied:
      return "permission_denied";
    case ErrorCode::kIoError:
      return "io_error";
    case ErrorCode::kCorrupt:
      return "corrupt";
    case ErrorCode::kBadSignature:
      return "bad_signature";
    case ErrorCode::kUnsupported:
      return "unsupported";
    case ErrorCode::kInternal:
      return "internal";
    case ErrorCode::kUnavailable:
      return "unavailable";
    case ErrorCode::kUntrusted:
      return "untrusted";
    case ErrorCode::kRejected:
      return "rejected";
  }
  return "internal";
}

const char* SlotName(Slot slot) noexcept {
  switch (slot) {
    case Slot::kPlatformUuid:
      return "platform_uuid";
    case Slot::kPlatformSerial:
      return "platform_serial";
    case Slot::kNic:
      return "nic";
    case Slot::kDisk:
      return "disk";
    case Slot::kOsInstallId:
      return "os_install_id";
    case Slot::kBootVolume:
      return "boot_volume";
    case Slot::kCpu:
      return "cpu";
  }
  return "unknown";
}

int SlotWeight(Slot slot) noexcept {
  switch (slot) {
    case Slot::kPlatformUuid:
      return 3;
    case Slot::kPlatformSerial:
    case Slot::kNic:
    case Slot::kDisk:
    case Slot::kOsInstallId:
      return 2;
    case Slot::kBootVolume:
    case Slot::kCpu:
      return 1;
  }
  return 0;
}

bool IsHardwareAnchored(Slot slot) noexcept { return static_cast<int>(slot) <= 3; }

const char* ToString(OsFamily os) noexcept {
  switch (os) {
    case OsFamily::kLinux:
      return "linux";
    case OsFamily::kWindows:
      return "windows";
    case OsFamily::kMacos:
      return "macos";
    case OsFamily::kOther:
      return "other";
  }
  return "other";
}

const char* ToString(Environment environment) noexcept {
  switch (environment) {
    case Environment::kBareMetal:
      return "bare-metal";
    case Environment::kVm:
      return "vm";
    case Environment::kContainer:
      return "container";
    case Environment::kCloudVm:
      return "cloud-vm";
    case Environment::kVmContainer:
      return "vm+container";
    case Environment::kUnknown:
      return "unknown";
  }
  return "unknown";
}

const char* ToString(SlotVerdict verdict) noexcept {
  switch (verdict) {
    case SlotVerdict::kNotStored:
      return "not-stored";
    case SlotVerdict::kMatched:
      return "matched";
    case SlotVerdict::kChanged:
      return "changed";
    case SlotVerdict::kMissing:
      return "missing";
  }
  return "unknown";
}

}  // namespace licagent
