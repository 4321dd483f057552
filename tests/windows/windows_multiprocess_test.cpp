// Crash-safety and concurrency of the license cache on WindowsPlatform, with real processes:
// the Windows counterparts of the Linux "killed mid-write" and "32 processes" tests in
// tests/platform/file_test.cpp. windows_tests.exe starts copies of itself (child_process.h):
//
//   --child-writer DIR ROUND EVENT   replaces DIR\license.lic with ever new versions until it is
//                                    terminated; sets EVENT just before its first write
//   --child-store DIR INDEX EVENT    waits for EVENT, then installs, raises the clock mark,
//                                    increments a counter under the store's lock and reads, in
//                                    rounds, checking that every read is whole
//
// Under Wine these are Wine processes on the Linux file system; docs/windows.md says what that
// does and does not prove for real Windows.
// clang-format off
#include <windows.h>
#include <shellapi.h>
// clang-format on

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <optional>
#include <random>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "agent/license_store.h"
#include "platform/common/temp_name.h"
#include "platform/platform.h"
#include "tests/catch.h"
#include "tests/windows/child_process.h"
#include "tests/windows/temp_dir.h"

namespace licagent::platform {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;
using std::chrono::seconds;

Platform& Native() { return Platform::Default(); }

// --- Versions: file contents that say who wrote them and can be checked for being whole.

struct VersionId {
  int writer = 0;
  int n = 0;
  auto operator<=>(const VersionId&) const = default;
};

// Version `id` of `size` bytes: a header naming it, then letters from a generator seeded by
// `id`, then "\n". Every version differs from every other in its header and its filler, so a
// file mixing two versions, or a truncated one, is told apart from a whole version.
std::string VersionText(VersionId id, std::size_t size) {
  std::string text = "licagent test writer " + std::to_string(id.writer) + " version " +
                     std::to_string(id.n) + " size " + std::to_string(size) + "\n";
  std::uint32_t x = 2'654'435'761u * static_cast<std::uint32_t>(id.writer * 100'003 + id.n + 1);
  while (text.size() + 1 < size) {
    x = x * 1'664'525u + 1'013'904'223u;
    text.push_back(static_cast<char>('a' + (x >> 24) % 26));
  }
  text.push_back('\n');
  return text;
}

// The version `text` is, if it is exactly one whole version.
std::optional<VersionId> WholeVersion(std::string_view text) {
  const std::size_t end = text.find('\n');
  if (end == std::string_view::npos) return std::nullopt;
  std::istringstream header{std::string(text.substr(0, end))};
  std::string licagent, test, writer, version, size_word;
  VersionId id;
  std::size_t size = 0;
  header >> licagent >> test >> writer >> id.writer >> version >> id.n >> size_word >> size;
  if (!header || licagent != "licagent" || test != "test" || writer != "writer" ||
      version != "version" || size_word != "size" || size != text.size()) {
    return std::nullopt;
  }
  if (VersionText(id, size) != text) return std::nullopt;
  return id;
}

// --- The crash test: a writer terminated at random points.

constexpr int kCrashRounds = 30;
constexpr seconds kCrashTimeLimit{60};  // the rounds stop early when this is spent
constexpr int kMaxKillDelayMs = 40;     // after the writer says it is about to start
constexpr UINT kKilled = 0x4B;          // TerminateProcess exit code of the writer
constexpr int kWriterMaxWrites = 1'000'000;
constexpr seconds kWriterTimeLimit{30};  // a writer never terminated gives up on its own

// Large (256 KiB and more) so that a good part of each write is spent writing and flushing.
std::size_t CrashSize(int n) { return 256 * 1024 + static_cast<std::size_t>(n % 7) * 1111; }

// --child-writer DIR ROUND EVENT
int CrashWriterChild(const fs::path& dir, int round, const std::wstring& ready_event) {
  HANDLE ready = OpenEventW(EVENT_MODIFY_STATE, FALSE, ready_event.c_str());
  if (ready == nullptr) {
    std::fprintf(stderr, "writer %d: OpenEventW error %lu\n", round, GetLastError());
    return 20;
  }
  const fs::path file = dir / L"license.lic";
  const auto limit = Clock::now() + kWriterTimeLimit;
  SetEvent(ready);
  for (int n = 1; n <= kWriterMaxWrites && Clock::now() < limit; ++n) {
    const Status written = Native().WriteFileAtomic(file, VersionText({round, n}, CrashSize(n)));
    if (!written) {
      std::fprintf(stderr, "writer %d: %s\n", round, written.error().message.c_str());
      return 21;
    }
  }
  return 0;  // not terminated in time: the parent fails the round
}

