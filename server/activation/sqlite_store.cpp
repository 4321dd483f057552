// SQLite implementation of Store. Every write is one transaction; seat allocation takes the
// write lock first (BEGIN IMMEDIATE), so the count it checks cannot change before it inserts.
// The server's own threads take turns at writing through a mutex, so that they never meet
// SQLite's busy handler (which sleeps 1, 2, 5, 10... ms); other processes (the admin commands)
// still wait for the lock through busy_timeout. Durability: every write is committed with
// synchronous = FULL except the refresh bookkeeping of TouchSeat (docs/server.md section 4).
#include "server/activation/sqlite_store.h"

#include <fcntl.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <condition_variable>
#include <mutex>
#include <nlohmann/json.hpp>
#include <system_error>
#include <type_traits>
#include <utility>
#include <vector>

namespace licagent::server {
namespace {

using nlohmann::json;

constexpr int kBusyTimeoutMs = 10000;

// The schema, one step per version: migration i takes user_version i to i + 1. Never edit a
// step that has shipped; add one.
constexpr const char* kMigrations[] = {
    // 1: credentials and seats.
    "CREATE TABLE credentials ("
    "  id TEXT PRIMARY KEY,"
    "  key_hash TEXT NOT NULL UNIQUE,"
    "  product_id TEXT NOT NULL,"
    "  customer TEXT NOT NULL DEFAULT '',"
    "  seats INTEGER NOT NULL CHECK (seats >= 1),"
    "  features TEXT NOT NULL DEFAULT '{}',"
    "  max_cores INTEGER,"
    "  max_sockets INTEGER,"
    "  expires_at INTEGER,"
    "  state TEXT NOT NULL CHECK (state IN ('active', 'frozen', 'released')),"
    "  created_at INTEGER NOT NULL);"
    "CREATE TABLE seats ("
    "  license_id TEXT PRIMARY KEY,"
    "  credential_id TEXT NOT NULL REFERENCES credentials(id),"
    "  identifier TEXT NOT NULL,"
    "  candidates TEXT NOT NULL DEFAULT '{}',"
    "  environment TEXT NOT NULL,"
    "  state TEXT NOT NULL CHECK (state IN ('active', 'released')),"
    "  created_at INTEGER NOT NULL,"
    "  last_seen_at INTEGER NOT NULL,"
    "  released_at INTEGER,"
    "  agent_version TEXT NOT NULL DEFAULT '');",
    // 2: seat look-ups by credential.
    "CREATE INDEX seats_by_credential ON seats (credential_id, state, created_at);",
    // 3: KooGallery authorization codes (Credential::market).
    "ALTER TABLE credentials ADD COLUMN market_code TEXT;"
    "ALTER TABLE credentials ADD COLUMN market_order_id TEXT NOT NULL DEFAULT '';"
    "ALTER TABLE credentials ADD COLUMN market_test INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE credentials ADD COLUMN market_synced_at INTEGER NOT NULL DEFAULT 0;"
    "CREATE UNIQUE INDEX credentials_by_market_code ON credentials (market_code) "
    "  WHERE market_code IS NOT NULL;",
    // 4: KooGallery callbacks: answers of processed events, model-B/C instances, and what
    // callbacks said about codes not activated yet.
    "CREATE TABLE market_events ("
    "  key TEXT PRIMARY KEY,"
    "  activity TEXT NOT NULL,"
    "  answer TEXT NOT NULL,"
    "  created_at INTEGER NOT NULL);"
    "CREATE TABLE market_instances ("
    "  instance_id TEXT PRIMARY KEY,"
    "  model TEXT NOT NULL CHECK (model IN ('online', 'legacy')),"
    "  test INTEGER NOT NULL DEFAULT 0,"
    "  order_id TEXT NOT NULL,"
    "  order_line_id TEXT NOT NULL DEFAULT '',"
    "  market_product_id TEXT NOT NULL DEFAULT '',"
    "  product_id TEXT NOT NULL,"
    "  customer_id TEXT NOT NULL DEFAULT '',"
    "  credential_id TEXT REFERENCES credentials(id),"
    "  state TEXT NOT NULL CHECK (state IN ('active', 'frozen', 'released')),"
    "  expires_at INTEGER,"
    "  created_at INTEGER NOT NULL,"
    "  updated_at INTEGER NOT NULL);"
    "CREATE UNIQUE INDEX market_instances_by_order ON market_instances "
    "  (model, test, order_id, order_line_id);"
    "CREATE TABLE market_pending_codes ("
    "  code TEXT PRIMARY KEY,"
    "  expires_at INTEGER,"
    "  state TEXT CHECK (state IS NULL OR state IN ('active', 'frozen', 'released')),"
    "  market_product_id TEXT NOT NULL DEFAULT '',"
    "  updated_at INTEGER NOT NULL);",
};
constexpr int kSchemaVersion = static_cast<int>(sizeof kMigrations / sizeof kMigrations[0]);

Error SqliteError(sqlite3* db, const std::string& context, int rc) {
  ErrorCode code = ErrorCode::kIoError;
  const int primary = rc & 0xFF;
  if (primary == SQLITE_CORRUPT || primary == SQLITE_NOTADB) code = ErrorCode::kCorrupt;
  if (primary == SQLITE_PERM || primary == SQLITE_READONLY) code = ErrorCode::kPermissionDenied;
  if (primary == SQLITE_CANTOPEN) code = ErrorCode::kNotFound;
  if (primary == SQLITE_CONSTRAINT) code = ErrorCode::kInvalidArgument;
  const char* message = db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
  return Error{code, context + ": " + message, 0};
}

// One prepared statement, finalised on destruction.
class Stmt {
 public:
  Stmt(sqlite3* db, const char* sql) : db_(db) {
    rc_ = sqlite3_prepare_v2(db, sql, -1, &stmt_, nullptr);
  }
  ~Stmt() { sqlite3_finalize(stmt_); }
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;

