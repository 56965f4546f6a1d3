// /proc/stat parsing and the psutil-compatible CPU usage arithmetic, checked
// against the hand-computed values of the reference fixtures.
#include <cmath>

#include "cmocka_all.hpp"
#include "core/read_file.hpp"
#include "sources/host/parse/cpu_usage.hpp"
#include "sources/host/parse/proc_stat.hpp"

using namespace edgemon::collect;

namespace {

ProcStat load(const char* name) {
  std::string text;
  std::string err = edgemon::read_file(std::string(EDGEMON_FIXTURES "/host/proc/") + name, &text);
  assert_string_equal(err.c_str(), "");
  ProcStat stat;
  err = parse_proc_stat(text, &stat);
  assert_string_equal(err.c_str(), "");
  return stat;
}

void parses_fixture(void**) {
  ProcStat s = load("stat");
  assert_true(s.total.has_value());
  CpuTicks total{101300, 2000, 30100, 800500, 5100, 0, 1000, 0, 4100, 0};
  assert_true(*s.total == total);
  assert_int_equal(s.cpus.size(), 4);
  for (uint32_t i = 0; i < 4; ++i)
    assert_int_equal(s.cpus[i].cpu, i);
  assert_int_equal(s.cpus[3].ticks[kCpuUser], 25060);
  assert_int_equal(s.cpus[3].ticks[kCpuIowait], 1230);
  assert_int_equal(s.cpus[3].ticks[kCpuGuest], 1030);
  assert_int_equal(*s.intr, 48208911);
  assert_int_equal(*s.ctxt, 91240123);
  assert_int_equal(*s.btime, 1736420000);
  assert_int_equal(*s.processes, 123470);
  assert_int_equal(*s.procs_running, 3);
  assert_int_equal(*s.procs_blocked, 1);
}

void counter_deltas_match_expected(void**) {
  ProcStat t0 = load("stat.t0");
  ProcStat t1 = load("stat");
  assert_int_equal(*t1.ctxt - *t0.ctxt, 5556);
  assert_int_equal(*t1.intr - *t0.intr, 5294);
  assert_int_equal(*t1.processes - *t0.processes, 14);
}

void usage_ratio_is_psutil_compatible(void**) {
  ProcStat t0 = load("stat.t0");
  ProcStat t1 = load("stat");
  double total = cpu_usage_ratio(*t0.total, *t1.total);
  assert_float_equal(total, 0.4, 1e-12);
  // Summing all ten columns double-counts guest time: 500/1100.
  assert_true(std::fabs(total - 500.0 / 1100.0) > 0.01);
  const double per_core[] = {140.0 / 280, 100.0 / 250, 80.0 / 240, 80.0 / 230};
  for (size_t i = 0; i < 4; ++i)
    assert_float_equal(cpu_usage_ratio(t0.cpus[i].ticks, t1.cpus[i].ticks), per_core[i], 1e-12);
  // Rounded like psutil: 50.0, 40.0, 33.3, 34.8 percent.
  assert_float_equal(std::round(per_core[2] * 1000) / 10, 33.3, 1e-9);
  assert_float_equal(std::round(per_core[3] * 1000) / 10, 34.8, 1e-9);
}

void usage_clamps_negative_deltas(void**) {
  CpuTicks before{100, 0, 100, 1000, 500, 0, 0, 0, 0, 0};
  CpuTicks after{150, 0, 150, 1100, 400, 0, 0, 0, 0, 0};  // iowait went backwards
  // total = 50 + 50 + 100 (iowait clamped to 0) = 200; busy = 100.
  assert_float_equal(cpu_usage_ratio(before, after), 0.5, 1e-12);
  assert_float_equal(cpu_usage_ratio(after, after), 0.0, 0);
  // Everything went backwards (counter reset): no elapsed time, not NaN.
  assert_float_equal(cpu_usage_ratio(after, before), 0.0, 0);
}

void old_kernel_short_cpu_lines(void**) {
  ProcStat s;
  assert_string_equal(parse_proc_stat("cpu 1 2 3 4\ncpu7 1 2 3 4 5 6 7\n", &s).c_str(), "");
  assert_int_equal(s.cpus.size(), 1);
  assert_int_equal(s.cpus[0].cpu, 7);  // numbered by name, not position
  assert_int_equal(s.cpus[0].ticks[kCpuSoftirq], 7);
  assert_int_equal(s.cpus[0].ticks[kCpuSteal], 0);
  assert_false(s.ctxt.has_value());
}

void malformed_input_is_an_error(void**) {
  ProcStat s;
  assert_string_equal(parse_proc_stat("", &s).c_str(), "no cpu lines");
  assert_string_equal(parse_proc_stat("ctxt 5\n", &s).c_str(), "no cpu lines");
  assert_contains(parse_proc_stat("cpu 1 2 3\n", &s), "line 1");  // truncated
  assert_contains(parse_proc_stat("cpu 1 2 3 4\ncpu0 1 x 3 4\n", &s), "line 2");
  assert_contains(parse_proc_stat("cpu 1 2 3 4\ncpuX 1 2 3 4\n", &s), "line 2");
  assert_contains(parse_proc_stat("cpu 1 2 3 4\ncpu99999999999 1 2 3 4\n", &s), "line 2");
  assert_contains(parse_proc_stat("cpu 1 2 3 4\nctxt\n", &s), "malformed ctxt");
  assert_contains(parse_proc_stat("cpu 1 2 3 4\nbtime -5\n", &s), "malformed btime");
  assert_contains(parse_proc_stat("cpu 1 2 3 99999999999999999999999\n", &s), "line 1");
  // Unknown keys and blank lines are fine.
  assert_string_equal(parse_proc_stat("\n  \npage 1 2\ncpu 1 2 3 4", &s).c_str(), "");
}

}  // namespace

int main() {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(parses_fixture),
      cmocka_unit_test(counter_deltas_match_expected),
      cmocka_unit_test(usage_ratio_is_psutil_compatible),
      cmocka_unit_test(usage_clamps_negative_deltas),
      cmocka_unit_test(old_kernel_short_cpu_lines),
      cmocka_unit_test(malformed_input_is_an_error),
  };
  return cmocka_run_group_tests(tests, nullptr, nullptr);
}
