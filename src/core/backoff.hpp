#pragma once
// Retry delays for an output: exponential from `initial` to `max`, each
// drawn uniformly from [d/2, d] so that a fleet of boards that lost the same
// server does not come back in lockstep, while a delay never collapses to 0
// (which would turn an outage into a retry storm).
#include <chrono>
#include <cstdint>
#include <random>

namespace edgemon {

class Backoff {
 public:
  Backoff(std::chrono::milliseconds initial, std::chrono::milliseconds max);

  // The delay before the next attempt; each call doubles the ceiling.
  std::chrono::milliseconds next();
  void reset() { attempts_ = 0; }
  uint32_t attempts() const { return attempts_; }

 private:
  std::chrono::milliseconds initial_;
  std::chrono::milliseconds max_;
  uint32_t attempts_ = 0;
  std::minstd_rand random_;
};

}  // namespace edgemon
