#pragma once
// Prometheus text exposition format 0.0.4 writer.
#include <string>
#include <string_view>

#include "metrics/metric_sink.hpp"

namespace edgemon::metrics {

inline constexpr std::string_view kPrometheusContentType =
    "text/plain; version=0.0.4; charset=utf-8";

// Appends to a caller-owned string so a scrape can render several sections
// into one buffer. HELP and TYPE are written lazily with the first sample, so
// a family with no samples leaves no dangling metadata.
class PrometheusTextWriter final : public MetricSink {
 public:
  explicit PrometheusTextWriter(std::string& out) : out_(out) {}

  void begin(const FamilyDesc& family) override;
  void sample(Labels labels, double value) override;
  void histogram(Labels labels, std::span<const double> bounds,
                 std::span<const uint64_t> cumulative, double sum, uint64_t count) override;
  using MetricSink::sample;

 private:
  void write_header_once();
  void write_series(std::string_view suffix, Labels labels, const Label* extra, double value);

  std::string& out_;
  FamilyDesc family_{};
  bool header_written_ = true;
};

// Formatting rules of the text format, exposed for tests and other writers.
void append_prometheus_value(std::string& out, double value);
void append_escaped_label_value(std::string& out, std::string_view value);
void append_escaped_help(std::string& out, std::string_view help);
const char* type_name(Type type);

}  // namespace edgemon::metrics
