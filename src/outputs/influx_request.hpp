#pragma once
// The HTTP request an InfluxDB output sends, without its body: URL with the
// write parameters for v1 or v2, authentication and headers. The URL helpers
// serve every kind of output.
#include <string>
#include <string_view>

#include "core/config.hpp"
#include "http/http_client.hpp"

namespace edgemon::outputs {

// `precision` is the v2 spelling stored with each spooled batch (ns, us, ms, s).
http::ClientRequest influx_write_request(const config::InfluxOutputConfig& config,
                                         std::string_view precision);

// The URL with any user:password@ removed, for logs and /status.
std::string redact_url(std::string_view url);

// Percent-encoding of a query parameter value (RFC 3986 unreserved kept).
std::string url_encode(std::string_view text);

}  // namespace edgemon::outputs
