#pragma once
// What collectors write into. A collector describes each metric family once
// (name, help, type) and then writes its samples; the sink decides the wire
// format (Prometheus text today, InfluxDB line protocol later). Labels are
// string_views so that writing a sample allocates nothing.
#include <cstdint>
#include <initializer_list>
#include <span>
#include <string_view>

namespace edgemon::metrics {

enum class Type { kCounter, kGauge, kHistogram, kUntyped };

struct FamilyDesc {
  std::string_view name;
  std::string_view help;
  Type type;
};

struct Label {
  std::string_view name;
  std::string_view value;
};

using Labels = std::span<const Label>;

class MetricSink {
 public:
  virtual ~MetricSink() = default;

  // Starts a family; the samples that follow belong to it. A family must be
  // written in one go (the text format requires its lines to be contiguous).
  virtual void begin(const FamilyDesc& family) = 0;
  virtual void sample(Labels labels, double value) = 0;

  // A histogram sample set: `bounds` are the finite upper bounds in increasing
  // order; `cumulative` has one more entry than `bounds` (the +Inf bucket,
  // which must equal `count`).
  virtual void histogram(Labels labels, std::span<const double> bounds,
                         std::span<const uint64_t> cumulative, double sum, uint64_t count) = 0;

  void sample(std::initializer_list<Label> labels, double value) {
    sample(Labels(labels.begin(), labels.size()), value);
  }
  void sample(double value) { sample(Labels{}, value); }
};

}  // namespace edgemon::metrics
