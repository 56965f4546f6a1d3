// hwmon: every chip in /sys/class/hwmon, as node_exporter 1.5's hwmon
// collector names it (node_hwmon_<type>_<property>_<unit>{chip,sensor},
// node_hwmon_chip_names, node_hwmon_sensor_label), plus the edge-native
// power families for the power monitors boards carry: INA219/226/260 and
// friends (driver ina2xx, which has a power file) and the Jetson INA3221
// (no power file: volts x amps per channel).
#include <climits>
#include <cstdlib>
#include <map>

#include "core/regex.hpp"
#include "metrics/power_families.hpp"
#include "sources/host/collector.hpp"
#include "sources/host/collector_options.hpp"
#include "sources/host/family_table.hpp"
#include "sources/host/parse/go_text.hpp"
#include "sources/host/parse/hwmon_names.hpp"
#include "sources/host/sysfs_attr.hpp"

namespace edgemon::collect {
namespace {

using metrics::Type;

// node_exporter reads at most this much of an attribute, in one read.
constexpr size_t kAttrBytes = 128;

// property -> value ("" is the bare file: update_interval, pwm1)
using Properties = std::map<std::string, std::string>;
struct Sensor {
  std::string type;
  Properties properties;
};
// sensor ("in1", "temp2", "update_interval0") -> its files
using Sensors = std::map<std::string, Sensor>;

// Chips whose driver (ina2xx, ina238) reports bus voltage in1, current
// curr1 and power power1 for one rail.
bool is_single_rail_power_monitor(std::string_view chip_name) {
  for (std::string_view n : {"ina209", "ina219", "ina220", "ina226", "ina230", "ina231", "ina234",
                             "ina237", "ina238", "ina260", "sy24655"})
    if (n == chip_name) return true;
  return false;
}

std::string basename_of(std::string_view path) {
  while (path.size() > 1 && path.back() == '/')
    path.remove_suffix(1);
  size_t slash = path.rfind('/');
  return std::string(slash == std::string_view::npos ? path : path.substr(slash + 1));
}

std::string real_path(const std::string& path) {
  char resolved[PATH_MAX];
  if (realpath(path.c_str(), resolved) == nullptr) return "";
  return resolved;
}

const std::string* find(const Sensors& sensors, const std::string& sensor,
                        const std::string& property) {
  auto s = sensors.find(sensor);
  if (s == sensors.end()) return nullptr;
  auto p = s->second.properties.find(property);
  return p == s->second.properties.end() ? nullptr : &p->second;
}

bool number_of(const Sensors& sensors, const std::string& sensor, const std::string& property,
               double* out) {
  const std::string* text = find(sensors, sensor, property);
  return text != nullptr && parse_go_float(*text, out);
}

class HwmonCollector final : public SyncCollector {
 public:
  HwmonCollector(const config::Config& config, Regex exclude)
      : dir_(config.collect.sysfs + "/class/hwmon"),
        iio_dir_(config.collect.sysfs + "/bus/i2c/drivers/ina3221x"),
        exclude_(std::move(exclude)) {}

  // A system without hwmon has no samples; that is not a failure. A chip
  // whose directory cannot be read is left out, as are attributes whose
  // driver answers an error (EAGAIN, ENODATA: a sensor powered down).
  std::string gather_now(const CollectContext&) override {
    table_.clear();
    std::vector<std::string> chips;
    if (sorted_entries(dir_, &chips) == 0) {
      for (const std::string& entry : chips) {
        std::string chip_dir = dir_ + "/" + entry;
        if (entry_kind(chip_dir) == EntryKind::kDirectory) read_chip(chip_dir);
      }
    }
    read_ina3221_iio();
    table_.finish();
    return "";
  }

  void write(metrics::MetricSink& sink) const override { table_.write(sink); }

