#include "sources/host/host_points.hpp"

#include <algorithm>

#include "metrics/point_writer.hpp"

namespace edgemon::collect {
namespace {

int64_t unix_ms_to_ns(int64_t ms) {
  return ms * 1'000'000;
}

}  // namespace

bool parse_host_schema(std::string_view text, HostSchema* out) {
  if (text == "host") {
    *out = {true, false};
  } else if (text == "system_metrics") {
    *out = {false, true};
  } else if (text == "both") {
    *out = {true, true};
  } else {
    return false;
  }
  return true;
}

std::vector<metrics::Tag> host_common_tags(const std::string& device_id, const std::string& host,
                                           const config::StringMap& global_tags) {
  std::vector<metrics::Tag> tags;
  if (!device_id.empty()) tags.push_back({"device_id", device_id});
  if (!host.empty()) tags.push_back({"host", host});
  for (const auto& [key, value] : global_tags) {
    if (key != "device_id" && key != "host" && !value.empty()) tags.push_back({key, value});
  }
  return tags;
}

HostPoints::HostPoints(std::vector<metrics::Tag> common_tags)
    : common_tags_(std::move(common_tags)) {}

void HostPoints::set_common_tags(std::vector<metrics::Tag> common_tags) {
  common_tags_ = std::move(common_tags);
}

void HostPoints::take(const Scheduler& scheduler, std::vector<metrics::Point>* host,
                      std::vector<metrics::Point>* system_metrics) {
  std::vector<CompletedCollector> fresh = scheduler.completed_since(taken_);
  taken_ = scheduler.completions();
  if (fresh.empty()) return;
  if (host != nullptr) take_host(fresh, host);
  if (system_metrics != nullptr) take_system(fresh, system_metrics);
}

// A failed collector writes no families, but its edgemon_collector point
// (success=0) is exactly what a dashboard needs to see.
void HostPoints::take_host(const std::vector<CompletedCollector>& fresh,
                           std::vector<metrics::Point>* out) {
  metrics::PointWriter writer(out);
  writer.set_common_tags(common_tags_);
  for (const CompletedCollector& c : fresh) {
    if (c.snapshot == nullptr) continue;
    writer.start(c.status->name, "node_", unix_ms_to_ns(c.status->last_run_unix_ms));
    if (!family_filter_) {
      c.snapshot->replay(writer);
      continue;
    }
    for (size_t i = 0; i < c.snapshot->families(); ++i) {
      if (family_filter_(c.snapshot->family_name(i))) c.snapshot->replay_family(i, writer);
    }
  }
  for (const CompletedCollector& c : fresh) {
    writer.start("edgemon_collector", "edgemon_collector_",
                 unix_ms_to_ns(c.status->last_run_unix_ms));
    Scheduler::write_health(writer, std::span(c.status, 1));
  }
}

// The round's time is that of the newest gather that fed the point, so a
// straggler from an earlier round cannot stamp it with an older time than
// the previous point's.
void HostPoints::take_system(const std::vector<CompletedCollector>& fresh,
                             std::vector<metrics::Point>* out) {
  metrics::SystemSample sample;
  metrics::SystemSampleSink sink(&sample);
  int64_t time_ms = 0;
  for (const CompletedCollector& c : fresh) {
    if (c.snapshot == nullptr) continue;
    size_t before = sample.captured;
    c.snapshot->replay(sink);
    if (sample.captured != before) time_ms = std::max(time_ms, c.status->last_run_unix_ms);
  }
  system_.add_round(sample, common_tags_, unix_ms_to_ns(time_ms), out);
}

}  // namespace edgemon::collect
