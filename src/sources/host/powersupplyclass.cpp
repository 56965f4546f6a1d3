// powersupplyclass: /sys/class/power_supply (PMICs such as the AXP on
// Orange Pi boards, batteries, USB-PD ports), as node_exporter 1.5 names it
// (node_power_supply_*{power_supply}, node_power_supply_info), plus the
// edge-native power families where the supply reports power or volts and
// amps.
#include <array>
#include <map>

#include "core/regex.hpp"
#include "metrics/power_families.hpp"
#include "sources/host/collector.hpp"
#include "sources/host/collector_options.hpp"
#include "sources/host/family_table.hpp"
#include "sources/host/parse/go_text.hpp"
#include "sources/host/sysfs_attr.hpp"

namespace edgemon::collect {
namespace {

using metrics::Type;

// node_exporter (procfs SysReadFile) reads at most this much, in one read.
constexpr size_t kAttrBytes = 128;

struct NumericAttr {
  std::string_view file;
  std::string_view metric;  // node_power_supply_<metric>
  double divisor;           // divided, not multiplied: the same doubles as node_exporter
};

// The attributes node_exporter exports, with its names and scales: µV,
// µA, µW, µWh, µAh -> base units; temperatures are in tenths of °C.
constexpr std::array<NumericAttr, 49> kNumeric = {{
    {"authentic", "authentic", 1},
    {"calibrate", "calibrate", 1},
    {"capacity", "capacity", 1},
    {"capacity_alert_max", "capacity_alert_max", 1},
    {"capacity_alert_min", "capacity_alert_min", 1},
    {"cycle_count", "cyclecount", 1},
    {"online", "online", 1},
    {"present", "present", 1},
    {"time_to_empty_now", "time_to_empty_seconds", 1},
    {"time_to_full_now", "time_to_full_seconds", 1},
    {"current_boot", "current_boot", 1e6},
    {"current_max", "current_max", 1e6},
    {"current_now", "current_ampere", 1e6},
    {"energy_empty", "energy_empty", 1e6},
    {"energy_empty_design", "energy_empty_design", 1e6},
    {"energy_full", "energy_full", 1e6},
    {"energy_full_design", "energy_full_design", 1e6},
    {"energy_now", "energy_watthour", 1e6},
    {"voltage_boot", "voltage_boot", 1e6},
    {"voltage_max", "voltage_max", 1e6},
    {"voltage_max_design", "voltage_max_design", 1e6},
    {"voltage_min", "voltage_min", 1e6},
    {"voltage_min_design", "voltage_min_design", 1e6},
    {"voltage_now", "voltage_volt", 1e6},
    {"voltage_ocv", "voltage_ocv", 1e6},
    {"charge_control_limit", "charge_control_limit", 1e6},
    {"charge_control_limit_max", "charge_control_limit_max", 1e6},
    {"charge_counter", "charge_counter", 1e6},
    {"charge_empty", "charge_empty", 1e6},
    {"charge_empty_design", "charge_empty_design", 1e6},
    {"charge_full", "charge_full", 1e6},
    {"charge_full_design", "charge_full_design", 1e6},
    {"charge_now", "charge_ampere", 1e6},
    {"charge_term_current", "charge_term_current", 1e6},
    {"constant_charge_current", "constant_charge_current", 1e6},
    {"constant_charge_current_max", "constant_charge_current_max", 1e6},
    {"constant_charge_voltage", "constant_charge_voltage", 1e6},
    {"constant_charge_voltage_max", "constant_charge_voltage_max", 1e6},
    {"precharge_current", "precharge_current", 1e6},
    {"input_current_limit", "input_current_limit", 1e6},
    {"power_now", "power_watt", 1e6},
    {"temp", "temp_celsius", 10},
    {"temp_alert_max", "temp_alert_max_celsius", 10},
    {"temp_alert_min", "temp_alert_min_celsius", 10},
    {"temp_ambient", "temp_ambient_celsius", 10},
    {"temp_ambient_max", "temp_ambient_max_celsius", 10},
    {"temp_ambient_min", "temp_ambient_min_celsius", 10},
    {"temp_max", "temp_max_celsius", 10},
    {"temp_min", "temp_min_celsius", 10},
}};

// Text attributes that become labels of node_power_supply_info.
constexpr std::array<std::string_view, 11> kInfo = {
    "capacity_level", "charge_type", "health",     "manufacturer", "model_name", "scope",
    "serial_number",  "status",      "technology", "type",         "usb_type"};

class PowerSupplyClassCollector final : public SyncCollector {
 public:
  PowerSupplyClassCollector(const config::Config& config, Regex exclude)
      : dir_(config.collect.sysfs + "/class/power_supply"), exclude_(std::move(exclude)) {}

