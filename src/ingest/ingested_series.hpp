#pragma once
// The latest value of every numeric series pushed to the hub, for GET
// /metrics when ingest.expose_metrics is on: a Prometheus server can then
// scrape a whole fleet from its hub. Names: edgemon_pushed_<measurement>_
// <field> (characters Prometheus does not allow become '_'), tags become
// labels. Bounded by ingest.max_series (points of further series are
// counted, not exposed); series not updated within the device active window
// disappear, as a scrape of a gone target would.
#include <uv.h>

#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <vector>

#include "bus/point_consumer.hpp"
#include "metrics/metric_sink.hpp"
#include "metrics/point.hpp"

namespace edgemon::ingest {

class IngestedSeries final : public bus::PointConsumer {
 public:
  explicit IngestedSeries(uv_loop_t* loop) : loop_(loop) {}

  void configure(bool enabled, size_t max_series, int64_t expire_ms);
  bool enabled() const { return enabled_; }
  // `now_ms`: a monotonic clock (uv_now).
  void update(std::span<const metrics::Point> points, uint64_t now_ms);
  // On the bus: pushed points only; this daemon's own are on /metrics already.
  void take_own(std::span<const metrics::Point>, std::span<const metrics::Point>) override {}
  void take_ingested(std::span<const metrics::Point> points, bus::Prepared&&,
                     const Durable&) override {
    update(points, uv_now(loop_));
  }
  bool reads_points(const bus::Prepared&) const override { return enabled_; }
  // Changes whenever the exposition would.
  uint64_t version() const { return version_; }
  void write_metrics(metrics::MetricSink& sink) const;

 private:
  struct Series {
    std::vector<std::pair<std::string, std::string>> labels;  // sorted by name
    double value = 0;
    uint64_t updated_ms = 0;
  };
  // family -> label text ("a=x,b=y") -> series; std::map keeps the output
  // deterministic and each family contiguous.
  using Family = std::map<std::string, Series>;
  void expire(uint64_t now_ms);

  uv_loop_t* loop_;
  bool enabled_ = false;
  size_t max_series_ = 0;
  int64_t expire_ms_ = 0;
  std::map<std::string, Family> families_;
  size_t series_ = 0;
  uint64_t dropped_points_ = 0;
  uint64_t version_ = 0;
  uint64_t last_expiry_ms_ = 0;
};

// Prometheus metric and label names: [a-zA-Z_:][a-zA-Z0-9_:]* (':' not in
// label names); anything else becomes '_'.
std::string prometheus_name(std::string_view text, bool label);

}  // namespace edgemon::ingest
