#pragma once
// What one tegrastats line becomes in /metrics: the edge-native families of
// compatible-names.md §A5 (edge_power_watts{source="tegrastats",rail},
// edge_board_power_watts, edge_jetson_*, node_thermal_zone_temp) and, when
// asked, the names of the Python power exporter edgemon replaces
// (jetson_power_<rail>_watts{device_type,hostname}, ...), so its users'
// queries keep working.
#include <string_view>

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

}  // namespace edgemon::sources::tegrastats
