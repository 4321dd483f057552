// The server's storage, behind one interface: SQLite today (sqlite_store.h), PostgreSQL later
// for several replicas. Nothing here names a database type. Implementations are thread-safe:
// every method may be called from any request thread at once.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "licagent/identity.h"
#include "licagent/license.h"
#include "licagent/result.h"

namespace licagent::server {

enum class CredentialState { kActive, kFrozen, kReleased };
const char* ToString(CredentialState state) noexcept;  // "active", "frozen", "released"
std::optional<CredentialState> ParseCredentialState(std::string_view text);

enum class SeatState { kActive, kReleased };
const char* ToString(SeatState state) noexcept;  // "active", "released"

// A credential that is a KooGallery authorization code (docs/koogallery.md): the code itself is
// kept, unlike a license key, because the daily marketplace query needs it (the AK/SK that makes
// it usable is in the server's configuration only). Its key hash is the code's, so the agent's
// `activate --code` finds it like any key.
struct MarketLink {
  std::string code;        // "PL…"
  std::string order_id;    // the purchase order, when the marketplace said
  bool test = false;       // a test code (testFlag=1 callbacks may change only these)
  UnixTime synced_at = 0;  // last successful marketplace query; 0 = never
};

// A license key sold to a customer: what it entitles and how many machines may hold it. The key
// itself is never stored, only its hash (credential_key.h).
struct Credential {
  std::string id;  // "cred-" + 16 hex
  std::string product_id;
  std::string customer;  // a label for humans; may be empty
  int seats = 1;
  std::map<std::string, std::string> features;
  std::optional<int> max_cores;
  std::optional<int> max_sockets;
  std::optional<UnixTime> expires_at;  // absent = perpetual
  CredentialState state = CredentialState::kActive;
  UnixTime created_at = 0;
  int seats_used = 0;  // active seats; filled in by reads, ignored by CreateCredential
  std::optional<MarketLink> market;  // set for a KooGallery authorization code
};

// A change of what a credential entitles; absent members stay as they are.
struct EntitlementUpdate {
  std::optional<std::optional<UnixTime>> expires_at;  // {nullopt} makes it perpetual
  std::optional<int> seats;                           // >= 1
  std::optional<CredentialState> state;
  std::optional<UnixTime> market_synced_at;  // only for a credential with a MarketLink
};

// An instance of the marketplace's online-license model (B) or of the legacy GET model (C)
// (docs/koogallery.md "Callbacks"). A legacy instance is backed by a credential (its license
// key is what getLicense delivered); an online instance gets licenses bound to device
// fingerprints. Never deleted: a release only changes the state.
struct MarketInstance {
  enum class Model { kOnline, kLegacy };
  std::string instance_id;  // "kgi-" + 16 hex
  Model model = Model::kOnline;
  std::string order_id;       // the purchase order
  std::string order_line_id;  // "" for legacy instances
  std::string market_product_id;
  std::string product_id;     // the licagent product
  std::string customer_id;    // the buyer's account id, when the marketplace said
  std::string credential_id;  // legacy: the credential its license key opens
  CredentialState state = CredentialState::kActive;
  std::optional<UnixTime> expires_at;  // absent = perpetual / not said
  bool test = false;                   // created by a testFlag=1 callback
  UnixTime created_at = 0;
  UnixTime updated_at = 0;
};
const char* ToString(MarketInstance::Model model) noexcept;  // "online", "legacy"

// A change of an instance; absent members stay as they are.
struct InstanceUpdate {
  std::optional<CredentialState> state;
  std::optional<std::optional<UnixTime>> expires_at;
  std::optional<std::string> market_product_id;
  std::optional<std::string> product_id;
};

// What a callback said about an authorization code the server has not seen activated yet,
// kept so that the code's first activation starts from it. Absent members: not said.
struct PendingMarketCode {
  std::string code;
  std::optional<UnixTime> expires_at;
  std::optional<CredentialState> state;
  std::string market_product_id;
  UnixTime updated_at = 0;
};

// One machine holding a seat of a credential: a license_id and the identifier it is bound to.
struct Seat {
  std::string license_id;  // "lic-" + 16 hex
  std::string credential_id;
  std::string identifier;  // canonical HW1 text, as activated
  std::array<std::vector<std::uint16_t>, kSlotCount> candidates;  // as activated (for support)
  std::string environment;                                        // e.g. "vm"
  SeatState state = SeatState::kActive;
  UnixTime created_at = 0;
  UnixTime last_seen_at = 0;
  std::string agent_version;  // of the last request; empty for offline requests
};

// What AcquireSeat did.
struct SeatGrant {
  enum class Outcome { kReused, kAllocated, kFull };
  Outcome outcome = Outcome::kFull;
  Seat seat;           // the reused or new seat (kReused, kAllocated)
  int seats = 0;       // the credential's seat count when decided
  int seats_used = 0;  // active seats after the decision
};

class Store {
 public:
  virtual ~Store() = default;

