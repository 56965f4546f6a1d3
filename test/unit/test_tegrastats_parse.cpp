// tegrastats lines of five boards (test/fixtures/tegrastats, recorded by
// others on real Jetsons, provenance in each file) and the edge cases the
// reference names: off cores, negative and offline temperatures, the PMIC
// placeholder, duplicate NC rails, garbage.
#include <cmath>
#include <string>
#include <vector>

#include "cmocka_all.hpp"
#include "core/read_file.hpp"
#include "sources/tegrastats/tegrastats_parse.hpp"

using namespace edgemon::sources::tegrastats;

namespace {

// The data lines of a fixture: `#` lines are provenance, not tegrastats.
std::vector<std::string> fixture_lines(const char* board) {
  std::string text;
  std::string path = std::string(EDGEMON_FIXTURES "/tegrastats/") + board + ".txt";
  assert_string_equal(edgemon::read_file(path, &text).c_str(), "");
  std::vector<std::string> lines;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    std::string line = text.substr(start, end - start);
    if (!line.empty() && line[0] != '#') lines.push_back(line);
    start = end + 1;
  }
  return lines;
}

// The views of the result point into `line`, which must outlive it.
TegrastatsLine parsed(std::string_view line) {
  TegrastatsLine out;
  std::string why = parse_tegrastats_line(line, &out);
  if (!why.empty()) fail_msg("%s", why.c_str());
  return out;
}

void assert_near(double got, double want) {
  if (std::fabs(got - want) > 1e-9 * std::max(1.0, std::fabs(want)))
    fail_msg("got %.17g, want %.17g", got, want);
}

const Rail* rail(const TegrastatsLine& l, std::string_view name) {
  for (const Rail& r : l.rails)
    if (r.name == name) return &r;
  fail_msg("no rail %.*s", static_cast<int>(name.size()), name.data());
  return nullptr;
}

const Temperature* temperature(const TegrastatsLine& l, std::string_view name) {
  for (const Temperature& t : l.temperatures)
    if (t.name == name) return &t;
  fail_msg("no temperature %.*s", static_cast<int>(name.size()), name.data());
  return nullptr;
}

const Clocked* engine(const TegrastatsLine& l, std::string_view name) {
  for (const Clocked& e : l.engines)
    if (e.name == name) return &e;
  fail_msg("no engine %.*s", static_cast<int>(name.size()), name.data());
  return nullptr;
}

// Every token of every fixture line belongs to a group: nothing unknown,
// nothing malformed, and the groups every board prints are there.
void every_fixture_line_parses_completely(void**) {
  size_t lines = 0;
  for (const char* board :
       {"jetson-agx-orin", "jetson-agx-xavier", "jetson-nano", "jetson-tx1", "jetson-xavier-nx"}) {
    for (const std::string& text : fixture_lines(board)) {
      TegrastatsLine l = parsed(text);
      if (l.unknown_tokens != 0 || l.malformed_groups != 0)
        fail_msg("%s: %u unknown tokens, %u malformed (%s) in %s", board, l.unknown_tokens,
                 l.malformed_groups, l.first_malformed.c_str(), text.c_str());
      assert_true(l.ram.has_value());
      assert_false(l.cpus.empty());
      ++lines;
    }
  }
  assert_int_equal(lines, 17);
}

