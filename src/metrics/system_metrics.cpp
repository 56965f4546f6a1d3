#include "metrics/system_metrics.hpp"

#include <algorithm>
#include <cmath>
#include <string_view>

namespace edgemon::metrics {
namespace {

std::string_view label_value(Labels labels, std::string_view name) {
  for (const Label& l : labels)
    if (l.name == name) return l.value;
  return {};
}

// Byte counts are whole, and written as floats: the original server's
// types, which the databases it filled keep.
double whole(double bytes) {
  return std::floor(std::clamp(bytes, 0.0, 9.2e18));
}

}  // namespace

void SystemSampleSink::begin(const FamilyDesc& family) {
  static const std::pair<std::string_view, Wanted> kWanted[] = {
      {"edgemon_host_cpu_usage_ratio", Wanted::kCpu},
      {"edgemon_host_cpu_core_usage_ratio", Wanted::kCore},
      {"node_memory_MemTotal_bytes", Wanted::kMemTotal},
      {"node_memory_MemAvailable_bytes", Wanted::kMemAvailable},
      {"node_filesystem_size_bytes", Wanted::kDiskSize},
      {"node_filesystem_free_bytes", Wanted::kDiskFree},
      {"node_filesystem_avail_bytes", Wanted::kDiskAvail},
  };
  current_ = Wanted::kNone;
  for (const auto& [name, wanted] : kWanted)
    if (family.name == name) current_ = wanted;
}

void SystemSampleSink::sample(Labels labels, double value) {
  switch (current_) {
    case Wanted::kNone:
      return;
    case Wanted::kCpu:
      out_->has_cpu = true;
      out_->cpu_ratio = value;
      break;
    case Wanted::kCore:
      out_->cores.push_back({std::string(label_value(labels, "cpu")), value});
      break;
    case Wanted::kMemTotal:
      out_->has_mem_total = true;
      out_->mem_total = value;
      break;
    case Wanted::kMemAvailable:
      out_->has_mem_available = true;
      out_->mem_available = value;
      break;
    case Wanted::kDiskSize:
    case Wanted::kDiskFree:
    case Wanted::kDiskAvail:
      if (label_value(labels, "mountpoint") != "/") return;
      set_disk(value);
      break;
  }
  ++out_->captured;
}

void SystemSampleSink::set_disk(double value) {
  if (current_ == Wanted::kDiskSize) {
    out_->disk_size = value;
    out_->disk_parts |= 1;
  } else if (current_ == Wanted::kDiskFree) {
    out_->disk_free = value;
    out_->disk_parts |= 2;
  } else {
    out_->disk_avail = value;
    out_->disk_parts |= 4;
  }
}

void SystemMetrics::add_round(const SystemSample& sample, std::span<const Tag> tags,
                              int64_t time_ns, std::vector<Point>* out) {
  ++heartbeat_;
  Point point;
  if (sample.has_cpu) point.fields.push_back({"cpu", sample.cpu_ratio * 100.0});
  for (const CoreUsage& core : sample.cores)
    point.fields.push_back({"cpu_core_" + core.cpu, core.ratio * 100.0});
  if (sample.has_mem_total && sample.has_mem_available && sample.mem_total > 0) {
    double used = std::max(0.0, sample.mem_total - sample.mem_available);
    point.fields.push_back({"memory", used / sample.mem_total * 100.0});
    point.fields.push_back({"memory_total", whole(sample.mem_total)});
    point.fields.push_back({"memory_used", whole(used)});
  }
  if (sample.has_disk()) {
    double used = sample.disk_size - sample.disk_free;
    double usable = used + sample.disk_avail;
    if (usable > 0) point.fields.push_back({"disk", used / usable * 100.0});
    point.fields.push_back({"disk_total", whole(sample.disk_size)});
    point.fields.push_back({"disk_used", whole(used)});
  }
  if (point.fields.empty()) return;
  point.fields.push_back({"heartbeat", static_cast<double>(heartbeat_)});
  point.measurement = "system_metrics";
  point.tags.assign(tags.begin(), tags.end());
  // As the original server tagged a device that named no type; in key
  // order, which the given tags are in.
  if (std::none_of(tags.begin(), tags.end(), [](const Tag& t) { return t.key == "device_type"; })) {
    auto after = std::find_if(point.tags.begin(), point.tags.end(),
                              [](const Tag& t) { return t.key > "device_type"; });
    point.tags.insert(after, {"device_type", std::string(kUnknownDeviceType)});
  }
  point.time_ns = time_ns;
  out->push_back(std::move(point));
}

}  // namespace edgemon::metrics