 private:
  // node_exporter's hwmonName: the device's bus and name, else the chip's
  // name file, else hwmonN.
  std::string chip_label(const std::string& chip_dir) {
    std::string device = real_path(chip_dir + "/device");
    if (!device.empty()) {
      std::string name = clean_hwmon_name(basename_of(device));
      std::string parent = device.substr(0, device.size() - basename_of(device).size());
      std::string type = clean_hwmon_name(basename_of(parent));
      if (!type.empty() && !name.empty()) return type + "_" + name;
      if (!name.empty()) return name;
    }
    if (read_attr(chip_dir + "/name", &buf_) == 0) {
      std::string name = clean_hwmon_name(buf_);
      if (!name.empty()) return name;
    }
    std::string real = real_path(chip_dir);
    return real.empty() ? "" : clean_hwmon_name(basename_of(real));
  }

  bool read_sensors(const std::string& dir, Sensors* sensors) {
    if (sorted_entries(dir, &entries_) != 0) return false;
    for (const std::string& file : entries_) {
      SensorFile parts;
      if (!split_sensor_file(file, &parts) || !is_hwmon_sensor_type(parts.type)) continue;
      if (read_attr(dir + "/" + file, &buf_, kAttrBytes) != 0) continue;
      std::string_view value = buf_;
      while (!value.empty() && value.front() == '\n')
        value.remove_prefix(1);
      while (!value.empty() && value.back() == '\n')
        value.remove_suffix(1);
      Sensor& s = (*sensors)[std::string(parts.type) + std::to_string(parts.number)];
      s.type = parts.type;
      s.properties[std::string(parts.property)] = value;
    }
    return true;
  }

  void read_chip(const std::string& chip_dir) {
    std::string chip = chip_label(chip_dir);
    if (chip.empty() || exclude_.matches(chip)) return;
    Sensors sensors;
    if (!read_sensors(chip_dir, &sensors)) return;
    if (entry_kind(chip_dir + "/device") != EntryKind::kMissing &&
        !read_sensors(chip_dir + "/device", &sensors))
      return;

    std::string chip_name;
    if (read_attr(chip_dir + "/name", &buf_) == 0) chip_name = clean_hwmon_name(buf_);
    if (!chip_name.empty())
      table_.add("node_hwmon_chip_names", "Annotation metric for human-readable chip names",
                 Type::kGauge, {{"chip", chip}, {"chip_name", chip_name}}, 1);

    for (const auto& [sensor, data] : sensors)
      add_sensor(chip, sensor, data);
    if (is_single_rail_power_monitor(chip_name)) add_single_rail(chip, sensors);
    if (chip_name == "ina3221") add_ina3221(chip, sensors);
  }

  void add_sensor(const std::string& chip, const std::string& sensor, const Sensor& data) {
    const std::string& type = data.type;
    const Properties& props = data.properties;
    auto labels = [&] { return FamilyTable::LabelPairs{{"chip", chip}, {"sensor", sensor}}; };
    if (auto label = props.find("label"); label != props.end()) {
      table_.add("node_hwmon_sensor_label", "Label for given chip and sensor", Type::kGauge,
                 {{"chip", chip}, {"label", to_valid_utf8(label->second)}, {"sensor", sensor}}, 1);
    }
    auto bare = props.find("");
    double value = 0;
    if (type == "beep_enable") {
      bool on = bare != props.end() && bare->second == "1";
      table_.add("node_hwmon_beep_enabled", "Hardware beep enabled", Type::kGauge, labels(),
                 on ? 1 : 0);
      return;
    }
    if (type == "vrm") {
      if (bare != props.end() && parse_go_float(bare->second, &value))
        table_.add("node_hwmon_voltage_regulator_version", "Hardware voltage regulator",
                   Type::kGauge, labels(), value);
      return;
    }
    if (type == "update_interval") {
      if (bare != props.end() && parse_go_float(bare->second, &value))
        table_.add("node_hwmon_update_interval_seconds", "Hardware monitor update interval",
                   Type::kGauge, labels(), value * 0.001);
      return;
    }
    const std::string prefix = "node_hwmon_" + type;
    for (const auto& [element, text] : props) {
      if (element == "label") continue;
      std::string name = prefix;
      if (element == "input") {
        // Both "temp1" and "temp1_input": the second gets its own name.
        if (bare != props.end()) name += "_input";
      } else if (!element.empty()) {
        name += "_" + clean_hwmon_name(element);
      }
      if (!parse_go_float(text, &value)) continue;
      add_element(name, type, element, value, labels());
    }
  }

