#pragma once
// How one output writes points -- its kind's RowEncoder -- as a value any
// thread may use. The hub encodes received points with it on the thread
// pool, the output encodes its own collections with it on the loop: the same
// bytes either way.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "metrics/line_protocol.hpp"
#include "metrics/point.hpp"
#include "outputs/output_kind.hpp"

namespace edgemon::outputs {

class PointEncoding {
 public:
  explicit PointEncoding(std::shared_ptr<const OutputKind> kind);
  // A copy has its own scratch space.
  PointEncoding(const PointEncoding& other);
  PointEncoding& operator=(const PointEncoding& other);
  PointEncoding(PointEncoding&&) = default;
  PointEncoding& operator=(PointEncoding&&) = default;

  // Appends one point to `out`; false, with nothing appended, when this
  // output cannot represent it.
  bool append(std::string& out, const metrics::Point& point);
  // With this object's scratch space: for the one thread that owns it.
  void encode_into(std::span<const metrics::Point> points, EncodedPoints& into);
  // With scratch space of its own: any thread may call it at once.
  EncodedPoints encode(std::span<const metrics::Point> points) const;

  metrics::Precision precision() const { return kind_->precision(); }
  const OutputKind& kind() const { return *kind_; }

 private:
  std::shared_ptr<const OutputKind> kind_;
  std::unique_ptr<RowEncoder> encoder_;
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
