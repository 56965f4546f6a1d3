#pragma once
// A fixed-bucket histogram for the daemon's own live measurements (loop lag,
// request durations). Observing is O(buckets) with no allocation.
#include <cstdint>
#include <span>
#include <vector>

#include "metrics/metric_sink.hpp"

namespace edgemon::metrics {

class Histogram {
 public:
  static constexpr size_t kMaxBuckets = 32;

  // At most kMaxBuckets finite bounds, increasing.
  explicit Histogram(std::span<const double> bounds);

  void observe(double value);
  void write(MetricSink& sink, Labels labels = {}) const;

  uint64_t count() const { return count_; }
  double sum() const { return sum_; }

 private:
  std::vector<double> bounds_;
  std::vector<uint64_t> counts_;  // per bucket, not cumulative; last is +Inf
  double sum_ = 0;
  uint64_t count_ = 0;
};

// Latency buckets from 50 µs to 10 s, fit for both loop lag and requests.
std::span<const double> latency_buckets();

}  // namespace edgemon::metrics
