#include "metrics/prometheus_text.hpp"

#include <bit>
#include <cmath>
#include <cstring>
#include <unordered_map>

#include "core/number_text.hpp"

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
    // Most values are counts, written whole: 1000000 rather than the
    // shortest form's 1e+06 (the same value to every parser).
    append_integer(out, static_cast<int64_t>(value));
  } else {
    append_double(out, value);  // shortest representation that round-trips
  }
}

namespace {

// find_first_of() calls memchr per character; a plain scan is several times
// cheaper for the short strings of an exposition.
bool needs_escaping(std::string_view text, bool quotes) {
  for (char c : text) {
    if (c == '\\' || c == '\n' || (quotes && c == '"')) return true;
  }
  return false;
}

}  // namespace

namespace {

// Label values escape backslash, quote and newline; HELP text only
// backslash and newline.
void append_escaped(std::string& out, std::string_view text, bool quotes) {
  if (!needs_escaping(text, quotes)) {
    out += text;
    return;
  }
  for (char c : text) {
    if (c == '\\' || (quotes && c == '"')) {
      out.push_back('\\');
      out.push_back(c);
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out.push_back(c);
    }
  }
}

}  // namespace

void append_escaped_label_value(std::string& out, std::string_view value) {
  append_escaped(out, value, true);
}

void append_escaped_help(std::string& out, std::string_view help) {
  append_escaped(out, help, false);
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

namespace {

// Appends with a raw cursor into space reserved up front: a scrape writes
// hundreds of series, and per-append capacity checks were most of its cost.
class Cursor {
 public:
  explicit Cursor(char* p) : p_(p) {}
  void put(std::string_view s) {
    if (s.empty()) return;  // an empty view may hold a null pointer, invalid for memcpy
    std::memcpy(p_, s.data(), s.size());
    p_ += s.size();
  }
  void put(char c) { *p_++ = c; }
  void put_label_value(std::string_view v) {
    for (char c : v) {
      if (c == '\\' || c == '"') {
        *p_++ = '\\';
        *p_++ = c;
      } else if (c == '\n') {
        *p_++ = '\\';
        *p_++ = 'n';
      } else {
        *p_++ = c;
      }
    }
  }
  char* end() const { return p_; }

 private:
  char* p_;
};

}  // namespace

void PrometheusTextWriter::write_series(std::string_view suffix, Labels labels, const Label* extra,
                                        double value) {
  // Upper bound: escaping at most doubles a label value.
  size_t need = family_.name.size() + suffix.size() + 4;
  for (const Label& l : labels)
    need += l.name.size() + 2 * l.value.size() + 4;
  if (extra != nullptr) need += extra->name.size() + 2 * extra->value.size() + 4;
  size_t start = out_.size();
  out_.resize(start + need);
  Cursor c(out_.data() + start);
  c.put(family_.name);
  c.put(suffix);
  if (!labels.empty() || extra != nullptr) {
    c.put('{');
    bool first = true;
    auto put_label = [&](const Label& l) {
      if (!first) c.put(',');
      first = false;
      c.put(l.name);
      c.put("=\"");
      c.put_label_value(l.value);
      c.put('"');
    };
    for (const Label& l : labels)
      put_label(l);
    if (extra != nullptr) put_label(*extra);
    c.put('}');
  }
  c.put(' ');
  out_.resize(static_cast<size_t>(c.end() - out_.data()));
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
struct BoundHash {
  size_t operator()(double d) const noexcept {
    return static_cast<size_t>(std::bit_cast<uint64_t>(d) * 0x9e3779b97f4a7c15ULL >> 17);
  }
};

std::string_view le_text(double bound, std::string& scratch) {
  static std::unordered_map<double, std::string, BoundHash> cache;
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
