#include "outputs/hub_output.hpp"

#include "ingest/agent_payload.hpp"
#include "outputs/influx_request.hpp"
#include "outputs/line_output.hpp"

namespace edgemon::outputs {
namespace {

class HubKind : public LineOutputKind {
 public:
  explicit HubKind(const config::HubOutputConfig& config)
      : LineOutputKind(metrics::parse_precision(config.precision).value_or(metrics::Precision::kMs),
                       config.gzip),
        config_(config) {}

  std::string display_url() const override { return redact_url(config_.url); }

 protected:
  // The request to `path` on the hub, which forwards to its own outputs (no
  // database or bucket here).
  http::ClientRequest hub_request(std::string_view path, std::string_view content_type) const {
    http::ClientRequest r;
    r.method = "POST";
    r.timeout = config_.timeout;
    r.ca_file = config_.tls_ca_file;
    r.verify_tls = !config_.tls_skip_verify;
    r.max_response_bytes = 16 * 1024;
    std::string base = config_.url;
    while (!base.empty() && base.back() == '/')
      base.pop_back();
    r.url = base + std::string(path);
    r.headers.emplace_back("Content-Type: " + std::string(content_type));
    if (!config_.token.empty()) r.headers.emplace_back("Authorization: Bearer " + config_.token);
    return r;
  }

  config::HubOutputConfig config_;
};

class HubLineProtocolKind final : public HubKind {
 public:
  using HubKind::HubKind;
  std::string_view type() const override { return "hub_lp"; }
  std::unique_ptr<RowEncoder> make_encoder() const override {
    // A hub parses `u` integers like InfluxDB 2 does.
    return std::make_unique<LineProtocolRows>(metrics::LineProtocolOptions{precision(), true});
  }
  http::ClientRequest request(std::string_view precision) const override {
    auto parsed = metrics::parse_precision(precision).value_or(metrics::Precision::kNs);
    return hub_request("/write?precision=" + std::string(metrics::precision_v1_name(parsed)),
                       "text/plain; charset=utf-8");
  }
};

// One agent payload per line (NDJSON), of system_metrics points only: the
// payload is what the original agent sent for one collection.
class AgentPayloadRows final : public RowEncoder {
 public:
  void append(const metrics::Point& point, EncodedPoints& into) override {
    if (point.measurement != "system_metrics") {
      ++into.unrepresentable;
      return;
    }
    into.text += ingest::encode_agent_payload(point);
    into.text += '\n';
    into.ends.push_back(into.text.size());
  }
};

class HubJsonKind final : public HubKind {
 public:
  using HubKind::HubKind;
  std::string_view type() const override { return "hub_json"; }
  std::unique_ptr<RowEncoder> make_encoder() const override {
    return std::make_unique<AgentPayloadRows>();
  }
  http::ClientRequest request(std::string_view) const override {
    return hub_request("/metrics", "application/x-ndjson");
  }
};

}  // namespace

OutputSpec hub_spec(const config::HubOutputConfig& config) {
  OutputSpec spec;
  spec.name = config.name;
  spec.delivery = config;
  spec.settings = settings_text("hub", config);
  if (config.format == "json") {
    // The JSON payload is the system_metrics point of one collection.
    spec.schema = PointSchema::kSystemMetrics;
    spec.kind = std::make_shared<HubJsonKind>(config);
  } else {
    spec.schema = parse_schema(config.schema).value_or(PointSchema::kBoth);
    spec.kind = std::make_shared<HubLineProtocolKind>(config);
  }
  return spec;
}

}  // namespace edgemon::outputs
