// The text rules of the power collectors, checked against what
// node_exporter 1.5 (Go's regexp and strconv) does with the same input.
#include <cmath>
#include <map>
#include <string>

#include "cmocka_all.hpp"
#include "sources/host/parse/go_text.hpp"
#include "sources/host/parse/hwmon_names.hpp"
#include "sources/host/parse/powercap.hpp"

using namespace edgemon::collect;

namespace {

void sensor_file_names(void**) {
  struct Case {
    const char* name;
    bool ok;
    const char* type;
    uint64_t number;
    const char* property;
  } cases[] = {
      {"in1_input", true, "in", 1, "input"},
      {"temp12_crit_alarm", true, "temp", 12, "crit_alarm"},
      {"in0_lcrit_alarm", true, "in", 0, "lcrit_alarm"},
      {"update_interval", true, "update_interval", 0, ""},
      {"beep_enable", true, "beep_enable", 0, ""},
      {"pwm1", true, "pwm", 1, ""},
      {"in007_input", true, "in", 7, "input"},
      {"shunt_resistor", true, "shunt_resistor", 0, ""},
      // The regex backtracks to a shorter type when the greedy split fails.
      {"a_b1x", true, "a", 0, "b1x"},
      {"in1x", false, "", 0, ""},
      {"in1_", false, "", 0, ""},
      {"1_input", false, "", 0, ""},
      {"", false, "", 0, ""},
      // Beyond int64: Go's Atoi fails, and so does the name.
      {"in99999999999999999999_input", false, "", 0, ""},
  };
  for (const Case& c : cases) {
    SensorFile f;
    bool ok = split_sensor_file(c.name, &f);
    if (ok != c.ok) fail_msg("%s: %d", c.name, ok);
    if (!ok) continue;
    assert_string_equal(std::string(f.type).c_str(), c.type);
    assert_int_equal(f.number, c.number);
    assert_string_equal(std::string(f.property).c_str(), c.property);
  }
  assert_true(is_hwmon_sensor_type("in"));
  assert_true(is_hwmon_sensor_type("update_interval"));
  assert_false(is_hwmon_sensor_type("shunt_resistor"));
  assert_false(is_hwmon_sensor_type("name"));
}

void hwmon_name_cleaning(void**) {
  assert_string_equal(clean_hwmon_name("ina226\n").c_str(), "ina226");
  assert_string_equal(clean_hwmon_name("Package id 0").c_str(), "package_id_0");
  assert_string_equal(clean_hwmon_name("1-0040").c_str(), "1_0040");
  assert_string_equal(clean_hwmon_name("coretemp.0").c_str(), "coretemp_0");
  assert_string_equal(clean_hwmon_name("phy0:x").c_str(), "phy0:x");
  assert_string_equal(clean_hwmon_name("__a__").c_str(), "a");
  assert_string_equal(clean_hwmon_name("\n").c_str(), "");
  // One '_' per character, not per byte.
  assert_string_equal(clean_hwmon_name("t\xc3\xa9st").c_str(), "t_st");
}

void go_floats(void**) {
  double v = 0;
  assert_true(parse_go_float("12012", &v));
  assert_true(v == 12012);
  assert_true(parse_go_float("-256000", &v));
  assert_true(v == -256000);
  assert_true(parse_go_float("+1.5e3", &v));
  assert_true(v == 1500);
  assert_true(parse_go_float(".5", &v));
  assert_true(v == 0.5);
  assert_true(parse_go_float("Inf", &v));
  assert_true(std::isinf(v) && v > 0);
  assert_true(parse_go_float("-infinity", &v));
  assert_true(std::isinf(v) && v < 0);
  assert_true(parse_go_float("NaN", &v));
  assert_true(std::isnan(v));
  for (const char* bad : {"", " 1", "1 ", "1\n", "0x10", "1_000", "+nan", "nan(1)", "e5", "--1",
                          "1e400", "not-a-number"})
    if (parse_go_float(bad, &v)) fail_msg("accepted [%s]", bad);
}

void go_ints(void**) {
  int64_t v = 0;
  assert_true(parse_go_int("87", &v));
  assert_int_equal(v, 87);
  assert_true(parse_go_int("-312000", &v));
  assert_int_equal(v, -312000);
  assert_true(parse_go_int("0x2a", &v));
  assert_int_equal(v, 42);
  assert_true(parse_go_int("010", &v));  // octal, as base 0 reads it
  assert_int_equal(v, 8);
  assert_true(parse_go_int("0b101", &v));
  assert_int_equal(v, 5);
  assert_true(parse_go_int("1_000", &v));
  assert_int_equal(v, 1000);
  assert_true(parse_go_int("-9223372036854775808", &v));
  assert_true(v == INT64_MIN);
  for (const char* bad :
       {"", "08", "1__0", "_1", "1_", "0x", "9223372036854775808", "1.5", " 1", "Good"})
    if (parse_go_int(bad, &v)) fail_msg("accepted [%s]", bad);
  uint64_t u = 0;
  assert_true(parse_go_uint("262143328850", &u));
  assert_true(u == 262143328850ULL);
  assert_false(parse_go_uint("-1", &u));
  assert_false(parse_go_uint("18446744073709551616", &u));
}

void utf8_and_space(void**) {
  assert_string_equal(to_valid_utf8("VDD_IN").c_str(), "VDD_IN");
  assert_string_equal(to_valid_utf8("caf\xc3\xa9").c_str(), "caf\xc3\xa9");
  // A run of bad bytes is one replacement character.
  assert_string_equal(to_valid_utf8("a\xff\xfe"
                                    "b")
                          .c_str(),
                      "a\xef\xbf\xbd"
                      "b");
  assert_string_equal(to_valid_utf8("\xc3").c_str(), "\xef\xbf\xbd");
  assert_string_equal(to_valid_utf8("\xed\xa0\x80").c_str(), "\xef\xbf\xbd");  // a surrogate
  assert_string_equal(std::string(trim_go_space(" \tpackage-0\n")).c_str(), "package-0");
}

void rapl_zone_names(void**) {
  std::map<std::string, int64_t> seen;
  RaplZoneName a = split_rapl_zone_name("package-0", &seen);
  assert_string_equal(a.zone.c_str(), "package");
  assert_int_equal(a.index, 0);
  RaplZoneName b = split_rapl_zone_name("package-1", &seen);
  assert_int_equal(b.index, 1);
  // Names without an index count up per name.
  assert_int_equal(split_rapl_zone_name("dram", &seen).index, 0);
  assert_int_equal(split_rapl_zone_name("dram", &seen).index, 1);
  assert_int_equal(split_rapl_zone_name("core", &seen).index, 0);
  // After package-1, a bare "package" continues from 2.
  assert_int_equal(split_rapl_zone_name("package", &seen).index, 2);
  RaplZoneName c = split_rapl_zone_name("package-x", &seen);
  assert_string_equal(c.zone.c_str(), "package-x");
  RaplZoneName d = split_rapl_zone_name("a-b-1", &seen);
  assert_string_equal(d.zone.c_str(), "a-b-1");
  assert_int_equal(split_rapl_zone_name("x--1", &seen).index, 0);  // three parts
  RaplZoneName e = split_rapl_zone_name("pkg-+7", &seen);
  assert_string_equal(e.zone.c_str(), "pkg");
  assert_int_equal(e.index, 7);
}

void metric_name_sanitising(void**) {
  assert_string_equal(sanitize_metric_name_part("package").c_str(), "package");
  assert_string_equal(sanitize_metric_name_part("package-15").c_str(), "package_15");
  assert_string_equal(sanitize_metric_name_part("a__-__b").c_str(), "a_b");
  assert_string_equal(sanitize_metric_name_part("a__b").c_str(), "a__b");
  assert_string_equal(sanitize_metric_name_part("--").c_str(), "_");
  assert_string_equal(sanitize_metric_name_part("_x.").c_str(), "_x_");
}

void rapl_energy_deltas(void**) {
  assert_int_equal(rapl_energy_delta_uj(100, 250, 1000), 150);
  assert_int_equal(rapl_energy_delta_uj(900, 50, 1000), 150);  // wrapped
  assert_int_equal(rapl_energy_delta_uj(5, 5, 1000), 0);
  // Beyond the range: not a wrap that can be measured.
  assert_int_equal(rapl_energy_delta_uj(2000, 50, 1000), 0);
  assert_int_equal(rapl_energy_delta_uj(UINT64_MAX, 1, UINT64_MAX), 1);
}

}  // namespace

int main() {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(sensor_file_names),
      cmocka_unit_test(hwmon_name_cleaning),
      cmocka_unit_test(go_floats),
      cmocka_unit_test(go_ints),
      cmocka_unit_test(utf8_and_space),
      cmocka_unit_test(rapl_zone_names),
      cmocka_unit_test(metric_name_sanitising),
      cmocka_unit_test(rapl_energy_deltas),
  };
  return cmocka_run_group_tests(tests, nullptr, nullptr);
}
