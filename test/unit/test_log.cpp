// Log lines: JSON with ts (RFC 3339, µs, UTC), level, event and fields; file
// rotation by size.
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "cmocka_all.hpp"
#include "core/log.hpp"

namespace log = edgemon::log;

namespace {

void line_has_timestamp_level_event_fields(void**) {
  std::string line = log::format_line(log::Level::kWarn, "http_listen",
                                      {{"addr", "127.0.0.1:9110"},
                                       {"port", 9110},
                                       {"ratio", 0.5},
                                       {"ok", true},
                                       {"quote", "a\"b\n"}},
                                      1700000000123456);
  assert_string_equal(line.c_str(),
                      "{\"ts\":\"2023-11-14T22:13:20.123456Z\",\"level\":\"warn\",\"event\":"
                      "\"http_listen\",\"addr\":\"127.0.0.1:9110\",\"port\":9110,\"ratio\":0.5,"
                      "\"ok\":true,\"quote\":\"a\\\"b\\n\"}");
}

void levels_parse_and_filter(void**) {
  log::Level l;
  assert_true(log::parse_level("debug", &l));
  assert_int_equal(static_cast<int>(l), static_cast<int>(log::Level::kDebug));
  assert_false(log::parse_level("verbose", &l));
  log::Options o;
  o.level = log::Level::kWarn;
  std::string err;
  assert_true(log::configure(o, &err));
  assert_false(log::enabled(log::Level::kInfo));
  assert_true(log::enabled(log::Level::kError));
}

std::string slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

void file_rotates_by_size(void**) {
  char dir[] = "/tmp/edgemon-log-XXXXXX";
  assert_non_null(mkdtemp(dir));
  std::string file = std::string(dir) + "/edgemon.log";
  log::Options o;
  o.file = file;
  o.max_file_bytes = 4096;
  o.max_files = 2;
  std::string err;
  assert_true(log::configure(o, &err));
  for (int i = 0; i < 200; ++i)
    log::info("filler", {{"i", i}});
  assert_true(access((file + ".1").c_str(), F_OK) == 0);
  assert_true(access((file + ".2").c_str(), F_OK) == 0);
  assert_true(access((file + ".3").c_str(), F_OK) != 0);  // only max_files kept
  std::string live = slurp(file);
  assert_true(live.size() <= 4096);
  assert_contains(live, "\"i\":199");
  log::Options back;
  assert_true(log::configure(back, &err));
  std::string cmd = std::string("rm -rf ") + dir;
  assert_int_equal(system(cmd.c_str()), 0);
}

void unwritable_file_keeps_previous_sink(void**) {
  log::Options o;
  o.file = "/nonexistent-dir/edgemon.log";
  std::string err;
  assert_false(log::configure(o, &err));
  assert_contains(err, "cannot open log file /nonexistent-dir/edgemon.log");
}

}  // namespace

int main() {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(line_has_timestamp_level_event_fields),
      cmocka_unit_test(levels_parse_and_filter),
      cmocka_unit_test(file_rotates_by_size),
      cmocka_unit_test(unwritable_file_keeps_previous_sink),
  };
  return cmocka_run_group_tests(tests, nullptr, nullptr);
}
