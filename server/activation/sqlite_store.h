// The SQLite Store: one database file (created owner-only on first use), WAL, a versioned
// schema migrated on open, and a small pool of connections so that request threads read in
// parallel while SQLite serialises the writers. Several processes (the server and its admin
// commands) may use one file at once.
#pragma once

#include <memory>
#include <string>

#include "server/activation/store.h"

namespace licagent::server {

// The schema version this build writes (PRAGMA user_version).
int SqliteSchemaVersion() noexcept;

// Opens (creating it with mode 0600 if missing) the database at `path` with `connections`
// pooled connections and migrates it to SqliteSchemaVersion(). Errors: kNotFound (its folder
// is missing), kPermissionDenied, kIoError, kCorrupt (not a database), kUnsupported (a schema
// newer than this build).
Result<std::unique_ptr<Store>> OpenSqliteStore(const std::string& path, int connections = 4);

}  // namespace licagent::server
