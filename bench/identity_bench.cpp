// Hardware-identity benchmarks: collection, tagging, the HW1 text, matching and hwloc topology.
// Budget and results: docs/performance.md (DESIGN §10: identity collection <= 0.5 ms in process).
//
// Besides the Google Benchmark cases, main() measures the FIRST call in a fresh process (static
// initialisation, lazy symbol binding, first-touch page faults, the crypto library's set-up on the
// first HMAC, the first CPUID read): it re-executes this binary --first-call-runs times (default
// 30) with a hidden flag, each child timing its very first calls with a steady clock, and reports
// the medians as benchmark context (printed in the console header and stored in
// --benchmark_format=json output).
//
// Nothing here prints a raw hardware value: only timings and counts.
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "agent/identity_internal.h"
#include "licagent/identity.h"
#include "platform/platform.h"
#include "tests/unit/machines.h"  // scripted machines (header only)

namespace {

using licagent::Fingerprint;
using licagent::Identifier;
using licagent::IdentityKey;
using licagent::Result;
using licagent::platform::Platform;
using licagent::platform::RawIdentity;
using Clock = std::chrono::steady_clock;

constexpr std::string_view kChildFlag = "--licagent-first-call=";
constexpr std::string_view kRunsFlag = "--first-call-runs=";

double MicrosSince(Clock::time_point start) {
  return std::chrono::duration<double, std::micro>(Clock::now() - start).count();
}

RawIdentity CaptureRaw() {
  Result<RawIdentity> raw = Platform::Default().CollectIdentity();
  if (!raw) {
    std::fprintf(stderr, "identity_bench: collection failed: %s\n", raw.error().message.c_str());
    std::exit(1);
  }
  return std::move(*raw);
}

Fingerprint CaptureFingerprint() {
  Result<Fingerprint> fp = licagent::CollectFingerprint();
  if (!fp) {
    std::fprintf(stderr, "identity_bench: fingerprint failed: %s\n", fp.error().message.c_str());
    std::exit(1);
  }
  return std::move(*fp);
}

// Number of HMACs ComputeFingerprint performs on this machine: one per accepted candidate.
int HmacCount(const Fingerprint& fp) {
  int n = 0;
  for (const licagent::SlotReport& s : fp.slots) n += static_cast<int>(s.candidates.size());
  return n;
}

// ---- Steady-state (warm) benchmarks ----------------------------------------------------------

// Raw platform collection: sysfs/procfs reads, ioctl, statfs, CPUID. No crypto.
void BM_CollectIdentity(benchmark::State& state) {
  Platform& platform = Platform::Default();
  for (auto _ : state) {
    Result<RawIdentity> raw = platform.CollectIdentity();
    benchmark::DoNotOptimize(raw);
  }
}
BENCHMARK(BM_CollectIdentity)->Unit(benchmark::kMicrosecond);

// Per-call distribution of the same two measurements: one call per repetition, 1000
// repetitions, so the median is the median of single calls (a repetition's figure above is the
// mean of many calls, which a few slow device round trips can pull up). p90 shows the tail.
double Percentile(const std::vector<double>& v, double p) {
  std::vector<double> sorted = v;
  std::sort(sorted.begin(), sorted.end());
  return sorted[static_cast<std::size_t>(p * static_cast<double>(sorted.size() - 1))];
}
double P10(const std::vector<double>& v) { return Percentile(v, 0.10); }
double P90(const std::vector<double>& v) { return Percentile(v, 0.90); }

void PerCall(benchmark::internal::Benchmark* b) {
  b->Iterations(1)
      ->Repetitions(1000)
      ->ReportAggregatesOnly(true)
      ->ComputeStatistics("p10", P10)
      ->ComputeStatistics("p90", P90)
      ->Unit(benchmark::kMicrosecond);
}
BENCHMARK(BM_CollectIdentity)->Name("BM_CollectIdentity/per_call")->Apply(PerCall);

// Normalise, deny-list, classify the environment and tag (one HMAC-SHA256 per candidate) a raw
// identity captured once from this machine.
void BM_ComputeFingerprint(benchmark::State& state) {
  const RawIdentity raw = CaptureRaw();
  const IdentityKey key = licagent::BuiltinIdentityKey();
  for (auto _ : state) {
    Result<Fingerprint> fp = licagent::ComputeFingerprint(raw, key);
    benchmark::DoNotOptimize(fp);
  }
  state.counters["hmacs"] = HmacCount(CaptureFingerprint());
}
BENCHMARK(BM_ComputeFingerprint)->Unit(benchmark::kMicrosecond);

// The same on the scripted bare-metal server of the unit tests (every slot present, two NICs,
// two disks, two serials: ten HMACs), the worst case for tagging.
void BM_ComputeFingerprintBareMetal(benchmark::State& state) {
  const RawIdentity raw = licagent::testing::BareMetalServer();
  const IdentityKey key = licagent::BuiltinIdentityKey();
  int hmacs = 0;
  for (auto _ : state) {
    Result<Fingerprint> fp = licagent::ComputeFingerprint(raw, key);
    if (fp) hmacs = HmacCount(*fp);
    benchmark::DoNotOptimize(fp);
  }
  state.counters["hmacs"] = hmacs;
}
BENCHMARK(BM_ComputeFingerprintBareMetal)->Unit(benchmark::kMicrosecond);

// One slot tag: HMAC-SHA256 of a short message (the unit cost inside ComputeFingerprint).
void BM_SlotTag(benchmark::State& state) {
  const IdentityKey key = licagent::BuiltinIdentityKey();
  const std::string value = "0123456789abcdef0123456789abcdef";
  for (auto _ : state) {
    Result<std::uint16_t> tag = licagent::SlotTag(key, licagent::Slot::kOsInstallId, value);
    benchmark::DoNotOptimize(tag);
  }
}
BENCHMARK(BM_SlotTag)->Unit(benchmark::kMicrosecond);

// The public entry point: collection + ComputeFingerprint. This is the DESIGN §10 budget.
void BM_CollectFingerprint(benchmark::State& state) {
  const IdentityKey key = licagent::BuiltinIdentityKey();
  for (auto _ : state) {
    Result<Fingerprint> fp = licagent::CollectFingerprint(key);
    benchmark::DoNotOptimize(fp);
  }
}
BENCHMARK(BM_CollectFingerprint)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_CollectFingerprint)->Name("BM_CollectFingerprint/per_call")->Apply(PerCall);