TEST_CASE("A writer process terminated at random points leaves the old or the new file whole",
          "[windows-crash]") {
  TempDir tmp;
  const fs::path file = tmp.path() / L"license.lic";
  VersionId last{0, 0};
  REQUIRE(Native().WriteFileAtomic(file, VersionText(last, CrashSize(0))));

  const unsigned seed = std::random_device{}();
  INFO("seed " << seed);
  std::mt19937 random(seed);
  std::uniform_int_distribution<int> delay_ms(0, kMaxKillDelayMs);

  const auto start = Clock::now();
  int rounds = 0;
  int rounds_with_writes = 0;  // the writer completed at least one replace
  int rounds_with_leftovers = 0;
  long writes = 0;
  for (; rounds < kCrashRounds && Clock::now() - start < kCrashTimeLimit; ++rounds) {
    const int round = rounds + 1;
    INFO("round " << round);
    NamedEvent ready(L"ready");
    ChildProcess writer(
        {L"--child-writer", tmp.path().wstring(), std::to_wstring(round), ready.name()});
    const HANDLE waits[] = {ready.handle(), writer.handle()};
    const DWORD woke = WaitForMultipleObjects(2, waits, FALSE, 30'000);
    if (woke != WAIT_OBJECT_0) {
      FAIL("the writer did not start: wait result " << woke << ", exit code " << writer.ExitCode());
    }
    Sleep(static_cast<DWORD>(delay_ms(random)));
    writer.Terminate(kKilled);
    REQUIRE(writer.Wait(seconds(10)));
    REQUIRE(writer.ExitCode() == kKilled);  // terminated while writing, not finished or failed

    auto read = Native().ReadFile(file, 1024 * 1024);
    REQUIRE(read);
    INFO("read " << read->size() << " bytes: " << read->substr(0, read->find('\n')));
    const std::optional<VersionId> version = WholeVersion(*read);
    REQUIRE(version);
    // The writer's last completed version, or the previous round's if it completed none.
    REQUIRE(((version->writer == round && version->n >= 1) || *version == last));
    if (version->writer == round) {
      ++rounds_with_writes;
      writes += version->n;
    }
    last = *version;

    // Anything else is a terminated writer's temporary file, and the sweep removes exactly those.
    std::size_t leftovers = 0;
    for (const std::wstring& name : List(tmp.path())) {
      if (name == L"license.lic") continue;
      INFO("left in the directory: " << fs::path(name).string());
      REQUIRE(IsTempFileNameFor<wchar_t>(name, L"license.lic"));
      ++leftovers;
    }
    if (leftovers > 0) ++rounds_with_leftovers;
    auto removed = Native().RemoveStaleTempFiles(file, 0);
    REQUIRE(removed);
    CHECK(*removed == leftovers);
    REQUIRE(List(tmp.path()) == std::vector<std::wstring>{L"license.lic"});
  }
  const double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
  std::printf(
      "windows-crash: %d rounds in %.1f s (seed %u): %d with completed writes (%ld in all), "
      "%d terminated mid-write (a temporary file left)\n",
      rounds, elapsed, seed, rounds_with_writes, writes, rounds_with_leftovers);
  CHECK(rounds >= 10);

  // The store on the same directory still works.
  LicenseStore store(Native(), tmp.path());
  REQUIRE(store.Install("after the crashes"));
  auto text = store.Read();
  REQUIRE(text);
  CHECK(*text == "after the crashes");
  REQUIRE(store.RaiseClockMark(1'700'000'000));
  auto mark = store.ClockMark();
  REQUIRE(mark);
  CHECK(*mark == 1'700'000'000);
  CHECK(List(tmp.path()) == std::vector<std::wstring>{L".lock", L"clock.mark", L"license.lic"});
}

// --- The concurrency test: many processes on one store.

constexpr int kProcesses = 32;
constexpr int kRoundsPerProcess = 8;
constexpr int kReadsPerRound = 4;
constexpr int kParentWriter = 1000;  // the writer id of the version installed first
constexpr std::int64_t kBaseMark = 1'700'000'000;
constexpr seconds kGoWait{60};            // a child waits this long for the start signal
constexpr seconds kWorkerTimeLimit{120};  // then this long for its rounds (6-30 s seen)
constexpr seconds kParentWait{200};       // the parent waits this long for all children

std::size_t StoreSize(int index, int n) {
  return 8 * 1024 + static_cast<std::size_t>(index) * 97 + static_cast<std::size_t>(n) * 13;
}
std::int64_t MarkOf(int index, int n) { return kBaseMark + 1 + n * 100 + index; }

// --child-store DIR INDEX EVENT
int StoreChild(const fs::path& dir, int index, const std::wstring& go_event) {
  const auto fail = [index](const char* what, const std::string& detail) {
    std::fprintf(stderr, "store child %d: %s: %s\n", index, what, detail.c_str());
  };
  HANDLE go = OpenEventW(SYNCHRONIZE, FALSE, go_event.c_str());
  if (go == nullptr) {
    fail("OpenEventW", std::to_string(GetLastError()));
    return 30;
  }
  if (WaitForSingleObject(go, static_cast<DWORD>(milliseconds(kGoWait).count())) != WAIT_OBJECT_0) {
    fail("start signal", "not given in time");
    return 31;
  }
  LicenseStore store(Native(), dir);
  const fs::path counter = dir / L"counter";
  const auto limit = Clock::now() + kWorkerTimeLimit;
  std::int64_t last_mark = 0;
  for (int n = 0; n < kRoundsPerProcess; ++n) {
    if (Clock::now() > limit) {
      fail("time limit", "round " + std::to_string(n));
      return 32;
    }
    if (Status s = store.Install(VersionText({index, n}, StoreSize(index, n))); !s) {
      fail("Install", s.error().message);
      return 33;
    }
    if (Status s = store.RaiseClockMark(MarkOf(index, n)); !s) {
      fail("RaiseClockMark", s.error().message);
      return 34;
    }
    {  // read, pause, write under the store's lock: a lock that fails to exclude loses counts
      auto lock = Native().LockExclusive(dir / L".lock");
      if (!lock) {
        fail("LockExclusive", lock.error().message);
        return 35;
      }
      auto text = Native().ReadFile(counter, 32);
      if (!text && text.error().code != ErrorCode::kNotFound) {
        fail("read counter", text.error().message);
        return 36;
      }
      const long value = text ? std::stol(*text) : 0;
      Sleep(1);
      if (Status s = Native().WriteFileAtomic(counter, std::to_string(value + 1)); !s) {
        fail("write counter", s.error().message);
        return 37;
      }
    }
    for (int r = 0; r < kReadsPerRound; ++r) {
      auto text = store.Read();
      if (!text) {
        fail("Read", text.error().message);
        return 38;
      }
      if (!WholeVersion(*text)) {
        fail("Read", "not a whole version: " + std::to_string(text->size()) + " bytes, " +
                         text->substr(0, text->find('\n')));
        return 39;
      }
      auto mark = store.ClockMark();
      if (!mark) {
        fail("ClockMark", mark.error().message);
        return 40;
      }
      if (*mark < last_mark) {
        fail("ClockMark",
             "went down from " + std::to_string(last_mark) + " to " + std::to_string(*mark));
        return 41;
      }
      last_mark = *mark;
    }
  }
  return 0;
}

TEST_CASE("32 processes installing, locking and reading one cache at once see whole files only",
          "[windows-concurrency]") {
  TempDir tmp;
  const fs::path dir = tmp.path() / L"store";
  LicenseStore store(Native(), dir);
  REQUIRE(store.Install(VersionText({kParentWriter, 0}, 4096)));
  REQUIRE(store.RaiseClockMark(kBaseMark));

  const auto start = Clock::now();
  NamedEvent go(L"go");
  std::vector<ChildProcess> children;
  children.reserve(kProcesses);
  for (int i = 0; i < kProcesses; ++i) {
    children.emplace_back(
        std::vector<std::wstring>{L"--child-store", dir.wstring(), std::to_wstring(i), go.name()});
  }
  const auto started = Clock::now();
  go.Set();
  const auto deadline = start + kParentWait;
  for (int i = 0; i < kProcesses; ++i) {
    INFO("child " << i);
    const auto left = std::max(milliseconds(0),
                               std::chrono::duration_cast<milliseconds>(deadline - Clock::now()));
    REQUIRE(children[static_cast<std::size_t>(i)].Wait(left));
    CHECK(children[static_cast<std::size_t>(i)].ExitCode() == 0);
  }
  const auto finished = Clock::now();
  std::printf("windows-concurrency: %d processes started in %.1f s, ran %d rounds each in %.1f s\n",
              kProcesses, std::chrono::duration<double>(started - start).count(), kRoundsPerProcess,
              std::chrono::duration<double>(finished - started).count());

  auto counter = Native().ReadFile(dir / L"counter", 32);
  REQUIRE(counter);
  CHECK(*counter == std::to_string(kProcesses * kRoundsPerProcess));  // no increment lost
  auto mark = store.ClockMark();
  REQUIRE(mark);
  CHECK(*mark == MarkOf(kProcesses - 1, kRoundsPerProcess - 1));
  auto text = store.Read();
  REQUIRE(text);
  const std::optional<VersionId> version = WholeVersion(*text);
  REQUIRE(version);
  CHECK(version->writer < kProcesses);
  CHECK(version->n == kRoundsPerProcess - 1);  // each child's last install is its last version
  CHECK(List(dir) ==
        std::vector<std::wstring>{L".lock", L"clock.mark", L"counter", L"license.lic"});
}

std::optional<int> Number(const std::wstring& text) {
  try {
    std::size_t used = 0;
    const int value = std::stoi(text, &used);
    if (used == text.size()) return value;
  } catch (const std::exception&) {
  }
  return std::nullopt;
}

}  // namespace

int RunTestChild() {
  int argc = 0;
  LPWSTR* raw = CommandLineToArgvW(GetCommandLineW(), &argc);
  if (raw == nullptr) return 90;
  const std::vector<std::wstring> args(raw, raw + argc);
  LocalFree(raw);
  if (args.size() == 5) {
    const std::optional<int> number = Number(args[3]);
    if (number && args[1] == L"--child-writer") {
      return CrashWriterChild(args[2], *number, args[4]);
    }
    if (number && args[1] == L"--child-store") return StoreChild(args[2], *number, args[4]);
  }
  std::fprintf(stderr, "windows_tests: unknown child arguments\n");
  return 91;
}

}  // namespace licagent::platform
