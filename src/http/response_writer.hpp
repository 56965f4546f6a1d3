#pragma once
// The bytes of a response head. Kept separate from the connection so the
// wire format is testable without sockets.
#include <ctime>
#include <optional>
#include <string>
#include <string_view>

#include "http/request.hpp"

namespace edgemon::http {

// The Date header value, formatted at most once a second.
class HttpDate {
 public:
  std::string_view now();
  static std::string format(time_t t);
  // Any of the three forms HTTP allows (RFC 9110 5.6.7): IMF-fixdate,
  // RFC 850 and asctime; nullopt for anything else.
  static std::optional<time_t> parse(std::string_view text);

 private:
  time_t cached_ = -1;
  std::string text_;
};

enum class ConnectionHeader { kNone, kKeepAlive, kClose };

// 1xx, 204 and 304 responses have no body and no Content-Length.
bool status_has_body(int status);

// Appends the status line and headers, including Server, Date, Content-Type
// and Content-Length (of the body even when it is not sent, as for HEAD).
void append_response_head(std::string& out, const Response& response, size_t content_length,
                          ConnectionHeader connection, std::string_view date);

}  // namespace edgemon::http
