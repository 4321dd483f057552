#include "server/activation/rate_limiter.h"

#include <algorithm>
#include <cmath>
#include <vector>

namespace licagent::server {

RateLimiter::RateLimiter(int per_minute, std::size_t max_keys)
    : capacity_(per_minute),
      per_second_(per_minute / 60.0),
      max_keys_(std::max<std::size_t>(max_keys, 1)) {}

int RateLimiter::Take(const std::string& key, Clock::time_point now) {
  if (capacity_ <= 0) return 0;
  std::lock_guard<std::mutex> lock(mu_);
  auto it = buckets_.find(key);
  if (it == buckets_.end()) {
    if (buckets_.size() >= max_keys_) Evict(now);
    it = buckets_.emplace(key, Bucket{capacity_, now}).first;
  }
  Bucket& b = it->second;
  const double elapsed = std::chrono::duration<double>(now - b.updated).count();
  if (elapsed > 0) {
    b.tokens = std::min(capacity_, b.tokens + elapsed * per_second_);
    b.updated = now;
  }
  if (b.tokens >= 1.0) {
    b.tokens -= 1.0;
    return 0;
  }
  const double wait = (1.0 - b.tokens) / per_second_;
  return std::max(1, static_cast<int>(std::ceil(wait)));
}

std::size_t RateLimiter::size() const {
  std::lock_guard<std::mutex> lock(mu_);
  return buckets_.size();
}

void RateLimiter::Evict(Clock::time_point now) {
  // A bucket that has refilled by now behaves exactly like a new one: forgetting it is free.
  const double full_after = capacity_ / per_second_;
  for (auto it = buckets_.begin(); it != buckets_.end();) {
    const double idle = std::chrono::duration<double>(now - it->second.updated).count();
    if (it->second.tokens + idle * per_second_ >= capacity_ || idle >= full_after) {
      it = buckets_.erase(it);
    } else {
      ++it;
    }
  }
  if (buckets_.size() < max_keys_) return;
  // Still full of busy keys: drop the least recently used tenth at once, so a flood of new keys
  // costs one sweep per max_keys / 10 insertions rather than one each.
  std::vector<std::unordered_map<std::string, Bucket>::iterator> all;
  all.reserve(buckets_.size());
  for (auto it = buckets_.begin(); it != buckets_.end(); ++it) all.push_back(it);
  const std::size_t drop = std::max<std::size_t>(1, all.size() / 10);
  std::nth_element(
      all.begin(), all.begin() + static_cast<std::ptrdiff_t>(drop - 1), all.end(),
      [](const auto& a, const auto& b) { return a->second.updated < b->second.updated; });
  for (std::size_t i = 0; i < drop; ++i) buckets_.erase(all[i]);
}

}  // namespace licagent::server
