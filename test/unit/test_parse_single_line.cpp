// The one-line procfs files: loadavg, uptime, sys/fs/file-nr; and the
// tokeniser they share with the other parsers.
#include "cmocka_all.hpp"
#include "core/read_file.hpp"
#include "sources/host/parse/file_nr.hpp"
#include "sources/host/parse/loadavg.hpp"
#include "sources/host/parse/scan.hpp"
#include "sources/host/parse/uptime.hpp"

using namespace edgemon::collect;

namespace {

std::string fixture(const char* path) {
  std::string text;
  std::string err = edgemon::read_file(std::string(EDGEMON_FIXTURES "/host/proc/") + path, &text);
  assert_string_equal(err.c_str(), "");
  return text;
}

void loadavg_fixture(void**) {
  Loadavg l;
  assert_string_equal(parse_loadavg(fixture("loadavg"), &l).c_str(), "");
  assert_float_equal(l.load1, 0.52, 0);
  assert_float_equal(l.load5, 0.61, 0);
  assert_float_equal(l.load15, 0.58, 0);
  assert_int_equal(l.runnable, 3);
  assert_int_equal(l.threads, 912);
  assert_int_equal(l.last_pid, 24567);
}

void loadavg_malformed(void**) {
  Loadavg l;
  assert_string_equal(parse_loadavg("", &l).c_str(), "empty");
  assert_string_equal(parse_loadavg("0.1 0.2 0.3 1/2\n", &l).c_str(), "expected 5 fields");
  assert_string_equal(parse_loadavg("0.1 x 0.3 1/2 5\n", &l).c_str(), "malformed load average");
  assert_string_equal(parse_loadavg("0.1 nan 0.3 1/2 5\n", &l).c_str(), "malformed load average");
  assert_string_equal(parse_loadavg("0.1 0.2 0.3 12 5\n", &l).c_str(),
                      "malformed runnable/total field");
  assert_string_equal(parse_loadavg("0.1 0.2 0.3 1/ 5\n", &l).c_str(),
                      "malformed runnable/total field");
  assert_string_equal(parse_loadavg("0.1 0.2 0.3 1/2 -5\n", &l).c_str(), "malformed last pid");
}

void uptime_fixture_and_malformed(void**) {
  Uptime u;
  assert_string_equal(parse_uptime(fixture("uptime"), &u).c_str(), "");
  assert_float_equal(u.uptime_seconds, 350735.47, 0);
  assert_float_equal(u.idle_seconds, 1234388.90, 0);  // can exceed uptime: summed over CPUs
  assert_string_equal(parse_uptime("", &u).c_str(), "expected 2 fields");
  assert_string_equal(parse_uptime("12.5\n", &u).c_str(), "expected 2 fields");
  assert_string_equal(parse_uptime("12.5 abc\n", &u).c_str(), "malformed number");
  assert_string_equal(parse_uptime("1e5 1\n", &u).c_str(), "malformed number");
}

void file_nr_fixture_and_malformed(void**) {
  FileNr f;
  assert_string_equal(parse_file_nr(fixture("sys/fs/file-nr"), &f).c_str(), "");
  assert_int_equal(f.allocated, 12896);
  assert_int_equal(f.unused, 0);
  assert_int_equal(f.maximum, 9223372036854775807ULL);
  assert_string_equal(parse_file_nr("1 2\n", &f).c_str(), "expected 3 fields");
  assert_string_equal(parse_file_nr("1 2 x\n", &f).c_str(), "malformed number");
  assert_string_equal(parse_file_nr("1 2 99999999999999999999\n", &f).c_str(), "malformed number");
}

void scan_fields_and_numbers(void**) {
  std::string_view line = " \tab  c\t", field;
  assert_true(scan::next_field(&line, &field));
  assert_true(field == "ab");
  assert_true(scan::next_field(&line, &field));
  assert_true(field == "c");
  assert_false(scan::next_field(&line, &field));
  std::string_view text = "a\n\nb", l;
  assert_true(scan::next_line(&text, &l) && l == "a");
  assert_true(scan::next_line(&text, &l) && l.empty());
  assert_true(scan::next_line(&text, &l) && l == "b");
  assert_false(scan::next_line(&text, &l));
  uint64_t u = 0;
  int64_t i = 0;
  assert_false(scan::to_u64("", &u));
  assert_false(scan::to_u64("-1", &u));
  assert_false(scan::to_u64("1 ", &u));
  assert_true(scan::to_u64("18446744073709551615", &u));
  assert_false(scan::to_u64("18446744073709551616", &u));
  assert_true(scan::to_i64("-42", &i) && i == -42);
  assert_true(scan::trim(" \r\n x y \n") == "x y");
}

}  // namespace

int main() {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(loadavg_fixture),
      cmocka_unit_test(loadavg_malformed),
      cmocka_unit_test(uptime_fixture_and_malformed),
      cmocka_unit_test(file_nr_fixture_and_malformed),
      cmocka_unit_test(scan_fields_and_numbers),
  };
  return cmocka_run_group_tests(tests, nullptr, nullptr);
}
