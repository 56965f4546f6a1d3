// diskstats: node_disk_* per block device from /proc/diskstats.
#include "sources/host/parse/diskstats.hpp"
#include "core/regex.hpp"
#include "sources/host/collector.hpp"
#include "sources/host/collector_options.hpp"
#include "sources/host/proc_file.hpp"

namespace edgemon::collect {

namespace {

using metrics::Type;

struct DiskFamily {
  const char* name;
  const char* help;
  DiskField field;
  double scale;  // sectors -> bytes, ms -> s
  Type type;
};

constexpr double kSector = 512;  // diskstats sectors are always 512 bytes
constexpr double kMs = 0.001;

// node_exporter's names and help text.
constexpr DiskFamily kFamilies[] = {
    {"node_disk_reads_completed_total", "The total number of reads completed successfully.",
     kDiskReads, 1, Type::kCounter},
    {"node_disk_reads_merged_total", "The total number of reads merged.", kDiskReadsMerged, 1,
     Type::kCounter},
    {"node_disk_read_bytes_total", "The total number of bytes read successfully.", kDiskSectorsRead,
     kSector, Type::kCounter},
    {"node_disk_read_time_seconds_total", "The total number of seconds spent by all reads.",
     kDiskReadMs, kMs, Type::kCounter},
    {"node_disk_writes_completed_total", "The total number of writes completed successfully.",
     kDiskWrites, 1, Type::kCounter},
    {"node_disk_writes_merged_total", "The number of writes merged.", kDiskWritesMerged, 1,
     Type::kCounter},
    {"node_disk_written_bytes_total", "The total number of bytes written successfully.",
     kDiskSectorsWritten, kSector, Type::kCounter},
    {"node_disk_write_time_seconds_total",
     "This is the total number of seconds spent by all writes.", kDiskWriteMs, kMs, Type::kCounter},
    {"node_disk_io_now", "The number of I/Os currently in progress.", kDiskIosInProgress, 1,
     Type::kGauge},
    {"node_disk_io_time_seconds_total", "Total seconds spent doing I/Os.", kDiskIoMs, kMs,
     Type::kCounter},
    {"node_disk_io_time_weighted_seconds_total", "The weighted # of seconds spent doing I/Os.",
     kDiskWeightedIoMs, kMs, Type::kCounter},
    {"node_disk_discards_completed_total", "The total number of discards completed successfully.",
     kDiskDiscards, 1, Type::kCounter},
    {"node_disk_discards_merged_total", "The total number of discards merged.", kDiskDiscardsMerged,
     1, Type::kCounter},
    {"node_disk_discarded_sectors_total", "The total number of sectors discarded successfully.",
     kDiskSectorsDiscarded, 1, Type::kCounter},
    {"node_disk_discard_time_seconds_total",
     "This is the total number of seconds spent by all discards.", kDiskDiscardMs, kMs,
     Type::kCounter},
    {"node_disk_flush_requests_total", "The total number of flush requests completed successfully",
     kDiskFlushes, 1, Type::kCounter},
    {"node_disk_flush_requests_time_seconds_total",
     "This is the total number of seconds spent by all flush requests.", kDiskFlushMs, kMs,
     Type::kCounter},
};

class DiskstatsCollector final : public SyncCollector {
 public:
  DiskstatsCollector(const config::Config& config, Regex exclude)
      : file_(config.collect.procfs + "/diskstats"), exclude_(std::move(exclude)) {}

  std::string gather_now(const CollectContext&) override {
    ok_ = false;
    std::string err = file_.read(&buf_);
    if (!err.empty()) return err;
    err = parse_diskstats(buf_, &disks_);
    if (!err.empty()) return file_.path() + ": " + err;
    std::erase_if(disks_, [this](const DiskStats& d) {
      name_.assign(d.name);
      return exclude_.matches(name_);
    });
    ok_ = true;
    return "";
  }

  void write(metrics::MetricSink& sink) const override {
    if (!ok_) return;
    for (const DiskFamily& f : kFamilies) {
      sink.begin({f.name, f.help, f.type});
      for (const DiskStats& d : disks_) {
        // Older kernels write no discard (before 4.18) or flush (5.5) columns.
        if (f.field >= d.count) continue;
        sink.sample({{"device", d.name}}, static_cast<double>(d.values[f.field]) * f.scale);
      }
    }
  }

 private:
  ProcFile file_;
  Regex exclude_;
  std::string buf_;
  std::string name_;
  std::vector<DiskStats> disks_;  // names point into buf_
  bool ok_ = false;
};

const Registration kReg{
    "diskstats",
    [](const config::Config& config, std::string* error) {
      Regex exclude;
      std::string err = exclude.compile(
          config.collect.collectors.get<DiskstatsOptions>("diskstats").devices_exclude);
      if (!err.empty()) {
        *error = "collect.diskstats.devices_exclude: " + err;
        return std::unique_ptr<Collector>();
      }
      return std::unique_ptr<Collector>(new DiskstatsCollector(config, std::move(exclude)));
    },
    "Block device I/O from /proc/diskstats.", config::make_options<DiskstatsOptions>};

}  // namespace
}  // namespace edgemon::collect
