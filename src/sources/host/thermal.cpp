// thermal: node_thermal_zone_temp per /sys/class/thermal/thermal_zoneN.
#include <dirent.h>

#include <algorithm>
#include <charconv>

#include "core/read_file.hpp"
#include "sources/host/collector.hpp"
#include "sources/host/parse/scan.hpp"

namespace edgemon::collect {
namespace {

using metrics::Type;

constexpr std::string_view kZonePrefix = "thermal_zone";

struct Zone {
  uint64_t number = 0;
  std::string zone;  // the number as text, the label value
  std::string type;
  double celsius = 0;
};

class ThermalCollector final : public SyncCollector {
 public:
  explicit ThermalCollector(const config::Config& config)
      : dir_(config.collect.sysfs + "/class/thermal") {}

  // A board without thermal zones (most x86 VMs) has no samples, and a zone
  // whose sensor answers EAGAIN/ENODATA (seen on real boards while a sensor
  // is powered down) is left out; neither fails the collector.
  std::string gather_now(const CollectContext&) override {
    count_ = 0;
    DIR* dir = opendir(dir_.c_str());
    if (dir == nullptr) return "";
    while (dirent* e = readdir(dir)) {
      std::string_view name = e->d_name;
      uint64_t number = 0;
      if (name.substr(0, kZonePrefix.size()) != kZonePrefix ||
          !scan::to_u64(name.substr(kZonePrefix.size()), &number))
        continue;
      read_zone(name, number);
    }
    closedir(dir);
    // readdir order is arbitrary; a stable order makes the output diffable.
    std::sort(zones_.begin(), zones_.begin() + static_cast<std::ptrdiff_t>(count_),
              [](const Zone& a, const Zone& b) { return a.number < b.number; });
    return "";
  }

  void write(metrics::MetricSink& sink) const override {
    sink.begin({"node_thermal_zone_temp", "Zone temperature in Celsius", Type::kGauge});
    for (size_t i = 0; i < count_; ++i)
      sink.sample({{"type", zones_[i].type}, {"zone", zones_[i].zone}}, zones_[i].celsius);
  }

 private:
  void read_zone(std::string_view name, uint64_t number) {
    path_.assign(dir_).append("/").append(name).append("/temp");
    int64_t millidegrees = 0;
    if (!read_trimmed(path_, &buf_).empty() || !scan::to_i64(buf_, &millidegrees)) return;
    if (count_ == zones_.size()) zones_.emplace_back();
    Zone& z = zones_[count_];
    path_.assign(dir_).append("/").append(name).append("/type");
    if (!read_trimmed(path_, &z.type).empty()) return;
    z.number = number;
    char buf[24];
    auto [end, ec] = std::to_chars(buf, buf + sizeof buf, number);
    z.zone.assign(buf, end);
    z.celsius = static_cast<double>(millidegrees) / 1000.0;
    ++count_;
  }

  std::string dir_;
  std::string path_;
  std::string buf_;
  std::vector<Zone> zones_;  // the first count_ are this collection's
  size_t count_ = 0;
};

const Registration kReg{"thermal", [](const config::Config& config, std::string*) {
                          return std::unique_ptr<Collector>(new ThermalCollector(config));
                        }};

}  // namespace
}  // namespace edgemon::collect