void agx_orin_jetpack6(void**) {
  std::string text = fixture_lines("jetson-agx-orin")[0];  // the views point into it
  TegrastatsLine l = parsed(text);
  assert_false(l.has_timestamp);
  assert_near(l.ram->used_bytes, 29114.0 * 1024 * 1024);
  assert_near(l.ram->total_bytes, 30697.0 * 1024 * 1024);
  assert_near(l.swap->used_bytes, 4915.0 * 1024 * 1024);
  assert_false(l.iram.has_value());
  assert_int_equal(l.cpus.size(), 12);
  assert_true(l.cpus[5].online);
  assert_near(*l.cpus[5].load_percent, 100);
  assert_near(*l.cpus[5].mhz, 2201);
  assert_near(*l.emc->load_percent, 1);
  assert_near(l.emc->mhz[0], 2133);
  assert_near(*l.gpu->load_percent, 0);
  assert_int_equal(l.gpu->mhz.size(), 2);  // one clock per GPC
  assert_near(l.gpu->mhz[1], 305);
  assert_true(engine(l, "NVENC")->off);
  assert_true(engine(l, "PVA0")->off);  // PVA0_FREQ off
  assert_true(engine(l, "NVJPG1")->off);
  assert_near(engine(l, "APE")->mhz[0], 174);
  assert_int_equal(l.temperatures.size(), 6);
  assert_near(temperature(l, "cpu")->celsius, 53.062);
  assert_near(temperature(l, "tj")->celsius, 53.062);
  assert_int_equal(l.rails.size(), 3);
  assert_near(rail(l, "VIN_SYS_5V0")->instant_mw, 4767);
  assert_near(rail(l, "VDD_CPU_CV")->average_mw, 4405);
}

void agx_orin_offline_sensors_and_duplicate_nc(void**) {
  std::vector<std::string> lines = fixture_lines("jetson-agx-orin");
  TegrastatsLine minimal = parsed(lines[1]);
  assert_false(minimal.emc.has_value());
  assert_near(*minimal.gpu->load_percent, 0);
  assert_true(minimal.gpu->mhz.empty());  // `GR3D_FREQ 0%`: no clock without root

  TegrastatsLine jp5 = parsed(lines[2]);
  const Clocked* dla = engine(jp5, "NVDLA0");
  assert_false(dla->load_percent.has_value());  // `NVDLA0_FREQ @1600`
  assert_near(dla->mhz[0], 1600);
  assert_near(engine(jp5, "VIC")->mhz[0], 115);
  assert_near(rail(jp5, "VDD_CPU_CV")->instant_mw, 14312);
  assert_near(rail(jp5, "VDD_CPU_CV")->average_mw, 12415);

  TegrastatsLine l = parsed(lines[3]);
  assert_true(l.has_timestamp);
  assert_int_equal(temperature(l, "CV0")->reading, Reading::kOffline);
  assert_near(temperature(l, "GPU")->celsius, -256);
  assert_int_equal(temperature(l, "GPU")->reading, Reading::kOffline);
  assert_int_equal(temperature(l, "CPU")->reading, Reading::kValid);
  size_t nc = 0;
  for (const Rail& r : l.rails)
    nc += r.name == "NC";
  assert_int_equal(nc, 2);  // kept as printed; the metrics skip them
  assert_int_equal(l.rails.size(), 6);

  TegrastatsLine r36 = parsed(lines[4]);
  assert_near(*engine(r36, "NVENC")->load_percent, 79);
  assert_near(engine(r36, "NVENC")->mhz[0], 166);
  assert_near(*engine(r36, "VIC")->load_percent, 36);
  assert_true(engine(r36, "OFA")->off);
  assert_near(r36.gpu->mhz[0], 0);
}

void agx_xavier_off_cores_placeholder_and_bare_rails(void**) {
  std::vector<std::string> lines = fixture_lines("jetson-agx-xavier");
  TegrastatsLine l = parsed(lines[0]);
  assert_int_equal(l.cpus.size(), 8);
  assert_true(l.cpus[3].online);
  for (size_t i = 4; i < 8; ++i) {
    assert_false(l.cpus[i].online);
    assert_false(l.cpus[i].load_percent.has_value());
    assert_false(l.cpus[i].mhz.has_value());
  }
  assert_int_equal(temperature(l, "PMIC")->reading, Reading::kPlaceholder);
  assert_near(temperature(l, "thermal")->celsius, 36.9);
  // Rails without the VDD_ prefix and without a unit, next to zones of the
  // same name (GPU@37.5C).
  assert_near(rail(l, "GPU")->instant_mw, 0);
  assert_near(rail(l, "SYS5V")->instant_mw, 1482);
  assert_int_equal(l.rails.size(), 6);
  assert_near(engine(l, "APE")->mhz[0], 150);

  TegrastatsLine early = parsed(lines[2]);
  assert_false(early.swap.has_value());
  assert_int_equal(early.cpus.size(), 8);
  assert_true(early.cpus[7].online);
  assert_near(rail(parsed(lines[1]), "GPU")->average_mw, 16);
}

