// The offline check (docs/check.md) on the real machine and file system: a license bound to
// this machine, signed with a throw-away key, installed in a temporary cache.
//
//   check_bench                      Google Benchmark cases (warm), then the first-call figure
//   check_bench --first-check=DIR    (internal) one fresh-process first call, prints µs
//
// The first call in a fresh process is measured by re-running this binary 30 times through
// popen with --first-check and taking the median (budget ≤ 1 ms; warm budget ≤ 0.3 ms median).
#include <benchmark/benchmark.h>
#include <sodium.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "licagent/check.h"
#include "licagent/identity.h"

namespace {

using namespace licagent;
namespace fs = std::filesystem;

constexpr std::string_view kChildFlag = "--first-check=";

// A deterministic throw-away signing key: benchmarks only, never the agent.
PublicKey SignInto(const fs::path& dir, bool core_limit) {
  unsigned char pk[crypto_sign_PUBLICKEYBYTES], sk[crypto_sign_SECRETKEYBYTES];
  unsigned char seed[crypto_sign_SEEDBYTES] = {42};
  crypto_sign_seed_keypair(pk, sk, seed);
  LicensePayload p;
  p.license_id = "L-BENCH";
  p.product_id = "bench";
  p.key_id = "bench-key";
  p.customer = "bench";
  Binding b;
  b.identifier = CollectFingerprint().value().identifier;
  p.binding = b;
  const auto now = std::chrono::duration_cast<std::chrono::seconds>(
                       std::chrono::system_clock::now().time_since_epoch())
                       .count();
  p.issued_at = p.not_before = p.server_time = now - 60;
  p.expires_at = now + 365 * 86400;
  p.refresh_by = now + 30 * 86400;
  p.entitlements.features = {{"export", ""}};
  if (core_limit) p.entitlements.max_cores = 4096;
  LicenseEnvelope e;
  e.key_id = p.key_id;
  e.payload = SerializePayload(p);
  const std::string m = SignedMessage(e.key_id, e.payload);
  crypto_sign_detached(e.signature.data(), nullptr,
                       reinterpret_cast<const unsigned char*>(m.data()), m.size(), sk);
  PublicKey key{"bench-key", {}};
  std::copy(std::begin(pk), std::end(pk), key.bytes.begin());
  CheckConfig config{"bench", {key}, dir.string(), false};
  const CheckResult r = Install(config, ArmorLicense(e));
  if (r.verdict != Verdict::kValid) {
    std::fprintf(stderr, "check_bench: install failed: %s\n", r.reason.c_str());
    std::exit(1);
  }
  return key;
}

CheckConfig Config(const fs::path& dir, const PublicKey& key) {
  return CheckConfig{"bench", {key}, dir.string(), false};
}

fs::path TempDir(const char* name) {
  fs::path dir = fs::temp_directory_path() / ("licagent-check-bench-" + std::to_string(getpid()));
  return dir / name;
}

void BM_CheckBound(benchmark::State& state) {
  const fs::path dir = TempDir("bound");
  const CheckConfig config = Config(dir, SignInto(dir, false));
  for (auto _ : state) {
    CheckResult r = Check(config, {{"export"}});
    if (r.verdict != Verdict::kValid) state.SkipWithError(r.reason.c_str());
    benchmark::DoNotOptimize(r);
  }
}
BENCHMARK(BM_CheckBound)->Unit(benchmark::kMicrosecond);

void BM_CheckWithCoreLimit(benchmark::State& state) {
  const fs::path dir = TempDir("cores");
  const CheckConfig config = Config(dir, SignInto(dir, true));
  for (auto _ : state) {
    CheckResult r = Check(config, {});
    if (r.verdict != Verdict::kValid) state.SkipWithError(r.reason.c_str());
    benchmark::DoNotOptimize(r);
  }
}
BENCHMARK(BM_CheckWithCoreLimit)->Unit(benchmark::kMillisecond);

int FirstCheckChild(const std::string& dir) {
  unsigned char pk[crypto_sign_PUBLICKEYBYTES], sk[crypto_sign_SECRETKEYBYTES];
  unsigned char seed[crypto_sign_SEEDBYTES] = {42};
  crypto_sign_seed_keypair(pk, sk, seed);  // the public key, without timing libsodium's init
  PublicKey key{"bench-key", {}};
  std::copy(std::begin(pk), std::end(pk), key.bytes.begin());
  const CheckConfig config = Config(dir, key);
  // Note: crypto_sign_seed_keypair above already initialised libsodium's internals partly;
  // the check's own sodium_init and everything else is inside the timed call.
  const auto t0 = std::chrono::steady_clock::now();
  const CheckResult r = Check(config, {{"export"}});
  const auto t1 = std::chrono::steady_clock::now();
  if (r.verdict != Verdict::kValid) return 1;
  std::printf("%.1f\n", std::chrono::duration<double, std::micro>(t1 - t0).count());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (sodium_init() < 0) return 1;
  if (argc == 2 && std::string_view(argv[1]).substr(0, kChildFlag.size()) == kChildFlag) {
    return FirstCheckChild(std::string(argv[1] + kChildFlag.size()));
  }
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();

  // First call in 30 fresh processes, on a license installed once here.
  const fs::path dir = TempDir("first");
  SignInto(dir, false);
  std::vector<double> us;
  for (int i = 0; i < 30; ++i) {
    const std::string cmd =
        "'" + std::string(argv[0]) + "' '" + std::string(kChildFlag) + dir.string() + "'";
    FILE* pipe = ::popen(cmd.c_str(), "r");
    double v = 0;
    if (pipe != nullptr && std::fscanf(pipe, "%lf", &v) == 1) us.push_back(v);
    if (pipe != nullptr) ::pclose(pipe);
  }
  std::sort(us.begin(), us.end());
  if (!us.empty()) {
    std::printf(
        "first Check() in a fresh process (bound license, one feature): median %.1f us, "
        "min %.1f us (N=%zu)\n",
        us[us.size() / 2], us.front(), us.size());
  }
  std::error_code ec;
  fs::remove_all(dir.parent_path(), ec);
  benchmark::Shutdown();
  return us.size() == 30 ? 0 : 1;
}
