// Test-only Platform: returns whatever identity and topology the test scripted, and keeps files
// in memory. Never compiled into the library.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "platform/platform.h"

namespace licagent::platform {

class FakePlatform final : public Platform {
 public:
  Result<RawIdentity> CollectIdentity() override {
    std::lock_guard<std::mutex> lock(mu_);
    if (fail_with) return *fail_with;
    return identity;
  }
  Result<Topology> LoadTopology() override {
    std::lock_guard<std::mutex> lock(mu_);
    if (fail_with) return *fail_with;
    return topology;
  }

  Result<std::filesystem::path> StateDir(StateScope scope) override {
    std::lock_guard<std::mutex> lock(mu_);
    return scope == StateScope::kUser ? user_state_dir : system_state_dir;
  }
  Result<std::string> ReadFile(const std::filesystem::path& path, std::size_t max_size) override {
    std::lock_guard<std::mutex> lock(mu_);
    ++reads;
    if (fail_reads_with) return *fail_reads_with;
    const auto it = files.find(path);
    if (it == files.end()) {
      return Error{ErrorCode::kNotFound, "open " + path.string() + ": no such file", 2};
    }
    if (it->second.size() > max_size) {
      return Error{ErrorCode::kCorrupt, path.string() + ": larger than the limit of " +
                                            std::to_string(max_size) + " bytes"};
    }
    return it->second;
  }
  // Atomic by construction; fail_writes_with leaves every file as it was.
  Status WriteFileAtomic(const std::filesystem::path& path, std::string_view contents) override {
    std::lock_guard<std::mutex> lock(mu_);
    ++writes;
    if (fail_writes_with) return *fail_writes_with;
    files[path] = std::string(contents);
    return Status::Ok();
  }
  Status RemoveFile(const std::filesystem::path& path) override {
    std::lock_guard<std::mutex> lock(mu_);
    ++writes;
    if (fail_writes_with) return *fail_writes_with;
    files.erase(path);
    return Status::Ok();
  }
  // The fake leaves no temporary files; records the sweep so tests can see it happened.
  Result<std::size_t> RemoveStaleTempFiles(const std::filesystem::path& target,
                                           std::int64_t min_age_seconds) override {
    std::lock_guard<std::mutex> lock(mu_);
    sweeps.push_back({target, min_age_seconds});
    return std::size_t{0};
  }
  // Not a real lock: records it, and refuses a second lock on a held file (which would deadlock
  // a real platform) so that nested locking in the code under test fails loudly.
  Result<std::unique_ptr<FileLock>> LockExclusive(const std::filesystem::path& lock_file) override {
    std::lock_guard<std::mutex> lock(mu_);
    ++locks_taken;
    if (fail_locks_with) return *fail_locks_with;
    if (!held_locks.insert(lock_file).second) {
      return Error{ErrorCode::kInternal, "fake: " + lock_file.string() + " is already locked"};
    }
    return std::unique_ptr<FileLock>(std::make_unique<Lock>(this, lock_file));
  }
  std::int64_t Now() override {
    std::lock_guard<std::mutex> lock(mu_);
    return now;
  }

  bool IsLocked(const std::filesystem::path& lock_file) {
    std::lock_guard<std::mutex> lock(mu_);
    return held_locks.count(lock_file) != 0;
  }

  // Test knobs and records: public on purpose.
  RawIdentity identity;
  Topology topology;
  std::optional<Error> fail_with;  // CollectIdentity and LoadTopology

  std::map<std::filesystem::path, std::string> files;  // the in-memory file system
  std::filesystem::path user_state_dir = "/fake/user-state/licagent";
  std::filesystem::path system_state_dir = "/fake/system-state/licagent";
  std::int64_t now = 1'700'000'000;            // the clock, in Unix seconds
  std::optional<Error> fail_writes_with;       // WriteFileAtomic and RemoveFile
  std::optional<Error> fail_reads_with;        // ReadFile
  std::optional<Error> fail_locks_with;        // LockExclusive
  int reads = 0;                               // ReadFile calls
  int writes = 0;                              // WriteFileAtomic and RemoveFile calls
  int locks_taken = 0;                         // LockExclusive calls
  std::set<std::filesystem::path> held_locks;  // locks not yet released
  struct Sweep {
    std::filesystem::path target;
    std::int64_t min_age_seconds;
  };
  std::vector<Sweep> sweeps;  // RemoveStaleTempFiles calls

 private:
  class Lock final : public FileLock {
   public:
    Lock(FakePlatform* owner, std::filesystem::path path) : owner_(owner), path_(std::move(path)) {}
    ~Lock() override {
      std::lock_guard<std::mutex> lock(owner_->mu_);
      owner_->held_locks.erase(path_);
    }

   private:
    FakePlatform* owner_;
    std::filesystem::path path_;
  };

  std::mutex mu_;
};

}  // namespace licagent::platform