void nano_iram_and_engines(void**) {
  std::vector<std::string> lines = fixture_lines("jetson-nano");
  TegrastatsLine l = parsed(lines[0]);
  assert_near(l.iram->used_bytes, 0);
  assert_near(l.iram->total_bytes, 252.0 * 1024);
  assert_near(rail(l, "POM_5V_IN")->instant_mw, 1022);
  assert_near(temperature(l, "PLL")->celsius, 34);
  assert_int_equal(temperature(parsed(lines[1]), "PMIC")->reading, Reading::kPlaceholder);
  TegrastatsLine busy = parsed(lines[2]);
  assert_near(engine(busy, "NVENC")->mhz[0], 716);
  assert_near(engine(busy, "NVDEC")->mhz[0], 716);
  assert_near(rail(busy, "POM_5V_IN")->average_mw, 4680);
}

void tx1_oldest_format(void**) {
  std::vector<std::string> lines = fixture_lines("jetson-tx1");
  TegrastatsLine l = parsed(lines[0]);
  assert_false(l.swap.has_value());
  assert_near(rail(l, "VDD_IN")->instant_mw, 2532);

  // `cpu [17%,13%,29%,5%]@408 EMC 1%@408 APE 25 GR3D 3%@76`
  TegrastatsLine old = parsed(lines[1]);
  assert_int_equal(old.cpus.size(), 4);
  assert_near(*old.cpus[2].load_percent, 29);
  assert_near(*old.cpus[2].mhz, 408);
  assert_near(*old.emc->load_percent, 1);
  assert_near(old.emc->mhz[0], 408);
  assert_near(*old.gpu->load_percent, 3);
  assert_near(old.gpu->mhz[0], 76);
  assert_near(old.swap->used_bytes, 873.0 * 1024 * 1024);
  assert_near(*parsed(lines[2]).cpus[0].mhz, 1734);
}

void xavier_nx_jetpack5(void**) {
  std::string text = fixture_lines("jetson-xavier-nx")[2];
  TegrastatsLine l = parsed(text);
  assert_true(l.has_timestamp);
  assert_int_equal(l.cpus.size(), 6);
  assert_near(*l.cpus[0].mhz, 1397);
  assert_int_equal(l.gpu->mhz.size(), 1);
  assert_near(l.gpu->mhz[0], 114);
  assert_near(rail(l, "VDD_IN")->instant_mw, 2763);
  assert_near(rail(l, "VDD_SOC")->average_mw, 711);
}

// CPU after SWAP is what tegrastats prints; jetson_stats' emulator puts it
// before, and groups may come in any order.
void group_order_and_spacing_do_not_matter(void**) {
  TegrastatsLine l = parsed(
      "CPU [50%@1200,off]\tRAM 100/200MB (lfb 1x4MB)   SWAP 0/10MB (cached 0MB)  "
      "VDD_IN 1000mW/900mW cpu@-5.5C\r");
  assert_int_equal(l.cpus.size(), 2);
  assert_false(l.cpus[1].online);
  assert_near(l.ram->used_bytes, 100.0 * 1024 * 1024);
  assert_near(temperature(l, "cpu")->celsius, -5.5);  // a cold board, a real reading
  assert_int_equal(temperature(l, "cpu")->reading, Reading::kValid);
  assert_int_equal(temperature(parsed("cpu@-41C"), "cpu")->reading, Reading::kOffline);
  assert_int_equal(temperature(parsed("cpu@-40C"), "cpu")->reading, Reading::kValid);
  assert_int_equal(l.unknown_tokens, 0);
}

