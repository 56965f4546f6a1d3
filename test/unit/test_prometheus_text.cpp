// The Prometheus text writer: escaping, number forms, lazy metadata and
// histogram layout.
#include <cmath>
#include <limits>

#include "cmocka_all.hpp"
#include "metrics/histogram.hpp"
#include "metrics/prometheus_text.hpp"

using namespace edgemon::metrics;

namespace {

void label_values_are_escaped(void**) {
  std::string out;
  PrometheusTextWriter w(out);
  w.begin({"x_info", "Help.", Type::kGauge});
  w.sample({{"path", "C:\\dir \"quoted\"\nnext"}}, 1);
  assert_contains(out, "x_info{path=\"C:\\\\dir \\\"quoted\\\"\\nnext\"} 1\n");
}

void help_escapes_backslash_and_newline_only(void**) {
  std::string out;
  PrometheusTextWriter w(out);
  w.begin({"x", "A \"help\" with \\ and\nnewline.", Type::kCounter});
  w.sample(2);
  assert_contains(out, "# HELP x A \"help\" with \\\\ and\\nnewline.\n# TYPE x counter\nx 2\n");
}

void metadata_only_with_samples(void**) {
  std::string out;
  PrometheusTextWriter w(out);
  w.begin({"empty_family", "Never sampled.", Type::kGauge});
  w.begin({"y", "Sampled.", Type::kGauge});
  w.sample({{"a", "1"}}, 3);
  w.sample({{"a", "2"}}, 4);
  assert_not_contains(out, "empty_family");
  assert_string_equal(out.c_str(),
                      "# HELP y Sampled.\n# TYPE y gauge\ny{a=\"1\"} 3\ny{a=\"2\"} 4\n");
}

void numbers_use_go_compatible_forms(void**) {
  std::string s;
  append_prometheus_value(s, 1234567890);
  s += ' ';
  append_prometheus_value(s, 0.1);
  s += ' ';
  append_prometheus_value(s, std::numeric_limits<double>::quiet_NaN());
  s += ' ';
  append_prometheus_value(s, std::numeric_limits<double>::infinity());
  s += ' ';
  append_prometheus_value(s, -std::numeric_limits<double>::infinity());
  s += ' ';
  append_prometheus_value(s, 9.223372036854775807e18);
  assert_string_equal(s.c_str(), "1234567890 0.1 NaN +Inf -Inf 9223372036854775808");
}

void histogram_is_cumulative_with_inf(void**) {
  static constexpr double kBounds[] = {0.1, 1};
  Histogram h(kBounds);
  h.observe(0.05);
  h.observe(0.5);
  h.observe(0.7);
  h.observe(5);
  std::string out;
  PrometheusTextWriter w(out);
  w.begin({"lat_seconds", "Latency.", Type::kHistogram});
  h.write(w, Labels{});
  assert_contains(out, "lat_seconds_bucket{le=\"0.1\"} 1\n");
  assert_contains(out, "lat_seconds_bucket{le=\"1\"} 3\n");
  assert_contains(out, "lat_seconds_bucket{le=\"+Inf\"} 4\n");
  assert_contains(out, "lat_seconds_sum 6.25\n");
  assert_contains(out, "lat_seconds_count 4\n");
  assert_int_equal(h.count(), 4);
}

void histogram_labels_precede_le(void**) {
  static constexpr double kBounds[] = {1};
  Histogram h(kBounds);
  h.observe(0.5);
  std::string out;
  PrometheusTextWriter w(out);
  w.begin({"d_seconds", "D.", Type::kHistogram});
  Label route{"route", "/metrics"};
  h.write(w, Labels(&route, 1));
  assert_contains(out, "d_seconds_bucket{route=\"/metrics\",le=\"1\"} 1\n");
  assert_contains(out, "d_seconds_count{route=\"/metrics\"} 1\n");
}

}  // namespace

int main() {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(label_values_are_escaped),
      cmocka_unit_test(help_escapes_backslash_and_newline_only),
      cmocka_unit_test(metadata_only_with_samples),
      cmocka_unit_test(numbers_use_go_compatible_forms),
      cmocka_unit_test(histogram_is_cumulative_with_inf),
      cmocka_unit_test(histogram_labels_precede_le),
  };
  return cmocka_run_group_tests(tests, nullptr, nullptr);
}
