#include "core/loop_lag.hpp"

#include <algorithm>

namespace edgemon {

LoopLagMonitor::LoopLagMonitor(uv_loop_t* loop, uint64_t period_ms)
    : timer_(loop), period_ms_(period_ms), lag_(metrics::latency_buckets()) {
  // Housekeeping must not keep a finished loop alive.
  timer_.unref();
}

void LoopLagMonitor::start() {
  expected_ns_ = uv_hrtime() + period_ms_ * 1000000;
  timer_.start(period_ms_, period_ms_, [this] { on_tick(); });
}

void LoopLagMonitor::stop() {
  timer_.stop();
}

void LoopLagMonitor::on_tick() {
  uint64_t now = uv_hrtime();
  // libuv schedules the next run from the loop's cached time, so compare
  // against when this run was due, then re-arm the expectation from now.
  double lag = now > expected_ns_ ? static_cast<double>(now - expected_ns_) / 1e9 : 0.0;
  lag_.observe(lag);
  max_seconds_ = std::max(max_seconds_, lag);
  expected_ns_ = now + period_ms_ * 1000000;
}

void LoopLagMonitor::write_metrics(metrics::MetricSink& sink) const {
  sink.begin({"edgemon_loop_lag_seconds",
              "How late the event loop ran a periodic timer: time the loop was blocked.",
              metrics::Type::kHistogram});
  lag_.write(sink);
  sink.begin({"edgemon_loop_lag_max_seconds", "Largest loop lag seen since the daemon started.",
              metrics::Type::kGauge});
  sink.sample(max_seconds_);
}

}  // namespace edgemon
