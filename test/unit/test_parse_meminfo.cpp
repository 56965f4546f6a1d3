// /proc/meminfo parsing and node_exporter's field-name mapping.
#include "cmocka_all.hpp"
#include "core/read_file.hpp"
#include "sources/host/parse/meminfo.hpp"

using namespace edgemon::collect;

namespace {

uint64_t value_of(const std::vector<MeminfoField>& fields, std::string_view key) {
  const MeminfoField* f = find_meminfo(fields, key);
  if (f == nullptr) fail_msg("no %.*s", static_cast<int>(key.size()), key.data());
  return f->value;
}

void parses_fixture(void**) {
  std::string text;
  assert_string_equal(edgemon::read_file(EDGEMON_FIXTURES "/host/proc/meminfo", &text).c_str(), "");
  std::vector<MeminfoField> f;
  assert_string_equal(parse_meminfo(text, &f).c_str(), "");
  assert_int_equal(f.size(), 37);
  assert_int_equal(value_of(f, "MemTotal"), 7989481472ULL);
  assert_int_equal(value_of(f, "MemAvailable"), 5439610880ULL);
  assert_int_equal(value_of(f, "SwapTotal"), 3994738688ULL);
  assert_int_equal(value_of(f, "SwapFree"), 3927629824ULL);
  // psutil <= 7.0 "used" = total - free - (Cached + SReclaimable) - Buffers.
  uint64_t used = value_of(f, "MemTotal") - value_of(f, "MemFree") - value_of(f, "Cached") -
                  value_of(f, "SReclaimable") - value_of(f, "Buffers");
  assert_int_equal(used, 2730192896ULL);
  assert_int_equal(value_of(f, "MemTotal") - value_of(f, "MemAvailable"), 2549870592ULL);
  const MeminfoField* huge = find_meminfo(f, "HugePages_Total");
  assert_non_null(huge);
  assert_false(huge->in_bytes);
  assert_true(find_meminfo(f, "Hugepagesize")->in_bytes);
  assert_int_equal(value_of(f, "Hugepagesize"), 2048 * 1024);
}

void metric_keys_follow_node_exporter(void**) {
  std::string out;
  append_meminfo_metric_key("Active(anon)", &out);
  assert_string_equal(out.c_str(), "Active_anon");
  out.clear();
  append_meminfo_metric_key("Committed_AS", &out);
  assert_string_equal(out.c_str(), "Committed_AS");
  out.clear();
  append_meminfo_metric_key("odd key-x:", &out);
  assert_string_equal(out.c_str(), "odd_key_x_");
}

void malformed_lines_are_reported_and_skipped(void**) {
  std::vector<MeminfoField> f;
  assert_string_equal(parse_meminfo("", &f).c_str(), "");
  assert_int_equal(f.size(), 0);
  std::string err =
      parse_meminfo("MemTotal: 10 kB\nMemFree 5 kB\nBuffers: x kB\nCached: 1 kB\n", &f);
  assert_contains(err, "line 2");
  assert_int_equal(f.size(), 2);  // MemTotal and Cached survive
  assert_int_equal(value_of(f, "Cached"), 1024);
  assert_contains(parse_meminfo("MemTotal: 10 MB\n", &f), "line 1");
  assert_contains(parse_meminfo("MemTotal: 10 kB extra\n", &f), "line 1");
  assert_contains(parse_meminfo("MemTotal:\n", &f), "line 1");
  assert_contains(parse_meminfo(": 5\n", &f), "line 1");
  assert_contains(parse_meminfo("Big: 18446744073709551615 kB\n", &f), "line 1");  // overflow
  assert_string_equal(parse_meminfo("MemTotal: 10 kB", &f).c_str(), "");  // no final newline
  assert_int_equal(value_of(f, "MemTotal"), 10240);
}

}  // namespace

int main() {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(parses_fixture),
      cmocka_unit_test(metric_keys_follow_node_exporter),
      cmocka_unit_test(malformed_lines_are_reported_and_skipped),
  };
  return cmocka_run_group_tests(tests, nullptr, nullptr);
}