  Status ok(const std::string& context) const {
    if (rc_ != SQLITE_OK) return SqliteError(db_, context, rc_);
    return Status::Ok();
  }
  Stmt& Bind(int i, const std::string& s) {
    if (rc_ == SQLITE_OK) {
      rc_ = sqlite3_bind_text(stmt_, i, s.data(), static_cast<int>(s.size()), SQLITE_TRANSIENT);
    }
    return *this;
  }
  Stmt& Bind(int i, std::int64_t v) {
    if (rc_ == SQLITE_OK) rc_ = sqlite3_bind_int64(stmt_, i, v);
    return *this;
  }
  template <typename T>
  Stmt& Bind(int i, const std::optional<T>& v) {
    if (!v) {
      if (rc_ == SQLITE_OK) rc_ = sqlite3_bind_null(stmt_, i);
      return *this;
    }
    return Bind(i, static_cast<std::int64_t>(*v));
  }
  // SQLITE_ROW, SQLITE_DONE or an error code.
  int Step() {
    if (rc_ != SQLITE_OK) return rc_;
    const int rc = sqlite3_step(stmt_);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) rc_ = rc;
    return rc;
  }
  Status Run(const std::string& context) {
    const int rc = Step();
    if (rc != SQLITE_DONE && rc != SQLITE_ROW) return SqliteError(db_, context, rc);
    return Status::Ok();
  }
  std::string Text(int col) const {
    const auto* p = sqlite3_column_text(stmt_, col);
    return p == nullptr ? std::string() : std::string(reinterpret_cast<const char*>(p));
  }
  std::int64_t Int(int col) const { return sqlite3_column_int64(stmt_, col); }
  bool IsNull(int col) const { return sqlite3_column_type(stmt_, col) == SQLITE_NULL; }
  std::optional<std::int64_t> OptInt(int col) const {
    if (IsNull(col)) return std::nullopt;
    return Int(col);
  }

 private:
  sqlite3* db_;
  sqlite3_stmt* stmt_ = nullptr;
  int rc_ = SQLITE_OK;
};

Status Exec(sqlite3* db, const char* sql, const std::string& context) {
  const int rc = sqlite3_exec(db, sql, nullptr, nullptr, nullptr);
  if (rc != SQLITE_OK) return SqliteError(db, context, rc);
  return Status::Ok();
}

// Rolls back unless committed: every early return of a transaction undoes it.
class Transaction {
 public:
  explicit Transaction(sqlite3* db) : db_(db) {}
  ~Transaction() {
    if (open_) sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
  }
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;
  // BEGIN IMMEDIATE: takes the write lock now (waiting up to the busy timeout).
  Status Begin() {
    LICAGENT_RETURN_IF_ERROR(Exec(db_, "BEGIN IMMEDIATE", "begin a transaction"));
    open_ = true;
    return Status::Ok();
  }
  Status Commit() {
    LICAGENT_RETURN_IF_ERROR(Exec(db_, "COMMIT", "commit"));
    open_ = false;
    return Status::Ok();
  }

