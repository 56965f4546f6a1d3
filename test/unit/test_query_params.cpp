// The query endpoints' parameters: every error names its parameter, ranges
// and limits are capped, times parse in both forms, steps are checked.
#include <string>

#include "api/query_params.hpp"
#include "cmocka_all.hpp"

using namespace edgemon::api;

namespace {

constexpr int64_t kNow = 1714564800000;  // 2024-05-01T12:00:00Z
constexpr int64_t kDay = 86400000;

QueryLimits limits() {
  return {kNow, 7 * kDay, 500};
}

void expect_error(const ParamError& e, const char* parameter, const char* text) {
  if (e.ok()) fail_msg("expected an error about '%s'", parameter);
  assert_string_equal(e.parameter.c_str(), parameter);
  std::string prefix = std::string("parameter '") + parameter + "': ";
  assert_contains(e.message, prefix);
  assert_contains(e.message, text);
}

void times_parse_in_both_forms(void**) {
  int64_t ms = 0;
  assert_true(parse_time("2024-05-01T12:00:00Z", &ms));
  assert_int_equal(ms, kNow);
  assert_true(parse_time("2024-05-01T14:00:00.250+02:00", &ms));
  assert_int_equal(ms, kNow + 250);
  assert_true(parse_time("2024-05-01t11:30:00-00:30", &ms));
  assert_int_equal(ms, kNow);
  assert_true(parse_time("1714564800", &ms));
  assert_int_equal(ms, kNow);
  assert_true(parse_time("1714564800.5", &ms));
  assert_int_equal(ms, kNow + 500);
  assert_true(parse_time("2024-02-29T00:00:00Z", &ms));
  assert_true(parse_time("1970-01-01T00:00:00Z", &ms));
  assert_int_equal(ms, 0);
  for (const char* bad :
       {"", "yesterday", "2024-05-01", "2024-05-01T12:00:00", "2024-13-01T00:00:00Z",
        "2023-02-29T00:00:00Z", "2024-05-01T24:00:00Z", "2024-05-01T12:00:00Zjunk",
        "2024-05-01T12:00:00+2:00", "-5", "1e9", "99999999999999", "2024-05-01T12:00:00.Z"}) {
    if (parse_time(bad, &ms)) fail_msg("accepted '%s'", bad);
  }
  assert_string_equal(format_time(kNow + 7).c_str(), "2024-05-01T12:00:00.007Z");
}

void query_strings_are_decoded(void**) {
  std::vector<std::pair<std::string, std::string>> out;
  assert_true(split_query("device=a%2Cb+c&&field=cpu&x", &out).ok());
  assert_int_equal(out.size(), 3);
  assert_string_equal(out[0].second.c_str(), "a,b c");
  assert_string_equal(out[2].first.c_str(), "x");
  expect_error(split_query("device=a&device=b", &out), "device", "more than once");
  expect_error(split_query("device=%2", &out), "device", "percent");
  expect_error(split_query("device=%zz", &out), "device", "percent");
}

void history_defaults_and_caps(void**) {
  HistoryParams p;
  assert_true(parse_history_params("", limits(), &p).ok());
  assert_int_equal(p.to_ms, kNow);
  assert_int_equal(p.from_ms, kNow - 7 * kDay);
  assert_int_equal(p.limit, 100);
  assert_true(p.device.empty());
  assert_true(
      parse_history_params("device=d1&measurement=m&field=f&limit=100000&range=15m", limits(), &p)
          .ok());
  assert_string_equal(p.device.c_str(), "d1");
  assert_string_equal(p.field.c_str(), "f");
  assert_int_equal(p.limit, 500);  // capped to max_query_points
  assert_int_equal(p.from_ms, kNow - 900000);
  // Ranges beyond the retention are capped, not refused.
  assert_true(parse_history_params("from=0&to=1714564800", limits(), &p).ok());
  assert_int_equal(p.from_ms, kNow - 7 * kDay);
  assert_int_equal(p.to_ms, kNow);
}

void history_errors_name_the_parameter(void**) {
  HistoryParams p;
  QueryLimits l = limits();
  expect_error(parse_history_params("from=yesterday", l, &p), "from",
               "expected RFC 3339 or unix seconds");
  expect_error(parse_history_params("to=noon", l, &p), "to", "RFC 3339");
  expect_error(parse_history_params("from=1714564900&to=1714564800", l, &p), "from", "after 'to'");
  expect_error(parse_history_params("range=1h&from=1714564800", l, &p), "range", "not both");
  expect_error(parse_history_params("range=soon", l, &p), "range", "duration");
  expect_error(parse_history_params("range=0s", l, &p), "range", "duration");
  expect_error(parse_history_params("limit=0", l, &p), "limit", "at least 1");
  expect_error(parse_history_params("limit=ten", l, &p), "limit", "whole number");
  expect_error(parse_history_params("device=", l, &p), "device", "empty");
  expect_error(parse_history_params("measurment=cpu", l, &p), "measurment", "unknown");
  expect_error(parse_history_params("metric=cpu", l, &p), "metric", "unknown");
}

void avg_usage_widens_to_minutes(void**) {
  UsageParams p;
  assert_true(parse_avg_usage_params("metric=cpu", limits(), &p).ok());
  assert_string_equal(p.metric.c_str(), "cpu");
  assert_int_equal(p.to_ms, kNow);
  assert_int_equal(p.from_ms, kNow - 3600000);
  assert_true(
      parse_avg_usage_params("metric=disk&device=d&from=1714564810&to=1714564870.5", limits(), &p)
          .ok());
  assert_int_equal(p.from_ms, kNow);
  assert_int_equal(p.to_ms, kNow + 120000);
  assert_string_equal(p.device.c_str(), "d");
  assert_true(parse_avg_usage_params("metric=cpu_core_3&range=30d", limits(), &p).ok());
  assert_int_equal(p.to_ms - p.from_ms, 7 * kDay);
}

void avg_usage_errors(void**) {
  UsageParams p;
  QueryLimits l = limits();
  expect_error(parse_avg_usage_params("", l, &p), "metric", "required");
  expect_error(parse_avg_usage_params("metric=gpu", l, &p), "metric", "expected cpu");
  expect_error(parse_avg_usage_params("metric=cpu_core_", l, &p), "metric", "expected cpu");
  expect_error(parse_avg_usage_params("metric=cpu&step=1m", l, &p), "step", "unknown");
  expect_error(parse_avg_usage_params("metric=cpu&range=1h&to=1714564800", l, &p), "range",
               "not both");
  expect_error(parse_avg_usage_params("metric=cpu&device=", l, &p), "device", "empty");
}

void metrics_usage_steps(void**) {
  UsageParams p;
  QueryLimits l = limits();
  assert_true(parse_metrics_usage_params("metric=memory&step=5m&range=1h", l, &p).ok());
  assert_int_equal(p.step_ms, 300000);
  assert_int_equal(p.origin_ms % 300000, 0);
  assert_true(p.to_ms == kNow && p.from_ms == kNow - 3600000);
  // Only what was asked (to the minute), in buckets aligned to the step as
  // InfluxDB's GROUP BY time() aligns them: 06:50-07:05 at 15m reads
  // 06:50-07:05 into buckets labelled 06:45 and 07:00.
  int64_t t0650 = kNow - 5 * 3600000 - 10 * 60000;  // kNow is 12:00
  assert_true(parse_metrics_usage_params("metric=cpu&step=15m&from=2024-05-01T06:50:00Z"
                                         "&to=2024-05-01T07:05:00Z",
                                         l, &p)
                  .ok());
  assert_int_equal(p.from_ms, t0650);
  assert_int_equal(p.to_ms, t0650 + 15 * 60000);
  assert_int_equal(p.origin_ms, t0650 - 5 * 60000);
  // Partial minutes at the ends are left out, not widened into.
  assert_true(parse_metrics_usage_params("metric=cpu&step=5m&from=2024-05-01T06:50:30Z"
                                         "&to=2024-05-01T07:04:30Z",
                                         l, &p)
                  .ok());
  assert_int_equal(p.from_ms, t0650 + 60000);
  assert_int_equal(p.to_ms, t0650 + 14 * 60000);
  assert_int_equal(p.origin_ms, t0650);
  // Defaults keep the answer small: 24h in 5 minute steps.
  assert_true(parse_metrics_usage_params("metric=cpu&range=24h", l, &p).ok());
  assert_int_equal(p.step_ms, 300000);
  assert_true(parse_metrics_usage_params("metric=cpu&range=7d&step=1h", l, &p).ok());
  expect_error(parse_metrics_usage_params("metric=cpu&step=30s", l, &p), "step", "at least 1m");
  expect_error(parse_metrics_usage_params("metric=cpu&step=90s", l, &p), "step", "whole number");
  expect_error(parse_metrics_usage_params("metric=cpu&step=2h&range=1h", l, &p), "step",
               "longer than the range");
  expect_error(parse_metrics_usage_params("metric=cpu&step=often", l, &p), "step", "duration");
  QueryLimits wide = l;
  wide.max_range_ms = 3650 * kDay;
  expect_error(parse_metrics_usage_params("metric=cpu&step=1m&range=30d", wide, &p), "step",
               "10000 buckets");
  expect_error(parse_metrics_usage_params("metric=cpu&limit=5", l, &p), "limit", "unknown");
}

// The metrics-collection system's parameters: resource, start/end without a
// zone, range in whole hours; its answer shape is chosen by `resource`.
void legacy_resource_start_end_and_hours(void**) {
  UsageParams p;
  QueryLimits l = limits();
  assert_true(parse_avg_usage_params("resource=mem&range=2", l, &p).ok());
  assert_string_equal(p.metric.c_str(), "memory");
  assert_string_equal(p.legacy.c_str(), "mem");
  assert_int_equal(p.to_ms - p.from_ms, 2 * 3600000);
  assert_true(parse_metrics_usage_params(
                  "resource=cpu&start=2024-05-01T06:00:00&end=2024-05-01 07:00:00", l, &p)
                  .ok());
  assert_int_equal(p.from_ms, kNow - 6 * 3600000);
  assert_int_equal(p.to_ms, kNow - 5 * 3600000);
  assert_string_equal(p.legacy.c_str(), "cpu");
  assert_true(parse_avg_usage_params("metric=cpu", l, &p).ok());
  assert_string_equal(p.legacy.c_str(), "");
  expect_error(parse_avg_usage_params("resource=gpu", l, &p), "resource", "cpu, mem or disk");
  expect_error(parse_avg_usage_params("resource=cpu&metric=cpu", l, &p), "resource", "either");
  expect_error(parse_avg_usage_params("resource=cpu&start=yesterday", l, &p), "start", "ISO 8601");
  expect_error(parse_avg_usage_params("resource=cpu&range=0", l, &p), "range", "hours");
  expect_error(parse_avg_usage_params("metric=cpu&start=2024-05-01T06:00:00", l, &p), "start",
               "resource=");
  expect_error(parse_avg_usage_params("metric=cpu&range=2", l, &p), "range", "duration");
}

void devices_filter(void**) {
  DevicesParams p;
  assert_true(parse_devices_params("", &p).ok());
  assert_int_equal(p.active, -1);
  assert_true(parse_devices_params("active=true", &p).ok());
  assert_int_equal(p.active, 1);
  expect_error(parse_devices_params("active=maybe", &p), "active", "true or false");
  expect_error(parse_devices_params("device=x", &p), "device", "unknown");
}

}  // namespace

int main() {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(times_parse_in_both_forms),
      cmocka_unit_test(query_strings_are_decoded),
      cmocka_unit_test(history_defaults_and_caps),
      cmocka_unit_test(history_errors_name_the_parameter),
      cmocka_unit_test(avg_usage_widens_to_minutes),
      cmocka_unit_test(avg_usage_errors),
      cmocka_unit_test(metrics_usage_steps),
      cmocka_unit_test(legacy_resource_start_end_and_hours),
      cmocka_unit_test(devices_filter),
  };
  return cmocka_run_group_tests(tests, nullptr, nullptr);
}
