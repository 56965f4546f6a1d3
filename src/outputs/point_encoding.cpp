#include "outputs/point_encoding.hpp"

namespace edgemon::outputs {

PointEncoding::PointEncoding(std::shared_ptr<const OutputKind> kind)
    : kind_(std::move(kind)), encoder_(kind_->make_encoder()) {}

PointEncoding::PointEncoding(const PointEncoding& other)
    : kind_(other.kind_), encoder_(kind_->make_encoder()) {}

PointEncoding& PointEncoding::operator=(const PointEncoding& other) {
  if (this != &other) {
    kind_ = other.kind_;
    encoder_ = kind_->make_encoder();
  }
  return *this;
}

bool PointEncoding::append(std::string& out, const metrics::Point& point) {
  EncodedPoints into;
  into.text = std::move(out);
  encoder_->append(point, into);
  out = std::move(into.text);
  return !into.ends.empty();
}

void PointEncoding::encode_into(std::span<const metrics::Point> points, EncodedPoints& into) {
  into.ends.reserve(into.ends.size() + points.size());
  for (const auto& p : points)
    encoder_->append(p, into);
}

EncodedPoints PointEncoding::encode(std::span<const metrics::Point> points) const {
  EncodedPoints encoded;
  encoded.ends.reserve(points.size());
  auto encoder = kind_->make_encoder();
  for (const auto& p : points)
    encoder->append(p, encoded);
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
