// format_double must write exactly what std::to_chars writes: its fast path
// for short decimals is checked byte for byte against the general algorithm
// over every kind of value that takes it and every kind that must not.
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <random>
#include <string>

#include "cmocka_all.hpp"
#include "core/number_text.hpp"

using namespace edgemon;

namespace {

void same_as_to_chars(double v) {
  char want[kNumberTextMax];
  char got[kNumberTextMax];
  size_t want_len = static_cast<size_t>(std::to_chars(want, want + sizeof want, v).ptr - want);
  size_t got_len = static_cast<size_t>(format_double(got, v) - got);
  if (want_len != got_len || std::memcmp(want, got, want_len) != 0) {
    fail_msg("%.17g: to_chars '%.*s', format_double '%.*s'", v, static_cast<int>(want_len), want,
             static_cast<int>(got_len), got);
  }
}

void both_signs(double v) {
  same_as_to_chars(v);
  same_as_to_chars(-v);
}

void integers(void**) {
  for (int64_t i = 0; i <= 300000; ++i)
    both_signs(static_cast<double>(i));
  // Trailing zeros: where %e is shorter (1e+05, 2e+06) and where it is not.
  for (int64_t p = 1; p <= 1000000000; p *= 10) {
    for (int64_t m = 1; m <= 99; ++m) {
      both_signs(static_cast<double>(m * p));
      both_signs(static_cast<double>(m * p + 1));
      both_signs(static_cast<double>(m * p - 1));
    }
  }
  both_signs(999999999.0);
  both_signs(1e9);
  both_signs(9007199254740992.0);
}

void short_decimals(void**) {
  for (int64_t i = 0; i <= 200000; ++i) {
    both_signs(static_cast<double>(i) / 10);
    both_signs(static_cast<double>(i) / 100);
    both_signs(static_cast<double>(i) / 1000);
  }
  std::mt19937_64 rng(42);
  std::uniform_int_distribution<int64_t> whole(0, 999999999);
  for (int n = 0; n < 300000; ++n) {
    double w = static_cast<double>(whole(rng));
    both_signs(w + static_cast<double>(n % 10) / 10);
    both_signs(w + static_cast<double>(n % 100) / 100);
    both_signs(w + static_cast<double>(n % 1000) / 1000);
  }
}

// Values the fast path must hand over: more decimals, tiny, huge, special.
void everything_else(void**) {
  const double special[] = {0.0,
                            -0.0,
                            std::numeric_limits<double>::quiet_NaN(),
                            std::numeric_limits<double>::infinity(),
                            std::numeric_limits<double>::denorm_min(),
                            std::numeric_limits<double>::min(),
                            std::numeric_limits<double>::max(),
                            std::numeric_limits<double>::epsilon(),
                            0.1,
                            0.15,
                            0.0001,
                            0.00015,
                            1.0 / 3,
                            2.0 / 3,
                            42.383333333333333,
                            1e-300,
                            1e21,
                            123456789.0125,
                            999999999.9995,
                            999999999.9999};
  for (double v : special)
    both_signs(v);
  std::mt19937_64 rng(7);
  for (int n = 0; n < 500000; ++n) {
    double v;
    uint64_t bits = rng();
    std::memcpy(&v, &bits, sizeof v);
    same_as_to_chars(v);
  }
  std::uniform_real_distribution<double> percent(0, 100);
  std::uniform_real_distribution<double> big(0, 2e9);
  for (int n = 0; n < 300000; ++n) {
    both_signs(percent(rng));
    both_signs(big(rng));
    both_signs(std::ldexp(1.0, static_cast<int>(rng() % 80) - 40));
  }
}

void appended(void**) {
  std::string out = "x=";
  append_double(out, 37.5);
  out += ',';
  append_double(out, 1e5);
  out += ',';
  append_integer(out, int64_t{-42});
  out += ',';
  append_integer(out, uint64_t{18446744073709551615u});
  assert_string_equal(out.c_str(), "x=37.5,1e+05,-42,18446744073709551615");
}

}  // namespace

int main() {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(integers),
      cmocka_unit_test(short_decimals),
      cmocka_unit_test(everything_else),
      cmocka_unit_test(appended),
  };
  return cmocka_run_group_tests(tests, nullptr, nullptr);
}
