#include "http/url.hpp"

#include <charconv>

#include "http/query_string.hpp"

namespace edgemon::http {
namespace {

// Bytes that would end the request line or split a header: a URL carrying
// them could smuggle a second request.
bool has_control(std::string_view text) {
  for (char c : text) {
    if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f) return true;
  }
  return false;
}

bool valid_host_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '.' || c == '_' || c == '%';
}

std::string parse_host_port(std::string_view hostport, Url* url) {
  std::string_view port_text;
  if (hostport.starts_with('[')) {
    size_t close = hostport.find(']');
    if (close == std::string_view::npos) return "the URL's IPv6 address lacks its ']'";
    url->host = std::string(hostport.substr(1, close - 1));
    url->host_is_ipv6 = true;
    std::string_view rest = hostport.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':') return "unexpected text after the URL's IPv6 address";
      port_text = rest.substr(1);
    }
    if (url->host.empty() ||
        url->host.find_first_not_of("0123456789abcdefABCDEF:.") != std::string::npos) {
      return "the URL's IPv6 address is not valid";
    }
  } else {
    size_t colon = hostport.rfind(':');
    url->host = std::string(hostport.substr(0, colon));
    if (colon != std::string_view::npos) port_text = hostport.substr(colon + 1);
    for (char c : url->host) {
      if (!valid_host_char(c)) return "the URL's host '" + url->host + "' is not valid";
    }
  }
  if (url->host.empty()) return "the URL has no host";
  url->port = url->tls ? 443 : 80;
  if (hostport.ends_with(':')) return "the URL's port is empty";
  if (!port_text.empty()) {
    unsigned port = 0;
    auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
    if (ec != std::errc() || end != port_text.data() + port_text.size() || port == 0 ||
        port > 65535) {
      return "the URL's port '" + std::string(port_text) + "' is not a number from 1 to 65535";
    }
    url->default_port = port == url->port;
    url->port = static_cast<uint16_t>(port);
  }
  return "";
}

}  // namespace

std::string Url::authority() const {
  std::string out = host_is_ipv6 ? "[" + host + "]" : host;
  if (!default_port) out += ":" + std::to_string(port);
  return out;
}

std::string parse_url(std::string_view text, Url* out) {
  Url url;
  std::string_view rest = text;
  if (rest.starts_with("http://")) {
    rest.remove_prefix(7);
  } else if (rest.starts_with("https://")) {
    url.tls = true;
    rest.remove_prefix(8);
  } else {
    return "unsupported URL '" + std::string(text) + "': expected http:// or https://";
  }
  if (has_control(text)) return "the URL must not contain spaces or control characters";
  rest = rest.substr(0, rest.find('#'));  // never sent
  size_t path_start = rest.find_first_of("/?");
  std::string_view authority = rest.substr(0, path_start);
  std::string_view target =
      path_start == std::string_view::npos ? std::string_view() : rest.substr(path_start);
  size_t at = authority.rfind('@');
  if (at != std::string_view::npos) {
    std::string_view userinfo = authority.substr(0, at);
    size_t colon = userinfo.find(':');
    if (!percent_decode(userinfo.substr(0, colon), &url.username, false) ||
        (colon != std::string_view::npos &&
         !percent_decode(userinfo.substr(colon + 1), &url.password, false))) {
      return "the URL's user information has an invalid percent-encoding";
    }
    authority.remove_prefix(at + 1);
  }
  if (std::string error = parse_host_port(authority, &url); !error.empty()) return error;
  url.target = target.empty() ? "/" : std::string(target);
  if (url.target.front() == '?') url.target.insert(0, "/");
  *out = std::move(url);
  return "";
}

}  // namespace edgemon::http
