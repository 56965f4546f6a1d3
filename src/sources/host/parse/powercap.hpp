#pragma once
// RAPL zone names and energy counters from /sys/class/powercap.
#include <cstdint>
#include <map>
#include <string>
#include <string_view>

namespace edgemon::collect {

struct RaplZoneName {
  std::string zone;  // "package" for package-0, else the whole name
  int64_t index = 0;
};

// node_exporter (procfs GetRaplZones): a name of exactly two '-'-separated
// parts whose second is an integer gives that index; any other name gets
// how often it was seen before. `seen` carries that count across zones in
// directory order.
RaplZoneName split_rapl_zone_name(std::string_view name, std::map<std::string, int64_t>* seen);

// node_exporter's SanitizeMetricName: every run of characters outside
// [0-9A-Za-z_], with the '_'s around it, becomes one '_'.
std::string sanitize_metric_name_part(std::string_view text);

// Energy between two readings of energy_uj, in µJ. The counter wraps to 0
// after max_energy_range_uj; a reading below the previous one within that
// range is a wrap. One beyond it (a reloaded driver, a bad range) is not
// a wrap we can measure: 0, and the caller starts again from `current`.
uint64_t rapl_energy_delta_uj(uint64_t previous, uint64_t current, uint64_t max_range);

}  // namespace edgemon::collect
