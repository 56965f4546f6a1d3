#pragma once
// How node_exporter's hwmon collector reads names in /sys/class/hwmon:
// an attribute file name is <type><number>_<property> (in1_input,
// temp2_crit_alarm, update_interval), and chip names and properties are
// "cleaned" into label values and metric name parts.
#include <cstdint>
#include <string>
#include <string_view>

namespace edgemon::collect {

struct SensorFile {
  std::string_view type;      // "in", "temp", "update_interval"
  uint64_t number = 0;        // 0 when the name has none
  std::string_view property;  // "input", "crit_alarm", "" when none
};

// The regex ^([^0-9]+)([0-9]*)?(_(.+))?$ with its leftmost-first choice of
// split, without a regex engine. False when the name does not match or the
// number does not fit an int64.
bool split_sensor_file(std::string_view name, SensorFile* out);

// The sensor types node_exporter reads; files of other types (name,
// shunt_resistor, samples) are not sensors.
bool is_hwmon_sensor_type(std::string_view type);

// Lower case, every character outside [a-z0-9:_] replaced by '_' (one per
// UTF-8 character), then leading and trailing '_' removed.
std::string clean_hwmon_name(std::string_view text);

}  // namespace edgemon::collect
