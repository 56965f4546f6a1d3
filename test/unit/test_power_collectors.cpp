// The hwmon, rapl and powersupplyclass collectors on fake sysfs trees
// (test/fixtures/sysfs/power-tree.txt, built in a temporary directory),
// asserting exact exposition lines: node_exporter's names and units, and
// the edge-native power families.
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <memory>

#include "cmocka_all.hpp"
#include "core/config_loader.hpp"
#include "metrics/prometheus_text.hpp"
#include "sources/host/collector.hpp"
#include "sources/host/collector_options.hpp"
#include "sysfs_tree.hpp"

using namespace edgemon;
using collect::CollectContext;
using collect::Collector;

namespace {

const std::string kTree = EDGEMON_FIXTURES "/sysfs/power-tree.txt";

config::Config config_for(const SysfsTree& tree) {
  config::Config c;
  c.collect.sysfs = tree.sysfs();
  return c;
}

std::unique_ptr<Collector> make(const char* name, const config::Config& c) {
  std::string error;
  auto collector = collect::create_collector(name, c, &error);
  if (collector == nullptr) fail_msg("create_collector(%s): %s", name, error.c_str());
  return collector;
}

std::string gather(Collector& collector, const config::Config& c) {
  CollectContext ctx{c, nullptr, 0};
  bool called = false;
  std::string error;
  collector.gather(ctx, [&](std::string e) {
    called = true;
    error = std::move(e);
  });
  assert_true(called);
  return error;
}

std::string written(const Collector& collector) {
  std::string out;
  metrics::PrometheusTextWriter writer(out);
  collector.write(writer);
  return out;
}

std::string collect_once(const char* name, const config::Config& c) {
  auto collector = make(name, c);
  std::string error = gather(*collector, c);
  if (!error.empty()) fail_msg("%s: %s", name, error.c_str());
  return written(*collector);
}

// Each family one block, HELP and TYPE before its samples.
void assert_well_formed(const std::string& out) {
  std::vector<std::string> seen;
  std::string current;
  size_t start = 0;
  while (start < out.size()) {
    size_t nl = out.find('\n', start);
    assert_true(nl != std::string::npos);
    std::string line = out.substr(start, nl - start);
    start = nl + 1;
    if (line.starts_with("# HELP ")) {
      std::string name = line.substr(7, line.find(' ', 7) - 7);
      for (const auto& s : seen)
        if (s == name) fail_msg("family %s written twice", name.c_str());
      seen.push_back(name);
      current = name;
      continue;
    }
    if (line.starts_with("# TYPE ")) continue;
    if (line.substr(0, line.find_first_of("{ ")) != current)
      fail_msg("sample outside its family: %s", line.c_str());
  }
}

// ---- hwmon ----

void hwmon_names_units_and_power_rails(void**) {
  SysfsTree tree;
  tree.load(kTree);
  std::string out = collect_once("hwmon", config_for(tree));
  assert_well_formed(out);
  // node_exporter's names, units and labels.
  assert_contains(out, "node_hwmon_power_watt{chip=\"ina226\",sensor=\"power1\"} 10.018\n");
  assert_contains(out, "node_hwmon_in_volts{chip=\"ina226\",sensor=\"in1\"} 12.012\n");
  assert_contains(out, "node_hwmon_curr_amps{chip=\"ina226\",sensor=\"curr1\"} 0.834\n");
  assert_contains(out, "node_hwmon_temp_celsius{chip=\"coretemp\",sensor=\"temp1\"} 52\n");
  assert_contains(out,
                  "node_hwmon_sensor_label{chip=\"ina3221\",label=\"VDD_IN\",sensor=\"in1\"} 1\n");
  assert_contains(out, "node_hwmon_chip_names{chip=\"rpi_volt\",chip_name=\"rpi_volt\"} 1\n");
  // Raspberry Pi under-voltage: node_exporter scales the alarm as millivolts.
  assert_contains(out, "node_hwmon_in_lcrit_alarm_volts{chip=\"rpi_volt\",sensor=\"in0\"} 0\n");
  assert_contains(out, "node_hwmon_in_lcrit_alarm_volts{chip=\"nct6775\",sensor=\"in0\"} 0.001\n");
  // A chip with a device link is named by the device's bus and address,
  // and its sensors in the device directory count.
  assert_contains(out, "node_hwmon_chip_names{chip=\"i2c_1_1_0040\",chip_name=\"ina219\"} 1\n");
  assert_contains(out, "node_hwmon_power_watt{chip=\"i2c_1_1_0040\",sensor=\"power1\"} 3.12\n");
  // Neither name nor device: the directory's name.
  assert_contains(out, "node_hwmon_temp_celsius{chip=\"hwmon6\",sensor=\"temp1\"} -5.5\n");
  assert_contains(
      out, "node_hwmon_sensor_label{chip=\"hwmon6\",label=\"Core 0 (ext)\",sensor=\"temp1\"} 1\n");
  // The unit rules, one by one.
  assert_contains(
      out,
      "# TYPE node_hwmon_fan_rpm gauge\nnode_hwmon_fan_rpm{chip=\"nct6775\",sensor=\"fan1\"} "
      "1200\n");
  assert_contains(out, "node_hwmon_fan_min_rpm{chip=\"nct6775\",sensor=\"fan1\"} 300\n");
  assert_contains(out, "node_hwmon_fan_alarm{chip=\"nct6775\",sensor=\"fan1\"} 0\n");
  assert_contains(out, "node_hwmon_fan_div{chip=\"nct6775\",sensor=\"fan1\"} 8\n");
  assert_contains(out, "node_hwmon_fan_beep_enabled{chip=\"nct6775\",sensor=\"fan1\"} 1\n");
  assert_contains(out, "node_hwmon_pwm{chip=\"nct6775\",sensor=\"pwm1\"} 128\n");
  assert_contains(out, "node_hwmon_pwm_enable{chip=\"nct6775\",sensor=\"pwm1\"} 2\n");
  assert_contains(out, "node_hwmon_temp_max_celsius{chip=\"nct6775\",sensor=\"temp1\"} 80\n");
  assert_contains(out, "node_hwmon_temp_crit_alarm_celsius{chip=\"nct6775\",sensor=\"temp1\"} 0\n");
  assert_contains(out, "node_hwmon_temp_type{chip=\"nct6775\",sensor=\"temp1\"} 4\n");
  assert_contains(out, "node_hwmon_temp_celsius{chip=\"nct6775\",sensor=\"temp2\"} 41\n");
  assert_contains(out, "node_hwmon_temp_input_celsius{chip=\"nct6775\",sensor=\"temp2\"} 41.5\n");
  assert_contains(out, "node_hwmon_cpu_vid_volts{chip=\"nct6775\",sensor=\"cpu0\"} 1.1\n");
  assert_contains(out, "node_hwmon_intrusion_alarm{chip=\"nct6775\",sensor=\"intrusion0\"} 1\n");
  assert_contains(out, "node_hwmon_beep_enabled{chip=\"nct6775\",sensor=\"beep_enable0\"} 1\n");
  assert_contains(out,
                  "node_hwmon_voltage_regulator_version{chip=\"nct6775\",sensor=\"vrm0\"} 12.5\n");
  assert_contains(
      out, "node_hwmon_update_interval_seconds{chip=\"nct6775\",sensor=\"update_interval0\"} 1\n");
  assert_contains(out, "node_hwmon_power_average_watt{chip=\"nct6775\",sensor=\"power1\"} 15\n");
  assert_contains(
      out, "node_hwmon_power_average_interval_seconds{chip=\"nct6775\",sensor=\"power1\"} 1\n");
  assert_contains(out, "node_hwmon_power_accuracy{chip=\"nct6775\",sensor=\"power1\"} 0.005\n");
  assert_contains(
      out,
      "# TYPE node_hwmon_energy_joule_total counter\n"
      "node_hwmon_energy_joule_total{chip=\"nct6775\",sensor=\"energy1\"} 123.456789\n");
  assert_contains(out, "node_hwmon_humidity{chip=\"nct6775\",sensor=\"humidity1\"} 0.045\n");
  assert_contains(out, "node_hwmon_curr_max_amps{chip=\"nct6775\",sensor=\"curr1\"} 10\n");
  // Not a number, not a sensor type: left out.
  assert_not_contains(out, "sensor=\"in8\"");
  assert_not_contains(out, "uevent");
  assert_not_contains(out, "shunt_resistor");

  // The edge-native families: INA2xx power as reported, INA3221 volts x amps.
  assert_contains(out, "edge_power_watts{rail=\"ina226\",source=\"hwmon\"} 10.018\n");
  assert_contains(out, "edge_voltage_volts{rail=\"ina226\",source=\"hwmon\"} 12.012\n");
  assert_contains(out, "edge_current_amperes{rail=\"ina226\",source=\"hwmon\"} 0.834\n");
  assert_contains(out, "edge_power_watts{rail=\"i2c_1_1_0040\",source=\"hwmon\"} 3.12\n");
  assert_contains(out, "edge_power_watts{rail=\"VDD_IN\",source=\"ina3221\"} 5.234304\n");
  assert_contains(out, "edge_power_watts{rail=\"VDD_SOC\",source=\"ina3221\"} 1.41792\n");
  assert_contains(out, "edge_voltage_volts{rail=\"VDD_CPU_GPU_CV\",source=\"ina3221\"} 5.064\n");
  assert_contains(out, "edge_board_power_watts{source=\"ina3221\"} 5.234304\n");
  // JetPack 4's IIO driver for the same chip.
  assert_contains(out, "edge_power_watts{rail=\"POM_5V_IN\",source=\"ina3221\"} 2.04\n");
  assert_contains(out, "edge_voltage_volts{rail=\"POM_5V_CPU\",source=\"ina3221\"} 5.048\n");
  assert_contains(out, "edge_current_amperes{rail=\"POM_5V_GPU\",source=\"ina3221\"} 0\n");
  // Shunt-voltage sums are not rails.
  assert_not_contains(out, "rail=\"sum of shunt voltages\"");
  assert_not_contains(out, "rail=\"ina3221_in4\"");
}

void hwmon_ina3221_skips_unconnected_and_disabled_channels(void**) {
  SysfsTree tree;
  const std::string chip = "sys/class/hwmon/hwmon0/";
  tree.write(chip + "name", "ina3221\n");
  tree.write(chip + "in1_label", "VDDQ_VDD2_1V8AO\n");
  tree.write(chip + "in1_input", "1800\n");
  tree.write(chip + "curr1_input", "500\n");
  tree.write(chip + "in2_label", "NC\n");
  tree.write(chip + "in2_input", "0\n");
  tree.write(chip + "curr2_input", "0\n");
  tree.write(chip + "in3_enable", "0\n");
  tree.write(chip + "in3_input", "5000\n");
  tree.write(chip + "curr3_input", "100\n");
  std::string out = collect_once("hwmon", config_for(tree));
  assert_contains(out, "edge_power_watts{rail=\"VDDQ_VDD2_1V8AO\",source=\"ina3221\"} 0.9\n");
  assert_not_contains(out, "rail=\"NC\"");
  assert_not_contains(out, "rail=\"ina3221_in3\"");
  // No input rail on this module: no board power claimed.
  assert_not_contains(out, "edge_board_power_watts{");
}

void hwmon_chip_exclude(void**) {
  SysfsTree tree;
  tree.load(kTree);
  config::Config c = config_for(tree);
  c.collect.collectors.get_mut<collect::HwmonOptions>("hwmon").chip_exclude = "^(nct|ina3)";
  std::string out = collect_once("hwmon", c);
  assert_contains(out, "chip=\"ina226\"");
  assert_not_contains(out, "chip=\"nct6775\"");
  assert_not_contains(out, "chip=\"ina3221\"");
  assert_not_contains(out, "rail=\"VDD_IN\"");
  // The JetPack 4 IIO channels are not hwmon chips: still there.
  assert_contains(out, "rail=\"POM_5V_IN\"");

  c.collect.collectors.get_mut<collect::HwmonOptions>("hwmon").chip_exclude = "(";
  std::string error;
  assert_null(collect::create_collector("hwmon", c, &error).get());
  assert_contains(error, "collect.hwmon.chip_exclude");
}

// ---- rapl ----

void rapl_names_and_mmio_duplicate(void**) {
  SysfsTree tree;
  tree.load(kTree);
  std::string out = collect_once("rapl", config_for(tree));
  assert_well_formed(out);
  const std::string dir = tree.sysfs() + "/class/powercap/";
  assert_contains(out,
                  "# HELP node_rapl_package_joules_total Current RAPL package value in joules\n"
                  "# TYPE node_rapl_package_joules_total counter\n");
  assert_contains(out, "node_rapl_package_joules_total{index=\"0\",path=\"" + dir +
                           "intel-rapl:0\"} 65997.277274\n");
  // node_exporter reports the MMIO duplicate too; dashboards built on it
  // expect that.
  assert_contains(out, "node_rapl_package_joules_total{index=\"0\",path=\"" + dir +
                           "intel-rapl-mmio:0\"} 65997.277274\n");
  assert_contains(out, "node_rapl_core_joules_total{index=\"0\",path=\"" + dir +
                           "intel-rapl:0:0\"} 40123.456789\n");
  assert_contains(out, "node_rapl_psys_joules_total{index=\"0\",path=\"" + dir +
                           "intel-rapl:1\"} 98765.4321\n");
  // The edge families count the package once, and qualify subzones.
  assert_contains(out,
                  "edge_energy_joules_total{rail=\"package-0\",source=\"rapl\"} 65997.277274\n");
  assert_contains(
      out, "edge_energy_joules_total{rail=\"package-0/core\",source=\"rapl\"} 40123.456789\n");
  assert_contains(out, "edge_energy_joules_total{rail=\"psys\",source=\"rapl\"} 98765.4321\n");
  size_t first = out.find("edge_energy_joules_total{rail=\"package-0\"");
  assert_true(out.find("edge_energy_joules_total{rail=\"package-0\"", first + 1) ==
              std::string::npos);
  // One reading is no power yet.
  assert_not_contains(out, "edge_power_watts");
}

void rapl_index_from_name_or_count(void**) {
  SysfsTree tree;
  const std::string pc = "sys/class/powercap/";
  for (const char* zone : {"intel-rapl:0", "intel-rapl:0:0", "intel-rapl:1", "intel-rapl:1:0"}) {
    tree.write(pc + zone + "/max_energy_range_uj", "262143328850\n");
    tree.write(pc + zone + "/energy_uj", "1000000\n");
  }
  tree.write(pc + "intel-rapl:0/name", "package-0\n");
  tree.write(pc + "intel-rapl:0:0/name", "dram\n");
  tree.write(pc + "intel-rapl:1/name", "package-1\n");
  tree.write(pc + "intel-rapl:1:0/name", "dram\n");
  std::string out = collect_once("rapl", config_for(tree));
  const std::string dir = tree.sysfs() + "/class/powercap/";
  assert_contains(
      out, "node_rapl_package_joules_total{index=\"1\",path=\"" + dir + "intel-rapl:1\"} 1\n");
  // The second "dram" gets the running count.
  assert_contains(
      out, "node_rapl_dram_joules_total{index=\"0\",path=\"" + dir + "intel-rapl:0:0\"} 1\n");
  assert_contains(
      out, "node_rapl_dram_joules_total{index=\"1\",path=\"" + dir + "intel-rapl:1:0\"} 1\n");
  // Two sockets' dram zones stay apart in the edge families.
  assert_contains(out, "edge_energy_joules_total{rail=\"package-0/dram\",source=\"rapl\"} 1\n");
  assert_contains(out, "edge_energy_joules_total{rail=\"package-1/dram\",source=\"rapl\"} 1\n");
}

void spin_at_least(std::chrono::microseconds d) {
  auto until = std::chrono::steady_clock::now() + d;
  while (std::chrono::steady_clock::now() < until) {
  }
}

void rapl_unwraps_the_counter_and_measures_power(void**) {
  SysfsTree tree;
  const std::string zone = "sys/class/powercap/intel-rapl:0/";
  tree.write(zone + "name", "package-0\n");
  tree.write(zone + "max_energy_range_uj", "1000000000\n");  // 1 kJ
  tree.write(zone + "energy_uj", "999000000\n");
  config::Config c = config_for(tree);
  auto rapl = make("rapl", c);

  auto before_first = std::chrono::steady_clock::now();
  assert_string_equal(gather(*rapl, c).c_str(), "");
  auto after_first = std::chrono::steady_clock::now();
  assert_contains(written(*rapl),
                  "edge_energy_joules_total{rail=\"package-0\",source=\"rapl\"} 999\n");

  // 1 J to the wrap, 2 J after it: 3 J more, not a reset.
  tree.write(zone + "energy_uj", "2000000\n");
  spin_at_least(std::chrono::milliseconds(20));
  auto before_second = std::chrono::steady_clock::now();
  assert_string_equal(gather(*rapl, c).c_str(), "");
  auto after_second = std::chrono::steady_clock::now();
  std::string out = written(*rapl);
  assert_contains(out, "edge_energy_joules_total{rail=\"package-0\",source=\"rapl\"} 1002\n");
  // node_exporter's family stays the raw counter.
  assert_contains(out, "intel-rapl:0\"} 2\n");

  // 3 J over the time between the two readings, which lies between these.
  auto seconds = [](auto d) { return std::chrono::duration<double>(d).count(); };
  double shortest = seconds(before_second - after_first);
  double longest = seconds(after_second - before_first);
  const std::string prefix = "edge_power_watts{rail=\"package-0\",source=\"rapl\"} ";
  size_t at = out.find(prefix);
  assert_true(at != std::string::npos);
  double watts = std::strtod(out.c_str() + at + prefix.size(), nullptr);
  if (!(watts >= 3 / longest && watts <= 3 / shortest))
    fail_msg("%g W outside [%g, %g]", watts, 3 / longest, 3 / shortest);

  // A counter that goes back beyond its range (a reloaded driver) is no
  // energy at all, and no power, rather than a wrap.
  tree.write(zone + "max_energy_range_uj", "1000\n");
  tree.write(zone + "energy_uj", "1000\n");
  assert_string_equal(gather(*rapl, c).c_str(), "");
  assert_contains(written(*rapl),
                  "edge_energy_joules_total{rail=\"package-0\",source=\"rapl\"} 1002\n");
  assert_contains(written(*rapl), "edge_power_watts{rail=\"package-0\",source=\"rapl\"} 0\n");
}

// Linux 5.10+ makes energy_uj 0400 root. Root reads it regardless of the
// mode, so the check runs in a child that gives up root when it has it.
void rapl_permission_error_names_the_fix(void**) {
  SysfsTree tree;
  tree.load(kTree);
  for (const char* zone :
       {"intel-rapl:0", "intel-rapl:0:0", "intel-rapl:0:1", "intel-rapl:1", "intel-rapl-mmio:0"}) {
    std::string path = tree.sysfs() + "/class/powercap/" + zone + "/energy_uj";
    assert_int_equal(chmod(path.c_str(), 0400), 0);
  }
  config::Config c = config_for(tree);
  auto rapl = make("rapl", c);
  fflush(nullptr);
  pid_t child = fork();
  assert_true(child >= 0);
  if (child == 0) {
    if (geteuid() == 0 && (setgid(65534) != 0 || setuid(65534) != 0)) _exit(10);
    std::string error = gather(*rapl, c);
    bool ok = error.find("/class/powercap/intel-rapl") != std::string::npos &&
              error.find("energy_uj: Permission denied") != std::string::npos &&
              error.find("root") != std::string::npos && error.find("0444") != std::string::npos &&
              error.find("collect.disable") != std::string::npos && written(*rapl).empty();
    if (!ok) fprintf(stderr, "error: %s\n", error.c_str());
    _exit(ok ? 0 : 1);
  }
  int status = 0;
  assert_int_equal(waitpid(child, &status, 0), child);
  assert_true(WIFEXITED(status));
  if (WEXITSTATUS(status) == 10) fail_msg("could not drop root to uid 65534");
  assert_int_equal(WEXITSTATUS(status), 0);
}

// ---- powersupplyclass ----

void power_supply_names_and_power(void**) {
  SysfsTree tree;
  tree.load(kTree);
  std::string out = collect_once("powersupplyclass", config_for(tree));
  assert_well_formed(out);
  assert_contains(out,
                  "# HELP node_power_supply_online online value of "
                  "/sys/class/power_supply/<power_supply>.\n");
  assert_contains(out, "node_power_supply_online{power_supply=\"axp20x-usb\"} 1\n");
  assert_contains(out, "node_power_supply_voltage_volt{power_supply=\"axp20x-usb\"} 5.02\n");
  assert_contains(out, "node_power_supply_current_ampere{power_supply=\"axp20x-usb\"} 0.48\n");
  assert_contains(out, "node_power_supply_current_max{power_supply=\"axp20x-usb\"} 1.5\n");
  assert_contains(out, "node_power_supply_capacity{power_supply=\"axp20x-battery\"} 87\n");
  assert_contains(out, "node_power_supply_temp_celsius{power_supply=\"axp20x-battery\"} 31.5\n");
  assert_contains(out,
                  "node_power_supply_current_ampere{power_supply=\"axp20x-battery\"} -0.312\n");
  // ParseInt with base 0, as node_exporter reads these.
  assert_contains(out, "node_power_supply_cyclecount{power_supply=\"axp20x-battery\"} 42\n");
  assert_contains(out, "node_power_supply_power_watt{power_supply=\"BAT0\"} 8.45\n");
  assert_contains(out, "node_power_supply_energy_watthour{power_supply=\"BAT0\"} 41.23\n");
  assert_contains(out, "node_power_supply_time_to_full_seconds{power_supply=\"BAT0\"} 4200\n");
  assert_contains(out,
                  "node_power_supply_info{health=\"Good\",power_supply=\"axp20x-battery\","
                  "status=\"Discharging\",technology=\"Li-ion\",type=\"Battery\"} 1\n");
  assert_contains(out,
                  "node_power_supply_info{capacity_level=\"Normal\",manufacturer=\"SMP\","
                  "model_name=\"5B10W13930\",power_supply=\"BAT0\",serial_number=\"1234\","
                  "status=\"Charging\",type=\"Battery\"} 1\n");
  assert_contains(
      out,
      "node_power_supply_info{power_supply=\"ucsi-source-psy-USBC000:001\",scope=\"System\","
      "type=\"USB\",usb_type=\"C [PD] PD_PPS\"} 1\n");
  assert_contains(out, "node_power_supply_voltage_ocv{power_supply=\"axp20x-battery\"} 3.987\n");
  // Files node_exporter 1.5 does not export are not read into families.
  assert_not_contains(out, "uevent");

  // Edge families: power as reported, else volts x amps (the sign is the
  // driver's), nothing from volts alone.
  assert_contains(out, "edge_power_watts{rail=\"BAT0\",source=\"power_supply\"} 8.45\n");
  assert_contains(out, "edge_power_watts{rail=\"axp20x-usb\",source=\"power_supply\"} 2.4096\n");
  assert_contains(out,
                  "edge_power_watts{rail=\"axp20x-battery\",source=\"power_supply\"} -1.2324\n");
  assert_contains(
      out, "edge_voltage_volts{rail=\"ucsi-source-psy-USBC000:001\",source=\"power_supply\"} 5\n");
  assert_not_contains(out, "edge_power_watts{rail=\"ucsi-source-psy-USBC000:001\"");
  assert_contains(out, "edge_current_amperes{rail=\"axp20x-usb\",source=\"power_supply\"} 0.48\n");
}

void power_supply_exclude(void**) {
  SysfsTree tree;
  tree.load(kTree);
  config::Config c = config_for(tree);
  c.collect.collectors.get_mut<collect::PowerSupplyClassOptions>("powersupplyclass")
      .supplies_exclude = "^ucsi-|^BAT";
  std::string out = collect_once("powersupplyclass", c);
  assert_contains(out, "power_supply=\"axp20x-usb\"");
  assert_not_contains(out, "ucsi-source");
  assert_not_contains(out, "BAT0");

  c.collect.collectors.get_mut<collect::PowerSupplyClassOptions>("powersupplyclass")
      .supplies_exclude = "[";
  std::string error;
  assert_null(collect::create_collector("powersupplyclass", c, &error).get());
  assert_contains(error, "collect.powersupplyclass.supplies_exclude");
}

// ---- all three ----

// An ARM board has no powercap, a VM no hwmon: no samples, no failure.
void absent_classes_are_empty_not_failures(void**) {
  SysfsTree tree;
  config::Config c = config_for(tree);
  for (const char* name : {"hwmon", "rapl", "powersupplyclass"}) {
    auto collector = make(name, c);
    assert_string_equal(gather(*collector, c).c_str(), "");
    assert_string_equal(written(*collector).c_str(), "");
  }
}

void registered(void**) {
  auto names = collect::registered_collector_names();
  for (const char* want : {"hwmon", "rapl", "powersupplyclass"})
    assert_true(std::find(names.begin(), names.end(), want) != names.end());
}

}  // namespace

int main() {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(registered),
      cmocka_unit_test(hwmon_names_units_and_power_rails),
      cmocka_unit_test(hwmon_ina3221_skips_unconnected_and_disabled_channels),
      cmocka_unit_test(hwmon_chip_exclude),
      cmocka_unit_test(rapl_names_and_mmio_duplicate),
      cmocka_unit_test(rapl_index_from_name_or_count),
      cmocka_unit_test(rapl_unwraps_the_counter_and_measures_power),
      cmocka_unit_test(rapl_permission_error_names_the_fix),
      cmocka_unit_test(power_supply_names_and_power),
      cmocka_unit_test(power_supply_exclude),
      cmocka_unit_test(absent_classes_are_empty_not_failures),
  };
  return cmocka_run_group_tests(tests, nullptr, nullptr);
}
