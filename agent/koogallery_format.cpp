// The KooGallery online-license device fingerprint (reference/koogallery.md §9.1): raw values,
// by the marketplace's design. Lists are sorted so the string is identical on every run.
#include <algorithm>
#include <cctype>
#include <string>
#include <vector>

#include "agent/identity_internal.h"

namespace licagent {
namespace {

constexpr std::size_t kMaxLength = 1024;  // deviceFingerprint field limit (§6.5)

std::string Join(const std::vector<std::string>& items) {
  std::string out;
  for (const std::string& s : items) {
    if (!out.empty()) out += ',';
    out += s;
  }
  return out;
}

std::string Trimmed(const std::string& s) {
  const auto first = s.find_first_not_of(" \t\r\n");
  if (first == std::string::npos) return {};
  return s.substr(first, s.find_last_not_of(" \t\r\n") - first + 1);
}

void SortUnique(std::vector<std::string>* v) {
  std::sort(v->begin(), v->end());
  v->erase(std::unique(v->begin(), v->end()), v->end());
}

}  // namespace

std::string FormatKooGalleryFingerprint(const platform::RawIdentity& raw) {
  std::vector<std::string> macs;
  for (const platform::RawValue& v : raw.slots[static_cast<int>(Slot::kNic)].values) {
    Normalized n = NormalizeValue(Slot::kNic, v.value);
    if (!n.rejected.empty()) continue;
    std::string mac;
    for (std::size_t i = 0; i < n.value.size(); i += 2) {
      if (!mac.empty()) mac += ':';
      mac += n.value.substr(i, 2);
    }
    macs.push_back(mac);
  }
  // Disk serials as the OS returns them (trimmed); placeholders are left out.
  std::vector<std::string> disks;
  for (const platform::RawValue& v : raw.slots[static_cast<int>(Slot::kDisk)].values) {
    std::string serial = Trimmed(v.value);
    if (!IsJunkValue(serial)) disks.push_back(serial);
  }
  SortUnique(&macs);
  SortUnique(&disks);
  std::string board = Trimmed(raw.board_serial);
  if (IsJunkValue(board)) board.clear();

  std::string out;
  for (;;) {
    out = Join(macs) + "|" + Join(disks) + "|" + board + "|" + raw.cpu_processor_id;
    if (out.size() <= kMaxLength) break;
    // Too long for the marketplace: drop the last member of the longer list.
    std::vector<std::string>* longer = disks.size() >= macs.size() ? &disks : &macs;
    if (longer->empty()) longer = &macs;
    if (longer->empty()) {
      out.resize(kMaxLength);
      break;
    }
    longer->pop_back();
  }
  std::transform(out.begin(), out.end(), out.begin(), [](char c) {
    return static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  });
  return out;
}

Result<Identifier> IdentifierFromKooGalleryFingerprint(std::string_view text,
                                                       const IdentityKey& key) {
  constexpr std::size_t kMaxClientLength = 5 * 1024;  // the client-side limit (§9.1)
  if (text.size() > kMaxClientLength) {
    return Error{ErrorCode::kInvalidArgument, "the device fingerprint is longer than 5 KB"};
  }
  std::vector<std::string_view> parts;
  for (std::size_t start = 0;;) {
    const std::size_t bar = text.find('|', start);
    parts.push_back(text.substr(start, bar == std::string_view::npos ? bar : bar - start));
    if (bar == std::string_view::npos) break;
    start = bar + 1;
  }
  if (parts.size() != 4) {
    return Error{ErrorCode::kInvalidArgument, "the device fingerprint is not MAC|DISK|BOARD|CPU (" +
                                                  std::to_string(parts.size()) + " parts)"};
  }
  const auto split = [](std::string_view list) {
    std::vector<std::string_view> out;
    for (std::size_t start = 0; start <= list.size();) {
      const std::size_t comma = list.find(',', start);
      const std::size_t end = comma == std::string_view::npos ? list.size() : comma;
      if (end > start) out.push_back(list.substr(start, end - start));
      start = end + 1;
    }
    return out;
  };
  Identifier id;
  id.os = OsFamily::kOther;
  id.environment = Environment::kUnknown;
  const auto set = [&](Slot slot, const std::string& value) -> Status {
    auto tag = SlotTag(key, slot, value);
    if (!tag) return tag.error();
    id.tags[static_cast<std::size_t>(slot)] = *tag;
    return Status::Ok();
  };
  // NIC: a universally administered MAC if there is one (the agent drops weak, locally
  // administered MACs beside it), else the first weak one.
  std::string nic;
  std::string weak_nic;
  for (std::string_view mac : split(parts[0])) {
    Normalized n = NormalizeValue(Slot::kNic, mac);
    if (!n.rejected.empty()) continue;
    if (!n.weak) {
      nic = n.value;
      break;
    }
    if (weak_nic.empty()) weak_nic = n.value;
  }
  if (nic.empty()) nic = weak_nic;
  if (!nic.empty()) LICAGENT_RETURN_IF_ERROR(set(Slot::kNic, nic));
  for (std::string_view serial : split(parts[1])) {
    Normalized n = NormalizeValue(Slot::kDisk, serial);
    if (!n.rejected.empty()) continue;
    LICAGENT_RETURN_IF_ERROR(set(Slot::kDisk, n.value));
    break;
  }
  if (!parts[2].empty()) {
    Normalized n = NormalizeValue(Slot::kPlatformSerial, parts[2]);
    if (n.rejected.empty()) LICAGENT_RETURN_IF_ERROR(set(Slot::kPlatformSerial, n.value));
  }
  if (id.PresentSlots() == 0) {
    return Error{ErrorCode::kInvalidArgument,
                 "the device fingerprint has no usable MAC, disk serial or board serial"};
  }
  return id;
}

}  // namespace licagent
