// /proc/<pid>/status and /proc/<pid>/stat fields used for the daemon's own
// metrics.
#include "cmocka_all.hpp"
#include "core/read_file.hpp"
#include "sources/host/parse/proc_pid.hpp"

using namespace edgemon::collect;

namespace {

void status_fields(void**) {
  const char* status =
      "Name:\tedgemon\nState:\tS (sleeping)\nVmPeak:\t  10000 kB\nVmHWM:\t    6000 kB\n"
      "VmRSS:\t    5120 kB\nThreads:\t5\n";
  uint64_t v = 0;
  assert_string_equal(parse_status_bytes(status, "VmRSS", &v).c_str(), "");
  assert_int_equal(v, 5120 * 1024);
  assert_string_equal(parse_status_bytes(status, "VmHWM", &v).c_str(), "");
  assert_int_equal(v, 6000 * 1024);
  assert_string_equal(parse_status_bytes(status, "VmSwap", &v).c_str(), "VmSwap: not found");
  assert_string_equal(parse_status_bytes(status, "Threads", &v).c_str(),
                      "Threads: expected \"N kB\"");
  assert_string_equal(parse_status_bytes("VmRSS: x kB", "VmRSS", &v).c_str(),
                      "VmRSS: expected \"N kB\"");
  assert_string_equal(parse_status_bytes("", "VmRSS", &v).c_str(), "VmRSS: not found");
}

// /proc/self/smaps_rollup: a mapping header line (whose address range holds
// no key), then status-style lines, some keys prefixes of others.
void smaps_rollup_fields(void**) {
  const char* rollup =
      "564f71d75000-7fffff3be000 ---p 00000000 00:00 0                          [rollup]\n"
      "Rss:                1784 kB\nPss:                 670 kB\nPss_Dirty:           112 kB\n"
      "Shared_Clean:       1568 kB\nPrivate_Clean:       104 kB\nPrivate_Dirty:       112 kB\n";
  uint64_t v = 0;
  assert_string_equal(parse_status_bytes(rollup, "Pss", &v).c_str(), "");
  assert_int_equal(v, 670 * 1024);
  assert_string_equal(parse_status_bytes(rollup, "Private_Dirty", &v).c_str(), "");
  assert_int_equal(v, 112 * 1024);
  assert_string_equal(parse_status_bytes(rollup, "Private_Clean", &v).c_str(), "");
  assert_int_equal(v, 104 * 1024);
}

void stat_starttime(void**) {
  // A command name with blanks and a ')' of its own.
  const char* stat =
      "4242 (my (odd) cmd) S 1 4242 4242 0 -1 4194560 300 0 0 0 12 3 0 0 20 0 5 0 "
      "987654 123456789 1200 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 17 2 0 0 0 0 0\n";
  uint64_t t = 0;
  assert_string_equal(parse_pid_stat_starttime(stat, &t).c_str(), "");
  assert_int_equal(t, 987654);
  assert_string_equal(parse_pid_stat_starttime("4242 cmd S 1", &t).c_str(), "no command name");
  assert_string_equal(parse_pid_stat_starttime("4242 (cmd) S 1 2 3", &t).c_str(),
                      "fewer than 22 fields");
  assert_string_equal(
      parse_pid_stat_starttime("1 (c) S 1 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 x 1", &t).c_str(),
      "malformed starttime");
}

void own_process_files_parse(void**) {
  std::string text;
  assert_string_equal(edgemon::read_file("/proc/self/status", &text).c_str(), "");
  uint64_t rss = 0;
  assert_string_equal(parse_status_bytes(text, "VmRSS", &rss).c_str(), "");
  assert_true(rss > 0);
  assert_string_equal(edgemon::read_file("/proc/self/stat", &text).c_str(), "");
  uint64_t start = 0;
  assert_string_equal(parse_pid_stat_starttime(text, &start).c_str(), "");
}

}  // namespace

int main() {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(status_fields),
      cmocka_unit_test(smaps_rollup_fields),
      cmocka_unit_test(stat_starttime),
      cmocka_unit_test(own_process_files_parse),
  };
  return cmocka_run_group_tests(tests, nullptr, nullptr);
}
