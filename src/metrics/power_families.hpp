#pragma once
// The edge-native power families (compatible-names.md §A5), shared by every
// source that measures power -- tegrastats, hwmon, rapl, power_supply,
// shelly -- so that their HELP and TYPE agree: /metrics writes a family once,
// with the descriptor of whichever source comes first.
//
// Labels: `source` is the kind of meter (tegrastats, ina3221, hwmon, rapl,
// power_supply, shelly), `rail` the rail or zone as the meter names it
// (VDD_IN, package-0, switch:0), `device` an instance when one board has
// several meters of a kind (two Shelly plugs).
#include "metrics/metric_sink.hpp"

namespace edgemon::metrics::power {

inline constexpr FamilyDesc kWatts{
    "edge_power_watts",
    "Power drawn through a rail or zone, in watts. Sub-rails are included in their parent rail: "
    "sum() over rails double-counts, use edge_board_power_watts for the board.",
    Type::kGauge};
inline constexpr FamilyDesc kJoules{
    "edge_energy_joules_total",
    "Energy through a rail or zone since the meter started, in joules: RAPL counters unwrapped, "
    "Shelly energy counters converted, integrated from power samples where the meter has no "
    "counter.",
    Type::kCounter};
inline constexpr FamilyDesc kBoardWatts{
    "edge_board_power_watts",
    "Power of the whole board, in watts: its input rail where the meter has one, else the sum "
    "of its top-level rails.",
    Type::kGauge};
inline constexpr FamilyDesc kVolts{"edge_voltage_volts", "Voltage of a rail, in volts.",
                                   Type::kGauge};
inline constexpr FamilyDesc kAmperes{"edge_current_amperes", "Current through a rail, in amperes.",
                                     Type::kGauge};
inline constexpr FamilyDesc kSourceUp{
    "edge_power_source_up",
    "1 when the power meter answered its last reading, 0 when it did not (an unreachable meter "
    "is 0 here, never 0 W).",
    Type::kGauge};

}  // namespace edgemon::metrics::power
