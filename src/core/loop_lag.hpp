#pragma once
// Measures how late the loop runs a timer: the figure that tells whether
// "nothing blocks the loop" holds in production. A timer every 250 ms costs
// four wake-ups a second, far below the collection budget.
#include <cstdint>

#include "core/timer.hpp"
#include "metrics/histogram.hpp"

namespace edgemon {

class LoopLagMonitor {
 public:
  explicit LoopLagMonitor(uv_loop_t* loop, uint64_t period_ms = 250);
  void start();
  void stop();
  // edgemon_loop_lag_seconds (histogram) and edgemon_loop_lag_max_seconds.
  void write_metrics(metrics::MetricSink& sink) const;
  const metrics::Histogram& histogram() const { return lag_; }

 private:
  void on_tick();

  Timer timer_;
  uint64_t period_ms_;
  uint64_t expected_ns_ = 0;
  metrics::Histogram lag_;
  double max_seconds_ = 0;
};

}  // namespace edgemon
