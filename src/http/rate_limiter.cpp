#include "http/rate_limiter.hpp"

#include <algorithm>
#include <cmath>

namespace edgemon::http {

namespace {

IpAddress bucket_key(const IpAddress& client) {
  IpAddress key = client;
  if (key.family == AF_INET6) std::fill(key.bytes.begin() + 8, key.bytes.end(), uint8_t{0});
  return key;
}

}  // namespace

RateLimiter::RateLimiter(double rate, int64_t burst, size_t max_clients)
    : rate_(0), capacity_(1), max_clients_(std::max<size_t>(max_clients, 1)) {
  configure(rate, burst);
}

void RateLimiter::configure(double rate, int64_t burst) {
  rate_ = rate > 0 ? rate : 0;
  capacity_ = static_cast<double>(std::max<int64_t>(burst, 1));
  if (rate_ == 0) {
    buckets_.clear();
    return;
  }
  for (auto& [client, bucket] : buckets_)
    bucket.tokens = std::min(bucket.tokens, capacity_);
}

double RateLimiter::tokens_at(const Bucket& bucket, uint64_t now_ms) const {
  if (now_ms <= bucket.last_ms) return bucket.tokens;
  double elapsed_s = static_cast<double>(now_ms - bucket.last_ms) / 1000.0;
  return std::min(capacity_, bucket.tokens + elapsed_s * rate_);
}

void RateLimiter::make_room(uint64_t now_ms) {
  // A bucket that has refilled completely holds no information.
  for (auto it = buckets_.begin(); it != buckets_.end();) {
    it = tokens_at(it->second, now_ms) >= capacity_ ? buckets_.erase(it) : std::next(it);
  }
  if (buckets_.size() < max_clients_) return;
  auto oldest = std::min_element(
      buckets_.begin(), buckets_.end(),
      [](const auto& a, const auto& b) { return a.second.last_ms < b.second.last_ms; });
  buckets_.erase(oldest);
}

uint64_t RateLimiter::acquire(const IpAddress& client, uint64_t now_ms) {
  if (rate_ <= 0) return 0;
  IpAddress key = bucket_key(client);
  auto it = buckets_.find(key);
  if (it == buckets_.end()) {
    if (buckets_.size() >= max_clients_) make_room(now_ms);
    it = buckets_.emplace(key, Bucket{capacity_, now_ms}).first;
  }
  Bucket& bucket = it->second;
  bucket.tokens = tokens_at(bucket, now_ms);
  bucket.last_ms = std::max(bucket.last_ms, now_ms);
  if (bucket.tokens >= 1) {
    bucket.tokens -= 1;
    return 0;
  }
  // The epsilon absorbs rounding in the refill arithmetic.
  double wait_ms = std::ceil((1 - bucket.tokens) * 1000.0 / rate_ - 1e-9);
  return std::max<uint64_t>(1, static_cast<uint64_t>(wait_ms));
}

}  // namespace edgemon::http
