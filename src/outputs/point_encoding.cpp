#include "outputs/point_encoding.hpp"

#include "ingest/agent_payload.hpp"

namespace edgemon::outputs {

PointEncoding::PointEncoding(const config::InfluxOutputConfig& config)
    : json_(config.format == "json"),
      // A hub parses `u` integers like InfluxDB 2 does.
      encoder_(metrics::LineProtocolOptions{
          metrics::parse_precision(config.precision).value_or(metrics::Precision::kMs),
          config.version == 2 || config.kind == "hub"}) {}

bool PointEncoding::append(std::string& out, const metrics::Point& point) {
  if (!json_) return encoder_.append(out, point);
  // The agent payload is a system_metrics point; nothing else has one.
  if (point.measurement != "system_metrics") return false;
  out += ingest::encode_agent_payload(point);
  out += '\n';
  return true;
}

EncodedPoints PointEncoding::encode(std::span<const metrics::Point> points) const {
  PointEncoding local = *this;  // the encoder keeps scratch space and counters
  EncodedPoints encoded;
  encoded.ends.reserve(points.size());
  for (const auto& p : points) {
    if (local.append(encoded.text, p)) {
      encoded.ends.push_back(encoded.text.size());
    } else {
      ++encoded.unrepresentable;
    }
  }
  return encoded;
}

std::vector<EncodedPoints> IngestEncoding::encode(std::span<const metrics::Point> points) const {
  std::vector<EncodedPoints> out;
  out.reserve(outputs_.size());
  for (const auto& o : outputs_)
    out.push_back(o.encode(points));
  return out;
}

}  // namespace edgemon::outputs
