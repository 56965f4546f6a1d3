#include "outputs/influx_request.hpp"

#include "metrics/line_protocol.hpp"

namespace edgemon::outputs {

std::string url_encode(std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : text) {
    bool unreserved = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                      c == '-' || c == '_' || c == '.' || c == '~';
    if (unreserved) {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

std::string redact_url(std::string_view url) {
  size_t scheme = url.find("://");
  if (scheme == std::string_view::npos) return std::string(url);
  size_t host = scheme + 3;
  size_t end = url.find_first_of("/?#", host);
  size_t at = url.substr(0, end).rfind('@');
  if (at == std::string_view::npos || at < host) return std::string(url);
  return std::string(url.substr(0, host)) + std::string(url.substr(at + 1));
}

http::ClientRequest influx_write_request(const config::InfluxOutputConfig& config,
                                         std::string_view precision) {
  http::ClientRequest r;
  r.method = "POST";
  r.timeout = config.timeout;
  r.ca_file = config.tls_ca_file;
  r.verify_tls = !config.tls_skip_verify;
  r.max_response_bytes = 16 * 1024;
  std::string base = config.url;
  while (!base.empty() && base.back() == '/')
    base.pop_back();
  auto parsed = metrics::parse_precision(precision).value_or(metrics::Precision::kNs);
  if (config.version == 2) {
    r.url = base + "/api/v2/write?org=" + url_encode(config.org) +
            "&bucket=" + url_encode(config.bucket) +
            "&precision=" + std::string(metrics::precision_name(parsed));
  } else {
    r.url = base + "/write?db=" + url_encode(config.database);
    if (!config.retention_policy.empty()) r.url += "&rp=" + url_encode(config.retention_policy);
    r.url += "&precision=" + std::string(metrics::precision_v1_name(parsed));
  }
  r.headers.emplace_back("Content-Type: text/plain; charset=utf-8");
  if (!config.token.empty()) {
    r.headers.emplace_back("Authorization: Token " + config.token);
  } else if (!config.username.empty()) {
    if (config.version == 2) {
      // InfluxDB 1.8+ accepts v1 credentials on its v2 endpoint this way.
      r.headers.emplace_back("Authorization: Token " + config.username + ":" + config.password);
    } else {
      r.username = config.username;
      r.password = config.password;
    }
  }
  return r;
}

}  // namespace edgemon::outputs
