#pragma once
// Per-client token buckets. A client may make `burst` requests at once and
// then `rate` per second. The table of clients is bounded: when it is full,
// buckets that have refilled completely (indistinguishable from a client
// never seen) are dropped first, then the least recently used one.
//
// IPv6 clients are keyed by their /64: a single host usually owns a whole
// /64, and keying by full address would let it mint a fresh bucket per
// request.
#include <cstddef>
#include <cstdint>
#include <unordered_map>

#include "core/net_address.hpp"

namespace edgemon::http {

class RateLimiter {
 public:
  static constexpr size_t kDefaultMaxClients = 4096;

  // rate: requests per second (0 = unlimited); burst: bucket size (at least 1).
  explicit RateLimiter(double rate = 0, int64_t burst = 0, size_t max_clients = kDefaultMaxClients);

  // Changes the rate and burst, keeping what clients have already used.
  void configure(double rate, int64_t burst);

  // Takes one token for `client` at `now_ms` (a monotonic clock, e.g.
  // uv_now). Returns 0 when the request may proceed, else the milliseconds
  // until a token will be available.
  uint64_t acquire(const IpAddress& client, uint64_t now_ms);

  size_t tracked_clients() const { return buckets_.size(); }
  bool unlimited() const { return rate_ <= 0; }

 private:
  struct Bucket {
    double tokens;
    uint64_t last_ms;
  };
  double tokens_at(const Bucket& bucket, uint64_t now_ms) const;
  void make_room(uint64_t now_ms);

  double rate_;  // tokens per second
  double capacity_;
  size_t max_clients_;
  std::unordered_map<IpAddress, Bucket, IpAddressHash> buckets_;
};

}  // namespace edgemon::http