void unknown_fields_are_skipped_and_counted(void**) {
  TegrastatsLine l = parsed("RAM 1/2MB NEWTHING ?? FOO_FREQ 5%@10 VDD_IN 1/1");
  assert_int_equal(l.unknown_tokens, 2);  // NEWTHING, ??
  assert_true(l.first_unknown == "NEWTHING");
  assert_true(parsed("RAM 1/2MB cpu-x@5C").first_unknown == "cpu-x@5C");
  assert_near(engine(l, "FOO")->mhz[0], 10);  // a new engine is still an engine
  assert_near(rail(l, "VDD_IN")->instant_mw, 1);
}

void malformed_groups_are_reported_and_the_rest_kept(void**) {
  TegrastatsLine l = parsed("RAM lots CPU [1%@2,x%@3] GR3D_FREQ 5%@ VDD_IN 12mW/3 cpu@40C");
  assert_int_equal(l.malformed_groups, 4);
  assert_contains(l.first_malformed, "RAM");
  assert_false(l.ram.has_value());
  assert_true(l.cpus.empty());  // a damaged list is not half a list
  assert_false(l.gpu.has_value());
  assert_true(l.rails.empty());  // mixed units
  assert_near(temperature(l, "cpu")->celsius, 40);
}

void garbage_is_no_tegrastats_line(void**) {
  TegrastatsLine l;
  assert_contains(parse_tegrastats_line("", &l), "no tegrastats group");
  assert_contains(parse_tegrastats_line("   \r", &l), "no tegrastats group");
  assert_contains(parse_tegrastats_line("tegrastats: permission denied", &l),
                  "no tegrastats group");
  assert_int_equal(l.unknown_tokens, 3);
  // A line of nothing but damaged groups says what was damaged.
  assert_contains(parse_tegrastats_line("RAM x/yMB", &l), "RAM: expected");
  assert_contains(parse_tegrastats_line("CPU", &l), "CPU: expected");
  assert_contains(parse_tegrastats_line(std::string_view("RAM\0 1/2MB", 11), &l), "RAM");
  // Numbers: no exponents, no infinities, no signs outside temperatures.
  for (std::string_view bad :
       {"VDD_IN 1e9/1", "VDD_IN -5/-5", "VDD_IN 0x10/1", "cpu@infC", "cpu@nanC", "cpu@C",
        "CPU [1%@2", "cpu [1%]@x", "CPU [1%@2,]", "GR3D_FREQ 1%@[2,3", "EMC_FREQ 1%@2,3"}) {
    if (parse_tegrastats_line(bad, &l).empty())
      fail_msg("accepted %.*s", static_cast<int>(bad.size()), bad.data());
  }
}

void entries_are_bounded(void**) {
  std::string line = "CPU [";
  for (size_t i = 0; i < kMaxEntries + 10; ++i)
    line += i == 0 ? "1%@2" : ",1%@2";
  line += "]";
  for (size_t i = 0; i < kMaxEntries + 5; ++i)
    line += " T" + std::to_string(i) + "@1C";
  TegrastatsLine l = parsed(line);
  assert_int_equal(l.cpus.size(), kMaxEntries);
  assert_int_equal(l.temperatures.size(), kMaxEntries);
  assert_int_equal(l.dropped_entries, 15);
}

}  // namespace

int main() {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(every_fixture_line_parses_completely),
      cmocka_unit_test(agx_orin_jetpack6),
      cmocka_unit_test(agx_orin_offline_sensors_and_duplicate_nc),
      cmocka_unit_test(agx_xavier_off_cores_placeholder_and_bare_rails),
      cmocka_unit_test(nano_iram_and_engines),
      cmocka_unit_test(tx1_oldest_format),
      cmocka_unit_test(xavier_nx_jetpack5),
      cmocka_unit_test(group_order_and_spacing_do_not_matter),
      cmocka_unit_test(unknown_fields_are_skipped_and_counted),
      cmocka_unit_test(malformed_groups_are_reported_and_the_rest_kept),
      cmocka_unit_test(garbage_is_no_tegrastats_line),
      cmocka_unit_test(entries_are_bounded),
  };
  return cmocka_run_group_tests(tests, nullptr, nullptr);
}
