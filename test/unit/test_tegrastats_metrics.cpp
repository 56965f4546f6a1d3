// What parsed tegrastats lines become in the text format: rails in watts,
// the board rule, what is left out (NC rails, offline sensors, the PMIC
// placeholder, off cores and engines), and the replaced exporter's names.
#include <cmath>
#include <cstdlib>
#include <string>
#include <vector>

#include "cmocka_all.hpp"
#include "core/read_file.hpp"
#include "metrics/prometheus_text.hpp"
#include "sources/tegrastats/tegrastats_metrics.hpp"

using namespace edgemon;
using namespace edgemon::sources::tegrastats;

namespace {

std::string fixture_line(const char* board, size_t index) {
  std::string text;
  std::string path = std::string(EDGEMON_FIXTURES "/tegrastats/") + board + ".txt";
  assert_string_equal(read_file(path, &text).c_str(), "");
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    std::string line = text.substr(start, end - start);
    if (!line.empty() && line[0] != '#' && index-- == 0) return line;
    start = end + 1;
  }
  fail_msg("%s has no line %zu", board, index);
  return "";
}

std::string exposition(std::string_view text, ExporterNames names = {}) {
  TegrastatsLine line;
  std::string why = parse_tegrastats_line(text, &line);
  if (!why.empty()) fail_msg("%s", why.c_str());
  std::string out;
  metrics::PrometheusTextWriter writer(out);
  write_line(line, "board", names, writer);
  return out;
}

// The value of one series (name and labels exactly as written), or NaN.
double value(const std::string& text, std::string_view series) {
  std::string prefix = "\n" + std::string(series) + " ";
  size_t at = ("\n" + text).find(prefix);
  if (at == std::string::npos) return NAN;
  return std::strtod(text.c_str() + at + prefix.size() - 1, nullptr);
}

void assert_value(const std::string& text, std::string_view series, double want) {
  double got = value(text, series);
  if (!(std::fabs(got - want) <= 1e-9 * std::max(1.0, std::fabs(want))))
    fail_msg("%.*s: got %g, want %g in\n%s", static_cast<int>(series.size()), series.data(), got,
             want, text.c_str());
}

// Each family's lines are contiguous and its header written once: the text
// format requires it and promtool rejects a repeated family.
void assert_families_once(const std::string& text) {
  std::vector<std::string> seen;
  size_t at = 0;
  while ((at = text.find("# TYPE ", at)) != std::string::npos) {
    at += 7;
    std::string name = text.substr(at, text.find(' ', at) - at);
    for (const std::string& s : seen)
      if (s == name) fail_msg("family %s written twice in\n%s", name.c_str(), text.c_str());
    seen.push_back(name);
  }
}

void orin_rails_in_watts_without_nc(void**) {
  std::string text = exposition(fixture_line("jetson-agx-orin", 3));
  assert_families_once(text);
  assert_value(text, "edge_power_source_up{device=\"board\",source=\"tegrastats\"}", 1);
  assert_value(
      text, "edge_power_watts{device=\"board\",rail=\"VDD_GPU_SOC\",source=\"tegrastats\"}", 2.34);
  assert_value(text,
               "edge_power_watts{device=\"board\",rail=\"VDDQ_VDD2_1V8AO\",source=\"tegrastats\"}",
               0.301);
  assert_not_contains(text, "rail=\"NC\"");
  // No input rail on AGX Orin: the board is the sum of its rails.
  assert_value(text, "edge_board_power_watts{device=\"board\",source=\"tegrastats\"}", 7.056);
  // -256C sensors are offline, not cold.
  assert_value(text, "node_thermal_zone_temp{type=\"CPU\",zone=\"CPU\"}", 44.562);
  assert_not_contains(text, "type=\"GPU\"");
  assert_not_contains(text, "-256");
  assert_value(text, "edge_jetson_gpu_frequency_hertz{gpc=\"1\"}", 0);
  assert_value(text, "edge_jetson_emc_frequency_hertz", 2133e6);
  assert_value(text, "edge_jetson_emc_utilization_ratio", 0);
  assert_value(text, "edge_jetson_engine_frequency_hertz{engine=\"VIC\"}", 729e6);
  assert_value(text, "edge_jetson_cpu_frequency_hertz{cpu=\"11\"}", 729e6);
  // RAM and swap are the host collector's (node_memory_*).
  assert_not_contains(text, "ram");
}

