// The shared RFC 3339 reader: the strict form, each option that widens it
// (the agent payload and the query parameters rely on them), the rejections
// every caller relies on, and the edges of what four-digit years reach.
#include <string>

#include "cmocka_all.hpp"
#include "core/rfc3339.hpp"

using namespace edgemon;

namespace {

constexpr int64_t k2025 = 1736847690;  // 2025-01-14T09:41:30Z

// Every option on: what the agent payload takes.
constexpr Rfc3339Options kLoose{.space_separator = true,
                                .offset_without_colon = true,
                                .utc_when_no_offset = true,
                                .leap_second = LeapSecond::kNextMinute};

Rfc3339Time parsed(const char* text, const Rfc3339Options& options = {}) {
  Rfc3339Time t;
  if (!parse_rfc3339(text, &t, options)) fail_msg("not a time: '%s'", text);
  return t;
}

void expect_time(const char* text, int64_t seconds, int64_t nanos,
                 const Rfc3339Options& options = {}) {
  Rfc3339Time t = parsed(text, options);
  if (t.unix_seconds != seconds || t.nanos != nanos) {
    fail_msg("'%s': got %lld s %lld ns, want %lld s %lld ns", text,
             static_cast<long long>(t.unix_seconds), static_cast<long long>(t.nanos),
             static_cast<long long>(seconds), static_cast<long long>(nanos));
  }
}

void expect_rejected(const char* text, const Rfc3339Options& options = {}) {
  Rfc3339Time t{7, 8};
  if (parse_rfc3339(text, &t, options)) fail_msg("accepted '%s'", text);
  // A rejected text leaves the output as it was.
  assert_int_equal(t.unix_seconds, 7);
  assert_int_equal(t.nanos, 8);
}

void strict_form(void**) {
  expect_time("2025-01-14T09:41:30Z", k2025, 0);
  expect_time("2025-01-14t09:41:30z", k2025, 0);
  expect_time("1970-01-01T00:00:00Z", 0, 0);
  expect_time("1969-12-31T23:59:59Z", -1, 0);
  expect_time("2024-02-29T00:00:00Z", 1709164800, 0);
  expect_time("2000-03-01T00:00:00Z", 951868800, 0);
  expect_time("2100-03-01T00:00:00Z", 4107542400, 0);
}

void fractions_are_truncated_to_the_nanosecond(void**) {
  expect_time("2025-01-14T09:41:30.1Z", k2025, 100000000);
  expect_time("2025-01-14T09:41:30.123Z", k2025, 123000000);
  expect_time("2025-01-14T09:41:30.123456789Z", k2025, 123456789);
  expect_time("2025-01-14T09:41:30.1234567891Z", k2025, 123456789);
  expect_time("2025-01-14T09:41:30.99999999999999999999Z", k2025, 999999999);
  // Before 1970 the fraction still counts forward from the second.
  Rfc3339Time t = parsed("1969-12-31T23:59:59.5Z");
  assert_int_equal(t.unix_seconds, -1);
  assert_int_equal(t.nanos, 500000000);
  assert_int_equal(t.unix_ms(), -500);
  assert_int_equal(parsed("2025-01-14T09:41:30.1239Z").unix_ms(), k2025 * 1000 + 123);
  expect_rejected("2025-01-14T09:41:30.Z");
  expect_rejected("2025-01-14T09:41:30,5Z");
}

void offsets(void**) {
  expect_time("2025-01-14T11:41:30+02:00", k2025, 0);
  expect_time("2025-01-14T04:11:30-05:30", k2025, 0);
  expect_time("2025-01-14T09:41:30-00:00", k2025, 0);
  expect_time("2025-01-15T09:40:30+23:59", k2025, 0);
  for (const char* bad :
       {"2025-01-14T09:41:30+2:00", "2025-01-14T09:41:30+02", "2025-01-14T09:41:30+2",
        "2025-01-14T09:41:30+24:00", "2025-01-14T09:41:30+02:60", "2025-01-14T09:41:30+0200",
        "2025-01-14T09:41:30+02:00 ", "2025-01-14T09:41:30Zjunk", "2025-01-14T09:41:30",
        "2025-01-14T09:41:30.5", "2025-01-14T09:41:30UTC"}) {
    expect_rejected(bad);
  }
}

void options_widen_the_form(void**) {
  // The agent payload: Python's str(datetime), ISO 8601's basic offset, no offset as UTC.
  expect_time("2025-01-14 09:41:30.123456", k2025, 123456000, kLoose);
  expect_time("2025-01-14 09:41:30+00:00", k2025, 0, kLoose);
  expect_time("2025-01-14T11:41:30+0200", k2025, 0, kLoose);
  expect_time("2025-01-14T09:41:30", k2025, 0, kLoose);
  expect_rejected("2025-01-14T09:41:30+2", kLoose);
  expect_rejected("2025-01-14T09:41:30+020", kLoose);
  expect_rejected("2025-01-14T09:41:30Zx", kLoose);
  expect_rejected(" 2025-01-14T09:41:30Z", kLoose);
  expect_rejected("2025-01-14_09:41:30Z", kLoose);
  // Each option alone.
  expect_time("2025-01-14 09:41:30Z", k2025, 0, {.space_separator = true});
  expect_rejected("2025-01-14 09:41:30Z");
  expect_rejected("2025-01-14T09:41:30", {.space_separator = true});
  expect_time("2025-01-14T11:41:30+0200", k2025, 0, {.offset_without_colon = true});
  expect_rejected("2025-01-14T09:41:30", {.offset_without_colon = true});
  expect_time("2025-01-14T09:41:30", k2025, 0, {.utc_when_no_offset = true});
  expect_rejected("2025-01-14T11:41:30+0200", {.utc_when_no_offset = true});
}

void leap_seconds(void**) {
  const char* leap = "2016-12-31T23:59:60.5Z";
  constexpr int64_t kNewYear = 1483228800;  // 2017-01-01T00:00:00Z
  expect_rejected(leap);
  expect_time(leap, kNewYear - 1, 500000000, {.leap_second = LeapSecond::kLastSecond});
  expect_time(leap, kNewYear, 500000000, {.leap_second = LeapSecond::kNextMinute});
  expect_rejected("2016-12-31T23:59:61Z", kLoose);
}

void dates_and_clocks_must_exist(void**) {
  for (const char* bad : {"2023-02-29T00:00:00Z", "1900-02-29T00:00:00Z", "2025-02-30T00:00:00Z",
                          "2025-04-31T00:00:00Z", "2025-13-01T00:00:00Z", "2025-00-01T00:00:00Z",
                          "2025-01-00T00:00:00Z", "2025-01-32T00:00:00Z", "2025-01-14T24:00:00Z",
                          "2025-01-14T09:60:00Z", "2025-01-14T9:41:30Z", "25-01-14T09:41:30Z",
                          "2025-1-14T09:41:30Z", "2025/01/14T09:41:30Z", "2025-01-14",
                          "2025-01-14T09:41Z", "+2025-01-14T09:41:30Z", "yesterday", ""}) {
    expect_rejected(bad, kLoose);
  }
}

// Four-digit years reach past int64 nanoseconds; the parts stay exact.
void year_edges(void**) {
  constexpr int64_t kYear0 = -62167219200;     // 0000-01-01T00:00:00Z
  constexpr int64_t kGoZero = -62135596800;    // 0001-01-01T00:00:00Z
  constexpr int64_t kYear9999 = 253402300799;  // 9999-12-31T23:59:59Z
  expect_time("0000-01-01T00:00:00Z", kYear0, 0);
  expect_time("0000-02-29T00:00:00Z", kYear0 + 59 * 86400, 0);
  expect_time("0001-01-01T00:00:00Z", kGoZero, 0);
  expect_time("9999-12-31T23:59:59.999999999Z", kYear9999, 999999999);
  // Range is the caller's: an offset may carry a time outside 0000-9999.
  expect_time("0000-01-01T00:00:00+00:01", kYear0 - 60, 0);
  expect_time("9999-12-31T23:59:59-23:59", kYear9999 + 86340, 0);
  // The end of int64 nanoseconds, which the agent payload checks against.
  expect_time("2262-04-11T23:47:16.854775807Z", 9223372036, 854775807);
}

void formats_milliseconds_in_utc(void**) {
  assert_string_equal(format_rfc3339_ms(0).c_str(), "1970-01-01T00:00:00.000Z");
  assert_string_equal(format_rfc3339_ms(k2025 * 1000 + 7).c_str(), "2025-01-14T09:41:30.007Z");
  assert_string_equal(format_rfc3339_ms(-1).c_str(), "1969-12-31T23:59:59.999Z");
  assert_string_equal(format_rfc3339_ms(-62135596800000).c_str(), "0001-01-01T00:00:00.000Z");
  assert_string_equal(format_rfc3339_ms(253402300799999).c_str(), "9999-12-31T23:59:59.999Z");
  // Beyond RFC 3339's years the fields still read right.
  assert_string_equal(format_rfc3339_ms(253402300800000).c_str(), "10000-01-01T00:00:00.000Z");
  std::string appended = "at ";
  append_rfc3339_ms(appended, 1000);
  assert_string_equal(appended.c_str(), "at 1970-01-01T00:00:01.000Z");
  for (int64_t ms : {int64_t{0}, int64_t{-1}, int64_t{951868800123}, int64_t{-62167219200000},
                     int64_t{253402300799999}}) {
    assert_int_equal(parsed(format_rfc3339_ms(ms).c_str()).unix_ms(), ms);
  }
}

}  // namespace

int main() {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(strict_form),  cmocka_unit_test(fractions_are_truncated_to_the_nanosecond),
      cmocka_unit_test(offsets),      cmocka_unit_test(options_widen_the_form),
      cmocka_unit_test(leap_seconds), cmocka_unit_test(dates_and_clocks_must_exist),
      cmocka_unit_test(year_edges),   cmocka_unit_test(formats_milliseconds_in_utc),
  };
  return cmocka_run_group_tests(tests, nullptr, nullptr);
}
