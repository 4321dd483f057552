// The SQLite store on real files: schema creation and migration, credentials, seats, and seat
// allocation under concurrency from many threads and connections.
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "server/activation/sqlite_store.h"
#include "tests/catch.h"

using namespace licagent::server;
using licagent::ErrorCode;

namespace {

// A fresh folder under the system temp dir, removed at the end of the test.
class TempDir {
 public:
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "licagent-store-XXXXXX").string();
    REQUIRE(mkdtemp(tmpl.data()) != nullptr);
    path_ = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  std::string File(const std::string& name) const { return (path_ / name).string(); }

 private:
  std::filesystem::path path_;
};

int UserVersion(const std::string& path) {
  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open(path.c_str(), &db) == SQLITE_OK);
  sqlite3_stmt* s = nullptr;
  REQUIRE(sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &s, nullptr) == SQLITE_OK);
  REQUIRE(sqlite3_step(s) == SQLITE_ROW);
  const int v = sqlite3_column_int(s, 0);
  sqlite3_finalize(s);
  sqlite3_close(db);
  return v;
}

void Exec(const std::string& path, const char* sql) {
  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open(path.c_str(), &db) == SQLITE_OK);
  REQUIRE(sqlite3_exec(db, sql, nullptr, nullptr, nullptr) == SQLITE_OK);
  sqlite3_close(db);
}

Credential MakeCredential(const std::string& id, int seats) {
  Credential c;
  c.id = id;
  c.product_id = "licagent-demo";
  c.customer = "ACME";
  c.seats = seats;
  c.features = {{"export", ""}, {"render", "gpu"}};
  c.max_cores = 16;
  c.expires_at = 1900000000;
  c.created_at = 1800000000;
  return c;
}

Seat MakeSeat(const std::string& license_id, const std::string& credential_id) {
  Seat s;
  s.license_id = license_id;
  s.credential_id = credential_id;
  s.identifier = "HW1-52GV-5GYM-WQV0-E619-795N-RVBY-6HB0";
  s.candidates[2] = {0xE5F6, 0x1234};
  s.environment = "vm";
  s.created_at = 1800000100;
  s.last_seen_at = 1800000100;
  s.agent_version = "0.1.0";
  return s;
}

const auto kNever = [](const Seat&) { return false; };

}  // namespace

