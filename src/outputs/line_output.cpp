#include "outputs/line_output.hpp"

#include "core/gzip.hpp"

namespace edgemon::outputs {

void LineOutputKind::join_rows(std::span<store::Batch> rows, std::string* body) const {
  concatenate_rows(rows, body);
}

std::optional<RowCut> LineOutputKind::cut_row(std::string_view row, int64_t max_items) const {
  RowCut cut;
  while (cut.items < max_items && cut.bytes < row.size()) {
    size_t nl = row.find('\n', cut.bytes);
    cut.bytes = nl == std::string_view::npos ? row.size() : nl + 1;
    ++cut.items;
  }
  if (cut.items == 0) return std::nullopt;
  return cut;
}

ContentCoding LineOutputKind::compress(std::string_view body, std::string* wire) const {
  if (gzip_ && gzip_compress(body, 1, wire)) return ContentCoding::kGzip;
  wire->clear();  // A failed compression is sent as it is.
  return ContentCoding::kIdentity;
}

WriteOutcome LineOutputKind::classify(const http::ClientResponse& response) const {
  return outputs::classify(response);
}

std::string LineOutputKind::describe_failure(const http::ClientResponse& response) const {
  return outputs::describe_failure(response);
}

void LineProtocolRows::append(const metrics::Point& point, EncodedPoints& into) {
  if (encoder_.append(into.text, point)) {
    into.ends.push_back(into.text.size());
  } else {
    ++into.unrepresentable;
  }
}

}  // namespace edgemon::outputs