void orin_jetpack6_engines(void**) {
  std::string text = exposition(fixture_line("jetson-agx-orin", 4));
  assert_families_once(text);
  assert_value(text, "edge_jetson_engine_utilization_ratio{engine=\"NVENC\"}", 0.79);
  assert_value(text, "edge_jetson_engine_frequency_hertz{engine=\"NVENC\"}", 166e6);
  assert_value(text, "edge_jetson_engine_utilization_ratio{engine=\"VIC\"}", 0.36);
  assert_value(text, "edge_jetson_engine_frequency_hertz{engine=\"APE\"}", 174e6);
  // Engines reported off have no clock.
  assert_not_contains(text, "engine=\"NVDEC\"");
  assert_not_contains(text, "engine=\"PVA0\"");
  assert_value(text, "edge_jetson_cpu_utilization_ratio{cpu=\"4\"}", 0.46);
  assert_value(text, "node_thermal_zone_temp{type=\"tj\",zone=\"tj\"}", 52.562);
}

void xavier_off_cores_and_placeholder(void**) {
  std::string text = exposition(fixture_line("jetson-agx-xavier", 0));
  assert_families_once(text);
  assert_value(text, "edge_jetson_cpu_online{cpu=\"3\"}", 1);
  assert_value(text, "edge_jetson_cpu_online{cpu=\"4\"}", 0);
  assert_value(text, "edge_jetson_cpu_utilization_ratio{cpu=\"0\"}", 0.02);
  assert_not_contains(text, "edge_jetson_cpu_utilization_ratio{cpu=\"4\"}");
  assert_not_contains(text, "edge_jetson_cpu_frequency_hertz{cpu=\"4\"}");
  assert_not_contains(text, "PMIC");
  // A rail named CPU next to a zone named CPU.
  assert_value(text, "edge_power_watts{device=\"board\",rail=\"CPU\",source=\"tegrastats\"}",
               0.311);
  assert_value(text, "node_thermal_zone_temp{type=\"CPU\",zone=\"CPU\"}", 37.5);
  assert_value(text, "edge_board_power_watts{device=\"board\",source=\"tegrastats\"}",
               (0 + 311 + 932 + 0 + 621 + 1482) / 1000.0);
}

void input_rail_is_the_board(void**) {
  std::string nano = exposition(fixture_line("jetson-nano", 2));
  assert_value(nano, "edge_board_power_watts{device=\"board\",source=\"tegrastats\"}", 4.52);
  assert_value(nano, "edge_jetson_iram_size_bytes", 252 * 1024);
  assert_value(nano, "edge_jetson_iram_used_bytes", 0);
  assert_value(nano, "edge_jetson_engine_frequency_hertz{engine=\"NVENC\"}", 716e6);
  std::string nx = exposition(fixture_line("jetson-xavier-nx", 2));
  assert_value(nx, "edge_board_power_watts{device=\"board\",source=\"tegrastats\"}", 2.763);
  assert_value(nx, "edge_power_watts{device=\"board\",rail=\"VDD_SOC\",source=\"tegrastats\"}",
               0.65);
  // The oldest format: one clock for every core, no rails at all.
  std::string tx1 = exposition(fixture_line("jetson-tx1", 1));
  assert_families_once(tx1);
  assert_value(tx1, "edge_jetson_cpu_frequency_hertz{cpu=\"3\"}", 408e6);
  assert_not_contains(tx1, "edge_power_watts");
  assert_not_contains(tx1, "edge_board_power_watts");
}

void exporter_names_when_asked(void**) {
  std::string line = fixture_line("jetson-agx-orin", 3);
  assert_not_contains(exposition(line), "jetson_power_");
  std::string text = exposition(line, {true, "jetson_orin", "edge-01"});
  assert_families_once(text);
  const char* labels = "{device_type=\"jetson_orin\",hostname=\"edge-01\"}";
  auto series = [&](const char* name) { return std::string(name) + labels; };
  assert_value(text, series("jetson_power_vdd_gpu_soc_watts"), 2.34);
  assert_value(text, series("jetson_power_vin_sys_5v0_watts"), 4.025);
  assert_not_contains(text, "jetson_power_nc_watts");
  assert_value(text, series("power_total_watts"), 7.056);
  assert_value(text, series("jetson_temp_cpu_celsius"), 44.562);
  assert_value(text, series("jetson_temp_tj_celsius"), 44.343);
  assert_not_contains(text, "jetson_temp_gpu_celsius");  // offline
  assert_value(text, series("jetson_gpu_usage_percent"), 0);
  assert_value(text, series("jetson_cpu_core0_usage_percent"), 0);
  assert_value(text, series("jetson_cpu_core11_usage_percent"), 0);
  assert_value(text, series("jetson_cpu_avg_usage_percent"), 0);
  assert_value(text, series("jetson_ram_used_mb"), 4321);
  assert_value(text, series("jetson_ram_used_percent"), 100.0 * 4321 / 62801);
  assert_value(text, series("jetson_emc_freq_mhz"), 2133);
  // The edge names are still there.
  assert_value(
      text, "edge_power_watts{device=\"board\",rail=\"VDD_GPU_SOC\",source=\"tegrastats\"}", 2.34);

  std::string nx = exposition(fixture_line("jetson-xavier-nx", 1), {true, "jetson_nx", "b"});
  assert_value(nx, "jetson_cpu_avg_usage_percent{device_type=\"jetson_nx\",hostname=\"b\"}",
               (47 + 23 + 32 + 22 + 31 + 96) / 6.0);
  std::string xavier = exposition(fixture_line("jetson-agx-xavier", 0), {true, "x", "h"});
  assert_not_contains(xavier, "jetson_cpu_core4_");  // off
  assert_value(xavier, "jetson_cpu_avg_usage_percent{device_type=\"x\",hostname=\"h\"}", 0.5);
}