TEST_CASE("Store: created owner-only, WAL, at the current schema version", "[server][store]") {
  TempDir dir;
  const std::string path = dir.File("licagent.db");
  {
    auto store = OpenSqliteStore(path);
    REQUIRE(store);
  }
  struct stat st {};
  REQUIRE(::stat(path.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
  CHECK(UserVersion(path) == SqliteSchemaVersion());
  // Reopening keeps the data and the version.
  {
    auto store = OpenSqliteStore(path);
    REQUIRE(store);
    REQUIRE((*store)->CreateCredential(MakeCredential("cred-1", 2), "hash-1"));
  }
  auto again = OpenSqliteStore(path);
  REQUIRE(again);
  CHECK((*again)->GetCredential("cred-1"));
  CHECK(UserVersion(path) == SqliteSchemaVersion());
}

TEST_CASE("Store: migrates a version-0 file and refuses a newer schema", "[server][store]") {
  TempDir dir;
  const std::string path = dir.File("old.db");
  Exec(path, "CREATE TABLE unrelated (x INTEGER)");  // a database at user_version 0
  REQUIRE(UserVersion(path) == 0);
  {
    auto store = OpenSqliteStore(path);
    REQUIRE(store);
    CHECK((*store)->CreateCredential(MakeCredential("cred-1", 1), "h"));
  }
  CHECK(UserVersion(path) == SqliteSchemaVersion());

  const std::string newer = dir.File("newer.db");
  Exec(newer, ("PRAGMA user_version = " + std::to_string(SqliteSchemaVersion() + 1)).c_str());
  auto refused = OpenSqliteStore(newer);
  REQUIRE_FALSE(refused);
  CHECK(refused.error().code == ErrorCode::kUnsupported);
  CHECK(refused.error().message.find("newer") != std::string::npos);

  const std::string garbage = dir.File("garbage.db");
  {
    FILE* f = std::fopen(garbage.c_str(), "w");
    REQUIRE(f != nullptr);
    std::fputs("this is not an SQLite database, not at all, and it is long enough to tell", f);
    std::fclose(f);
  }
  auto corrupt = OpenSqliteStore(garbage);
  REQUIRE_FALSE(corrupt);
  CHECK(corrupt.error().code == ErrorCode::kCorrupt);

  auto missing_dir = OpenSqliteStore(dir.File("no/such/dir.db"));
  REQUIRE_FALSE(missing_dir);
  CHECK(missing_dir.error().code == ErrorCode::kNotFound);
}

TEST_CASE("Store: credentials round-trip and change state", "[server][store]") {
  TempDir dir;
  auto store = OpenSqliteStore(dir.File("s.db"));
  REQUIRE(store);
  Store& s = **store;
  const Credential c = MakeCredential("cred-1", 3);
  REQUIRE(s.CreateCredential(c, "hash-1"));
  Credential perpetual = MakeCredential("cred-2", 1);
  perpetual.expires_at.reset();
  perpetual.max_cores.reset();
  perpetual.features.clear();
  REQUIRE(s.CreateCredential(perpetual, "hash-2"));

  auto by_hash = s.FindCredentialByKeyHash("hash-1");
  REQUIRE(by_hash);
  CHECK(by_hash->id == "cred-1");
  CHECK(by_hash->product_id == "licagent-demo");
  CHECK(by_hash->customer == "ACME");
  CHECK(by_hash->seats == 3);
  CHECK(by_hash->features == c.features);
  CHECK(by_hash->max_cores == 16);
  CHECK_FALSE(by_hash->max_sockets);
  CHECK(by_hash->expires_at == 1900000000);
  CHECK(by_hash->state == CredentialState::kActive);
  CHECK(by_hash->created_at == 1800000000);
  CHECK(by_hash->seats_used == 0);
  auto p = s.GetCredential("cred-2");
  REQUIRE(p);
  CHECK_FALSE(p->expires_at);
  CHECK(p->features.empty());

  CHECK(s.FindCredentialByKeyHash("nope").error().code == ErrorCode::kNotFound);
  CHECK(s.GetCredential("nope").error().code == ErrorCode::kNotFound);
  // Ids and key hashes are unique.
  CHECK(s.CreateCredential(MakeCredential("cred-1", 1), "hash-3").error().code ==
        ErrorCode::kInvalidArgument);
  CHECK(s.CreateCredential(MakeCredential("cred-3", 1), "hash-1").error().code ==
        ErrorCode::kInvalidArgument);

  REQUIRE(s.SetCredentialState("cred-1", CredentialState::kFrozen));
  CHECK(s.GetCredential("cred-1")->state == CredentialState::kFrozen);
  REQUIRE(s.SetCredentialState("cred-1", CredentialState::kReleased));
  CHECK(s.GetCredential("cred-1")->state == CredentialState::kReleased);
  CHECK(s.SetCredentialState("nope", CredentialState::kFrozen).error().code ==
        ErrorCode::kNotFound);

  auto list = s.ListCredentials();
  REQUIRE(list);
  REQUIRE(list->size() == 2);
  CHECK((*list)[0].id == "cred-1");
}

TEST_CASE("Store: KooGallery codes and entitlement updates", "[server][store]") {
  TempDir dir;
  auto store = OpenSqliteStore(dir.File("s.db"));
  REQUIRE(store);
  Store& s = **store;
  Credential c = MakeCredential("cred-m", 2);
  c.market = MarketLink{"PLCODE0001", "CS-ORDER-1", true, 1800000100};
  REQUIRE(s.CreateCredential(c, "hash-m"));
  REQUIRE(s.CreateCredential(MakeCredential("cred-k", 1), "hash-k"));

  auto found = s.FindCredentialByMarketCode("PLCODE0001");
  REQUIRE(found);
  CHECK(found->id == "cred-m");
  REQUIRE(found->market);
  CHECK(found->market->code == "PLCODE0001");
  CHECK(found->market->order_id == "CS-ORDER-1");
  CHECK(found->market->test);
  CHECK(found->market->synced_at == 1800000100);
  CHECK_FALSE(s.GetCredential("cred-k")->market);
  CHECK(s.FindCredentialByMarketCode("PLNONE").error().code == ErrorCode::kNotFound);
  // One credential per code.
  Credential twin = MakeCredential("cred-twin", 1);
  twin.market = MarketLink{"PLCODE0001", "", false, 0};
  CHECK(s.CreateCredential(twin, "hash-twin").error().code == ErrorCode::kInvalidArgument);

  // Only what is given changes.
  EntitlementUpdate renew;
  renew.expires_at = licagent::UnixTime{1950000000};
  REQUIRE(s.UpdateEntitlement("cred-m", renew));
  auto after = s.GetCredential("cred-m");
  CHECK(after->expires_at == 1950000000);
  CHECK(after->seats == 2);
  CHECK(after->state == CredentialState::kActive);
  CHECK(after->market->synced_at == 1800000100);
  EntitlementUpdate freeze;
  freeze.seats = 5;
  freeze.state = CredentialState::kFrozen;
  freeze.market_synced_at = 1800000200;
  REQUIRE(s.UpdateEntitlement("cred-m", freeze));
  after = s.GetCredential("cred-m");
  CHECK(after->expires_at == 1950000000);
  CHECK(after->seats == 5);
  CHECK(after->state == CredentialState::kFrozen);
  CHECK(after->market->synced_at == 1800000200);
  EntitlementUpdate perpetual;
  perpetual.expires_at = std::optional<licagent::UnixTime>{};
  REQUIRE(s.UpdateEntitlement("cred-m", perpetual));
  CHECK_FALSE(s.GetCredential("cred-m")->expires_at);

  EntitlementUpdate no_seats;
  no_seats.seats = 0;
  CHECK(s.UpdateEntitlement("cred-m", no_seats).error().code == ErrorCode::kInvalidArgument);
  CHECK(s.UpdateEntitlement("nope", freeze).error().code == ErrorCode::kNotFound);
}

TEST_CASE("Store: seats are allocated, reused, refused, touched and released", "[server][store]") {
  TempDir dir;
  auto store = OpenSqliteStore(dir.File("s.db"));
  REQUIRE(store);
  Store& s = **store;
  REQUIRE(s.CreateCredential(MakeCredential("cred-1", 2), "h"));

  auto first = s.AcquireSeat(MakeSeat("lic-1", "cred-1"), kNever);
  REQUIRE(first);
  CHECK(first->outcome == SeatGrant::Outcome::kAllocated);
  CHECK(first->seat.license_id == "lic-1");
  CHECK(first->seats == 2);
  CHECK(first->seats_used == 1);

  // The same machine again: the predicate recognises lic-1, no new seat.
  Seat again = MakeSeat("lic-unused", "cred-1");
  again.last_seen_at = 1800000500;
  again.agent_version = "0.2.0";
  auto reused = s.AcquireSeat(again, [](const Seat& seat) { return seat.license_id == "lic-1"; });
  REQUIRE(reused);
  CHECK(reused->outcome == SeatGrant::Outcome::kReused);
  CHECK(reused->seat.license_id == "lic-1");
  CHECK(reused->seat.last_seen_at == 1800000500);
  CHECK(reused->seats_used == 1);

  REQUIRE(s.AcquireSeat(MakeSeat("lic-2", "cred-1"), kNever)->outcome ==
          SeatGrant::Outcome::kAllocated);
  auto full = s.AcquireSeat(MakeSeat("lic-3", "cred-1"), kNever);
  REQUIRE(full);
  CHECK(full->outcome == SeatGrant::Outcome::kFull);
  CHECK(full->seats_used == 2);
  CHECK(s.GetSeat("lic-3").error().code == ErrorCode::kNotFound);
  CHECK(s.GetCredential("cred-1")->seats_used == 2);

  auto seat = s.GetSeat("lic-1");
  REQUIRE(seat);
  CHECK(seat->identifier == "HW1-52GV-5GYM-WQV0-E619-795N-RVBY-6HB0");
  CHECK(seat->candidates[2] == std::vector<std::uint16_t>{0xE5F6, 0x1234});
  CHECK(seat->candidates[0].empty());
  CHECK(seat->environment == "vm");
  CHECK(seat->state == SeatState::kActive);
  CHECK(seat->agent_version == "0.2.0");

  REQUIRE(s.TouchSeat("lic-1", 1800000900, "0.3.0"));
  CHECK(s.GetSeat("lic-1")->last_seen_at == 1800000900);
  CHECK(s.TouchSeat("nope", 1, "0.1.0").error().code == ErrorCode::kNotFound);

  auto released = s.ReleaseSeat("lic-1", 1800001000);
  REQUIRE(released);
  CHECK(released->state == SeatState::kReleased);
  CHECK(s.ReleaseSeat("lic-1", 1800002000)->state == SeatState::kReleased);  // idempotent
  CHECK(s.ReleaseSeat("nope", 1).error().code == ErrorCode::kNotFound);
  CHECK(s.GetCredential("cred-1")->seats_used == 1);
  // The freed seat can be taken by another machine.
  CHECK(s.AcquireSeat(MakeSeat("lic-3", "cred-1"), kNever)->outcome ==
        SeatGrant::Outcome::kAllocated);

  auto all = s.ListSeats(std::nullopt);
  REQUIRE(all);
  CHECK(all->size() == 3);
  CHECK(s.ListSeats(std::string("cred-1"))->size() == 3);
  CHECK(s.ListSeats(std::string("cred-other"))->empty());
  CHECK(s.AcquireSeat(MakeSeat("lic-9", "cred-none"), kNever).error().code == ErrorCode::kNotFound);
}

TEST_CASE("Store: concurrent activations never exceed the seat count", "[server][store]") {
  TempDir dir;
  const std::string path = dir.File("s.db");
  constexpr int kSeats = 5;
  constexpr int kThreads = 8;
  constexpr int kAttempts = 6;
  {
    auto setup = OpenSqliteStore(path);
    REQUIRE(setup);
    REQUIRE((*setup)->CreateCredential(MakeCredential("cred-1", kSeats), "h"));
  }
  // Half the threads share one pooled store; the others each open their own connection, like
  // separate processes would.
  auto shared = OpenSqliteStore(path, 4);
  REQUIRE(shared);
  std::atomic<int> allocated{0};
  std::atomic<int> full{0};
  std::atomic<int> failed{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      std::unique_ptr<Store> own;
      Store* store = shared->get();
      if (t % 2 == 1) {
        auto opened = OpenSqliteStore(path, 1);
        if (!opened) {
          ++failed;
          return;
        }
        own = std::move(*opened);
        store = own.get();
      }
      for (int i = 0; i < kAttempts; ++i) {
        const std::string id = "lic-" + std::to_string(t) + "-" + std::to_string(i);
        auto grant = store->AcquireSeat(MakeSeat(id, "cred-1"), kNever);
        if (!grant) {
          ++failed;
        } else if (grant->outcome == SeatGrant::Outcome::kAllocated) {
          ++allocated;
        } else {
          ++full;
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  CHECK(failed == 0);
  CHECK(allocated == kSeats);
  CHECK(full == kThreads * kAttempts - kSeats);
  auto seats = (*shared)->ListSeats(std::string("cred-1"));
  REQUIRE(seats);
  CHECK(seats->size() == kSeats);
  CHECK((*shared)->GetCredential("cred-1")->seats_used == kSeats);
}

TEST_CASE("Store: refreshes touch seats from many threads while seats are taken and released",
          "[server][store]") {
  TempDir dir;
  const std::string path = dir.File("s.db");
  constexpr int kThreads = 6;
  constexpr int kTouches = 40;
  auto shared = OpenSqliteStore(path, 3);  // fewer connections than threads, as in the server
  REQUIRE(shared);
  Store& store = **shared;
  REQUIRE(store.CreateCredential(MakeCredential("cred-1", kThreads + 20), "h"));
  for (int t = 0; t < kThreads; ++t) {
    REQUIRE(store.AcquireSeat(MakeSeat("lic-" + std::to_string(t), "cred-1"), kNever));
  }
  std::atomic<int> failed{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      const std::string id = "lic-" + std::to_string(t);
      for (int i = 1; i <= kTouches; ++i) {
        if (!store.TouchSeat(id, 1800000000 + i, "0.9." + std::to_string(t))) ++failed;
      }
    });
  }
  // Fully durable writes of the pool and of another process interleave with the bookkeeping.
  threads.emplace_back([&] {
    for (int i = 0; i < 20; ++i) {
      const std::string id = "lic-x-" + std::to_string(i);
      auto grant = store.AcquireSeat(MakeSeat(id, "cred-1"), kNever);
      if (!grant || grant->outcome != SeatGrant::Outcome::kAllocated) ++failed;
      if (!store.ReleaseSeat(id, 1800000500)) ++failed;
    }
  });
  threads.emplace_back([&] {
    auto other = OpenSqliteStore(path, 1);
    if (!other) {
      ++failed;
      return;
    }
    for (int i = 0; i < 10; ++i) {
      if (!(*other)->SetCredentialState("cred-1", CredentialState::kActive)) ++failed;
    }
  });
  for (auto& t : threads) t.join();
  CHECK(failed == 0);
  // Committed: another connection sees every seat's last touch.
  auto reader = OpenSqliteStore(path, 1);
  REQUIRE(reader);
  for (int t = 0; t < kThreads; ++t) {
    auto seat = (*reader)->GetSeat("lic-" + std::to_string(t));
    REQUIRE(seat);
    CHECK(seat->last_seen_at == 1800000000 + kTouches);
    CHECK(seat->agent_version == "0.9." + std::to_string(t));
  }
  CHECK((*reader)->GetCredential("cred-1")->seats_used == kThreads);
}
