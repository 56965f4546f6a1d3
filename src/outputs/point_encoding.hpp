#pragma once
// How one output writes points -- line protocol with its precision and
// integer rules, or the agent's JSON payload -- as a value any thread may
// use. The hub encodes received points with it on the thread pool, the
// output encodes its own collections with it on the loop: the same bytes
// either way.
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "core/config.hpp"
#include "metrics/line_protocol.hpp"
#include "metrics/point.hpp"

namespace edgemon::outputs {

// Points as one output writes them.
struct EncodedPoints {
  std::string text;
  std::vector<size_t> ends;      // where each point's text ends in `text`
  uint64_t unrepresentable = 0;  // points that produced no text
};

class PointEncoding {
 public:
  explicit PointEncoding(const config::InfluxOutputConfig& config);

  // Appends one point to `out`; false, with nothing appended, when this
  // output cannot represent it.
  bool append(std::string& out, const metrics::Point& point);
  EncodedPoints encode(std::span<const metrics::Point> points) const;

  metrics::Precision precision() const { return encoder_.options().precision; }

 private:
  bool json_;
  metrics::LineProtocolEncoder encoder_;
};

// Encodes for every output of a pipeline as they were configured when it
// was made; a reload makes a new one (Pipeline::ingest_encoding()).
class IngestEncoding {
 public:
  explicit IngestEncoding(std::vector<PointEncoding> outputs) : outputs_(std::move(outputs)) {}
  // One EncodedPoints per output, in the pipeline's order.
  std::vector<EncodedPoints> encode(std::span<const metrics::Point> points) const;

 private:
  std::vector<PointEncoding> outputs_;
};

}  // namespace edgemon::outputs
