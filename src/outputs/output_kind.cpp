#include "outputs/output_kind.hpp"

namespace edgemon::outputs {

const char* content_coding_name(ContentCoding coding) {
  switch (coding) {
    case ContentCoding::kIdentity:
      return "identity";
    case ContentCoding::kGzip:
      return "gzip";
    case ContentCoding::kSnappy:
      return "snappy";
  }
  return "identity";
}

void concatenate_rows(std::span<store::Batch> rows, std::string* body) {
  if (rows.size() == 1) {
    *body = std::move(rows.front().body);  // the usual case: no copy
    return;
  }
  size_t total = 0;
  for (const auto& r : rows)
    total += r.body.size();
  body->reserve(body->size() + total);
  for (auto& r : rows) {
    *body += r.body;
    std::string().swap(r.body);  // Free as we go: peak memory is one copy.
  }
}

std::optional<PointSchema> parse_schema(std::string_view text) {
  if (text == "host") return PointSchema::kHost;
  if (text == "system_metrics") return PointSchema::kSystemMetrics;
  if (text == "both") return PointSchema::kBoth;
  return std::nullopt;
}

}  // namespace edgemon::outputs
