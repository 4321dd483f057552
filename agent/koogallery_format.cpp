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

}  // namespace licagent
