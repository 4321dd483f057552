// Token buckets by key (a credential, a client address), in memory. A bucket holds up to
// `per_minute` tokens and refills at per_minute / 60 a second; a request takes one. The map is
// bounded: when it is full, buckets that have refilled completely (idle keys) are dropped, then
// the least recently used. Thread-safe.
#pragma once

#include <chrono>
#include <cstddef>
#include <mutex>
#include <string>
#include <unordered_map>

namespace licagent::server {

class RateLimiter {
 public:
  using Clock = std::chrono::steady_clock;

  // `per_minute` 0 disables the limit.
  explicit RateLimiter(int per_minute, std::size_t max_keys = 100000);

  // Takes a token for `key`. 0 if allowed; otherwise the whole seconds (at least 1) until a
  // token is available, for Retry-After.
  int Take(const std::string& key, Clock::time_point now = Clock::now());

  std::size_t size() const;

 private:
  struct Bucket {
    double tokens = 0;
    Clock::time_point updated;
  };
  void Evict(Clock::time_point now);

  double capacity_;
  double per_second_;
  std::size_t max_keys_;
  mutable std::mutex mu_;
  std::unordered_map<std::string, Bucket> buckets_;
};

}  // namespace licagent::server
