#pragma once
// The parts of an http:// or https:// URL that the client needs to open a
// connection and write a request line. Configuration has already checked
// output URLs (config::check_http_url); this is the stricter parse at send
// time, where a URL from any source becomes either a target or an error.
#include <cstdint>
#include <string>
#include <string_view>

namespace edgemon::http {

struct Url {
  bool tls = false;
  // Without brackets for IPv6 literals ("::1"); the Host header adds them.
  std::string host;
  bool host_is_ipv6 = false;
  uint16_t port = 0;  // the scheme's default when the URL has none
  bool default_port = true;
  std::string target;  // path and query, at least "/"
  // Decoded userinfo, used as Basic credentials when the request has none.
  std::string username;
  std::string password;

  // "host", "host:port" or "[v6]:port", as the Host header wants it.
  std::string authority() const;
};

// "" and *out filled, or why `text` cannot be requested.
std::string parse_url(std::string_view text, Url* out);

}  // namespace edgemon::http
