#include "core/rfc3339.hpp"

#include <algorithm>
#include <cstdio>

namespace edgemon {
namespace {

bool read_digits(std::string_view s, size_t* pos, size_t n, int* out) {
  if (s.size() - *pos < n) return false;
  int v = 0;
  for (size_t i = *pos; i < *pos + n; ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
    v = v * 10 + (s[i] - '0');
  }
  *pos += n;
  *out = v;
  return true;
}

bool read_char(std::string_view s, size_t* pos, std::string_view allowed) {
  if (*pos >= s.size() || allowed.find(s[*pos]) == std::string_view::npos) return false;
  ++*pos;
  return true;
}

// YYYY-MM-DD or hh:mm:ss: three numbers joined by `sep`, the first `width`
// digits wide and the others two.
bool read_fields(std::string_view s, size_t* pos, size_t width, std::string_view sep, int* a,
                 int* b, int* c) {
  return read_digits(s, pos, width, a) && read_char(s, pos, sep) && read_digits(s, pos, 2, b) &&
         read_char(s, pos, sep) && read_digits(s, pos, 2, c);
}

bool leap_year(int y) {
  return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

// Days since 1970-01-01 of a proleptic Gregorian date, and back (Howard
// Hinnant's algorithms: exact for every year, negative ones included).
int64_t days_from_civil(int64_t y, int64_t m, int64_t d) {
  y -= m <= 2 ? 1 : 0;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const int64_t yoe = y - era * 400;
  const int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

void civil_from_days(int64_t z, int64_t* y, int* m, int* d) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const int64_t doe = z - era * 146097;
  const int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const int64_t mp = (5 * doy + 2) / 153;
  *d = static_cast<int>(doy - (153 * mp + 2) / 5 + 1);
  *m = static_cast<int>(mp < 10 ? mp + 3 : mp - 9);
  *y = yoe + era * 400 + (*m <= 2 ? 1 : 0);
}

// YYYY-MM-DD as days since 1970.
bool read_date(std::string_view s, size_t* pos, int64_t* days) {
  static constexpr int kMonthDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  int y = 0;
  int m = 0;
  int d = 0;
  if (!read_fields(s, pos, 4, "-", &y, &m, &d)) return false;
  if (m < 1 || m > 12 || d < 1 || d > kMonthDays[m - 1] + (m == 2 && leap_year(y) ? 1 : 0)) {
    return false;
  }
  *days = days_from_civil(y, m, d);
  return true;
}

// hh:mm:ss[.fraction] as seconds of the day and nanoseconds.
bool read_clock(std::string_view s, size_t* pos, LeapSecond leap, int64_t* secs, int64_t* nanos) {
  int h = 0;
  int mi = 0;
  int se = 0;
  if (!read_fields(s, pos, 2, ":", &h, &mi, &se)) return false;
  if (h > 23 || mi > 59 || se > 60 || (se == 60 && leap == LeapSecond::kReject)) return false;
  if (se == 60 && leap == LeapSecond::kLastSecond) se = 59;
  *secs = h * 3600 + mi * 60 + se;
  *nanos = 0;
  if (!read_char(s, pos, ".")) return true;
  const size_t start = *pos;
  // Past the ninth digit the scale is 0: finer digits are read and dropped.
  for (int64_t scale = 100000000; *pos < s.size() && s[*pos] >= '0' && s[*pos] <= '9'; ++*pos) {
    *nanos += (s[*pos] - '0') * scale;
    scale /= 10;
  }
  return *pos > start;
}

// The offset up to the end of the text, as seconds east of UTC.
bool read_offset(std::string_view s, size_t* pos, const Rfc3339Options& options, int64_t* offset) {
  *offset = 0;
  if (*pos == s.size()) return options.utc_when_no_offset;
  if (read_char(s, pos, "Zz")) return *pos == s.size();
  const bool west = s[*pos] == '-';
  int h = 0;
  int m = 0;
  if (!read_char(s, pos, "+-") || !read_digits(s, pos, 2, &h)) return false;
  if (!read_char(s, pos, ":") && !options.offset_without_colon) return false;
  if (!read_digits(s, pos, 2, &m) || h > 23 || m > 59 || *pos != s.size()) return false;
  *offset = (west ? -1 : 1) * (h * 3600 + m * 60);
  return true;
}

}  // namespace

bool parse_rfc3339(std::string_view text, Rfc3339Time* out, const Rfc3339Options& options) {
  size_t pos = 0;
  int64_t days = 0;
  int64_t secs = 0;
  int64_t nanos = 0;
  int64_t offset = 0;
  if (!read_date(text, &pos, &days) ||
      !read_char(text, &pos, options.space_separator ? "Tt " : "Tt") ||
      !read_clock(text, &pos, options.leap_second, &secs, &nanos) ||
      !read_offset(text, &pos, options, &offset)) {
    return false;
  }
  // Four-digit years keep this within a few hundred billion seconds.
  out->unix_seconds = days * 86400 + secs - offset;
  out->nanos = nanos;
  return true;
}

std::string format_rfc3339_ms(int64_t unix_ms) {
  std::string out;
  append_rfc3339_ms(out, unix_ms);
  return out;
}

void append_rfc3339_ms(std::string& out, int64_t unix_ms) {
  char text[kRfc3339MsMax];
  out.append(text, static_cast<size_t>(write_rfc3339_ms(text, unix_ms) - text));
}

namespace {

char* put_digits(char* at, int64_t value, int digits) {
  for (int i = digits - 1; i >= 0; --i, value /= 10)
    at[i] = static_cast<char>('0' + value % 10);
  return at + digits;
}

}  // namespace

char* write_rfc3339_ms(char* at, int64_t unix_ms) {
  int64_t millis = unix_ms % 1000;
  int64_t seconds = unix_ms / 1000;
  if (millis < 0) millis += 1000, seconds -= 1;
  int64_t days = seconds / 86400;
  int64_t in_day = seconds % 86400;
  if (in_day < 0) in_day += 86400, days -= 1;
  int64_t year = 0;
  int month = 0;
  int day = 0;
  civil_from_days(days, &year, &month, &day);
  if (year < 0 || year > 9999) {
    // Outside what RFC 3339 can write; shown the way snprintf would.
    int n = std::snprintf(at, kRfc3339MsMax, "%04lld-%02d-%02dT%02d:%02d:%02d.%03dZ",
                          static_cast<long long>(year), month, day, static_cast<int>(in_day / 3600),
                          static_cast<int>(in_day / 60 % 60), static_cast<int>(in_day % 60),
                          static_cast<int>(millis));
    return at + std::clamp(n, 0, static_cast<int>(kRfc3339MsMax) - 1);
  }
  // snprintf was most of the time of a large /metrics_usage answer.
  at = put_digits(at, year, 4);
  *at++ = '-';
  at = put_digits(at, month, 2);
  *at++ = '-';
  at = put_digits(at, day, 2);
  *at++ = 'T';
  at = put_digits(at, in_day / 3600, 2);
  *at++ = ':';
  at = put_digits(at, in_day / 60 % 60, 2);
  *at++ = ':';
  at = put_digits(at, in_day % 60, 2);
  *at++ = '.';
  at = put_digits(at, millis, 3);
  *at++ = 'Z';
  return at;
}

}  // namespace edgemon
