// rapl: Intel/AMD RAPL energy counters from /sys/class/powercap, as
// node_exporter 1.5 names them (node_rapl_<zone>_joules_total{index,path}),
// plus the edge-native families: the counters unwrapped past
// max_energy_range_uj (edge_energy_joules_total) and the power between two
// collections (edge_power_watts).
#include <cerrno>
#include <chrono>
#include <cstring>
#include <map>

#include "metrics/power_families.hpp"
#include "sources/host/collector.hpp"
#include "sources/host/family_table.hpp"
#include "sources/host/parse/go_text.hpp"
#include "sources/host/parse/powercap.hpp"
#include "sources/host/sysfs_attr.hpp"

namespace edgemon::collect {
namespace {

using metrics::Type;

std::string errno_text(int error) {
  return std::strerror(error);
}

std::string strip_trailing_slashes(std::string path) {
  while (path.size() > 1 && path.back() == '/')
    path.pop_back();
  return path;
}

struct Zone {
  std::string entry;  // intel-rapl:0:1
  std::string name;   // the name file: package-0, core
  RaplZoneName split;
  uint64_t max_range_uj = 0;
  uint64_t energy_uj = 0;
};

// Per zone (by path), what the unwrapping carries between collections.
struct Counter {
  uint64_t last_uj = 0;
  double total_joules = 0;
  uint64_t generation = 0;  // the collection that last saw the zone
};

class RaplCollector final : public SyncCollector {
 public:
  explicit RaplCollector(const config::Config& config)
      : dir_(strip_trailing_slashes(config.collect.sysfs) + "/class/powercap") {}

  // No powercap (ARM boards, VMs): no samples, not a failure. An unreadable
  // energy_uj fails the collection: the others would be as unreadable.
  std::string gather_now(const CollectContext&) override {
    table_.clear();
    auto now = std::chrono::steady_clock::now();
    std::vector<Zone> zones;
    std::string error = read_zones(&zones);
    if (!error.empty()) return error;
    ++generation_;
    bool have_msr_interface = false;
    for (const Zone& z : zones)
      have_msr_interface = have_msr_interface || z.entry.starts_with("intel-rapl:");
    for (const Zone& z : zones) {
      std::string path = dir_ + "/" + z.entry;
      table_.add("node_rapl_" + sanitize_metric_name_part(z.split.zone) + "_joules_total",
                 "Current RAPL " + z.split.zone + " value in joules", Type::kCounter,
                 {{"index", std::to_string(z.split.index)}, {"path", path}},
                 static_cast<double>(z.energy_uj) / 1e6);
      // The MMIO interface of newer Intel CPUs counts the same package
      // again; node_rapl keeps it as node_exporter does, the edge
      // families (which dashboards sum) do not.
      if (have_msr_interface && z.entry.starts_with("intel-rapl-mmio:")) continue;
      add_edge(z, path, zones, now);
    }
    // Zones that went away (a module unloaded) start again if they return.
    std::erase_if(counters_, [&](const auto& c) { return c.second.generation != generation_; });
    last_time_ = now;
    table_.finish();
    return "";
  }

  void write(metrics::MetricSink& sink) const override { table_.write(sink); }

 private:
  std::string read_zones(std::vector<Zone>* zones) {
    std::vector<std::string> entries;
    if (sorted_entries(dir_, &entries) != 0) return "";
    std::map<std::string, int64_t> seen;
    for (const std::string& entry : entries) {
      std::string zone_dir = dir_ + "/" + entry;
      // A directory without a name file (the control type intel-rapl) is
      // not a zone.
      if (read_attr(zone_dir + "/name", &buf_) != 0) continue;
      Zone z;
      z.entry = entry;
      z.name = std::string(trim_go_space(buf_));
      z.split = split_rapl_zone_name(z.name, &seen);
      if (std::string e = read_counter(zone_dir + "/max_energy_range_uj", &z.max_range_uj);
          !e.empty())
        return e;
      if (std::string e = read_counter(zone_dir + "/energy_uj", &z.energy_uj); !e.empty()) return e;
      zones->push_back(std::move(z));
    }
    return "";
  }

  std::string read_counter(const std::string& path, uint64_t* out) {
    int error = read_attr(path, &buf_);
    if (error == EACCES || error == EPERM)
      return path + ": " + errno_text(error) +
             ": since Linux 5.10 energy_uj is readable by root only (CVE-2020-8694). Run edgemon "
             "as root, or make the file world-readable at boot with a udev rule "
             "(SUBSYSTEM==\"powercap\", "
             "ACTION==\"add\", RUN+=\"/bin/chmod 0444 /sys%p/energy_uj\") or a tmpfiles.d line "
             "(z /sys/class/powercap/intel-rapl:*/energy_uj 0444 - - -), or turn the collector off "
             "(collect.disable: [rapl])";
    if (error != 0) return path + ": " + errno_text(error);
    std::string_view text = trim_go_space(buf_);
    if (!parse_go_uint(text, out))
      return path + ": not an unsigned integer: \"" + std::string(text.substr(0, 32)) + "\"";
    return "";
  }

  // The rail of a subzone (intel-rapl:0:0) is qualified by its package's
  // name, so that two sockets' "core" zones stay apart: package-0/core.
  static std::string rail_of(const Zone& z, const std::vector<Zone>& zones) {
    size_t last = z.entry.rfind(':');
    if (last == std::string::npos || z.entry.find(':') == last) return z.name;
    std::string_view parent = std::string_view(z.entry).substr(0, last);
    for (const Zone& p : zones)
      if (p.entry == parent) return p.name + "/" + z.name;
    return z.name;
  }

  void add_edge(const Zone& z, const std::string& path, const std::vector<Zone>& zones,
                std::chrono::steady_clock::time_point now) {
    std::string rail = rail_of(z, zones);
    auto [it, fresh] = counters_.try_emplace(path);
    Counter& c = it->second;
    if (fresh) {
      // The counter's own value is the energy since it started; unwrapping
      // carries on from there.
      c.total_joules = static_cast<double>(z.energy_uj) / 1e6;
    } else {
      uint64_t delta = rapl_energy_delta_uj(c.last_uj, z.energy_uj, z.max_range_uj);
      c.total_joules += static_cast<double>(delta) / 1e6;
      auto elapsed_us = std::chrono::duration_cast<std::chrono::microseconds>(now - last_time_);
      // µJ / µs = W. Skipped for a zone missing from the previous
      // collection (its delta would span more than one interval).
      if (c.generation + 1 == generation_ && elapsed_us.count() > 0)
        table_.add(metrics::power::kWatts, {{"rail", rail}, {"source", "rapl"}},
                   static_cast<double>(delta) / static_cast<double>(elapsed_us.count()));
    }
    c.last_uj = z.energy_uj;
    c.generation = generation_;
    table_.add(metrics::power::kJoules, {{"rail", rail}, {"source", "rapl"}}, c.total_joules);
  }

  std::string dir_;
  std::string buf_;
  FamilyTable table_;
  std::map<std::string, Counter> counters_;
  uint64_t generation_ = 0;
  std::chrono::steady_clock::time_point last_time_{};
};

const Registration kReg{"rapl",
                        [](const config::Config& config, std::string*) {
                          return std::unique_ptr<Collector>(new RaplCollector(config));
                        },
                        "RAPL energy counters of /sys/class/powercap (Intel, AMD Zen)."};

}  // namespace
}  // namespace edgemon::collect
