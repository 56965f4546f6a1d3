#include "metrics/line_protocol.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <type_traits>

#include "core/number_text.hpp"

namespace edgemon::metrics {

std::optional<Precision> parse_precision(std::string_view text) {
  if (text == "ns") return Precision::kNs;
  if (text == "us") return Precision::kUs;
  if (text == "ms") return Precision::kMs;
  if (text == "s") return Precision::kS;
  return std::nullopt;
}

std::string_view precision_name(Precision precision) {
  switch (precision) {
    case Precision::kNs:
      return "ns";
    case Precision::kUs:
      return "us";
    case Precision::kMs:
      return "ms";
    case Precision::kS:
      return "s";
  }
  return "ns";
}

std::string_view precision_v1_name(Precision precision) {
  switch (precision) {
    case Precision::kNs:
      return "n";
    case Precision::kUs:
      return "u";
    case Precision::kMs:
      return "ms";
    case Precision::kS:
      return "s";
  }
  return "n";
}

int64_t convert_timestamp(int64_t time_ns, Precision precision) {
  int64_t unit = 1;
  switch (precision) {
    case Precision::kNs:
      return time_ns;
    case Precision::kUs:
      unit = 1'000;
      break;
    case Precision::kMs:
      unit = 1'000'000;
      break;
    case Precision::kS:
      unit = 1'000'000'000;
      break;
  }
  // C++ division truncates toward zero; -1 ns is still in second -1.
  int64_t q = time_ns / unit;
  if (time_ns % unit < 0) --q;
  return q;
}

namespace {

// Characters that need a look before a name can be copied verbatim.
bool interesting(char c) {
  switch (c) {
    case ',':
    case '=':
    case ' ':
    case '"':
    case '\\':
    case '\n':
    case '\r':
      return true;
    default:
      return false;
  }
}

// Appends a measurement (key = false) or a tag key, tag value or field key
// (key = true) with its delimiters escaped. Returns false and leaves `out`
// unchanged when the text cannot be represented (see line_protocol.hpp).
bool append_name(std::string& out, std::string_view text, bool key) {
  if (text.empty()) return false;
  if (std::none_of(text.begin(), text.end(), interesting)) {
    out += text;
    return true;
  }
  const size_t mark = out.size();
  size_t backslashes = 0;  // length of the run just written
  for (char c : text) {
    const bool special = c == ',' || c == ' ' || (key && c == '=');
    // The server pairs each backslash with the next byte, so an odd run
    // would swallow our escape or the delimiter after the name.
    const bool breaks_run = special || c == '=' || c == '"';
    if (c == '\n' || c == '\r' || (backslashes % 2 == 1 && breaks_run)) {
      out.resize(mark);
      return false;
    }
    if (special) out.push_back('\\');
    out.push_back(c);
    backslashes = c == '\\' ? backslashes + 1 : 0;
  }
  if (backslashes % 2 == 1) {
    out.resize(mark);
    return false;
  }
  return true;
}

bool reserved_key(std::string_view key) {
  return key == "time" || key == "_field" || key == "_measurement";
}

bool append_key(std::string& out, std::string_view key) {
  return !reserved_key(key) && append_name(out, key, true);
}

bool append_string_value(std::string& out, const std::string& text) {
  if (text.find_first_of("\r\n") != std::string::npos) return false;
  out.push_back('"');
  for (char c : text) {
    if (c == '"' || c == '\\') out.push_back('\\');
    out.push_back(c);
  }
  out.push_back('"');
  return true;
}

}  // namespace

bool LineProtocolEncoder::append_value(std::string& out, const FieldValue& value) {
  return std::visit(
      [&](const auto& v) -> bool {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, double>) {
          if (!std::isfinite(v)) return false;
          append_double(out, v);  // shortest form that round-trips
        } else if constexpr (std::is_same_v<T, int64_t>) {
          append_integer(out, v);
          out.push_back('i');
        } else if constexpr (std::is_same_v<T, uint64_t>) {
          if (options_.uint_support) {
            append_integer(out, v);
            out.push_back('u');
          } else if (v <= static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
            append_integer(out, static_cast<int64_t>(v));
            out.push_back('i');
          } else {
            append_double(out, static_cast<double>(v));
          }
        } else if constexpr (std::is_same_v<T, bool>) {
          out += v ? "true" : "false";
        } else {
          return append_string_value(out, v);
        }
        return true;
      },
      value);
}

bool LineProtocolEncoder::append_field(std::string& out, const Field& field, bool first) {
  const size_t mark = out.size();
  out.push_back(first ? ' ' : ',');
  if (!append_key(out, field.key)) {
    out.resize(mark);
    return false;
  }
  out.push_back('=');
  if (!append_value(out, field.value)) {
    out.resize(mark);
    return false;
  }
  return true;
}

void LineProtocolEncoder::append_tags(std::string& out, const Point& point, uint64_t* dropped) {
  sorted_tags_.clear();
  for (const Tag& tag : point.tags) {
    if (!tag.value.empty()) sorted_tags_.push_back(&tag);
  }
  // std::string's operator< compares like memcmp: the byte order the server
  // indexes by. Collectors usually emit tags already sorted.
  auto by_key = [](const Tag* a, const Tag* b) { return a->key < b->key; };
  if (!std::is_sorted(sorted_tags_.begin(), sorted_tags_.end(), by_key)) {
    std::sort(sorted_tags_.begin(), sorted_tags_.end(), by_key);
  }
  for (const Tag* tag : sorted_tags_) {
    const size_t mark = out.size();
    out.push_back(',');
    bool ok = append_key(out, tag->key);
    if (ok) {
      out.push_back('=');
      ok = append_name(out, tag->value, true);
    }
    if (!ok) {
      out.resize(mark);
      ++*dropped;
    }
  }
}

bool LineProtocolEncoder::append(std::string& out, const Point& point) {
  const size_t mark = out.size();
  // A line starting with '#' is a comment; there is no escape for it.
  if (point.measurement.starts_with('#') || !append_name(out, point.measurement, false)) {
    ++counters_.dropped_points;
    return false;
  }
  uint64_t dropped_tags = 0;
  append_tags(out, point, &dropped_tags);
  bool any_field = false;
  for (const Field& field : point.fields) {
    if (append_field(out, field, !any_field)) {
      any_field = true;
    } else {
      ++counters_.dropped_fields;
    }
  }
  if (!any_field) {
    out.resize(mark);
    ++counters_.dropped_points;
    return false;
  }
  out.push_back(' ');
  append_integer(out, convert_timestamp(point.time_ns, options_.precision));
  out.push_back('\n');
  counters_.dropped_tags += dropped_tags;
  return true;
}

}  // namespace edgemon::metrics