  // The unit rules of node_exporter 1.5, including its quirks: only the
  // elements named exactly alarm/fault are unit-less, so in0_lcrit_alarm
  // is node_hwmon_in_lcrit_alarm_volts and reads 0.001 when set.
  void add_element(const std::string& name, const std::string& type, const std::string& element,
                   double value, FamilyTable::LabelPairs labels) {
    auto gauge = [&](const std::string& family, const std::string& help, double v) {
      table_.add(family, help, Type::kGauge, std::move(labels), v);
    };
    const std::string paren = " (" + element + ")";
    if (element == "fault" || element == "alarm")
      return gauge(name, "Hardware sensor " + element + " status (" + type + ")", value);
    if (element == "beep")
      return gauge(name + "_enabled", "Hardware monitor sensor has beeping enabled", value);
    if (type == "in" || type == "cpu")
      return gauge(name + "_volts", "Hardware monitor for voltage" + paren, value * 0.001);
    if (type == "temp" && element != "type") {
      std::string shown = element.empty() ? "input" : element;
      return gauge(name + "_celsius", "Hardware monitor for temperature (" + shown + ")",
                   value * 0.001);
    }
    if (type == "curr")
      return gauge(name + "_amps", "Hardware monitor for current" + paren, value * 0.001);
    if (type == "energy") {
      table_.add(name + "_joule_total", "Hardware monitor for joules used so far" + paren,
                 Type::kCounter, std::move(labels), value / 1e6);
      return;
    }
    if (type == "power" && element == "accuracy")
      return gauge(name, "Hardware monitor power meter accuracy, as a ratio", value / 1e6);
    if (type == "power" && (element == "average_interval" || element == "average_interval_min" ||
                            element == "average_interval_max"))
      return gauge(name + "_seconds", "Hardware monitor power usage update interval" + paren,
                   value * 0.001);
    if (type == "power")
      return gauge(name + "_watt", "Hardware monitor for power usage in watts" + paren,
                   value / 1e6);
    if (type == "humidity")
      return gauge(name,
                   "Hardware monitor for humidity, as a ratio (multiply with 100.0 to get the "
                   "humidity as a percentage)" +
                       paren,
                   value / 1e6);
    if (type == "fan" &&
        (element == "input" || element == "min" || element == "max" || element == "target"))
      return gauge(name + "_rpm", "Hardware monitor for fan revolutions per minute" + paren, value);
    gauge(name, "Hardware monitor " + type + " element " + element, value);
  }

  void add_rail(const char* source, const std::string& rail, double volts, double amps,
                double watts) {
    table_.add(metrics::power::kVolts, {{"rail", rail}, {"source", source}}, volts);
    table_.add(metrics::power::kAmperes, {{"rail", rail}, {"source", source}}, amps);
    table_.add(metrics::power::kWatts, {{"rail", rail}, {"source", source}}, watts);
  }

  // ina2xx: in1 is the bus voltage (in0 the shunt's), power1 in µW.
  void add_single_rail(const std::string& chip, const Sensors& sensors) {
    double mv = 0, ma = 0, uw = 0;
    if (!number_of(sensors, "in1", "input", &mv) || !number_of(sensors, "curr1", "input", &ma) ||
        !number_of(sensors, "power1", "input", &uw))
      return;
    add_rail("hwmon", chip, mv / 1000, ma / 1000, uw / 1e6);
  }

