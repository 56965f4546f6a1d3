#pragma once
// The options of a Prometheus remote-write output: one entry of
// `outputs.remote_write`, e.g.
//
//   outputs:
//     remote_write:
//       - name: prom
//         url: http://127.0.0.1:9090/api/v1/write
//
// Its `name` is the instance's (config::Instance), not a key of this struct.
// Timestamps are always milliseconds and bodies always snappy (the wire
// format says so), so the precision and gzip keys of other outputs do not
// exist here.
#include <string>
#include <string_view>

#include "core/config.hpp"
#include "core/config_error.hpp"

namespace edgemon::outputs {

// http:// or https:// with a host; unlike InfluxDB's, a query string is
// allowed (some receivers take tenant or label parameters there).
std::string check_remote_write_url(std::string_view text);
// A header name (RFC 9110 token) that the request does not set itself.
std::string check_header_name(std::string_view text);

struct RemoteWriteConfig : config::DeliverySettings {
  std::string url;
  std::string bearer_token;
  std::string username;
  std::string password;
  config::StringMap headers;
  std::string schema = "host";

  RemoteWriteConfig() {
    precision = "ms";
    gzip = false;
    // Prometheus's own senders default to 2,000 samples a request.
    batch_size = 2000;
  }

  template <class V>
  void visit(V& v) {
    v.field("url", url,
            "Full URL of the remote-write receiver, e.g. http://127.0.0.1:9090/api/v1/write "
            "(Prometheus started with --web.enable-remote-write-receiver), or the push URL of "
            "Mimir, Cortex, Thanos or VictoriaMetrics. Required.",
            check_remote_write_url);
    v.field("bearer_token", bearer_token,
            "Sent as `Authorization: Bearer TOKEN`. Not together with username.", nullptr);
    v.field("username", username, "User for HTTP Basic authentication.", nullptr);
    v.field("password", password, "Password for HTTP Basic authentication.", nullptr);
    v.field("headers", headers,
            "Extra request headers, e.g. {X-Scope-OrgID: edge} for a multi-tenant Mimir.",
            check_header_name);
    visit_tls(v);
    v.field("schema", schema,
            "What is written: host, system_metrics or both. Each numeric field of a point "
            "becomes one series named MEASUREMENT_FIELD (just MEASUREMENT for a field named "
            "value), labelled with the point's tags; batch_size and the points counters count "
            "these samples.",
            config::check_output_schema);
    visit_sending(v, false);
    visit_spool(v);
  }

  // Cross-key checks; `path` prefixes the keys named in errors.
  void validate(const std::string& path, config::Errors& errors) const;
};

}  // namespace edgemon::outputs
