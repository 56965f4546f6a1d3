#pragma once
// What one tegrastats line becomes in /metrics: the edge-native families of
// compatible-names.md §A5 (edge_power_watts{source="tegrastats",rail},
// edge_board_power_watts, edge_jetson_*, node_thermal_zone_temp) and, when
// asked, the names of the Python power exporter edgemon replaces
// (jetson_power_<rail>_watts{device_type,hostname}, ...), so its users'
// queries keep working.
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "metrics/metric_sink.hpp"
#include "sources/tegrastats/tegrastats_parse.hpp"

namespace edgemon::sources::tegrastats {

// The replaced exporter's labels; `enabled` adds its families.
struct ExporterNames {
  bool enabled = false;
  std::string_view device_type;
  std::string_view hostname;
};

// The board's power in mW: its input rail (VDD_IN, POM_5V_IN) where it has
// one, else the sum of its rails (AGX Xavier and AGX Orin have no input
// rail) -- jetson_stats' rule. Empty when the line has no rails.
std::optional<double> board_milliwatts(const TegrastatsLine& line);

// Whether a rail is exported: not-connected INA3221 channels (`NC`, which
// one line may print twice) are not, nor a second rail of a name already seen.
bool exported_rail(const TegrastatsLine& line, size_t index);

// Every family of one parsed line, edge_power_source_up 1 first. `device`
// (the instance's name) labels the power families, as every power source
// does, so two instances never write the same series; the other families
// get the instance's name as `source` from /metrics.
void write_line(const TegrastatsLine& line, std::string_view device, const ExporterNames& names,
                metrics::MetricSink& sink);

// edge_power_source_up{device,source="tegrastats"} 0: tegrastats is not
// running or prints nothing usable. The power families are absent then,
// never 0 W.
void write_down(std::string_view device, metrics::MetricSink& sink);

// edge_energy_joules_total per rail, integrated from the instantaneous
// readings (tegrastats has no energy counter): each line's power is taken
// to have held since the line before. Counts from the instance's start.
class RailEnergy {
 public:
  // Adds the exported rails of `line` held for `seconds`. The caller passes
  // 0 after a gap (the first line, a restarted or stalled tegrastats): the
  // power during a gap is unknown, and a guess would be worse than nothing.
  // A rail is counted from the first line that prints it, at most
  // kMaxEntries rails.
  void add(const TegrastatsLine& line, double seconds);
  void write(std::string_view device, metrics::MetricSink& sink) const;

 private:
  std::vector<std::pair<std::string, double>> joules_;  // in first-seen order
};

}  // namespace edgemon::sources::tegrastats
