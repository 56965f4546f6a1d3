#pragma once
// What all clients together can make the server hold (config
// http.limits.memory_budget): bodies of requests being received and
// responses queued but not yet written. A connection charges what it holds
// and refunds it when released; past the limit new requests are refused at
// their head (503, Retry-After) and connections that do not read their
// answers stop being served further pipelined requests. Loop thread only.
#include <algorithm>
#include <cstdint>

namespace edgemon::http {

class MemoryBudget {
 public:
  void set_limit(uint64_t bytes) { limit_ = bytes; }
  uint64_t limit() const { return limit_; }
  uint64_t used() const { return used_; }
  uint64_t peak() const { return peak_; }

  bool fits(uint64_t bytes) const { return used_ + bytes <= limit_; }
  bool exhausted() const { return used_ >= limit_; }
  void charge(uint64_t bytes) {
    used_ += bytes;
    peak_ = std::max(peak_, used_);
  }
  void refund(uint64_t bytes) { used_ -= std::min(bytes, used_); }

 private:
  uint64_t limit_ = 16 * 1024 * 1024;
  uint64_t used_ = 0;
  uint64_t peak_ = 0;
};

}  // namespace edgemon::http