// Decoding a typed identifier and printing it again.
void BM_ParseAndFormatIdentifier(benchmark::State& state) {
  const std::string text = CaptureFingerprint().identifier.ToString();
  for (auto _ : state) {
    Result<Identifier> id = licagent::ParseIdentifier(text);
    std::string again = id->ToString();
    benchmark::DoNotOptimize(again);
  }
}
BENCHMARK(BM_ParseAndFormatIdentifier)->Unit(benchmark::kMicrosecond);

// The weighted k-of-n rule against this machine's fingerprint (one slot changed).
void BM_Match(benchmark::State& state) {
  const Fingerprint fp = CaptureFingerprint();
  Identifier stored = fp.identifier;
  stored.tags[static_cast<int>(licagent::Slot::kOsInstallId)] ^= 0x5A5A;
  for (auto _ : state) {
    licagent::MatchResult m = licagent::Match(stored, fp);
    benchmark::DoNotOptimize(m);
  }
}
BENCHMARK(BM_Match)->Unit(benchmark::kMicrosecond);

// hwloc topology load (only for --explain and core/socket-limited licenses): milliseconds.
void BM_LoadTopology(benchmark::State& state) {
  for (auto _ : state) {
    Result<licagent::Topology> t = licagent::LoadTopology();
    if (!t) {
      state.SkipWithError(t.error().message.c_str());
      break;
    }
    benchmark::DoNotOptimize(t);
  }
}
BENCHMARK(BM_LoadTopology)->Unit(benchmark::kMillisecond);

// ---- First call in a fresh process ------------------------------------------------------------

