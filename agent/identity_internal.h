// Internals of hardware identity shared by agent/ sources and unit tests; not installed.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "licagent/identity.h"
#include "platform/platform.h"

namespace licagent {

// CRC-16/CCITT-FALSE (poly 0x1021, init 0xFFFF, no reflection): the identifier checksum.
std::uint16_t Crc16CcittFalse(const std::uint8_t* data, std::size_t size);

// A raw value after the slot's normalisation rule (docs/identity.md "Normalisation").
struct Normalized {
  std::string value;     // canonical text; empty when rejected
  bool weak = false;     // kept only if nothing better exists (locally administered MAC)
  std::string rejected;  // why the value counts as absent; empty when accepted
};
Normalized NormalizeValue(Slot slot, std::string_view raw);

// True for placeholder values that firmware and hypervisors ship instead of a real id.
bool IsJunkValue(std::string_view value);

// The 16-bit tag of a normalised value: first two bytes of
// HMAC-SHA256(key, "fp1|" + slot name + "|" + value), with 0 mapped to 1 (0 means absent).
Result<std::uint16_t> SlotTag(const IdentityKey& key, Slot slot, std::string_view value);

struct EnvironmentVerdict {
  Environment environment = Environment::kUnknown;
  std::string cloud_provider;        // "huawei-cloud-ecs", "aws-ec2", ...; empty if none
  std::vector<std::string> signals;  // human-readable evidence, no serials
};
EnvironmentVerdict ClassifyEnvironment(const platform::EnvironmentSignals& signals);

// Normalises, deny-lists and tags what a platform collected.
// Fails only with kInternal when the crypto library fails.
Result<Fingerprint> ComputeFingerprint(const platform::RawIdentity& raw, const IdentityKey& key);

// Collects from the given platform (tests pass a FakePlatform) and computes the fingerprint.
Result<Fingerprint> CollectFingerprint(platform::Platform& platform, const IdentityKey& key);

// "MAC|DISK|BOARD|CPU" per reference/koogallery.md §9.1, at most 1024 characters (the
// marketplace's deviceFingerprint limit): surplus list members are dropped from the end.
std::string FormatKooGalleryFingerprint(const platform::RawIdentity& raw);

}  // namespace licagent
