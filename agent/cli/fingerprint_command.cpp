// `licagent fingerprint`: print, explain or match this machine's hardware identifier.
#include <cstdio>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "agent/cli/commands.h"
#include "agent/cli/exit_codes.h"
#include "licagent/identity.h"

namespace licagent::cli {
namespace {

using nlohmann::json;

struct Options {
  bool json = false;
  bool explain = false;
  bool quiet = false;
  std::string format = "hw1";
  std::string match;
};

std::string Hex16(std::uint16_t tag) {
  char buf[5];
  std::snprintf(buf, sizeof buf, "%04X", static_cast<unsigned>(tag));
  return buf;
}

json TopologyJson(const Result<Topology>& t) {
  if (!t) return json{{"error", t.error().message}};
  return json{{"packages", t->packages},     {"cores", t->cores},         {"pus", t->pus},
              {"cpu_vendor", t->cpu_vendor}, {"cpu_model", t->cpu_model}, {"backend", t->backend}};
}

json FingerprintJson(const Fingerprint& fp, bool explain) {
  json slots = json::array();
  for (const SlotReport& s : fp.slots) {
    json j{{"slot", SlotName(s.slot)},
           {"weight", SlotWeight(s.slot)},
           {"present", s.tag != 0},
           {"tag", s.tag != 0 ? json(Hex16(s.tag)) : json(nullptr)},
           {"weak", s.weak}};
    json candidates = json::array();
    for (std::uint16_t c : s.candidates) candidates.push_back(Hex16(c));
    j["candidates"] = candidates;
    if (s.tag != 0) {
      j["source"] = s.source;
    } else {
      j["absent_reason"] = s.absent_reason;
    }
    if (explain) {
      json probes = json::array();
      for (const Probe& p : s.probes)
        probes.push_back({{"source", p.source}, {"outcome", p.outcome}});
      j["probes"] = probes;
    }
    slots.push_back(j);
  }
  json out{{"identifier", fp.identifier.ToString()},
           {"version", fp.identifier.version},
           {"platform", ToString(fp.identifier.os)},
           {"environment", ToString(fp.identifier.environment)},
           {"environment_signals", fp.environment_signals},
           {"cloud_provider", fp.cloud_provider.empty() ? json(nullptr) : json(fp.cloud_provider)},
           {"present_slots", fp.identifier.PresentSlots()},
           {"weak", fp.weak},
           {"weak_reasons", fp.weak_reasons},
           {"slots", slots}};
  if (explain) out["topology"] = TopologyJson(LoadTopology());
  return out;
}

std::string Join(const std::vector<std::string>& items, const char* sep) {
  std::string out;
  for (const std::string& s : items) out += (out.empty() ? "" : sep) + s;
  return out;
}

void PrintExplanation(const Fingerprint& fp) {
  std::printf("Identifier   %s\n", fp.identifier.ToString().c_str());
  std::printf("Platform     %s\n", ToString(fp.identifier.os));
  std::printf("Environment  %s%s%s\n", ToString(fp.identifier.environment),
              fp.cloud_provider.empty() ? "" : ", cloud ", fp.cloud_provider.c_str());
  for (const std::string& s : fp.environment_signals) std::printf("             - %s\n", s.c_str());
  std::printf("Strength     %s (%d of 7 slots present)\n", fp.weak ? "WEAK" : "good",
              fp.identifier.PresentSlots());
  for (const std::string& s : fp.weak_reasons) std::printf("             - %s\n", s.c_str());
  std::printf("\n%-16s %-6s %-8s %-5s %s\n", "Slot", "Weight", "State", "Tag", "Source or reason");
  for (const SlotReport& s : fp.slots) {
    const bool present = s.tag != 0;
    std::printf("%-16s %-6d %-8s %-5s %s%s\n", SlotName(s.slot), SlotWeight(s.slot),
                present ? "present" : "absent", present ? Hex16(s.tag).c_str() : "-",
                present ? s.source.c_str() : s.absent_reason.c_str(), s.weak ? "  [weak]" : "");
  }
  std::printf("\nSources tried (values are never shown)\n");
  for (const SlotReport& s : fp.slots) {
    for (const Probe& p : s.probes) {
      std::printf("  %-16s %s: %s\n", SlotName(s.slot), p.source.c_str(), p.outcome.c_str());
    }
  }
  const Result<Topology> t = LoadTopology();
  if (t) {
    std::printf("\nCPU topology (%s): %d package(s), %d core(s), %d PU(s); %s %s\n",
                t->backend.c_str(), t->packages, t->cores, t->pus, t->cpu_vendor.c_str(),
                t->cpu_model.c_str());
  } else {
    std::printf("\nCPU topology: unavailable (%s)\n", t.error().message.c_str());
  }
}

int RunMatch(const Options& o, const Fingerprint& fp) {
  Result<Identifier> stored = ParseIdentifier(o.match);
  if (!stored) return ReportError(o.json, stored.error());
  const MatchResult m = Match(*stored, fp);
  if (o.json) {
    json slots = json::object();
    for (int i = 0; i < kSlotCount; ++i) slots[SlotName(SlotAt(i))] = ToString(m.slots[i]);
    std::cout << json{{"stored", stored->ToString()},
                      {"current", fp.identifier.ToString()},
                      {"accepted", m.accepted},
                      {"score", m.score},
                      {"possible", m.possible},
                      {"matched", m.matched},
                      {"stored_slots", m.stored_slots},
                      {"environment_ok", m.environment_ok},
                      {"reason", m.reason},
                      {"slots", slots}}
                     .dump(2)
              << "\n";
  } else {
    std::printf("%s: %s\n", m.accepted ? "MATCH" : "NO MATCH", m.reason.c_str());
    std::printf("stored  %s (%s, %s)\ncurrent %s (%s, %s)\n\n", stored->ToString().c_str(),
                ToString(stored->os), ToString(stored->environment),
                fp.identifier.ToString().c_str(), ToString(fp.identifier.os),
                ToString(fp.identifier.environment));
    std::printf("%-16s %-6s %-6s %-6s %s\n", "Slot", "Weight", "Stored", "Now", "Verdict");
    for (int i = 0; i < kSlotCount; ++i) {
      const std::uint16_t was = stored->tags[i];
      const std::uint16_t now = fp.slots[i].tag;
      std::printf("%-16s %-6d %-6s %-6s %s\n", SlotName(SlotAt(i)), SlotWeight(SlotAt(i)),
                  was ? Hex16(was).c_str() : "-", now ? Hex16(now).c_str() : "-",
                  ToString(m.slots[i]));
    }
    std::printf("\nscore %d/%d, %d of %d stored slots match\n", m.score, m.possible, m.matched,
                m.stored_slots);
  }
  return m.accepted ? kExitOk : kExitWrongMachine;
}

int Run(const Options& o) {
  if (o.format == "koogallery") {
    if (!o.match.empty() || o.explain) {
      return ReportError(o.json,
                         {ErrorCode::kInvalidArgument,
                          "--format koogallery cannot be combined with --match or --explain"});
    }
    Result<std::string> s = KooGalleryFingerprint();
    if (!s) return ReportError(o.json, s.error());
    if (o.json) {
      std::cout << json{{"format", "koogallery"}, {"device_fingerprint", *s}}.dump(2) << "\n";
    } else {
      std::printf("%s\n", s->c_str());
    }
    return kExitOk;
  }

  Result<Fingerprint> fp = CollectFingerprint();
  if (!fp) return ReportError(o.json, fp.error());
  if (!o.match.empty()) return RunMatch(o, *fp);
  if (o.json) {
    std::cout << FingerprintJson(*fp, o.explain).dump(2) << "\n";
  } else if (o.explain) {
    PrintExplanation(*fp);
  } else {
    std::printf("%s\n", fp->identifier.ToString().c_str());
    if (fp->weak && !o.quiet) {
      std::fprintf(stderr, "licagent: weak identifier: %s (see --explain)\n",
                   Join(fp->weak_reasons, "; ").c_str());
    }
  }
  return kExitOk;
}

}  // namespace

Command AddFingerprintCommand(CLI::App& app) {
  auto options = std::make_shared<Options>();
  CLI::App* cmd = app.add_subcommand(
      "fingerprint",
      "Print this machine's hardware identifier (HW1-...). Only keyed 16-bit tags of hardware "
      "values are printed, never the values themselves, except with --format koogallery.");
  cmd->add_flag("--json", options->json,
                "Machine-readable output: identifier, environment, "
                "per-slot presence and tags (never raw values)");
  cmd->add_flag("--explain", options->explain,
                "Explain which sources were read, which were skipped and why, and the CPU "
                "topology");
  cmd->add_flag("-q,--quiet", options->quiet, "Do not warn on stderr about a weak identifier");
  cmd->add_option("--format", options->format,
                  "hw1 (default): the typeable identifier. koogallery: the KooGallery device "
                  "fingerprint MAC|DISK|BOARD|CPU, which contains RAW MAC addresses and serial "
                  "numbers of this machine; give it only to the vendor you buy from")
      ->check(CLI::IsMember({"hw1", "koogallery"}));
  cmd->add_option("--match", options->match,
                  "Compare a stored identifier (HW1-...) with this machine slot by slot; exit 0 "
                  "if it matches, 14 if not, 4 if the identifier is malformed");
  return [options] { return Run(*options); };
}

}  // namespace licagent::cli
