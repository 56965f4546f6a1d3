#include "http/response_writer.hpp"

#include <cctype>
#include <cstdio>
#include <cstring>

namespace edgemon::http {

std::string HttpDate::format(time_t t) {
  // Built by hand: strftime's day and month names follow the locale.
  static constexpr const char* kDays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
  static constexpr const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                            "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  struct tm tm {};
  gmtime_r(&t, &tm);
  char buf[40];
  std::snprintf(buf, sizeof buf, "%s, %02d %s %04d %02d:%02d:%02d GMT", kDays[tm.tm_wday % 7],
                tm.tm_mday, kMonths[tm.tm_mon % 12], tm.tm_year + 1900, tm.tm_hour, tm.tm_min,
                tm.tm_sec);
  return buf;
}

namespace {

int month_index(const char* name) {
  static constexpr const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                            "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  for (int i = 0; i < 12; ++i) {
    if (std::strcmp(name, kMonths[i]) == 0) return i;
  }
  return -1;
}

}  // namespace

std::optional<time_t> HttpDate::parse(std::string_view text) {
  size_t name_end = 0;
  while (name_end < text.size() && std::isalpha(static_cast<unsigned char>(text[name_end])))
    ++name_end;
  if (name_end < 3 || name_end >= text.size() || text.size() > 64) return std::nullopt;
  std::string rest(text.substr(name_end + 1));
  int day = 0, year = 0, hour = 0, minute = 0, second = 0, used = 0;
  char month[4] = {};
  bool ok = false;
  if (text[name_end] == ' ') {  // asctime: "Sun Nov  6 08:49:37 1994"
    ok = std::sscanf(rest.c_str(), "%3s %2d %2d:%2d:%2d %4d%n", month, &day, &hour, &minute,
                     &second, &year, &used) == 6;
  } else if (text[name_end] == ',' && rest.size() > 3 && rest[3] == '-') {
    // RFC 850: "Sunday, 06-Nov-94 08:49:37 GMT"; two-digit years are read
    // as the nearest, as browsers do.
    ok = std::sscanf(rest.c_str(), " %2d-%3s-%2d %2d:%2d:%2d GMT%n", &day, month, &year, &hour,
                     &minute, &second, &used) == 6;
    year += year < 70 ? 2000 : 1900;
  } else if (text[name_end] == ',') {  // IMF-fixdate: "Sun, 06 Nov 1994 08:49:37 GMT"
    ok = std::sscanf(rest.c_str(), " %2d %3s %4d %2d:%2d:%2d GMT%n", &day, month, &year, &hour,
                     &minute, &second, &used) == 6;
  }
  if (!ok || rest.find_first_not_of(" \t", static_cast<size_t>(used)) != std::string::npos) {
    return std::nullopt;
  }
  int mon = month_index(month);
  if (mon < 0 || day < 1 || day > 31 || year < 1900 || hour > 23 || minute > 59 || second > 60 ||
      hour < 0 || minute < 0 || second < 0) {
    return std::nullopt;
  }
  struct tm tm {};
  tm.tm_year = year - 1900;
  tm.tm_mon = mon;
  tm.tm_mday = day;
  tm.tm_hour = hour;
  tm.tm_min = minute;
  tm.tm_sec = second;
  time_t t = timegm(&tm);
  if (t == static_cast<time_t>(-1)) return std::nullopt;
  return t;
}

std::string_view HttpDate::now() {
  time_t t = time(nullptr);
  if (t != cached_) {
    cached_ = t;
    text_ = format(t);
  }
  return text_;
}

bool status_has_body(int status) {
  return status >= 200 && status != 204 && status != 304;
}

void append_response_head(std::string& out, const Response& response, size_t content_length,
                          ConnectionHeader connection, std::string_view date) {
  out += "HTTP/1.1 ";
  out += std::to_string(response.status);
  out += ' ';
  out += status_reason(response.status);
  out += "\r\nServer: edgemon\r\nDate: ";
  out += date;
  out += "\r\n";
  if (status_has_body(response.status)) {
    if (!response.content_type.empty()) {
      out += "Content-Type: ";
      out += response.content_type;
      out += "\r\n";
    }
    out += "Content-Length: ";
    out += std::to_string(content_length);
    out += "\r\n";
  }
  if (connection == ConnectionHeader::kClose) out += "Connection: close\r\n";
  if (connection == ConnectionHeader::kKeepAlive) out += "Connection: keep-alive\r\n";
  for (const auto& [name, value] : response.headers) {
    out += name;
    out += ": ";
    out += value;
    out += "\r\n";
  }
  out += "\r\n";
}

}  // namespace edgemon::http
