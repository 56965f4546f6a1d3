#pragma once
// RFC 3339 times ("2025-01-14T09:41:30.123Z", "...+02:00"): the one reader
// behind every place edgemon takes a time as text, and the writer of the
// form it answers with. Senders differ in how loosely they write, so each
// looseness is an option; which times make sense is the caller's to check.
#include <cstdint>
#include <string>
#include <string_view>

namespace edgemon {

// Second 60 of a minute: RFC 3339 allows it, a unix time has no such second.
enum class LeapSecond {
  kReject,
  kLastSecond,  // as :59 of the same minute
  kNextMinute,  // as :00 of the next minute
};

// The defaults are the strict form; each option widens it.
struct Rfc3339Options {
  // "2025-01-14 09:41:30Z" (RFC 3339 §5.6 lets applications use a space; Python's str(datetime)
  // does).
  bool space_separator = false;
  // "+0200" as well as "+02:00", ISO 8601's basic form.
  bool offset_without_colon = false;
  // No offset at all means UTC.
  bool utc_when_no_offset = false;
  LeapSecond leap_second = LeapSecond::kReject;
};

// Two parts because the years RFC 3339 can write (0000 to 9999) span more
// than int64 nanoseconds do (1677 to 2262).
struct Rfc3339Time {
  int64_t unix_seconds = 0;  // negative before 1970
  int64_t nanos = 0;         // 0 to 999999999, added to unix_seconds
  int64_t unix_ms() const { return unix_seconds * 1000 + nanos / 1000000; }
};

// YYYY-MM-DD, T or t, hh:mm:ss, optionally '.' and one or more digits (as
// many as given, truncated to the nanosecond), then Z, z, +hh:mm or -hh:mm
// (hh up to 23, mm up to 59), and nothing after. The date must exist in the
// proleptic Gregorian calendar; an offset may carry it outside 0000-9999.
// False, leaving *out alone, when the text is not such a time.
bool parse_rfc3339(std::string_view text, Rfc3339Time* out, const Rfc3339Options& options = {});

// Unix ms as RFC 3339 in UTC with milliseconds: "2026-11-22T06:54:11.243Z".
std::string format_rfc3339_ms(int64_t unix_ms);
// The same appended to `out`: a query answer writes thousands of times.
void append_rfc3339_ms(std::string& out, int64_t unix_ms);
// The same written at `at`, which has room for kRfc3339MsMax bytes (years
// beyond 9999 are written the way snprintf would); returns the end.
inline constexpr size_t kRfc3339MsMax = 64;
char* write_rfc3339_ms(char* at, int64_t unix_ms);

}  // namespace edgemon