  // No power_supply class: no samples. An attribute the driver refuses
  // (ENODATA from a fuel gauge without a battery, EINVAL) is left out.
  std::string gather_now(const CollectContext&) override {
    table_.clear();
    std::vector<std::string> supplies;
    if (sorted_entries(dir_, &supplies) == 0) {
      for (const std::string& supply : supplies)
        if (!exclude_.matches(supply)) read_supply(supply);
    }
    table_.finish();
    return "";
  }

  void write(metrics::MetricSink& sink) const override { table_.write(sink); }

 private:
  void read_supply(const std::string& supply) {
    std::string supply_dir = dir_ + "/" + supply;
    std::vector<std::string> files;
    if (sorted_entries(supply_dir, &files) != 0) return;
    std::map<std::string_view, int64_t> numbers;
    FamilyTable::LabelPairs info{{"power_supply", supply}};
    for (const std::string& file : files) {
      const NumericAttr* numeric = nullptr;
      for (const NumericAttr& a : kNumeric)
        if (a.file == file) numeric = &a;
      bool is_info = std::find(kInfo.begin(), kInfo.end(), file) != kInfo.end();
      if (numeric == nullptr && !is_info) continue;
      // Regular files only: the device, subsystem and hwmon links are not
      // attributes.
      std::string path = supply_dir + "/" + file;
      if (!is_regular_file_no_follow(path) || read_attr(path, &buf_, kAttrBytes) != 0) continue;
      std::string_view value = trim_go_space(buf_);
      if (is_info) {
        if (!value.empty()) info.emplace_back(file, to_valid_utf8(value));
        continue;
      }
      int64_t number = 0;
      if (!parse_go_int(value, &number)) continue;
      numbers[numeric->file] = number;
      std::string metric = "node_power_supply_" + std::string(numeric->metric);
      table_.add(metric,
                 std::string(numeric->metric) + " value of /sys/class/power_supply/<power_supply>.",
                 Type::kGauge, {{"power_supply", supply}},
                 static_cast<double>(number) / numeric->divisor);
    }
    std::sort(info.begin(), info.end());
    table_.add("node_power_supply_info", "info of /sys/class/power_supply/<power_supply>.",
               Type::kGauge, std::move(info), 1);
    add_edge(supply, numbers);
  }

  void add_edge(const std::string& supply, const std::map<std::string_view, int64_t>& numbers) {
    // Raw µ-units, scaled once at the end.
    auto get = [&](std::string_view file, double* out) {
      auto it = numbers.find(file);
      if (it == numbers.end()) return false;
      *out = static_cast<double>(it->second);
      return true;
    };
    double uv = 0, ua = 0, uw = 0;
    bool have_volts = get("voltage_now", &uv);
    bool have_amps = get("current_now", &ua);
    FamilyTable::LabelPairs labels{{"rail", supply}, {"source", "power_supply"}};
    if (have_volts) table_.add(metrics::power::kVolts, labels, uv / 1e6);
    if (have_amps) table_.add(metrics::power::kAmperes, labels, ua / 1e6);
    // The sign of current_now (and so of the product) follows the driver:
    // some report a discharging battery as negative.
    if (get("power_now", &uw))
      table_.add(metrics::power::kWatts, labels, uw / 1e6);
    else if (have_volts && have_amps)
      table_.add(metrics::power::kWatts, labels, uv * ua / 1e12);
  }

  std::string dir_;
  Regex exclude_;
  std::string buf_;
  FamilyTable table_;
};

const Registration kReg{
    "powersupplyclass",
    [](const config::Config& config, std::string* error) {
      Regex exclude;
      std::string err =
          exclude.compile(config.collect.collectors.get<PowerSupplyClassOptions>("powersupplyclass")
                              .supplies_exclude);
      if (!err.empty()) {
        *error = "collect.powersupplyclass.supplies_exclude: " + err;
        return std::unique_ptr<Collector>();
      }
      return std::unique_ptr<Collector>(new PowerSupplyClassCollector(config, std::move(exclude)));
    },
    "Power supplies of /sys/class/power_supply (PMICs, batteries, USB-PD), named as "
    "node_exporter does.",
    config::make_options<PowerSupplyClassOptions>};

}  // namespace
}  // namespace edgemon::collect
