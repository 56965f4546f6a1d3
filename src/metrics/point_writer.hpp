#pragma once
// A MetricSink that turns families into InfluxDB points, the host schema of
// the README's "InfluxDB schema" section: within one measurement, every
// distinct label set is one point, each family a float field of it, and the
// labels its tags. Points accumulate across families so that a collector's
// `netdev{device="eth0"}` receive and transmit counters land in one line.
//
// A histogram adds `<field>_sum` and `<field>_count` to its label set's
// point and one point per bucket (the label set plus `le`) with the field
// `<field>_bucket`, mirroring the Prometheus series so both can be compared.
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "metrics/metric_sink.hpp"
#include "metrics/point.hpp"

namespace edgemon::metrics {

class PointWriter final : public MetricSink {
 public:
  explicit PointWriter(std::vector<Point>* out) : out_(out) {}

  // Tags every following point carries. A label with the name of one of
  // them (thermal's `zone` against a configured `zone`) becomes the tag
  // `exported_<name>`, as Prometheus renames clashing labels: dropping either
  // would hide the point from queries on the global tag or merge series.
  void set_common_tags(std::span<const Tag> tags);
  // The one common tag that a series' own label of that name replaces
  // rather than renames: `source`, which /metrics also leaves to a family
  // that sets it (the power families' source="shelly", beside the instance
  // in `device`), so that points and /metrics carry the same labels.
  void set_yielding_tag(std::string_view key) { yielding_tag_.assign(key); }

  // Starts a measurement: the samples that follow become fields of its
  // points, stamped `time_ns`. A family name beginning with `strip_prefix`
  // loses it in the field name (node_load1 -> load1). Points of earlier
  // measurements stay in the output but are no longer merged into.
  void start(std::string_view measurement, std::string_view strip_prefix, int64_t time_ns);

  void begin(const FamilyDesc& family) override;
  void sample(Labels labels, double value) override;
  void histogram(Labels labels, std::span<const double> bounds,
                 std::span<const uint64_t> cumulative, double sum, uint64_t count) override;
  using MetricSink::sample;

 private:
  Point& point_for(Labels labels, const Label* extra);
  void set_field(Point& point, std::string_view suffix, double value);

  std::vector<Point>* out_;
  std::vector<Tag> common_tags_;
  std::string yielding_tag_;
  std::string measurement_;
  std::string strip_prefix_;
  int64_t time_ns_ = 0;
  std::string field_;  // the current family's field name
  // Label set (sorted, \0-separated) -> index in *out_, for this measurement.
  std::unordered_map<std::string, size_t> index_;
  std::vector<Label> sorted_;  // scratch
  std::string key_;            // scratch
};

}  // namespace edgemon::metrics
