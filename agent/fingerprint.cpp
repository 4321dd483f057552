// From raw platform values to the fingerprint: normalise, deny-list, choose, tag.
#include <algorithm>
#include <string>
#include <vector>

#include "agent/identity_internal.h"
#include "licagent/identity.h"
#include "licagent_build_config.h"
#include "platform/platform.h"

namespace licagent {
namespace {

struct Accepted {
  std::string value;
  bool weak = false;
  std::string source;
};

bool IsVirtualMachine(Environment e) {
  return e == Environment::kVm || e == Environment::kCloudVm || e == Environment::kVmContainer;
}

// Applies the slot's rule to every raw value; rejected ones are explained as probes.
std::vector<Accepted> AcceptValues(Slot slot, const platform::RawSlot& raw, SlotReport* report) {
  std::vector<Accepted> accepted;
  for (const platform::RawValue& v : raw.values) {
    Normalized n = NormalizeValue(slot, v.value);
    if (!n.rejected.empty()) {
      report->probes.push_back({v.source, "rejected: " + n.rejected});
      if (report->absent_reason.empty()) report->absent_reason = "rejected: " + n.rejected;
      continue;
    }
    const bool duplicate = std::any_of(accepted.begin(), accepted.end(),
                                       [&](const Accepted& a) { return a.value == n.value; });
    if (!duplicate) accepted.push_back({std::move(n.value), n.weak, v.source});
  }
  return accepted;
}

// Locally administered MACs identify a VM configuration at best: keep them only in a VM where
// no other hardware slot is present, and never beside a real (universally administered) MAC.
void FilterWeakNics(Environment environment, bool other_hardware, std::vector<Accepted>* nics,
                    SlotReport* report) {
  const bool any_strong =
      std::any_of(nics->begin(), nics->end(), [](const Accepted& a) { return !a.weak; });
  const bool keep_weak = !any_strong && IsVirtualMachine(environment) && !other_hardware;
  std::vector<Accepted> kept;
  for (Accepted& a : *nics) {
    if (!a.weak || keep_weak) {
      kept.push_back(std::move(a));
      continue;
    }
    const char* why = any_strong ? "ignored: locally administered MAC beside a permanent one"
                                 : "ignored: locally administered MAC outside a VM, or a "
                                   "stronger hardware slot exists";
    report->probes.push_back({a.source, why});
    if (report->absent_reason.empty()) report->absent_reason = why;
  }
  *nics = std::move(kept);
}

std::string FirstProblem(const std::vector<Probe>& probes) {
  for (const Probe& p : probes) {
    if (p.outcome.rfind("read", 0) != 0) return p.source + ": " + p.outcome;
  }
  return "no source for this slot on this operating system";
}

}  // namespace

int Identifier::PresentSlots() const {
  return static_cast<int>(std::count_if(tags.begin(), tags.end(), [](auto t) { return t != 0; }));
}

int Identifier::PresentHardwareSlots() const {
  return static_cast<int>(
      std::count_if(tags.begin(), tags.begin() + 4, [](auto t) { return t != 0; }));
}

IdentityKey BuiltinIdentityKey() { return IdentityKey{LICAGENT_IDENTITY_KEY_BYTES}; }

Result<Fingerprint> ComputeFingerprint(const platform::RawIdentity& raw, const IdentityKey& key) {
  Fingerprint fp;
  EnvironmentVerdict env = ClassifyEnvironment(raw.environment);
  fp.identifier.version = 1;
  fp.identifier.os = raw.os;
  fp.identifier.environment = env.environment;
  fp.environment_signals = std::move(env.signals);
  fp.cloud_provider = std::move(env.cloud_provider);

  std::array<std::vector<Accepted>, kSlotCount> accepted;
  for (int i = 0; i < kSlotCount; ++i) {
    fp.slots[i].slot = SlotAt(i);
    fp.slots[i].probes = raw.slots[i].probes;
    accepted[i] = AcceptValues(SlotAt(i), raw.slots[i], &fp.slots[i]);
  }
  const bool other_hardware = !accepted[0].empty() || !accepted[1].empty() || !accepted[3].empty();
  const int nic = static_cast<int>(Slot::kNic);
  FilterWeakNics(fp.identifier.environment, other_hardware, &accepted[nic], &fp.slots[nic]);

  for (int i = 0; i < kSlotCount; ++i) {
    SlotReport& r = fp.slots[i];
    if (accepted[i].empty()) {
      if (r.absent_reason.empty()) r.absent_reason = FirstProblem(r.probes);
      continue;
    }
    r.absent_reason.clear();
    r.source = accepted[i].front().source;
    r.weak = accepted[i].front().weak;
    for (const Accepted& a : accepted[i]) {
      Result<std::uint16_t> tag = SlotTag(key, SlotAt(i), a.value);
      if (!tag) return tag.error();
      if (std::find(r.candidates.begin(), r.candidates.end(), *tag) == r.candidates.end()) {
        r.candidates.push_back(*tag);
      }
    }
    r.tag = r.candidates.front();
    fp.identifier.tags[i] = r.tag;
  }

  int strong_hardware = 0;
  for (int i = 0; i < 4; ++i) {
    if (fp.slots[i].tag != 0 && !fp.slots[i].weak) ++strong_hardware;
  }
  if (strong_hardware == 0) {
    fp.weak_reasons.push_back(
        "no hardware-anchored slot (platform uuid, serial, NIC, disk) "
        "with a unique value");
  }
  if (fp.slots[nic].weak) {
    fp.weak_reasons.push_back(
        "the NIC slot holds a locally administered (hypervisor-assigned) MAC");
  }
  if (fp.identifier.environment == Environment::kContainer ||
      fp.identifier.environment == Environment::kVmContainer) {
    fp.weak_reasons.push_back(
        "a container marker is present: install-scoped ids may come from "
        "an image shared by many machines");
  }
  const int present = fp.identifier.PresentSlots();
  if (present < 4) {
    fp.weak_reasons.push_back("only " + std::to_string(present) + " of 7 slots present");
  }
  fp.weak = !fp.weak_reasons.empty();
  return fp;
}

Result<Fingerprint> CollectFingerprint(platform::Platform& platform, const IdentityKey& key) {
  Result<platform::RawIdentity> raw = platform.CollectIdentity();
  if (!raw) return raw.error();
  return ComputeFingerprint(*raw, key);
}

Result<Fingerprint> CollectFingerprint(const IdentityKey& key) {
  return CollectFingerprint(platform::Platform::Default(), key);
}

Result<std::string> KooGalleryFingerprint() {
  Result<platform::RawIdentity> raw = platform::Platform::Default().CollectIdentity();
  if (!raw) return raw.error();
  return FormatKooGalleryFingerprint(*raw);
}

Result<Topology> LoadTopology() { return platform::Platform::Default().LoadTopology(); }

}  // namespace licagent
