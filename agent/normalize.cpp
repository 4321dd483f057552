// Normalisation and deny-list of raw identity values (reference/fingerprint.md §5.2). Any change
// here changes identifiers already issued: treat the rules as frozen for identifier version 1.
#include <algorithm>
#include <array>
#include <cctype>
#include <string>
#include <string_view>

#include "agent/identity_internal.h"

namespace licagent {
namespace {

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\0'; }
bool IsHex(char c) { return std::isxdigit(static_cast<unsigned char>(c)) != 0; }
char Lower(char c) { return static_cast<char>(std::tolower(static_cast<unsigned char>(c))); }
char Upper(char c) { return static_cast<char>(std::toupper(static_cast<unsigned char>(c))); }

std::string Trim(std::string_view s) {
  while (!s.empty() && IsSpace(s.front())) s.remove_prefix(1);
  while (!s.empty() && IsSpace(s.back())) s.remove_suffix(1);
  return std::string(s);
}

// Lower case without white space: the form the deny-list compares.
std::string Fold(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (!IsSpace(c)) out += Lower(c);
  }
  return out;
}

// Placeholders firmware vendors and hypervisors ship (SMBIOS spec, reference §1.1, [R18][R34]).
constexpr std::array<std::string_view, 10> kDenied = {
    "none",
    "n/a",
    "notspecified",
    "notapplicable",
    "defaultstring",
    "tobefilledbyo.e.m.",
    "systemserialnumber",
    "0123456789",
    "03000200-0400-0500-0006-000700080009",
    "uninitialized",  // /etc/machine-id before first boot completes (machine-id(5))
};

// Disk serials that virtual disk devices report identically on every machine (inference,
// docs/identity.md): QEMU's default IDE serials, Firecracker's root block device.
bool IsGenericVirtualDiskSerial(std::string_view normalized) {
  if (normalized == "OVERLAYBLK") return true;
  return normalized.size() == 7 && normalized.substr(0, 6) == "QM0000" && normalized[6] >= '1' &&
         normalized[6] <= '9';
}

Normalized Reject(std::string reason) { return Normalized{{}, false, std::move(reason)}; }

Normalized NormalizeUuid(std::string_view raw) {
  std::string hex;
  for (char c : Trim(raw)) {
    if (c == '-' || c == '{' || c == '}') continue;
    if (!IsHex(c)) return Reject("not a UUID");
    hex += Lower(c);
  }
  if (hex.size() != 32) return Reject("not a UUID");
  const std::string uuid = hex.substr(0, 8) + "-" + hex.substr(8, 4) + "-" + hex.substr(12, 4) +
                           "-" + hex.substr(16, 4) + "-" + hex.substr(20);
  if (IsJunkValue(uuid)) return Reject("placeholder value");
  return Normalized{uuid, false, {}};
}

Normalized NormalizeSerial(std::string_view raw) {
  std::string out;
  for (char c : Trim(raw)) {
    if (!IsSpace(c)) out += Upper(c);
  }
  if (IsJunkValue(out)) return Reject("placeholder value");
  return Normalized{out, false, {}};
}

Normalized NormalizeMac(std::string_view raw) {
  std::string hex;
  for (char c : Trim(raw)) {
    if (c == ':' || c == '-' || c == '.') continue;
    if (!IsHex(c)) return Reject("not a MAC address");
    hex += Lower(c);
  }
  if (hex.size() != 12) return Reject("not a MAC address");
  if (IsJunkValue(hex)) return Reject("placeholder value");
  const int first = std::stoi(hex.substr(0, 2), nullptr, 16);
  if (first & 0x01) return Reject("multicast address");
  // Locally administered: hypervisors, clouds and containers generate these.
  return Normalized{hex, (first & 0x02) != 0, {}};
}

Normalized NormalizeLower(std::string_view raw) {
  std::string out;
  for (char c : Trim(raw)) {
    if (c == '{' || c == '}') continue;
    out += Lower(c);
  }
  out = Trim(out);  // "{ id }" and "id" are the same id
  if (IsJunkValue(out)) return Reject("placeholder value");
  return Normalized{out, false, {}};
}

Normalized NormalizeCpu(std::string_view raw) {
  std::string out;
  bool space = false;
  for (char c : Trim(raw)) {
    if (IsSpace(c)) {
      space = true;
      continue;
    }
    if (space) out += ' ';
    space = false;
    out += c;
  }
  if (out.empty()) return Reject("placeholder value");
  return Normalized{out, false, {}};
}

}  // namespace

bool IsJunkValue(std::string_view value) {
  const std::string folded = Fold(value);
  if (folded.empty()) return true;
  if (std::find(kDenied.begin(), kDenied.end(), folded) != kDenied.end()) return true;
  // All zeros or all Fs, whatever the separators: "not present" in SMBIOS terms.
  std::string digits;
  for (char c : folded) {
    if (c != '-' && c != ':' && c != '.') digits += c;
  }
  if (digits.empty()) return true;
  return digits.find_first_not_of('0') == std::string::npos ||
         digits.find_first_not_of('f') == std::string::npos;
}

Normalized NormalizeValue(Slot slot, std::string_view raw) {
  switch (slot) {
    case Slot::kPlatformUuid:
      return NormalizeUuid(raw);
    case Slot::kPlatformSerial:
      return NormalizeSerial(raw);
    case Slot::kNic:
      return NormalizeMac(raw);
    case Slot::kDisk: {
      Normalized n = NormalizeSerial(raw);
      if (n.rejected.empty() && IsGenericVirtualDiskSerial(n.value)) {
        return Reject("generic virtual disk serial, the same on every machine of its kind");
      }
      return n;
    }
    case Slot::kOsInstallId:
    case Slot::kBootVolume:
      return NormalizeLower(raw);
    case Slot::kCpu:
      return NormalizeCpu(raw);
  }
  return Reject("unknown slot");
}

}  // namespace licagent