  // Adds a credential with the hash of its key. kInvalidArgument if the id or hash exists.
  virtual Status CreateCredential(const Credential& credential, const std::string& key_hash) = 0;
  // kNotFound if there is none.
  virtual Result<Credential> FindCredentialByKeyHash(const std::string& key_hash) = 0;
  virtual Result<Credential> GetCredential(const std::string& id) = 0;
  virtual Result<std::vector<Credential>> ListCredentials() = 0;
  // kNotFound if there is no such credential.
  virtual Status SetCredentialState(const std::string& id, CredentialState state) = 0;
  // Applies `update` atomically. kNotFound if there is no such credential; kInvalidArgument for
  // seats < 1. Lowering seats below the active count releases no seat: the extra machines keep
  // theirs until they leave, and no new one is admitted.
  virtual Status UpdateEntitlement(const std::string& id, const EntitlementUpdate& update) = 0;
  // The credential of a KooGallery authorization code. kNotFound if there is none.
  virtual Result<Credential> FindCredentialByMarketCode(const std::string& code) = 0;

  // Atomically, against every other writer (other threads, other processes): among the active
  // seats of credential `candidate.credential_id`, the first for which `same_machine` is true
  // is reused (last_seen_at and agent_version updated from `candidate`); otherwise, if fewer
  // than the credential's seats are active, `candidate` is inserted as a new active seat;
  // otherwise kFull. So concurrent activations never exceed the seat count. kNotFound if the
  // credential is gone.
  virtual Result<SeatGrant> AcquireSeat(const Seat& candidate,
                                        const std::function<bool(const Seat&)>& same_machine) = 0;
  // kNotFound if there is no such seat.
  virtual Result<Seat> GetSeat(const std::string& license_id) = 0;
  // Records a refresh: last_seen_at and agent_version. kNotFound if there is no such seat.
  virtual Status TouchSeat(const std::string& license_id, UnixTime now,
                           const std::string& agent_version) = 0;
  // Marks the seat released (idempotent) and returns it. kNotFound if there is no such seat.
  virtual Result<Seat> ReleaseSeat(const std::string& license_id, UnixTime now) = 0;
  // Every seat, or those of one credential; newest first.
  virtual Result<std::vector<Seat>> ListSeats(const std::optional<std::string>& credential_id) = 0;

  // KooGallery callbacks (schema 4). The answer first recorded for an idempotency key: a retry
  // of the same event gets it back. RecordMarketEvent keeps the first answer of a key (a
  // concurrent duplicate loses) and returns the one kept. FindMarketEvent: kNotFound if none.
  virtual Result<std::string> FindMarketEvent(const std::string& key) = 0;
  virtual Result<std::string> RecordMarketEvent(const std::string& key, const std::string& activity,
                                                const std::string& answer, UnixTime now) = 0;
  // Adds an instance. kInvalidArgument if its id, or its (model, test, order, order line),
  // exists.
  virtual Status CreateMarketInstance(const MarketInstance& instance) = 0;
  // kNotFound if there is none.
  virtual Result<MarketInstance> GetMarketInstance(const std::string& instance_id) = 0;
  // Test and real instances of the same order are different instances.
  virtual Result<MarketInstance> FindMarketInstanceByOrder(MarketInstance::Model model, bool test,
                                                           const std::string& order_id,
                                                           const std::string& order_line_id) = 0;
  // kNotFound if there is no such instance.
  virtual Status UpdateMarketInstance(const std::string& instance_id, const InstanceUpdate& update,
                                      UnixTime now) = 0;
  // Merges what a callback said about a code not activated yet (members set in `code` replace
  // the stored ones). FindPendingMarketCode: kNotFound if nothing was said.
  virtual Status RememberMarketCode(const PendingMarketCode& code) = 0;
  virtual Result<PendingMarketCode> FindPendingMarketCode(const std::string& code) = 0;
};

}  // namespace licagent::server