 private:
  sqlite3* db_;
  bool open_ = false;
};

std::string FeaturesJson(const std::map<std::string, std::string>& features) {
  json j = json::object();
  for (const auto& [k, v] : features) j[k] = v;
  return j.dump();
}

std::map<std::string, std::string> ParseFeatures(const std::string& text) {
  std::map<std::string, std::string> out;
  const json j = json::parse(text, nullptr, false);
  if (!j.is_object()) return out;
  for (const auto& [k, v] : j.items()) {
    if (v.is_string()) out[k] = v.get<std::string>();
  }
  return out;
}

std::string CandidatesJson(const std::array<std::vector<std::uint16_t>, kSlotCount>& c) {
  json j = json::object();
  for (int i = 0; i < kSlotCount; ++i) {
    if (!c[static_cast<std::size_t>(i)].empty())
      j[SlotName(SlotAt(i))] = c[static_cast<std::size_t>(i)];
  }
  return j.dump();
}

std::array<std::vector<std::uint16_t>, kSlotCount> ParseCandidates(const std::string& text) {
  std::array<std::vector<std::uint16_t>, kSlotCount> out;
  const json j = json::parse(text, nullptr, false);
  if (!j.is_object()) return out;
  for (int i = 0; i < kSlotCount; ++i) {
    const auto it = j.find(SlotName(SlotAt(i)));
    if (it == j.end() || !it->is_array()) continue;
    for (const auto& v : *it) {
      if (v.is_number_unsigned() && v.get<std::uint64_t>() <= 0xFFFF) {
        out[static_cast<std::size_t>(i)].push_back(
            static_cast<std::uint16_t>(v.get<std::uint64_t>()));
      }
    }
  }
  return out;
}

constexpr const char* kCredentialColumns =
    "SELECT c.id, c.product_id, c.customer, c.seats, c.features, c.max_cores, c.max_sockets, "
    "c.expires_at, c.state, c.created_at, (SELECT count(*) FROM seats s WHERE s.credential_id = "
    "c.id AND s.state = 'active'), c.market_code, c.market_order_id, c.market_test, "
    "c.market_synced_at FROM credentials c ";

Credential ReadCredential(const Stmt& s) {
  Credential c;
  c.id = s.Text(0);
  c.product_id = s.Text(1);
  c.customer = s.Text(2);
  c.seats = static_cast<int>(s.Int(3));
  c.features = ParseFeatures(s.Text(4));
  if (auto v = s.OptInt(5)) c.max_cores = static_cast<int>(*v);
  if (auto v = s.OptInt(6)) c.max_sockets = static_cast<int>(*v);
  c.expires_at = s.OptInt(7);
  c.state = ParseCredentialState(s.Text(8)).value_or(CredentialState::kFrozen);
  c.created_at = s.Int(9);
  c.seats_used = static_cast<int>(s.Int(10));
  if (!s.IsNull(11)) {
    c.market = MarketLink{s.Text(11), s.Text(12), s.Int(13) != 0, s.Int(14)};
  }
  return c;
}

constexpr const char* kSeatColumns =
    "SELECT license_id, credential_id, identifier, candidates, environment, state, created_at, "
    "last_seen_at, agent_version FROM seats ";

Seat ReadSeat(const Stmt& s) {
  Seat seat;
  seat.license_id = s.Text(0);
  seat.credential_id = s.Text(1);
  seat.identifier = s.Text(2);
  seat.candidates = ParseCandidates(s.Text(3));
  seat.environment = s.Text(4);
  seat.state = s.Text(5) == "active" ? SeatState::kActive : SeatState::kReleased;
  seat.created_at = s.Int(6);
  seat.last_seen_at = s.Int(7);
  seat.agent_version = s.Text(8);
  return seat;
}

constexpr const char* kInstanceColumns =
    "SELECT instance_id, model, test, order_id, order_line_id, market_product_id, product_id, "
    "customer_id, credential_id, state, expires_at, created_at, updated_at FROM market_instances ";

MarketInstance ReadInstance(const Stmt& s) {
  MarketInstance m;
  m.instance_id = s.Text(0);
  m.model = s.Text(1) == "legacy" ? MarketInstance::Model::kLegacy : MarketInstance::Model::kOnline;
  m.test = s.Int(2) != 0;
  m.order_id = s.Text(3);
  m.order_line_id = s.Text(4);
  m.market_product_id = s.Text(5);
  m.product_id = s.Text(6);
  m.customer_id = s.Text(7);
  m.credential_id = s.Text(8);
  m.state = ParseCredentialState(s.Text(9)).value_or(CredentialState::kFrozen);
  m.expires_at = s.OptInt(10);
  m.created_at = s.Int(11);
  m.updated_at = s.Int(12);
  return m;
}

Status CreateOwnerOnly(const std::string& path) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd >= 0) {
    ::close(fd);
    return Status::Ok();
  }
  const int err = errno;
  if (err == EEXIST) return Status::Ok();
  ErrorCode code = ErrorCode::kIoError;
  if (err == ENOENT) code = ErrorCode::kNotFound;
  if (err == EACCES || err == EPERM) code = ErrorCode::kPermissionDenied;
  return Error{code, path + ": " + std::generic_category().message(err), err};
}