  // INA3221: three channels, bus voltage inK (mV) and current currK (mA),
  // named by inK_label. in4-6 are shunt voltages and in7/curr4 sums, not
  // rails. "NC" labels a channel that is not connected.
  void add_ina3221(const std::string& chip, const Sensors& sensors) {
    for (int k = 1; k <= 3; ++k) {
      std::string in = "in" + std::to_string(k);
      std::string curr = "curr" + std::to_string(k);
      const std::string* enable = find(sensors, in, "enable");
      if (enable != nullptr && *enable == "0") continue;
      double mv = 0, ma = 0;
      if (!number_of(sensors, in, "input", &mv) || !number_of(sensors, curr, "input", &ma))
        continue;
      const std::string* label = find(sensors, in, "label");
      if (label != nullptr && *label == "NC") continue;
      std::string rail =
          label != nullptr && !label->empty() ? to_valid_utf8(*label) : chip + "_" + in;
      double watts = mv * ma / 1e6;
      add_rail("ina3221", rail, mv / 1000, ma / 1000, watts);
      // Jetson's input rail is the whole module's draw.
      if (rail == "VDD_IN") table_.add(metrics::power::kBoardWatts, {{"source", "ina3221"}}, watts);
    }
  }

  // JetPack 4 (Nano, TX2, Xavier on L4T 32) drives the INA3221 with
  // NVIDIA's ina3221x IIO driver instead of hwmon: per channel K,
  // rail_name_K and in_powerK_input (mW), in_voltageK_input (mV),
  // in_currentK_input (mA). Only the edge families: node_exporter has no
  // IIO collector to match.
  void read_ina3221_iio() {
    std::vector<std::string> devices;
    if (sorted_entries(iio_dir_, &devices) != 0) return;
    std::vector<std::string> iio;
    for (const std::string& device : devices) {
      std::string device_dir = iio_dir_ + "/" + device;
      if (sorted_entries(device_dir, &iio) != 0) continue;
      for (const std::string& entry : iio)
        if (entry.starts_with("iio:device")) read_iio_channels(device_dir + "/" + entry);
    }
  }

  void read_iio_channels(const std::string& dir) {
    auto number = [&](const std::string& file, double* out) {
      return read_attr(dir + "/" + file, &buf_, kAttrBytes) == 0 &&
             parse_go_float(trim_go_space(buf_), out);
    };
    for (int k = 0; k < 3; ++k) {
      std::string ch = std::to_string(k);
      if (read_attr(dir + "/rail_name_" + ch, &buf_, kAttrBytes) != 0) continue;
      std::string rail = to_valid_utf8(trim_go_space(buf_));
      double mw = 0, mv = 0, ma = 0;
      if (rail.empty() || rail == "NC" || !number("in_power" + ch + "_input", &mw) ||
          !number("in_voltage" + ch + "_input", &mv) || !number("in_current" + ch + "_input", &ma))
        continue;
      add_rail("ina3221", rail, mv / 1000, ma / 1000, mw / 1000);
      if (rail == "POM_5V_IN" || rail == "VDD_IN")
        table_.add(metrics::power::kBoardWatts, {{"source", "ina3221"}}, mw / 1000);
    }
  }

  std::string dir_;
  std::string iio_dir_;
  Regex exclude_;
  std::string buf_;
  std::vector<std::string> entries_;
  FamilyTable table_;
};

const Registration kReg{
    "hwmon",
    [](const config::Config& config, std::string* error) {
      Regex exclude;
      std::string err =
          exclude.compile(config.collect.collectors.get<HwmonOptions>("hwmon").chip_exclude);
      if (!err.empty()) {
        *error = "collect.hwmon.chip_exclude: " + err;
        return std::unique_ptr<Collector>();
      }
      return std::unique_ptr<Collector>(new HwmonCollector(config, std::move(exclude)));
    },
    "Sensors of /sys/class/hwmon, named as node_exporter does, and edge_power_watts from "
    "INA2xx/INA3221 power monitors.",
    config::make_options<HwmonOptions>};

}  // namespace
}  // namespace edgemon::collect
