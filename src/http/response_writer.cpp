#include "http/response_writer.hpp"

#include <cstdio>

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