class SqliteStore final : public Store {
 public:
  ~SqliteStore() override {
    for (sqlite3* db : all_) sqlite3_close_v2(db);
  }

  Status Init(const std::string& path, int connections) {
    path_ = path;
    LICAGENT_RETURN_IF_ERROR(CreateOwnerOnly(path));
    // `connections` for the pool, and one more for the refresh bookkeeping (TouchSeat).
    for (int i = 0; i <= connections; ++i) {
      sqlite3* db = nullptr;
      const int rc = sqlite3_open_v2(
          path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_NOFOLLOW,
          nullptr);
      if (rc != SQLITE_OK) {
        Error e = SqliteError(db, path, rc);
        sqlite3_close_v2(db);
        return e;
      }
      all_.push_back(db);
      if (i < connections) free_.push_back(db);
      sqlite3_busy_timeout(db, kBusyTimeoutMs);
      sqlite3_extended_result_codes(db, 1);
      LICAGENT_RETURN_IF_ERROR(Exec(db, "PRAGMA foreign_keys = ON", path));
      if (i == 0) {
        // WAL is a property of the file: readers never wait for the writer.
        {
          Stmt wal(db, "PRAGMA journal_mode = WAL");
          LICAGENT_RETURN_IF_ERROR(wal.Run(path + ": journal_mode"));
          if (wal.Text(0) != "wal") {
            return Error{ErrorCode::kIoError,
                         path + ": cannot switch to WAL (" + wal.Text(0) + ")"};
          }
        }  // finalised: an unfinished statement would block the migration's COMMIT
        LICAGENT_RETURN_IF_ERROR(Migrate(db));
      }
      if (i < connections) {
        // A committed transaction survives power loss, not just a crash of this process.
        LICAGENT_RETURN_IF_ERROR(Exec(db, "PRAGMA synchronous = FULL", path));
      } else {
        // Refresh bookkeeping: committed to the operating system, not waited for on the disk.
        // In WAL mode this cannot corrupt the file; a power cut may lose the last such writes,
        // never an earlier FULL commit, and the next FULL commit makes them durable too (the
        // log is written and synced in order).
        LICAGENT_RETURN_IF_ERROR(Exec(db, "PRAGMA synchronous = NORMAL", path));
        touch_db_ = db;
      }
    }
    return Status::Ok();
  }

