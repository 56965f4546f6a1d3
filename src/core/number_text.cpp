#include "core/number_text.hpp"

#include <cmath>
#include <cstdint>

namespace edgemon {
namespace {

constexpr uint64_t kPow10[] = {1, 10, 100, 1000};

int digit_count(uint64_t n) {
  int d = 1;
  while (n >= 10)
    n /= 10, ++d;
  return d;
}

char* write_digits(char* at, uint64_t n, int count) {
  for (int i = count - 1; i >= 0; --i, n /= 10)
    at[i] = static_cast<char>('0' + n % 10);
  return at + count;
}

// The fixed text of `a` (0 < a < 1e9) with the fewest decimals (0 to 3)
// that still reads back as `a`, or null where to_chars would write
// something else.
//
// If some number D of at most three decimals reads back as a, |D - a| <=
// ulp(a) / 2, under 1e-7 below 1e9: so D * 1000 is a * 1000 (off by under
// 1e-4) rounded, and D is the only such number. d / 1000 == a is strtod's
// answer for D (both exact, the division correctly rounded): one multiply
// and one divide turn away every other value. D's trailing zeros give the
// fewest decimals, hence the fewest significant digits, as to_chars's
// shortest form; and to_chars picks %f over %e on ties, which with at most
// three decimals only an integer's trailing zeros can change (1e+05 for
// 100000).
char* format_short_decimal(char* at, double a) {
  auto d = static_cast<uint64_t>(a * 1000 + 0.5);
  if (static_cast<double>(d) / 1000 != a) return nullptr;
  int decimals = 3;
  while (decimals > 0 && d % 10 == 0)
    d /= 10, --decimals;
  uint64_t whole = d / kPow10[decimals];
  int whole_digits = digit_count(whole);
  if (decimals == 0) {
    int trailing_zeros = 0;
    for (uint64_t n = whole; n % 10 == 0; n /= 10)
      ++trailing_zeros;
    int significant = whole_digits - trailing_zeros;
    int scientific = significant + (significant > 1 ? 1 : 0) + 4;  // d[.ddd]e+XX
    if (whole_digits > scientific) return nullptr;
    return write_digits(at, whole, whole_digits);
  }
  at = write_digits(at, whole, whole_digits);
  *at++ = '.';
  return write_digits(at, d % kPow10[decimals], decimals);
}

}  // namespace

char* format_double(char* first, double v) {
  double a = std::fabs(v);
  // NaN fails the comparison; zero (and its sign) is to_chars's.
  if (a < 1e9 && a > 0) {
    char* at = first;
    if (v < 0) *at++ = '-';
    if (char* end = format_short_decimal(at, a)) return end;
  }
  return std::to_chars(first, first + kNumberTextMax, v).ptr;
}

}  // namespace edgemon
