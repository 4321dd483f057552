// The weighted k-of-n match rule (reference/fingerprint.md §5.4, docs/identity.md "Matching").
#include <algorithm>
#include <string>

#include "licagent/identity.h"

namespace licagent {
namespace {

bool EnvironmentCompatible(Environment stored, Environment current, EnvironmentRule rule) {
  switch (rule) {
    case EnvironmentRule::kAny:
      return true;
    case EnvironmentRule::kExact:
      return stored == current;
    case EnvironmentRule::kNoLeavingBareMetal:
      return stored != Environment::kBareMetal || current == Environment::kBareMetal;
  }
  return false;
}

std::string Percent(int score, int possible) {
  return std::to_string(possible == 0 ? 0 : score * 100 / possible) + "%";
}

std::string ListSlots(const MatchResult& r, SlotVerdict a, SlotVerdict b) {
  std::string out;
  for (int i = 0; i < kSlotCount; ++i) {
    if (r.slots[i] != a && r.slots[i] != b) continue;
    if (!out.empty()) out += ", ";
    out += SlotName(SlotAt(i));
  }
  return out;
}

}  // namespace

MatchResult Match(const Identifier& stored, const Fingerprint& current, const MatchPolicy& policy) {
  MatchResult r;
  for (int i = 0; i < kSlotCount; ++i) {
    const Slot slot = SlotAt(i);
    if (stored.tags[i] == 0) {
      r.slots[i] = SlotVerdict::kNotStored;
      continue;
    }
    ++r.stored_slots;
    r.possible += SlotWeight(slot);
    if (IsHardwareAnchored(slot)) r.hardware_present = true;
    const auto& candidates = current.slots[i].candidates;
    if (std::find(candidates.begin(), candidates.end(), stored.tags[i]) != candidates.end()) {
      r.slots[i] = SlotVerdict::kMatched;
      r.score += SlotWeight(slot);
      ++r.matched;
      if (IsHardwareAnchored(slot)) r.hardware_matched = true;
    } else {
      r.slots[i] = candidates.empty() ? SlotVerdict::kMissing : SlotVerdict::kChanged;
    }
  }
  r.environment_ok =
      EnvironmentCompatible(stored.environment, current.identifier.environment, policy.environment);

  const std::string score = std::to_string(r.score) + "/" + std::to_string(r.possible) + " (" +
                            Percent(r.score, r.possible) + ")";
  const int needed = std::min(policy.min_matched, r.stored_slots);
  if (r.stored_slots == 0) {
    r.reason = "the stored identifier has no slots to compare";
  } else if (r.score * 100 < policy.threshold_percent * r.possible) {
    r.reason = "score " + score + " is below the " + std::to_string(policy.threshold_percent) +
               "% needed; changed or missing: " +
               ListSlots(r, SlotVerdict::kChanged, SlotVerdict::kMissing);
  } else if (r.matched < needed) {
    r.reason = std::to_string(r.matched) + " slot(s) match, " + std::to_string(needed) + " needed";
  } else if (policy.require_hardware && r.hardware_present && !r.hardware_matched) {
    r.reason = "no hardware slot (platform uuid, serial, NIC, disk) matches";
  } else if (!r.environment_ok) {
    r.reason = std::string("identifier taken on ") + ToString(stored.environment) +
               ", this machine is " + ToString(current.identifier.environment);
  } else {
    r.accepted = true;
    r.reason = "score " + score + " with " + std::to_string(r.matched) + " of " +
               std::to_string(r.stored_slots) + " stored slots matching";
  }
  return r;
}

}  // namespace licagent