  Status CreateCredential(const Credential& c, const std::string& key_hash) override {
    return Write([&](sqlite3* db) -> Status {
      Stmt s(db,
             "INSERT INTO credentials (id, key_hash, product_id, customer, seats, features, "
             "max_cores, max_sockets, expires_at, state, created_at, market_code, "
             "market_order_id, market_test, market_synced_at) VALUES "
             "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
      s.Bind(1, c.id)
          .Bind(2, key_hash)
          .Bind(3, c.product_id)
          .Bind(4, c.customer)
          .Bind(5, std::int64_t{c.seats})
          .Bind(6, FeaturesJson(c.features))
          .Bind(7, c.max_cores)
          .Bind(8, c.max_sockets)
          .Bind(9, c.expires_at)
          .Bind(10, std::string(ToString(c.state)))
          .Bind(11, c.created_at);
      if (c.market) {
        s.Bind(12, c.market->code)
            .Bind(13, c.market->order_id)
            .Bind(14, std::int64_t{c.market->test ? 1 : 0})
            .Bind(15, c.market->synced_at);
      } else {
        s.Bind(12, std::optional<std::int64_t>{})
            .Bind(13, std::string())
            .Bind(14, std::int64_t{0})
            .Bind(15, std::int64_t{0});
      }
      return s.Run("create credential " + c.id);
    });
  }

  Result<Credential> FindCredentialByKeyHash(const std::string& key_hash) override {
    Lease lease(*this);
    Stmt s(lease.db, (std::string(kCredentialColumns) + "WHERE c.key_hash = ?").c_str());
    s.Bind(1, key_hash);
    return OneCredential(s, "no credential with this key");
  }

  Result<Credential> GetCredential(const std::string& id) override {
    Lease lease(*this);
    return GetCredentialOn(lease.db, id);
  }

  Result<std::vector<Credential>> ListCredentials() override {
    Lease lease(*this);
    Stmt s(lease.db, (std::string(kCredentialColumns) + "ORDER BY c.created_at, c.id").c_str());
    std::vector<Credential> out;
    int rc = SQLITE_ROW;
    while ((rc = s.Step()) == SQLITE_ROW) out.push_back(ReadCredential(s));
    if (rc != SQLITE_DONE) return SqliteError(lease.db, "list credentials", rc);
    return out;
  }

  Status SetCredentialState(const std::string& id, CredentialState state) override {
    return Write([&](sqlite3* db) -> Status {
      Stmt s(db, "UPDATE credentials SET state = ? WHERE id = ?");
      s.Bind(1, std::string(ToString(state))).Bind(2, id);
      LICAGENT_RETURN_IF_ERROR(s.Run("update credential " + id));
      if (sqlite3_changes(db) == 0) {
        return Error{ErrorCode::kNotFound, "no credential " + id};
      }
      return Status::Ok();
    });
  }

  Status UpdateEntitlement(const std::string& id, const EntitlementUpdate& u) override {
    if (u.seats && *u.seats < 1) {
      return Error{ErrorCode::kInvalidArgument, "seats must be at least 1"};
    }
    return Write([&](sqlite3* db) -> Status {
      auto current = GetCredentialOn(db, id);
      if (!current) return current.error();
      Stmt s(db,
             "UPDATE credentials SET expires_at = ?, seats = ?, state = ?, market_synced_at = ? "
             "WHERE id = ?");
      s.Bind(1, u.expires_at ? *u.expires_at : current->expires_at)
          .Bind(2, std::int64_t{u.seats.value_or(current->seats)})
          .Bind(3, std::string(ToString(u.state.value_or(current->state))))
          .Bind(4, u.market_synced_at.value_or(current->market ? current->market->synced_at : 0))
          .Bind(5, id);
      return s.Run("update credential " + id);
    });
  }

  Result<Credential> FindCredentialByMarketCode(const std::string& code) override {
    Lease lease(*this);
    Stmt s(lease.db, (std::string(kCredentialColumns) + "WHERE c.market_code = ?").c_str());
    s.Bind(1, code);
    return OneCredential(s, "no credential for this authorization code");
  }

  Result<SeatGrant> AcquireSeat(const Seat& candidate,
                                const std::function<bool(const Seat&)>& same_machine) override {
    // A full credential's answer is rolled back, not committed: nothing was written.
    const auto wrote = [](const Result<SeatGrant>& grant) {
      return grant->outcome != SeatGrant::Outcome::kFull;
    };
    return Write(wrote, [&](sqlite3* db) -> Result<SeatGrant> {
      auto credential = GetCredentialOn(db, candidate.credential_id);
      if (!credential) return credential.error();
      SeatGrant grant;
      grant.seats = credential->seats;
      std::vector<Seat> active;
      {
        Stmt s(db, (std::string(kSeatColumns) +
                    "WHERE credential_id = ? AND state = 'active' ORDER BY created_at, "
                    "license_id")
                       .c_str());
        s.Bind(1, candidate.credential_id);
        int rc = SQLITE_ROW;
        while ((rc = s.Step()) == SQLITE_ROW) active.push_back(ReadSeat(s));
        if (rc != SQLITE_DONE) return SqliteError(db, "read seats", rc);
      }
      grant.seats_used = static_cast<int>(active.size());
      for (Seat& seat : active) {
        if (!same_machine(seat)) continue;
        Stmt u(db, "UPDATE seats SET last_seen_at = ?, agent_version = ? WHERE license_id = ?");
        u.Bind(1, candidate.last_seen_at).Bind(2, candidate.agent_version).Bind(3, seat.license_id);
        LICAGENT_RETURN_IF_ERROR(u.Run("update seat " + seat.license_id));
        seat.last_seen_at = candidate.last_seen_at;
        seat.agent_version = candidate.agent_version;
        grant.outcome = SeatGrant::Outcome::kReused;
        grant.seat = std::move(seat);
        return grant;
      }
      if (grant.seats_used >= grant.seats) {
        grant.outcome = SeatGrant::Outcome::kFull;
        return grant;
      }
      Stmt i(db,
             "INSERT INTO seats (license_id, credential_id, identifier, candidates, environment, "
             "state, created_at, last_seen_at, agent_version) VALUES (?, ?, ?, ?, ?, 'active', ?, "
             "?, ?)");
      i.Bind(1, candidate.license_id)
          .Bind(2, candidate.credential_id)
          .Bind(3, candidate.identifier)
          .Bind(4, CandidatesJson(candidate.candidates))
          .Bind(5, candidate.environment)
          .Bind(6, candidate.created_at)
          .Bind(7, candidate.last_seen_at)
          .Bind(8, candidate.agent_version);
      LICAGENT_RETURN_IF_ERROR(i.Run("insert seat " + candidate.license_id));
      grant.outcome = SeatGrant::Outcome::kAllocated;
      grant.seat = candidate;
      grant.seat.state = SeatState::kActive;
      grant.seats_used += 1;
      return grant;
    });
  }

  Result<Seat> GetSeat(const std::string& license_id) override {
    Lease lease(*this);
    return GetSeatOn(lease.db, license_id);
  }

  Status TouchSeat(const std::string& license_id, UnixTime now,
                   const std::string& agent_version) override {
    // The bookkeeping connection (synchronous = NORMAL), used only under the write mutex.
    std::lock_guard<std::mutex> writing(write_mu_);
    Stmt s(touch_db_, "UPDATE seats SET last_seen_at = ?, agent_version = ? WHERE license_id = ?");
    s.Bind(1, now).Bind(2, agent_version).Bind(3, license_id);
    LICAGENT_RETURN_IF_ERROR(s.Run("update seat " + license_id));  // one statement: atomic
    if (sqlite3_changes(touch_db_) == 0) {
      return Error{ErrorCode::kNotFound, "no seat " + license_id};
    }
    return Status::Ok();
  }

  Result<Seat> ReleaseSeat(const std::string& license_id, UnixTime now) override {
    return Write([&](sqlite3* db) -> Result<Seat> {
      Stmt s(db,
             "UPDATE seats SET state = 'released', released_at = ? WHERE license_id = ? AND "
             "state = 'active'");
      s.Bind(1, now).Bind(2, license_id);
      LICAGENT_RETURN_IF_ERROR(s.Run("release seat " + license_id));
      return GetSeatOn(db, license_id);
    });
  }

  Result<std::vector<Seat>> ListSeats(const std::optional<std::string>& credential_id) override {
    Lease lease(*this);
    Stmt s(lease.db,
           (std::string(kSeatColumns) + (credential_id ? "WHERE credential_id = ? " : "") +
            "ORDER BY created_at DESC, license_id")
               .c_str());
    if (credential_id) s.Bind(1, *credential_id);
    std::vector<Seat> out;
    int rc = SQLITE_ROW;
    while ((rc = s.Step()) == SQLITE_ROW) out.push_back(ReadSeat(s));
    if (rc != SQLITE_DONE) return SqliteError(lease.db, "list seats", rc);
    return out;
  }

  Result<std::string> FindMarketEvent(const std::string& key) override {
    Lease lease(*this);
    Stmt s(lease.db, "SELECT answer FROM market_events WHERE key = ?");
    s.Bind(1, key);
    const int rc = s.Step();
    if (rc == SQLITE_ROW) return s.Text(0);
    if (rc == SQLITE_DONE) return Error{ErrorCode::kNotFound, "no such event"};
    return SqliteError(lease.db, "read market event", rc);
  }

  Result<std::string> RecordMarketEvent(const std::string& key, const std::string& activity,
                                        const std::string& answer, UnixTime now) override {
    return Write([&](sqlite3* db) -> Result<std::string> {
      {
        Stmt i(db,
               "INSERT OR IGNORE INTO market_events (key, activity, answer, created_at) VALUES "
               "(?, ?, ?, ?)");
        i.Bind(1, key).Bind(2, activity).Bind(3, answer).Bind(4, now);
        LICAGENT_RETURN_IF_ERROR(i.Run("record market event"));
      }
      Stmt s(db, "SELECT answer FROM market_events WHERE key = ?");
      s.Bind(1, key);
      const int rc = s.Step();
      if (rc != SQLITE_ROW) return SqliteError(db, "read market event", rc);
      return s.Text(0);
    });
  }

  Status CreateMarketInstance(const MarketInstance& m) override {
    return Write([&](sqlite3* db) -> Status {
      Stmt s(db,
             "INSERT INTO market_instances (instance_id, model, test, order_id, order_line_id, "
             "market_product_id, product_id, customer_id, credential_id, state, expires_at, "
             "created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
      s.Bind(1, m.instance_id)
          .Bind(2, std::string(ToString(m.model)))
          .Bind(3, std::int64_t{m.test ? 1 : 0})
          .Bind(4, m.order_id)
          .Bind(5, m.order_line_id)
          .Bind(6, m.market_product_id)
          .Bind(7, m.product_id)
          .Bind(8, m.customer_id);
      if (m.credential_id.empty()) {
        s.Bind(9, std::optional<std::int64_t>{});
      } else {
        s.Bind(9, m.credential_id);
      }
      s.Bind(10, std::string(ToString(m.state)))
          .Bind(11, m.expires_at)
          .Bind(12, m.created_at)
          .Bind(13, m.updated_at);
      return s.Run("create instance " + m.instance_id);
    });
  }

  Result<MarketInstance> GetMarketInstance(const std::string& instance_id) override {
    Lease lease(*this);
    Stmt s(lease.db, (std::string(kInstanceColumns) + "WHERE instance_id = ?").c_str());
    s.Bind(1, instance_id);
    return OneInstance(lease.db, s);
  }

  Result<MarketInstance> FindMarketInstanceByOrder(MarketInstance::Model model, bool test,
                                                   const std::string& order_id,
                                                   const std::string& order_line_id) override {
    Lease lease(*this);
    Stmt s(lease.db, (std::string(kInstanceColumns) +
                      "WHERE model = ? AND test = ? AND order_id = ? AND order_line_id = ?")
                         .c_str());
    s.Bind(1, std::string(ToString(model)))
        .Bind(2, std::int64_t{test ? 1 : 0})
        .Bind(3, order_id)
        .Bind(4, order_line_id);
    return OneInstance(lease.db, s);
  }

  Status UpdateMarketInstance(const std::string& instance_id, const InstanceUpdate& u,
                              UnixTime now) override {
    return Write([&](sqlite3* db) -> Status {
      MarketInstance current;
      {
        Stmt s(db, (std::string(kInstanceColumns) + "WHERE instance_id = ?").c_str());
        s.Bind(1, instance_id);
        auto found = OneInstance(db, s);
        if (!found) return found.error();
        current = std::move(*found);
      }
      Stmt s(db,
             "UPDATE market_instances SET state = ?, expires_at = ?, market_product_id = ?, "
             "product_id = ?, updated_at = ? WHERE instance_id = ?");
      s.Bind(1, std::string(ToString(u.state.value_or(current.state))))
          .Bind(2, u.expires_at ? *u.expires_at : current.expires_at)
          .Bind(3, u.market_product_id.value_or(current.market_product_id))
          .Bind(4, u.product_id.value_or(current.product_id))
          .Bind(5, now)
          .Bind(6, instance_id);
      return s.Run("update instance " + instance_id);
    });
  }

  Status RememberMarketCode(const PendingMarketCode& code) override {
    return Write([&](sqlite3* db) -> Status {
      // An absent member keeps the stored value (COALESCE / the empty product id).
      Stmt s(db,
             "INSERT INTO market_pending_codes (code, expires_at, state, market_product_id, "
             "updated_at) VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (code) DO UPDATE SET "
             "expires_at = COALESCE(?2, expires_at), state = COALESCE(?3, state), "
             "market_product_id = CASE WHEN ?4 = '' THEN market_product_id ELSE ?4 END, "
             "updated_at = ?5");
      s.Bind(1, code.code).Bind(2, code.expires_at);
      if (code.state) {
        s.Bind(3, std::string(ToString(*code.state)));
      } else {
        s.Bind(3, std::optional<std::int64_t>{});
      }
      s.Bind(4, code.market_product_id).Bind(5, code.updated_at);
      return s.Run("remember code");
    });
  }

  Result<PendingMarketCode> FindPendingMarketCode(const std::string& code) override {
    Lease lease(*this);
    Stmt s(lease.db,
           "SELECT code, expires_at, state, market_product_id, updated_at FROM "
           "market_pending_codes WHERE code = ?");
    s.Bind(1, code);
    const int rc = s.Step();
    if (rc == SQLITE_DONE) return Error{ErrorCode::kNotFound, "nothing known of this code"};
    if (rc != SQLITE_ROW) return SqliteError(lease.db, "read pending code", rc);
    PendingMarketCode p;
    p.code = s.Text(0);
    p.expires_at = s.OptInt(1);
    if (!s.IsNull(2)) p.state = ParseCredentialState(s.Text(2));
    p.market_product_id = s.Text(3);
    p.updated_at = s.Int(4);
    return p;
  }

 private:
  Result<MarketInstance> OneInstance(sqlite3* db, Stmt& s) {
    const int rc = s.Step();
    if (rc == SQLITE_ROW) return ReadInstance(s);
    if (rc == SQLITE_DONE) return Error{ErrorCode::kNotFound, "no such instance"};
    return SqliteError(db, "read instance", rc);
  }

  // The frame of every write but TouchSeat's: a connection from the pool, then this process's
  // turn at writing, then BEGIN IMMEDIATE, then fn(db), which returns a Status or Result<T>.
  // COMMIT when fn succeeded and commit(its result) agrees; otherwise the Transaction rolls back
  // (on a failure of BEGIN or COMMIT too). Returns fn's result, or the error of BEGIN or COMMIT.
  template <typename Commit, typename Fn>
  std::invoke_result_t<Fn&, sqlite3*> Write(const Commit& commit, Fn&& fn) {
    using R = std::invoke_result_t<Fn&, sqlite3*>;
    Lease lease(*this);
    std::lock_guard<std::mutex> writing(write_mu_);
    Transaction tx(lease.db);
    if (Status begun = tx.Begin(); !begun) return R(begun.error());
    R result = fn(lease.db);
    if (result && commit(result)) {
      if (Status committed = tx.Commit(); !committed) return R(committed.error());
    }
    return result;
  }

  // The same, where every success of fn commits.
  template <typename Fn>
  std::invoke_result_t<Fn&, sqlite3*> Write(Fn&& fn) {
    return Write([](const auto& /*result*/) { return true; }, std::forward<Fn>(fn));
  }

  // A connection checked out of the pool for one call.
  struct Lease {
    explicit Lease(SqliteStore& store) : owner(store) {
      std::unique_lock<std::mutex> lock(owner.mu_);
      owner.cv_.wait(lock, [&] { return !owner.free_.empty(); });
      db = owner.free_.back();
      owner.free_.pop_back();
    }
    ~Lease() {
      {
        std::lock_guard<std::mutex> lock(owner.mu_);
        owner.free_.push_back(db);
      }
      owner.cv_.notify_one();
    }
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;
    SqliteStore& owner;
    sqlite3* db = nullptr;
  };

  Status Migrate(sqlite3* db) {
    Transaction tx(db);
    LICAGENT_RETURN_IF_ERROR(tx.Begin());  // one migrator at a time, across processes
    int version = 0;
    {
      Stmt v(db, "PRAGMA user_version");
      LICAGENT_RETURN_IF_ERROR(v.Run(path_ + ": user_version"));
      version = static_cast<int>(v.Int(0));
    }  // finalised before COMMIT: an unfinished read would block it
    if (version > kSchemaVersion) {
      return Error{ErrorCode::kUnsupported, path_ + ": schema version " + std::to_string(version) +
                                                " is newer than this server's (" +
                                                std::to_string(kSchemaVersion) +
                                                "); use a newer licagent-server"};
    }
    if (version == kSchemaVersion) return Status::Ok();
    for (int i = version; i < kSchemaVersion; ++i) {
      LICAGENT_RETURN_IF_ERROR(
          Exec(db, kMigrations[i], path_ + ": migration to schema " + std::to_string(i + 1)));
    }
    const std::string set = "PRAGMA user_version = " + std::to_string(kSchemaVersion);
    LICAGENT_RETURN_IF_ERROR(Exec(db, set.c_str(), path_ + ": user_version"));
    return tx.Commit();
  }

  Result<Credential> OneCredential(Stmt& s, const std::string& not_found) {
    const int rc = s.Step();
    if (rc == SQLITE_ROW) return ReadCredential(s);
    if (rc == SQLITE_DONE) return Error{ErrorCode::kNotFound, not_found};
    return s.ok("read credential").error();
  }

  Result<Credential> GetCredentialOn(sqlite3* db, const std::string& id) {
    Stmt s(db, (std::string(kCredentialColumns) + "WHERE c.id = ?").c_str());
    s.Bind(1, id);
    return OneCredential(s, "no credential " + id);
  }

  Result<Seat> GetSeatOn(sqlite3* db, const std::string& license_id) {
    Stmt s(db, (std::string(kSeatColumns) + "WHERE license_id = ?").c_str());
    s.Bind(1, license_id);
    const int rc = s.Step();
    if (rc == SQLITE_ROW) return ReadSeat(s);
    if (rc == SQLITE_DONE) return Error{ErrorCode::kNotFound, "no seat " + license_id};
    return SqliteError(db, "read seat " + license_id, rc);
  }

  std::string path_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<sqlite3*> all_;
  std::vector<sqlite3*> free_;
  sqlite3* touch_db_ = nullptr;  // outside the pool: TouchSeat's, at synchronous = NORMAL
  std::mutex write_mu_;          // one writer of this process at a time
};

}  // namespace

const char* ToString(CredentialState state) noexcept {
  switch (state) {
    case CredentialState::kActive:
      return "active";
    case CredentialState::kFrozen:
      return "frozen";
    case CredentialState::kReleased:
      return "released";
  }
  return "frozen";
}

std::optional<CredentialState> ParseCredentialState(std::string_view text) {
  if (text == "active") return CredentialState::kActive;
  if (text == "frozen") return CredentialState::kFrozen;
  if (text == "released") return CredentialState::kReleased;
  return std::nullopt;
}

const char* ToString(MarketInstance::Model model) noexcept {
  return model == MarketInstance::Model::kLegacy ? "legacy" : "online";
}

const char* ToString(SeatState state) noexcept {
  return state == SeatState::kActive ? "active" : "released";
}

int SqliteSchemaVersion() noexcept { return kSchemaVersion; }

Result<std::unique_ptr<Store>> OpenSqliteStore(const std::string& path, int connections) {
  auto store = std::make_unique<SqliteStore>();
  LICAGENT_RETURN_IF_ERROR(store->Init(path, connections < 1 ? 1 : connections));
  return std::unique_ptr<Store>(std::move(store));
}

}  // namespace licagent::server
