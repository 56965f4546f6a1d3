#include "metrics/prometheus_text.hpp"

#include <charconv>
#include <cmath>
#include <cstring>
#include <unordered_map>

namespace edgemon::metrics {

const char* type_name(Type type) {
  switch (type) {
    case Type::kCounter:
      return "counter";
    case Type::kGauge:
      return "gauge";
    case Type::kHistogram:
      return "histogram";
    case Type::kUntyped:
      return "untyped";
  }
  return "untyped";
}

void append_prometheus_value(std::string& out, double value) {
  if (std::isnan(value)) {
    out += "NaN";
  } else if (std::isinf(value)) {
    out += value > 0 ? "+Inf" : "-Inf";
  } else if (value == std::trunc(value) && std::fabs(value) < 9.007199254740992e15) {
    // Most values are counts; integer formatting is several times cheaper
    // than the shortest-round-trip double algorithm and prints the same text.
    char buf[24];
    auto [end, ec] = std::to_chars(buf, buf + sizeof buf, static_cast<int64_t>(value));
    out.append(buf, ec == std::errc() ? end : buf);
  } else {
    // Shortest representation that round-trips.
    char buf[32];
    auto [end, ec] = std::to_chars(buf, buf + sizeof buf, value);
    out.append(buf, ec == std::errc() ? end : buf);
  }
}

void append_escaped_label_value(std::string& out, std::string_view value) {
  if (value.find_first_of("\\\"\n") == std::string_view::npos) {
    out += value;
    return;
  }
  for (char c : value) {
    switch (c) {
      case '\\':
        out += "\\\\";
        break;
      case '"':
        out += "\\\"";
        break;
      case '\n':
        out += "\\n";
        break;
      default:
        out.push_back(c);
    }
  }
}

void append_escaped_help(std::string& out, std::string_view help) {
  if (help.find_first_of("\\\n") == std::string_view::npos) {
    out += help;
    return;
  }
  for (char c : help) {
    switch (c) {
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      default:
        out.push_back(c);
    }
  }
}

void PrometheusTextWriter::begin(const FamilyDesc& family) {
  family_ = family;
  header_written_ = false;
}

void PrometheusTextWriter::write_header_once() {
  if (header_written_) return;
  header_written_ = true;
  out_ += "# HELP ";
  out_ += family_.name;
  out_.push_back(' ');
  append_escaped_help(out_, family_.help);
  out_ += "\n# TYPE ";
  out_ += family_.name;
  out_.push_back(' ');
  out_ += type_name(family_.type);
  out_.push_back('\n');
}

void PrometheusTextWriter::write_series(std::string_view suffix, Labels labels, const Label* extra,
                                        double value) {
  out_ += family_.name;
  out_ += suffix;
  if (!labels.empty() || extra != nullptr) {
    out_.push_back('{');
    bool first = true;
    auto put = [&](const Label& l) {
      if (!first) out_.push_back(',');
      first = false;
      out_ += l.name;
      out_ += "=\"";
      append_escaped_label_value(out_, l.value);
      out_.push_back('"');
    };
    for (const Label& l : labels)
      put(l);
    if (extra != nullptr) put(*extra);
    out_.push_back('}');
  }
  out_.push_back(' ');
  append_prometheus_value(out_, value);
  out_.push_back('\n');
}

void PrometheusTextWriter::sample(Labels labels, double value) {
  write_header_once();
  write_series({}, labels, nullptr, value);
}

namespace {

// Bucket bounds are a handful of constants rendered on every scrape; their
// text is cached (bounded, in case a caller ever uses many distinct bounds).
std::string_view le_text(double bound, std::string& scratch) {
  static std::unordered_map<double, std::string> cache;
  if (auto it = cache.find(bound); it != cache.end()) return it->second;
  scratch.clear();
  append_prometheus_value(scratch, bound);
  if (cache.size() >= 256) return scratch;
  return cache.emplace(bound, scratch).first->second;
}

}  // namespace

void PrometheusTextWriter::histogram(Labels labels, std::span<const double> bounds,
                                     std::span<const uint64_t> cumulative, double sum,
                                     uint64_t count) {
  write_header_once();
  std::string scratch;
  for (size_t i = 0; i < bounds.size() && i < cumulative.size(); ++i) {
    Label bucket{"le", le_text(bounds[i], scratch)};
    write_series("_bucket", labels, &bucket, static_cast<double>(cumulative[i]));
  }
  Label inf{"le", "+Inf"};
  write_series("_bucket", labels, &inf, static_cast<double>(count));
  write_series("_sum", labels, nullptr, sum);
  write_series("_count", labels, nullptr, static_cast<double>(count));
}

}  // namespace edgemon::metrics
