#include "sources/own_points.hpp"

#include "metrics/point_writer.hpp"

namespace edgemon::sources {

OwnPoints::OwnPoints(collect::Scheduler& scheduler, bus::Bus& bus)
    : scheduler_(scheduler), bus_(bus) {
  scheduler_.set_round_listener([this] { host_round(); });
  bus_.subscribe([this](const bus::Publication& p) { source_published(p); });
  // Other sources' points are made from publications the bus has already
  // filtered; the host schema is made from the collectors' own snapshots.
  host_.set_family_filter([this](std::string_view family) {
    const bus::FamilySelection* selection = bus_.selection();
    return selection == nullptr || selection->exposed(family);
  });
}

void OwnPoints::host_round() {
  host_buffer_.clear();
  system_metrics_buffer_.clear();
  host_.take(scheduler_, &host_buffer_, &system_metrics_buffer_);
  bus_.publish_points(host_buffer_, system_metrics_buffer_);
}

void OwnPoints::source_published(const bus::Publication& publication) {
  // The host collectors' points are taken per round (host_round):
  // system_metrics is one point made of several collectors.
  if (!publication.families || publication.kind == collect::kHostKind) return;
  source_buffer_.clear();
  metrics::PointWriter writer(&source_buffer_);
  std::vector<metrics::Tag> tags = host_.common_tags();
  tags.push_back({"source", publication.source});
  writer.set_common_tags(tags);
  writer.set_yielding_tag("source");
  writer.start(publication.kind, "", publication.time_unix_ms * 1000000);
  publication.families->replay(writer);
  bus_.publish_points(source_buffer_, {});
}

}  // namespace edgemon::sources
