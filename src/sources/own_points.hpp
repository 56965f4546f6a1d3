#pragma once
// This daemon's points, made once and published on the bus's point channel:
// every round of the host collectors in the host schema and the original
// system_metrics point, and every other source's publication in the host
// schema (one measurement per kind, tagged with the instance as `source`).
// Subscribes itself to the family channel; the daemon only wires it.
#include <vector>

#include "bus/bus.hpp"
#include "metrics/point.hpp"
#include "sources/host/host_points.hpp"
#include "sources/host/scheduler.hpp"

namespace edgemon::sources {

class OwnPoints {
 public:
  OwnPoints(collect::Scheduler& scheduler, bus::Bus& bus);
  OwnPoints(const OwnPoints&) = delete;
  OwnPoints& operator=(const OwnPoints&) = delete;

  // Tags on every point (collect::host_common_tags: device_id, host and the
  // configured global tags).
  void set_common_tags(std::vector<metrics::Tag> tags) { host_.set_common_tags(std::move(tags)); }

 private:
  void host_round();
  void source_published(const bus::Publication& publication);

  collect::Scheduler& scheduler_;
  bus::Bus& bus_;
  collect::HostPoints host_;
  // Reused between rounds so a round allocates only when it grows.
  std::vector<metrics::Point> host_buffer_;
  std::vector<metrics::Point> system_metrics_buffer_;
  std::vector<metrics::Point> source_buffer_;
};

}  // namespace edgemon::sources
