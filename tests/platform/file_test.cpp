// The file services of the real platform layer (Linux here): atomic replace, permissions,
// errors, the state directory, the writers' lock, and the license store under a writer killed
// mid-write and under 32 processes at once (docs/cache.md "What is tested").
//
// Children are forked and never exec anything, so this runs in sanitizer builds too; every
// child leaves with _exit() and reports through its exit status, never through Catch2.
#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "agent/license_store.h"
#include "platform/common/temp_name.h"
#include "platform/platform.h"
#include "platform/posix/file_posix.h"
#include "tests/catch.h"

namespace licagent::platform {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;
using std::chrono::seconds;

Platform& Native() { return Platform::Default(); }

// A fresh directory under $TMPDIR (or /tmp), removed with its contents at the end of the test.
class TempDir {
 public:
  TempDir() {
    const char* base = std::getenv("TMPDIR");
    std::string pattern = std::string(base != nullptr && base[0] == '/' ? base : "/tmp") +
                          "/licagent-file-test-XXXXXX";
    if (::mkdtemp(pattern.data()) != nullptr) path_ = pattern;
    REQUIRE_FALSE(path_.empty());
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

// Sets (or with nullopt, unsets) an environment variable until the end of the scope.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, std::optional<std::string> value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old;
    Set(value);
  }
  ~ScopedEnv() { Set(old_); }
  ScopedEnv(const ScopedEnv&) = delete;
  ScopedEnv& operator=(const ScopedEnv&) = delete;

 private:
  void Set(const std::optional<std::string>& value) {
    if (value) {
      ::setenv(name_, value->c_str(), 1);
    } else {
      ::unsetenv(name_);
    }
  }
  const char* name_;
  std::optional<std::string> old_;
};

class ScopedUmask {
 public:
  explicit ScopedUmask(mode_t mask) : old_(::umask(mask)) {}
  ~ScopedUmask() { ::umask(old_); }
  ScopedUmask(const ScopedUmask&) = delete;
  ScopedUmask& operator=(const ScopedUmask&) = delete;

 private:
  mode_t old_;
};

// Runs `body` in a forked child that leaves with _exit(body()); returns the child's pid.
template <typename Body>
pid_t Fork(Body body) {
  std::fflush(nullptr);  // nothing buffered may be written twice
  const pid_t pid = ::fork();
  if (pid == 0) {
    int code = 100;
    try {
      code = body();
    } catch (...) {
      code = 101;
    }
    ::_exit(code);
  }
  return pid;
}

// Waits for `pid` until `deadline`, then SIGKILLs it. The wait status, or nullopt on timeout.
std::optional<int> WaitUntil(pid_t pid, Clock::time_point deadline) {
  for (;;) {
    int status = 0;
    const pid_t done = ::waitpid(pid, &status, WNOHANG);
    if (done == pid) return status;
    if (done < 0 && errno != EINTR) return std::nullopt;
    if (Clock::now() >= deadline) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, &status, 0);
      return std::nullopt;
    }
    std::this_thread::sleep_for(milliseconds(2));
  }
}

bool ExitedWith(std::optional<int> status, int code) {
  return status && WIFEXITED(*status) && WEXITSTATUS(*status) == code;
}

mode_t Mode(const fs::path& path) {
  struct stat st {};
  REQUIRE(::lstat(path.c_str(), &st) == 0);
  return st.st_mode & 07777;
}