// Names tegrastats repeats, in any case, are written once.
void duplicates_are_written_once(void**) {
  std::string text =
      exposition("CPU@40C cpu@41C CPU@42C VDD_IN 1/1 VDD_IN 2/2 NVENC 10 NVENC 20 RAM 1/2MB",
                 {true, "t", "h"});
  assert_families_once(text);
  assert_value(text, "node_thermal_zone_temp{type=\"CPU\",zone=\"CPU\"}", 40);
  assert_value(text, "node_thermal_zone_temp{type=\"cpu\",zone=\"cpu\"}", 41);
  assert_value(text, "jetson_temp_cpu_celsius{device_type=\"t\",hostname=\"h\"}", 40);
  assert_value(text, "edge_power_watts{device=\"board\",rail=\"VDD_IN\",source=\"tegrastats\"}",
               0.001);
  assert_value(text, "edge_jetson_engine_frequency_hertz{engine=\"NVENC\"}", 10e6);
  size_t count = 0;
  for (size_t at = 0; (at = text.find("rail=\"VDD_IN\"", at)) != std::string::npos; ++at)
    ++count;
  assert_int_equal(count, 1);
}

TegrastatsLine parse_or_fail(std::string_view text) {
  TegrastatsLine line;
  std::string why = parse_tegrastats_line(text, &line);
  if (!why.empty()) fail_msg("%s", why.c_str());
  return line;
}

void energy_integrates_rails(void**) {
  RailEnergy energy;
  std::string out;
  metrics::PrometheusTextWriter empty(out);
  energy.write("board", empty);
  assert_string_equal(out.c_str(), "");  // no rails yet: no family

  // The first line counts from 0; 2 W for half a second, then 4 W for one.
  energy.add(parse_or_fail("VDD_IN 2000mW/2000mW NC 5mW/5mW"), 0);
  energy.add(parse_or_fail("VDD_IN 2000mW/2000mW NC 5mW/5mW"), 0.5);
  energy.add(parse_or_fail("VDD_IN 4000mW/3000mW VDD_SOC 1000mW/1000mW"), 1);
  metrics::PrometheusTextWriter writer(out);
  energy.write("board", writer);
  assert_contains(out, "# TYPE edge_energy_joules_total counter");
  assert_value(out,
               "edge_energy_joules_total{device=\"board\",rail=\"VDD_IN\",source=\"tegrastats\"}",
               1 + 4);
  // A rail counts from the line that first prints it.
  assert_value(
      out, "edge_energy_joules_total{device=\"board\",rail=\"VDD_SOC\",source=\"tegrastats\"}", 1);
  assert_not_contains(out, "rail=\"NC\"");
}

void down_is_up_zero_and_nothing_else(void**) {
  std::string out;
  metrics::PrometheusTextWriter writer(out);
  write_down("board", writer);
  assert_value(out, "edge_power_source_up{device=\"board\",source=\"tegrastats\"}", 0);
  assert_not_contains(out, "watts");
}

}  // namespace

int main() {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(orin_rails_in_watts_without_nc),
      cmocka_unit_test(orin_jetpack6_engines),
      cmocka_unit_test(xavier_off_cores_and_placeholder),
      cmocka_unit_test(input_rail_is_the_board),
      cmocka_unit_test(exporter_names_when_asked),
      cmocka_unit_test(duplicates_are_written_once),
      cmocka_unit_test(energy_integrates_rails),
      cmocka_unit_test(down_is_up_zero_and_nothing_else),
  };
  return cmocka_run_group_tests(tests, nullptr, nullptr);
}
