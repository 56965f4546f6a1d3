#include "metrics/prometheus_names.hpp"

namespace edgemon::metrics {
namespace {

bool name_char(char c, bool first, bool colon) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || (colon && c == ':') ||
         (!first && c >= '0' && c <= '9');
}

// An empty name stays empty: the consumer refuses it and counts it.
void append_sanitized(std::string_view text, bool colon, std::string* out) {
  if (out->empty() && !text.empty() && text.front() >= '0' && text.front() <= '9') {
    out->push_back('_');
  }
  for (char c : text)
    out->push_back(name_char(c, out->empty(), colon) ? c : '_');
}

}  // namespace

void point_metric_name(std::string_view measurement, std::string_view field, std::string* out) {
  out->clear();
  append_sanitized(measurement, true, out);
  if (field != "value") {
    out->push_back('_');
    append_sanitized(field, true, out);
  }
}

void point_label_name(std::string_view key, std::string* out) {
  out->clear();
  append_sanitized(key, false, out);
}

}  // namespace edgemon::metrics
