// The license cache on the FakePlatform (docs/cache.md): what is stored where, atomic replace
// as seen by the store, the writers' lock, the clock high-water mark.
#include "agent/license_store.h"

#include <string>
#include <vector>

#include "licagent/license.h"
#include "platform/fake/fake_platform.h"
#include "tests/catch.h"

namespace licagent {
namespace {

using platform::FakePlatform;
using platform::StateScope;

const std::filesystem::path kDir = "/fake/store";

bool Contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

TEST_CASE("LicenseStore installs, reads, replaces and removes a license", "[store]") {
  FakePlatform fake;
  LicenseStore store(fake, kDir);
  CHECK(store.dir() == kDir);

  REQUIRE(store.Install("license one\n"));
  CHECK(fake.files.at(kDir / "license.lic") == "license one\n");
  auto read = store.Read();
  REQUIRE(read);
  CHECK(*read == "license one\n");

  REQUIRE(store.Install("license two"));
  read = store.Read();
  REQUIRE(read);
  CHECK(*read == "license two");

  REQUIRE(store.Remove());
  CHECK(fake.files.count(kDir / "license.lic") == 0);
  read = store.Read();
  REQUIRE_FALSE(read);
  CHECK(read.error().code == ErrorCode::kNotFound);

  SECTION("removing again is not an error") { CHECK(store.Remove()); }
}

TEST_CASE("LicenseStore reports a missing license as kNotFound", "[store]") {
  FakePlatform fake;
  LicenseStore store(fake, kDir);
  auto read = store.Read();
  REQUIRE_FALSE(read);
  CHECK(read.error().code == ErrorCode::kNotFound);
}

TEST_CASE("LicenseStore keeps the old license when a write fails", "[store]") {
  FakePlatform fake;
  LicenseStore store(fake, kDir);
  REQUIRE(store.Install("old license"));

  SECTION("disk full") {
    fake.fail_writes_with = Error{ErrorCode::kIoError, "write x: disk full (No space)", 28};
    const Status s = store.Install("new license");
    REQUIRE_FALSE(s);
    CHECK(s.error().code == ErrorCode::kIoError);
    CHECK(Contains(s.error().message, "disk full"));
  }
  SECTION("permission denied") {
    fake.fail_writes_with = Error{ErrorCode::kPermissionDenied, "create x: denied", 13};
    const Status s = store.Install("new license");
    REQUIRE_FALSE(s);
    CHECK(s.error().code == ErrorCode::kPermissionDenied);
  }
  SECTION("the lock cannot be taken: nothing is written") {
    fake.fail_locks_with = Error{ErrorCode::kPermissionDenied, "open lock file: denied", 13};
    const int writes = fake.writes;
    const Status s = store.Install("new license");
    REQUIRE_FALSE(s);
    CHECK(s.error().code == ErrorCode::kPermissionDenied);
    CHECK(fake.writes == writes);
  }
  SECTION("a failed remove keeps the license too") {
    fake.fail_writes_with = Error{ErrorCode::kIoError, "remove x: I/O error", 5};
    CHECK_FALSE(store.Remove());
  }
  fake.fail_writes_with.reset();
  fake.fail_locks_with.reset();
  auto read = store.Read();
  REQUIRE(read);
  CHECK(*read == "old license");
  CHECK(fake.held_locks.empty());
}

TEST_CASE("LicenseStore refuses empty and oversize license text before writing", "[store]") {
  FakePlatform fake;
  LicenseStore store(fake, kDir);

  Status s = store.Install("");
  REQUIRE_FALSE(s);
  CHECK(s.error().code == ErrorCode::kInvalidArgument);

  s = store.Install(std::string(kMaxLicenseSize + 1, 'x'));
  REQUIRE_FALSE(s);
  CHECK(s.error().code == ErrorCode::kInvalidArgument);
  CHECK(fake.writes == 0);

  REQUIRE(store.Install(std::string(kMaxLicenseSize, 'x')));  // the limit itself is fine
  auto read = store.Read();
  REQUIRE(read);
  CHECK(read->size() == kMaxLicenseSize);
}

TEST_CASE("LicenseStore reports an oversize license file as kCorrupt", "[store]") {
  FakePlatform fake;
  fake.files[kDir / "license.lic"] = std::string(kMaxLicenseSize + 1, 'x');
  LicenseStore store(fake, kDir);
  auto read = store.Read();
  REQUIRE_FALSE(read);
  CHECK(read.error().code == ErrorCode::kCorrupt);
  CHECK(Contains(read.error().message, "larger than"));
}

TEST_CASE("LicenseStore writers take the lock and readers never do", "[store]") {
  FakePlatform fake;
  LicenseStore store(fake, kDir);
  REQUIRE(store.Install("a license"));
  CHECK(fake.locks_taken == 1);
  REQUIRE(store.RaiseClockMark(100));
  CHECK(fake.locks_taken == 2);
  REQUIRE(store.Remove());
  CHECK(fake.locks_taken == 3);
  CHECK(fake.held_locks.empty());  // released on return

  REQUIRE(store.Install("a license"));
  const int before = fake.locks_taken;
  {
    // Another writer holds the lock: readers still answer at once.
    auto held = fake.LockExclusive(kDir / ".lock");
    REQUIRE(held);
    auto read = store.Read();
    REQUIRE(read);
    CHECK(*read == "a license");
    auto mark = store.ClockMark();
    REQUIRE(mark);
    CHECK(*mark == 100);
    // A writer would wait for it: the fake refuses instead of deadlocking, which shows the
    // store locks exactly this file.
    CHECK_FALSE(store.Install("another"));
    CHECK_FALSE(store.RaiseClockMark(200));
    CHECK_FALSE(store.Remove());
  }
  CHECK(fake.locks_taken == before + 4);  // the test's own and the three refused writers
  auto read = store.Read();
  REQUIRE(read);
  CHECK(*read == "a license");
}

TEST_CASE("LicenseStore sweeps a dead writer's temporary files when it writes", "[store]") {
  FakePlatform fake;
  LicenseStore store(fake, kDir);
  REQUIRE(store.Install("a license"));
  REQUIRE(fake.sweeps.size() == 1);
  CHECK(fake.sweeps[0].target == kDir / "license.lic");
  CHECK(fake.sweeps[0].min_age_seconds == LicenseStore::kStaleTempAgeSeconds);
  REQUIRE(store.RaiseClockMark(5));
  REQUIRE(fake.sweeps.size() == 2);
  CHECK(fake.sweeps[1].target == kDir / "clock.mark");
  REQUIRE(store.Read());
  CHECK(fake.sweeps.size() == 2);  // readers never sweep
}

TEST_CASE("LicenseStore clock mark only rises", "[store][clock]") {
  FakePlatform fake;
  LicenseStore store(fake, kDir);

  auto mark = store.ClockMark();
  REQUIRE_FALSE(mark);
  CHECK(mark.error().code == ErrorCode::kNotFound);

  REQUIRE(store.RaiseClockMark(1'700'000'000));
  CHECK(fake.files.at(kDir / "clock.mark") == "1700000000\n");
  mark = store.ClockMark();
  REQUIRE(mark);
  CHECK(*mark == 1'700'000'000);

  const int writes = fake.writes;
  REQUIRE(store.RaiseClockMark(1'600'000'000));  // earlier: ignored, not an error
  REQUIRE(store.RaiseClockMark(1'700'000'000));  // equal: nothing to write
  CHECK(fake.writes == writes);
  mark = store.ClockMark();
  REQUIRE(mark);
  CHECK(*mark == 1'700'000'000);

  REQUIRE(store.RaiseClockMark(1'800'000'000));
  mark = store.ClockMark();
  REQUIRE(mark);
  CHECK(*mark == 1'800'000'000);

  const Status negative = store.RaiseClockMark(-1);
  REQUIRE_FALSE(negative);
  CHECK(negative.error().code == ErrorCode::kInvalidArgument);

  SECTION("a failed write keeps the old mark") {
    fake.fail_writes_with = Error{ErrorCode::kIoError, "disk full", 28};
    CHECK_FALSE(store.RaiseClockMark(1'900'000'000));
    fake.fail_writes_with.reset();
    mark = store.ClockMark();
    REQUIRE(mark);
    CHECK(*mark == 1'800'000'000);
  }
  SECTION("removing the license keeps the mark") {
    REQUIRE(store.Install("x"));
    REQUIRE(store.Remove());
    mark = store.ClockMark();
    REQUIRE(mark);
    CHECK(*mark == 1'800'000'000);
  }
}

TEST_CASE("LicenseStore reports a corrupt clock mark and never resets it", "[store][clock]") {
  const std::vector<std::string> corrupt_marks = {"",
                                                  "\n",
                                                  "12",
                                                  "12\n\n",
                                                  "-5\n",
                                                  "+5\n",
                                                  "012\n",
                                                  "1 2\n",
                                                  " 12\n",
                                                  "12 \n",
                                                  "12\r\n",
                                                  "abc\n",
                                                  "0x10\n",
                                                  "9223372036854775808\n",
                                                  "99999999999999999999\n",
                                                  std::string("1\0\n", 3),
                                                  std::string(100, '1') + "\n"};
  for (const std::string& corrupt : corrupt_marks) {
    INFO("mark file: \"" << corrupt << "\"");
    FakePlatform fake;
    fake.files[kDir / "clock.mark"] = corrupt;
    LicenseStore store(fake, kDir);

    auto mark = store.ClockMark();
    REQUIRE_FALSE(mark);
    CHECK(mark.error().code == ErrorCode::kCorrupt);

    const Status raise = store.RaiseClockMark(1'700'000'000);
    REQUIRE_FALSE(raise);
    CHECK(raise.error().code == ErrorCode::kCorrupt);
    CHECK(fake.files.at(kDir / "clock.mark") == corrupt);  // left for the caller to judge
  }
}

TEST_CASE("LicenseStore passes an unreadable clock mark's error on and writes nothing",
          "[store][clock]") {
  FakePlatform fake;
  LicenseStore store(fake, kDir);
  REQUIRE(store.RaiseClockMark(100));
  fake.fail_reads_with = Error{ErrorCode::kPermissionDenied, "open clock.mark: denied", 13};
  const int writes = fake.writes;
  const Status s = store.RaiseClockMark(200);
  REQUIRE_FALSE(s);
  CHECK(s.error().code == ErrorCode::kPermissionDenied);
  CHECK(fake.writes == writes);
  auto read = store.Read();
  REQUIRE_FALSE(read);
  CHECK(read.error().code == ErrorCode::kPermissionDenied);
}

TEST_CASE("Clock mark text is decimal digits and one newline", "[store][clock]") {
  CHECK(FormatClockMark(0) == "0\n");
  CHECK(FormatClockMark(1'700'000'000) == "1700000000\n");
  for (std::int64_t t : {std::int64_t{0}, std::int64_t{1}, std::int64_t{1'700'000'000},
                         std::int64_t{9'223'372'036'854'775'807}}) {
    auto parsed = ParseClockMark(FormatClockMark(t));
    REQUIRE(parsed);
    CHECK(*parsed == t);
  }
}

TEST_CASE("DefaultStoreDir is the platform's state directory of the scope", "[store]") {
  FakePlatform fake;
  auto user = DefaultStoreDir(fake, StateScope::kUser);
  auto system = DefaultStoreDir(fake, StateScope::kSystem);
  REQUIRE(user);
  REQUIRE(system);
  CHECK(*user == fake.user_state_dir);
  CHECK(*system == fake.system_state_dir);
}

}  // namespace
}  // namespace licagent