// Child side: time the first calls of this process and print "name microseconds" lines.
int RunFirstCallChild(std::string_view mode) {
  const IdentityKey key = licagent::BuiltinIdentityKey();
  if (mode == "whole") {
    // What an application pays the first time it asks for the fingerprint, then once warm.
    auto t0 = Clock::now();
    Result<Fingerprint> first = licagent::CollectFingerprint(key);
    const double first_us = MicrosSince(t0);
    t0 = Clock::now();
    Result<Fingerprint> second = licagent::CollectFingerprint(key);
    const double second_us = MicrosSince(t0);
    if (!first || !second) return 1;
    std::printf("CollectFingerprint.first %.3f\nCollectFingerprint.second %.3f\n", first_us,
                second_us);
  } else if (mode == "split") {
    // The same first call taken apart: raw collection, then the first HMAC (the crypto library's
    // lazy initialisation), then the rest of ComputeFingerprint.
    auto t0 = Clock::now();
    Result<RawIdentity> raw = Platform::Default().CollectIdentity();
    const double raw_us = MicrosSince(t0);
    t0 = Clock::now();
    Result<std::uint16_t> tag = licagent::SlotTag(key, licagent::Slot::kCpu, "warm-up");
    const double tag_us = MicrosSince(t0);
    t0 = Clock::now();
    Result<std::uint16_t> tag2 = licagent::SlotTag(key, licagent::Slot::kCpu, "second");
    const double tag2_us = MicrosSince(t0);
    if (!raw || !tag || !tag2) return 1;
    t0 = Clock::now();
    Result<Fingerprint> fp = licagent::ComputeFingerprint(*raw, key);
    const double compute_us = MicrosSince(t0);
    if (!fp) return 1;
    std::printf(
        "CollectIdentity.first %.3f\nSlotTag.first %.3f\nSlotTag.second %.3f\n"
        "ComputeFingerprint.after_first_tag %.3f\n",
        raw_us, tag_us, tag2_us, compute_us);
  } else if (mode == "topology") {
    auto t0 = Clock::now();
    Result<licagent::Topology> t = licagent::LoadTopology();
    const double first_us = MicrosSince(t0);
    if (!t) return 1;
    std::printf("LoadTopology.first %.3f\n", first_us);
  } else {
    return 2;
  }
  return 0;
}

std::string SelfPath() {
  char buf[4096];
  const ssize_t n = ::readlink("/proc/self/exe", buf, sizeof buf - 1);
  if (n <= 0) return {};
  return std::string(buf, static_cast<std::size_t>(n));
}

std::string ShellQuote(const std::string& s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'') {
      out += "'\\''";
    } else {
      out += c;
    }
  }
  return out + "'";
}

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const std::size_t n = v.size();
  return n % 2 == 1 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

// Parent side: run `runs` fresh processes per mode and publish median/min as benchmark context.
void MeasureFirstCalls(int runs) {
  const std::string self = SelfPath();
  if (self.empty() || runs <= 0) return;
  std::map<std::string, std::vector<double>> samples;
  for (const char* mode : {"whole", "split", "topology"}) {
    const std::string command = ShellQuote(self) + " " + std::string(kChildFlag) + mode;
    for (int i = 0; i < runs; ++i) {
      FILE* pipe = ::popen(command.c_str(), "r");
      if (pipe == nullptr) return;
      char name[128];
      double us = 0;
      while (std::fscanf(pipe, "%127s %lf", name, &us) == 2) samples[name].push_back(us);
      if (::pclose(pipe) != 0) {
        std::fprintf(stderr, "identity_bench: first-call child '%s' failed\n", mode);
        break;
      }
    }
  }
  for (const auto& [name, values] : samples) {
    char text[128];
    std::snprintf(text, sizeof text, "median %.1f us, min %.1f us (N=%zu fresh processes)",
                  Median(values), *std::min_element(values.begin(), values.end()), values.size());
    benchmark::AddCustomContext("first_call." + name, text);
  }
}

}  // namespace

int main(int argc, char** argv) {
  int first_call_runs = 30;
  bool repetitions_given = false;
  std::vector<char*> args;
  for (int i = 0; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg.substr(0, kChildFlag.size()) == kChildFlag) {
      return RunFirstCallChild(arg.substr(kChildFlag.size()));
    }
    if (arg.substr(0, kRunsFlag.size()) == kRunsFlag) {
      first_call_runs = std::atoi(argv[i] + kRunsFlag.size());
      continue;
    }
    if (arg.substr(0, 24) == "--benchmark_repetitions=") repetitions_given = true;
    args.push_back(argv[i]);
  }
  // Medians by default: 10 repetitions, aggregates only (override with --benchmark_repetitions).
  static char kRepetitions[] = "--benchmark_repetitions=10";
  static char kAggregates[] = "--benchmark_report_aggregates_only=true";
  if (!repetitions_given) {
    args.push_back(kRepetitions);
    args.push_back(kAggregates);
  }
  int count = static_cast<int>(args.size());
  benchmark::Initialize(&count, args.data());
  if (benchmark::ReportUnrecognizedArguments(count, args.data())) return 1;
  MeasureFirstCalls(first_call_runs);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