std::vector<std::string> List(const fs::path& dir) {
  std::vector<std::string> names;
  for (const auto& entry : fs::directory_iterator(dir)) {
    names.push_back(entry.path().filename().string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

bool IsTemp(const std::string& name, std::string_view target) {
  return IsTempFileNameFor<char>(name, target);
}

// 16 KiB of one letter, with a header that names it.
std::string Content(char letter, std::size_t size = 16 * 1024) {
  std::string text = std::string("content ") + letter + "\n";
  text.resize(size, letter);
  return text;
}

TEST_CASE("WriteFileAtomic creates and replaces a file that ReadFile reads back", "[file]") {
  TempDir tmp;
  const fs::path file = tmp.path() / "license.lic";
  REQUIRE(Native().WriteFileAtomic(file, "first"));
  auto read = Native().ReadFile(file, 1024);
  REQUIRE(read);
  CHECK(*read == "first");

  REQUIRE(Native().WriteFileAtomic(file, Content('B')));
  read = Native().ReadFile(file, 64 * 1024);
  REQUIRE(read);
  CHECK(*read == Content('B'));

  REQUIRE(Native().WriteFileAtomic(file, ""));  // empty contents are a valid file
  read = Native().ReadFile(file, 1024);
  REQUIRE(read);
  CHECK(read->empty());
  CHECK(List(tmp.path()) == std::vector<std::string>{"license.lic"});  // no temporary left

  SECTION("a file name is required") {
    const Status s = Native().WriteFileAtomic(tmp.path() / "sub" / "", "x");
    REQUIRE_FALSE(s);
    CHECK(s.error().code == ErrorCode::kInvalidArgument);
  }
}

TEST_CASE("Created files are 0600 and created directories 0700, whatever the umask", "[file]") {
  TempDir tmp;
  for (mode_t mask : {mode_t{0}, mode_t{022}, mode_t{077}}) {
    INFO("umask " << mask);
    ScopedUmask umask(mask);
    const fs::path top = tmp.path() / ("u" + std::to_string(mask));
    const fs::path file = top / "a" / "b" / "license.lic";
    REQUIRE(Native().WriteFileAtomic(file, "x"));
    CHECK(Mode(top) == 0700);
    CHECK(Mode(top / "a") == 0700);
    CHECK(Mode(top / "a" / "b") == 0700);
    CHECK(Mode(file) == 0600);

    auto lock = Native().LockExclusive(top / "c" / ".lock");
    REQUIRE(lock);
    CHECK(Mode(top / "c") == 0700);
    CHECK(Mode(top / "c" / ".lock") == 0600);
  }

  SECTION("replacing a world-readable file leaves an owner-only one") {
    const fs::path file = tmp.path() / "open.lic";
    fs::permissions(tmp.path(), fs::perms::owner_all);
    const int fd = ::open(file.c_str(), O_WRONLY | O_CREAT, 0644);
    REQUIRE(fd >= 0);
    ::fchmod(fd, 0644);
    ::close(fd);
    REQUIRE(Native().WriteFileAtomic(file, "private"));
    CHECK(Mode(file) == 0600);
  }
  SECTION("an existing directory keeps its mode") {
    const fs::path dir = tmp.path() / "shared";
    fs::create_directory(dir);
    fs::permissions(dir, fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec);
    REQUIRE(Native().WriteFileAtomic(dir / "f", "x"));
    CHECK(Mode(dir) == 0750);
  }
}

TEST_CASE("Files are readable by whom their directory lets in, never writable", "[file]") {
  // The machine-wide cache the packages create 0755 shares its (signed, not secret) license
  // with every user; a 0700 user cache keeps its files owner-only (docs/cache.md "Permissions").
  TempDir tmp;
  ScopedUmask umask(077);  // the umask neither widens nor narrows it
  const struct {
    mode_t dir, file;
  } cases[] = {{0755, 0644}, {0750, 0640}, {0705, 0604}, {0700, 0600},
               {0711, 0600}, {0740, 0600}, {0777, 0644}, {0770, 0640}};
  for (const auto& c : cases) {
    INFO("directory " << std::oct << c.dir);
    const fs::path dir = tmp.path() / ("d" + std::to_string(c.dir));
    fs::create_directory(dir);
    REQUIRE(::chmod(dir.c_str(), c.dir) == 0);
    REQUIRE(Native().WriteFileAtomic(dir / "license.lic", "first"));
    CHECK(Mode(dir / "license.lic") == c.file);
    REQUIRE(Native().WriteFileAtomic(dir / "license.lic", "second"));  // a replace, too
    CHECK(Mode(dir / "license.lic") == c.file);
    auto lock = Native().LockExclusive(dir / ".lock");  // the lock file stays owner-only
    REQUIRE(lock);
    CHECK(Mode(dir / ".lock") == 0600);
  }
}

TEST_CASE("ReadFile reports a missing file as kNotFound with os_error set", "[file]") {
  TempDir tmp;
  for (const fs::path& missing : {tmp.path() / "license.lic", tmp.path() / "no" / "dir"}) {
    auto read = Native().ReadFile(missing, 1024);
    REQUIRE_FALSE(read);
    CHECK(read.error().code == ErrorCode::kNotFound);
    CHECK(read.error().os_error == ENOENT);
    CHECK(read.error().message.find(missing.string()) != std::string::npos);
  }
}

TEST_CASE("ReadFile refuses an oversize or non-regular file as kCorrupt", "[file]") {
  TempDir tmp;
  const fs::path file = tmp.path() / "big";
  REQUIRE(Native().WriteFileAtomic(file, std::string(1025, 'x')));
  auto read = Native().ReadFile(file, 1024);
  REQUIRE_FALSE(read);
  CHECK(read.error().code == ErrorCode::kCorrupt);
  CHECK(read.error().message.find("larger than the limit of 1024 bytes") != std::string::npos);
  REQUIRE(Native().ReadFile(file, 1025));  // exactly at the limit

  read = Native().ReadFile(tmp.path(), 1024);  // a directory
  REQUIRE_FALSE(read);
  CHECK(read.error().code == ErrorCode::kCorrupt);

  const fs::path fifo = tmp.path() / "fifo";
  REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
  read = Native().ReadFile(fifo, 1024);  // must not wait for a writer
  REQUIRE_FALSE(read);
  CHECK(read.error().code == ErrorCode::kCorrupt);
}

TEST_CASE("A failed write leaves the old file and no temporary file", "[file]") {
  TempDir tmp;
  const fs::path file = tmp.path() / "license.lic";
  REQUIRE(Native().WriteFileAtomic(file, Content('A')));

  // A file-size limit makes write() fail with EFBIG part-way through, even for root.
  const pid_t child = Fork([&] {
    ::signal(SIGXFSZ, SIG_IGN);
    const rlimit limit{4096, 4096};
    if (::setrlimit(RLIMIT_FSIZE, &limit) != 0) return 3;
    const Status s = Native().WriteFileAtomic(file, Content('B'));
    if (s) return 1;
    return s.error().code == ErrorCode::kIoError && s.error().os_error == EFBIG ? 0 : 2;
  });
  CHECK(ExitedWith(WaitUntil(child, Clock::now() + seconds(20)), 0));

  auto read = Native().ReadFile(file, 64 * 1024);
  REQUIRE(read);
  CHECK(*read == Content('A'));
  CHECK(List(tmp.path()) == std::vector<std::string>{"license.lic"});
}

TEST_CASE("A full disk is kIoError saying so", "[file]") {
  for (int err : {ENOSPC, EDQUOT}) {
    const Error e = ErrnoError("write /x", err);
    CHECK(e.code == ErrorCode::kIoError);
    CHECK(e.os_error == err);
    CHECK(e.message.find("disk full") != std::string::npos);
  }
  CHECK(ErrnoError("open /x", ENOENT).code == ErrorCode::kNotFound);
  CHECK(ErrnoError("open /x", EACCES).code == ErrorCode::kPermissionDenied);
  CHECK(ErrnoError("open /x", EIO).code == ErrorCode::kIoError);
}

TEST_CASE("RemoveFile deletes a file, and a missing file is success", "[file]") {
  TempDir tmp;
  const fs::path file = tmp.path() / "license.lic";
  REQUIRE(Native().WriteFileAtomic(file, "x"));
  REQUIRE(Native().RemoveFile(file));
  CHECK_FALSE(fs::exists(file));
  CHECK(Native().RemoveFile(file));
  CHECK(Native().RemoveFile(tmp.path() / "no" / "such"));
}

TEST_CASE("StateDir follows LICAGENT_STATE_DIR, then XDG_STATE_HOME, then HOME", "[file]") {
  ScopedEnv xdg("XDG_STATE_HOME", std::nullopt);
  ScopedEnv home("HOME", "/home/alice");

  SECTION("the override wins for both scopes") {
    ScopedEnv state("LICAGENT_STATE_DIR", "/srv/licagent-test");
    auto user = Native().StateDir(StateScope::kUser);
    auto system = Native().StateDir(StateScope::kSystem);
    REQUIRE(user);
    REQUIRE(system);
    CHECK(*user == "/srv/licagent-test");
    CHECK(*system == "/srv/licagent-test");
  }
  SECTION("a relative override is an error, not ignored") {
    ScopedEnv state("LICAGENT_STATE_DIR", "relative/dir");
    auto user = Native().StateDir(StateScope::kUser);
    REQUIRE_FALSE(user);
    CHECK(user.error().code == ErrorCode::kInvalidArgument);
  }
  SECTION("without the override") {
    ScopedEnv state("LICAGENT_STATE_DIR", std::nullopt);
    auto system = Native().StateDir(StateScope::kSystem);
    REQUIRE(system);
    CHECK(*system == "/var/lib/licagent");

    auto user = Native().StateDir(StateScope::kUser);
    REQUIRE(user);
    CHECK(*user == "/home/alice/.local/state/licagent");
    {
      ScopedEnv xdg_set("XDG_STATE_HOME", "/var/xdg/state");
      user = Native().StateDir(StateScope::kUser);
      REQUIRE(user);
      CHECK(*user == "/var/xdg/state/licagent");
    }
    {
      ScopedEnv xdg_relative("XDG_STATE_HOME", "state");  // the XDG spec: ignore it
      user = Native().StateDir(StateScope::kUser);
      REQUIRE(user);
      CHECK(*user == "/home/alice/.local/state/licagent");
    }
    {
      ScopedEnv no_home("HOME", std::nullopt);  // the password database answers
      user = Native().StateDir(StateScope::kUser);
      REQUIRE(user);
      CHECK(user->is_absolute());
      CHECK(user->string().size() > std::string("/.local/state/licagent").size());
      CHECK(user->string().ends_with("/.local/state/licagent"));
    }
  }
}

TEST_CASE("Temporary file names are recognised exactly", "[file]") {
  const std::string name = TempFileName<char>("license.lic", 0x1f2a, 0x7c3e91, 0);
  CHECK(name == ".license.lic.1f2a.7c3e91.0.tmp");
  CHECK(IsTemp(name, "license.lic"));
  CHECK(
      IsTemp(TempFileName<char>("license.lic", UINT64_MAX, UINT64_MAX, UINT64_MAX), "license.lic"));
  CHECK_FALSE(IsTemp(name, "clock.mark"));
  CHECK_FALSE(IsTemp(name, "license"));
  for (const char* other :
       {"license.lic", ".license.lic", ".license.lic.tmp", ".license.lic.1.2.tmp",
        ".license.lic.1.2.3.4.tmp", ".license.lic.1..3.tmp", ".license.lic.1.2.3.tmp.x",
        ".license.lic.1.2.G.tmp", ".license.lic.1.2.3.TMP", "license.lic.1.2.3.tmp",
        ".license.lic.1.2.11111111111111111.tmp"}) {
    INFO(other);
    CHECK_FALSE(IsTemp(other, "license.lic"));
  }
}

TEST_CASE("RemoveStaleTempFiles removes only old temporary files of its target", "[file]") {
  TempDir tmp;
  const fs::path target = tmp.path() / "license.lic";
  const auto make = [&](const std::string& name, int age_seconds) {
    REQUIRE(Native().WriteFileAtomic(tmp.path() / name, name));
    fs::last_write_time(tmp.path() / name, fs::file_time_type::clock::now() - seconds(age_seconds));
  };
  make("license.lic", 3600);
  make(".license.lic.1.2.3.tmp", 3600);                         // stale
  make(".license.lic.4.5.6.tmp", 0);                            // fresh: perhaps a live writer's
  make(".clock.mark.1.2.3.tmp", 3600);                          // another target's
  make("license.lic.bak", 3600);                                // not a temporary name
  make(".license.lic.1.2.tmp", 3600);                           // not a temporary name
  fs::create_directory(tmp.path() / ".license.lic.7.8.9.tmp");  // not a file

  auto removed = Native().RemoveStaleTempFiles(target, 60);
  REQUIRE(removed);
  CHECK(*removed == 1);
  CHECK_FALSE(fs::exists(tmp.path() / ".license.lic.1.2.3.tmp"));
  CHECK(List(tmp.path()).size() == 6);

  removed = Native().RemoveStaleTempFiles(target, 0);
  REQUIRE(removed);
  CHECK(*removed == 1);
  CHECK(List(tmp.path()) ==
        std::vector<std::string>{".clock.mark.1.2.3.tmp", ".license.lic.1.2.tmp",
                                 ".license.lic.7.8.9.tmp", "license.lic", "license.lic.bak"});

  removed = Native().RemoveStaleTempFiles(tmp.path() / "missing" / "license.lic", 0);
  REQUIRE(removed);
  CHECK(*removed == 0);
}

TEST_CASE("LockExclusive excludes other threads until released", "[file][lock]") {
  TempDir tmp;
  const fs::path lock_file = tmp.path() / "store" / ".lock";
  auto first = Native().LockExclusive(lock_file);
  REQUIRE(first);

  std::atomic<bool> acquired{false};
  std::thread other([&] {
    auto second = Native().LockExclusive(lock_file);
    acquired = second.has_value();
  });
  std::this_thread::sleep_for(milliseconds(200));
  CHECK_FALSE(acquired.load());
  first->reset();  // release
  other.join();
  CHECK(acquired.load());
}

TEST_CASE("LockExclusive excludes other processes", "[file][lock]") {
  TempDir tmp;
  const fs::path lock_file = tmp.path() / ".lock";
  const fs::path counter = tmp.path() / "counter";
  constexpr int kProcesses = 6;
  constexpr int kIncrements = 15;

  // Each increment is a read, a pause and a write: without mutual exclusion, updates are lost.
  std::vector<pid_t> children;
  for (int i = 0; i < kProcesses; ++i) {
    children.push_back(Fork([&] {
      for (int n = 0; n < kIncrements; ++n) {
        auto lock = Native().LockExclusive(lock_file);
        if (!lock) return 2;
        auto text = Native().ReadFile(counter, 64);
        if (!text && text.error().code != ErrorCode::kNotFound) return 3;
        const int value = text ? std::stoi(*text) : 0;
        std::this_thread::sleep_for(milliseconds(1));
        if (!Native().WriteFileAtomic(counter, std::to_string(value + 1))) return 4;
      }
      return 0;
    }));
  }
  const auto deadline = Clock::now() + seconds(60);
  for (pid_t child : children) CHECK(ExitedWith(WaitUntil(child, deadline), 0));
  auto text = Native().ReadFile(counter, 64);
  REQUIRE(text);
  CHECK(*text == std::to_string(kProcesses * kIncrements));
}

TEST_CASE("A writer killed mid-write leaves the old or the new file, never a mix",
          "[file][crash]") {
  TempDir tmp;
  const fs::path file = tmp.path() / "license.lic";
  const std::string a = Content('A');
  const std::string b = Content('B');
  const unsigned seed = std::random_device{}();
  INFO("seed " << seed);
  std::mt19937 random(seed);
  std::uniform_int_distribution<int> delay_us(0, 20'000);

  constexpr int kRounds = 100;
  const auto time_limit = Clock::now() + seconds(20);
  int rounds = 0;
  int killed_mid_run = 0;
  bool seen = false;
  std::size_t most_leftovers = 0;
  for (; rounds < kRounds && Clock::now() < time_limit; ++rounds) {
    const pid_t child = Fork([&] {
      for (long i = 0; i < 1'000'000; ++i) {
        if (!Native().WriteFileAtomic(file, i % 2 == 0 ? a : b)) return 2;
      }
      return 0;
    });
    REQUIRE(child > 0);
    std::this_thread::sleep_for(std::chrono::microseconds(delay_us(random)));
    ::kill(child, SIGKILL);
    const std::optional<int> status = WaitUntil(child, Clock::now() + seconds(10));
    REQUIRE(status);
    INFO("round " << rounds << ", wait status " << *status);
    REQUIRE((WIFSIGNALED(*status) && WTERMSIG(*status) == SIGKILL));
    ++killed_mid_run;

    auto read = Native().ReadFile(file, 64 * 1024);
    if (!read) {
      // Absent only until the first write has completed.
      REQUIRE(read.error().code == ErrorCode::kNotFound);
      REQUIRE_FALSE(seen);
      continue;
    }
    seen = true;
    REQUIRE((*read == a || *read == b));

    // Anything else in the directory is a killed writer's temporary file, which no reader
    // opens; the license store sweeps them once they are a minute old (docs/cache.md).
    std::size_t leftovers = 0;
    for (const std::string& name : List(tmp.path())) {
      if (name == "license.lic") continue;
      INFO("left in the directory: " << name);
      REQUIRE(IsTemp(name, "license.lic"));
      ++leftovers;
    }
    most_leftovers = std::max(most_leftovers, leftovers);
  }
  INFO("rounds " << rounds << ", most leftovers " << most_leftovers);
  CHECK(rounds >= 10);
  CHECK(killed_mid_run == rounds);

  // The next writer works, and the sweep clears every leftover.
  REQUIRE(Native().WriteFileAtomic(file, "after the crashes"));
  auto read = Native().ReadFile(file, 64 * 1024);
  REQUIRE(read);
  CHECK(*read == "after the crashes");
  REQUIRE(Native().RemoveStaleTempFiles(file, 0));
  CHECK(List(tmp.path()) == std::vector<std::string>{"license.lic"});
}

TEST_CASE("32 processes installing and reading at once see whole licenses only",
          "[file][concurrency]") {
  TempDir tmp;
  const fs::path dir = tmp.path() / "store";
  constexpr int kWriters = 16;
  constexpr int kReaders = 16;
  constexpr int kInstallsPerWriter = 20;
  constexpr int kMaxReadsPerReader = 200'000;
  const fs::path writers_done = tmp.path() / "writers-done";  // readers stop when it appears
  std::vector<std::string> licenses;
  for (int i = 0; i < kWriters; ++i) {
    licenses.push_back(Content(static_cast<char>('a' + i), 8 * 1024 + 97 * i));
  }
  const auto child_limit = Clock::now() + seconds(30);

  std::vector<pid_t> children;
  for (int w = 0; w < kWriters; ++w) {
    children.push_back(Fork([&, w] {
      LicenseStore store(Native(), dir);
      for (int n = 0; n < kInstallsPerWriter && Clock::now() < child_limit; ++n) {
        if (!store.Install(licenses[static_cast<std::size_t>(w)])) return 2;
        if (!store.RaiseClockMark(1'700'000'000 + w * 100 + n)) return 3;
      }
      return 0;
    }));
  }
  for (int r = 0; r < kReaders; ++r) {
    children.push_back(Fork([&] {
      LicenseStore store(Native(), dir);
      std::int64_t last_mark = 0;
      int n = 0;
      for (; n < kMaxReadsPerReader && Clock::now() < child_limit; ++n) {
        if (n % 16 == 0 && ::access(writers_done.c_str(), F_OK) == 0) break;
        auto read = store.Read();
        if (!read) {
          if (read.error().code != ErrorCode::kNotFound) return 2;
        } else if (std::find(licenses.begin(), licenses.end(), *read) == licenses.end()) {
          return 1;  // a torn or mixed license
        }
        auto mark = store.ClockMark();
        if (!mark) {
          if (mark.error().code != ErrorCode::kNotFound) return 4;
        } else {
          if (*mark < last_mark) return 5;  // the mark went down
          last_mark = *mark;
        }
      }
      return n > 0 ? 0 : 6;
    }));
  }

  const auto deadline = Clock::now() + seconds(60);
  int failures = 0;
  for (std::size_t i = 0; i < children.size(); ++i) {
    if (i == kWriters) REQUIRE(Native().WriteFileAtomic(writers_done, "done"));
    const std::optional<int> status = WaitUntil(children[i], deadline);
    INFO((i < kWriters ? "writer " : "reader ")
         << i << " status " << (status ? std::to_string(*status) : "timeout"));
    CHECK(ExitedWith(status, 0));
    if (!ExitedWith(status, 0)) ++failures;
  }
  REQUIRE(failures == 0);

  LicenseStore store(Native(), dir);
  auto read = store.Read();
  REQUIRE(read);
  CHECK(std::find(licenses.begin(), licenses.end(), *read) != licenses.end());
  auto mark = store.ClockMark();
  REQUIRE(mark);
  CHECK(*mark == 1'700'000'000 + (kWriters - 1) * 100 + (kInstallsPerWriter - 1));
  for (const std::string& name : List(dir)) {
    INFO(name);
    CHECK((name == "license.lic" || name == "clock.mark" || name == ".lock"));
  }
}

}  // namespace
}  // namespace licagent::platform
