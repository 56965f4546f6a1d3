#include "outputs/influxdb_output.hpp"

#include "outputs/influx_request.hpp"
#include "outputs/line_output.hpp"

namespace edgemon::outputs {
namespace {

metrics::Precision precision_of(const config::InfluxOutputConfig& config) {
  return metrics::parse_precision(config.precision).value_or(metrics::Precision::kMs);
}

class InfluxKind : public LineOutputKind {
 public:
  explicit InfluxKind(const config::InfluxOutputConfig& config)
      : LineOutputKind(precision_of(config), config.gzip), config_(config) {}

  std::string display_url() const override { return redact_url(config_.url); }
  http::ClientRequest request(std::string_view precision) const override {
    return influx_write_request(config_, precision);
  }

 protected:
  config::InfluxOutputConfig config_;
};

class InfluxV1Kind final : public InfluxKind {
 public:
  using InfluxKind::InfluxKind;
  std::string_view type() const override { return "influxdb_v1"; }
  std::unique_ptr<RowEncoder> make_encoder() const override {
    // Version 1 has no unsigned integer type.
    return std::make_unique<LineProtocolRows>(metrics::LineProtocolOptions{precision(), false});
  }
};

class InfluxV2Kind final : public InfluxKind {
 public:
  using InfluxKind::InfluxKind;
  std::string_view type() const override { return "influxdb_v2"; }
  std::unique_ptr<RowEncoder> make_encoder() const override {
    return std::make_unique<LineProtocolRows>(metrics::LineProtocolOptions{precision(), true});
  }
};

}  // namespace

OutputSpec influxdb_spec(const config::InfluxOutputConfig& config) {
  OutputSpec spec;
  spec.name = config.name;
  spec.delivery = config;
  spec.schema = parse_schema(config.schema).value_or(PointSchema::kHost);
  spec.settings = settings_text("influxdb", config);
  if (config.version == 2) {
    spec.kind = std::make_shared<InfluxV2Kind>(config);
  } else {
    spec.kind = std::make_shared<InfluxV1Kind>(config);
  }
  return spec;
}

}  // namespace edgemon::outputs
