#pragma once
// Host metrics as InfluxDB points, in the schemas of the README's "InfluxDB
// schema" section: "host" (one measurement per collector, one point per
// label set) and "system_metrics" (the original Flask edge server's single
// point per round).
//
// Points are rendered on demand from the collectors' current state, only for
// the push path; the /metrics path keeps its prerendered text untouched.
#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/config_types.hpp"
#include "metrics/point.hpp"
#include "metrics/system_metrics.hpp"
#include "sources/host/scheduler.hpp"

namespace edgemon::collect {

struct HostSchema {
  bool host = true;
  bool system_metrics = false;
};

// "host", "system_metrics" or "both"; false for anything else.
bool parse_host_schema(std::string_view text, HostSchema* out);

// device_id and host, then the configured global tags (config `tags`:
// location, zone, device_type, ...), which may not redefine the first two.
// Empty values are left out.
std::vector<metrics::Tag> host_common_tags(const std::string& device_id, const std::string& host,
                                           const config::StringMap& global_tags);

// Keeps what must survive between rounds: the completion number taken up to,
// the CPU baseline and the heartbeat of system_metrics.
class HostPoints {
 public:
  explicit HostPoints(std::vector<metrics::Tag> common_tags = {});

  // Tags on every point of both schemas (see host_common_tags).
  void set_common_tags(std::vector<metrics::Tag> common_tags);
  const std::vector<metrics::Tag>& common_tags() const { return common_tags_; }
  // Families of the host schema for which this says false are left out (the
  // metric selection); system_metrics is a fixed schema and keeps its fields.
  void set_family_filter(std::function<bool(std::string_view family)> filter) {
    family_filter_ = std::move(filter);
  }

  // Appends the points of every collector whose gather completed since the
  // last call, so a straggler that finishes after its round is taken with
  // the next one and no gather is taken twice. A null vector skips that
  // schema (for system_metrics that also pauses its heartbeat and CPU
  // baseline). A collector that completed twice between calls contributes
  // only its latest gather: call this from the round listener.
  void take(const Scheduler& scheduler, std::vector<metrics::Point>* host,
            std::vector<metrics::Point>* system_metrics);

 private:
  void take_host(const std::vector<CompletedCollector>& fresh, std::vector<metrics::Point>* out);
  void take_system(const std::vector<CompletedCollector>& fresh, std::vector<metrics::Point>* out);

  std::vector<metrics::Tag> common_tags_;
  std::function<bool(std::string_view family)> family_filter_;
  uint64_t taken_ = 0;  // Scheduler::completions() at the last take
  metrics::SystemMetrics system_;
};

}  // namespace edgemon::collect
