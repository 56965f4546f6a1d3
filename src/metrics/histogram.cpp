#include "metrics/histogram.hpp"

#include <algorithm>
#include <array>
#include <cassert>

namespace edgemon::metrics {

std::span<const double> latency_buckets() {
  static constexpr double kBounds[] = {0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025,
                                       0.005,   0.01,   0.025,   0.05,   0.1,   0.25,
                                       0.5,     1,      2.5,     5,      10};
  return kBounds;
}

Histogram::Histogram(std::span<const double> bounds)
    : bounds_(bounds.begin(), bounds.begin() + std::min(bounds.size(), kMaxBuckets)),
      counts_(bounds_.size() + 1, 0) {
  assert(bounds.size() <= kMaxBuckets);
}

void Histogram::observe(double value) {
  auto it = std::lower_bound(bounds_.begin(), bounds_.end(), value);
  ++counts_[static_cast<size_t>(it - bounds_.begin())];
  sum_ += value;
  ++count_;
}

void Histogram::write(MetricSink& sink, Labels labels) const {
  // Written on every scrape: keep the cumulative counts on the stack.
  std::array<uint64_t, kMaxBuckets + 1> cumulative{};
  uint64_t running = 0;
  for (size_t i = 0; i < counts_.size(); ++i) {
    running += counts_[i];
    cumulative[i] = running;
  }
  sink.histogram(labels, bounds_, std::span(cumulative.data(), counts_.size()), sum_, count_);
}

}  // namespace edgemon::metrics
