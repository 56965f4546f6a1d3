#pragma once
// What a route handler sees and fills in. Handlers run synchronously on the
// loop thread, so a Request is only valid for the duration of the call.
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/net_address.hpp"

namespace edgemon::http {

// Access group of a route: config http.access.read / http.access.write.
enum class Group { kRead, kWrite };

struct Request {
  std::string_view method;                                   // "GET"; points at a static string
  std::string path;                                          // percent-decoded, without the query
  std::string query;                                         // raw, without '?'
  std::vector<std::pair<std::string, std::string>> headers;  // names lower-cased
  std::string body;
  IpAddress client;
  int http_minor = 1;  // HTTP/1.x
  // Access rules were already applied when the head arrived (requests with
  // a body are checked before the body is read).
  bool admitted = false;

  // First header with this (lower-case) name, or nullptr.
  const std::string* header(std::string_view lower_name) const;
  // Accept-Encoding names gzip (or *) with a q-value other than 0.
  bool accepts_gzip() const;
};

struct Response {
  int status = 200;
  std::string content_type = "application/json";
  std::vector<std::pair<std::string, std::string>> headers;  // extra headers
  // Parts written in order without copying, so a handler can hand out a
  // shared, already rendered document (the last /metrics exposition).
  std::vector<std::shared_ptr<const std::string>> body;

  void set_body(std::string text);
  void add_body(std::shared_ptr<const std::string> part);
  size_t body_size() const;
};

using Handler = std::function<void(const Request&, Response&)>;

// The body of every error the server itself produces:
// {"error":"<message>","status":N}
Response json_error(int status, std::string_view message);

// "OK", "Not Found", ...; "Unknown" for codes without a registered phrase.
std::string_view status_reason(int status);

}  // namespace edgemon::http
