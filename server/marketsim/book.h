// The marketplace's book shared by the HTTP handlers and the admin endpoints: one Marketplace
// behind one mutex, written to the state file (atomically, 0600) after every change, so a
// restarted simulator carries on where it stopped.
#pragma once

#include <chrono>
#include <functional>
#include <mutex>
#include <string>

#include "licagent/result.h"
#include "server/marketsim/marketplace.h"

namespace licagent::marketsim {

using Clock = std::function<std::chrono::system_clock::time_point()>;

inline std::int64_t UnixSeconds(std::chrono::system_clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
}

class Book {
 public:
  // `state_file` empty: nothing is persisted (unit tests).
  explicit Book(std::string state_file) : state_file_(std::move(state_file)) {}

  // Loads the state file if it exists. kCorrupt if it does not parse; file errors as ReadFile.
  Status Load();
  // Writes the state file; call with mutex() held, after a change.
  Status SaveLocked();

  std::mutex& mutex() { return mu_; }
  Marketplace& market() { return market_; }  // with mutex() held

 private:
  std::string state_file_;
  std::mutex mu_;
  Marketplace market_;
};

}  // namespace licagent::marketsim
