#pragma once
// What the line-oriented kinds share -- InfluxDB v1 and v2, and an edgemon
// hub taking line protocol or the agent's JSON: a spool row is
// '\n'-terminated lines, one per point; rows are joined by concatenation; a
// row too large for the server is cut between lines; bodies are gzipped
// when the output's `gzip` key says so; answers are read by InfluxDB's rules
// (write_outcome.hpp), which a hub follows too.
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "metrics/line_protocol.hpp"
#include "outputs/output_kind.hpp"

namespace edgemon::outputs {

class LineOutputKind : public OutputKind {
 public:
  LineOutputKind(metrics::Precision precision, bool gzip) : precision_(precision), gzip_(gzip) {}

  metrics::Precision precision() const override { return precision_; }
  void join_rows(std::span<store::Batch> rows, std::string* body) const override;
  [[nodiscard]] std::optional<RowCut> cut_row(std::string_view row,
                                              int64_t max_items) const override;
  [[nodiscard]] ContentCoding compress(std::string_view body, std::string* wire) const override;
  [[nodiscard]] WriteOutcome classify(const http::ClientResponse& response) const override;
  [[nodiscard]] std::string describe_failure(const http::ClientResponse& response) const override;

 private:
  metrics::Precision precision_;
  bool gzip_;
};

// Line protocol rows, one line per point.
class LineProtocolRows final : public RowEncoder {
 public:
  explicit LineProtocolRows(metrics::LineProtocolOptions options) : encoder_(options) {}
  void append(const metrics::Point& point, EncodedPoints& into) override;

 private:
  metrics::LineProtocolEncoder encoder_;
};

}  // namespace edgemon::outputs
