#pragma once
// The schema the original Flask edge server wrote, kept so its dashboards
// keep working: one `system_metrics` point per collection round with
// percentages and byte totals computed the way psutil computed them.
//
// Inputs come from the host collectors' own families, captured by
// SystemSampleSink, so the numbers match /metrics exactly. CPU busy time is
// the cpu collector's edgemon_host_cpu[_core]_usage_ratio: psutil's formula
// over the raw /proc/stat ticks between its consecutive gathers (one per
// round), so it is computed in one place only and is absent after the first.
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "metrics/metric_sink.hpp"
#include "metrics/point.hpp"

namespace edgemon::metrics {

// The device_type of a system_metrics point whose device named none, as the
// original edge server tagged it.
inline constexpr std::string_view kUnknownDeviceType = "unknown";

struct CoreUsage {
  std::string cpu;
  double ratio = 0;
};

// What one round offers; a part is absent when its collector is disabled,
// failed, or did not finish in the round.
struct SystemSample {
  bool has_cpu = false;
  double cpu_ratio = 0;
  std::vector<CoreUsage> cores;
  bool has_mem_total = false;
  bool has_mem_available = false;
  double mem_total = 0;
  double mem_available = 0;
  // Bits of the root filesystem's size/free/avail seen; all three are needed.
  unsigned disk_parts = 0;
  double disk_size = 0;
  double disk_free = 0;
  double disk_avail = 0;

  // Samples captured, to tell whether a collector contributed anything.
  size_t captured = 0;

  bool has_disk() const { return disk_parts == 7; }
};

// Picks the families SystemMetrics needs out of any collector's write();
// ignores everything else.
class SystemSampleSink final : public MetricSink {
 public:
  explicit SystemSampleSink(SystemSample* out) : out_(out) {}

  void begin(const FamilyDesc& family) override;
  void sample(Labels labels, double value) override;
  void histogram(Labels, std::span<const double>, std::span<const uint64_t>, double,
                 uint64_t) override {}
  using MetricSink::sample;

 private:
  enum class Wanted {
    kNone,
    kCpu,
    kCore,
    kMemTotal,
    kMemAvailable,
    kDiskSize,
    kDiskFree,
    kDiskAvail
  };
  void set_disk(double value);

  SystemSample* out_;
  Wanted current_ = Wanted::kNone;
};

class SystemMetrics {
 public:
  // Counts one collection round (the heartbeat) and appends its point to
  // *out, unless the round offers no input at all. Fields:
  //   cpu, cpu_core_N    busy percent since the previous round (absent in
  //                      the first, which has nothing to compare with)
  //   memory             percent used, (MemTotal - MemAvailable) / MemTotal
  //   memory_total/used  bytes, int64 (all three need MemTotal and MemAvailable)
  //   disk               percent used of "/", used / (used + avail) like df
  //   disk_total/used    bytes, int64; used = size - free
  //   heartbeat          rounds since start, int64
  void add_round(const SystemSample& sample, std::span<const Tag> tags, int64_t time_ns,
                 std::vector<Point>* out);

  uint64_t heartbeat() const { return heartbeat_; }

 private:
  uint64_t heartbeat_ = 0;
};

}  // namespace edgemon::metrics
