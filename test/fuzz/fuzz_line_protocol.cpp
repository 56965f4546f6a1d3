// The ingest line-protocol parser on arbitrary bodies, with small limits so
// that every limit is reached. The first byte picks the precision. Every
// point it accepts must be well-formed, and must survive the encoder: what
// LineProtocolEncoder writes for it parses back to the same point.
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "core/utf8.hpp"
#include "ingest/line_protocol_parser.hpp"
#include "metrics/line_protocol.hpp"

using namespace edgemon;
using metrics::Point;

namespace {

constexpr int64_t kNow = 1736847690000000000;

void check(bool ok) {
  if (!ok) __builtin_trap();
}

config::IngestLimits small_limits() {
  config::IngestLimits l;
  l.max_points = 64;
  l.max_tags = 8;
  l.max_fields = 8;
  l.max_key_bytes = 32;
  l.max_tag_value_bytes = 32;
  l.max_string_bytes = 64;
  return l;
}

bool clean_name(const std::string& s, int64_t limit) {
  return !s.empty() && static_cast<int64_t>(s.size()) <= limit && valid_utf8(s) &&
         s.find_first_of("\r\n") == std::string::npos;
}

void check_point(const Point& p, const config::IngestLimits& l) {
  check(clean_name(p.measurement, l.max_key_bytes) && p.measurement[0] != '#');
  check(static_cast<int64_t>(p.tags.size()) <= l.max_tags);
  for (const metrics::Tag& t : p.tags) {
    check(clean_name(t.key, l.max_key_bytes) && clean_name(t.value, l.max_tag_value_bytes));
  }
  check(!p.fields.empty() && static_cast<int64_t>(p.fields.size()) <= l.max_fields);
  for (const metrics::Field& f : p.fields) {
    check(clean_name(f.key, l.max_key_bytes));
    if (const auto* d = std::get_if<double>(&f.value)) check(std::isfinite(*d));
    if (const auto* s = std::get_if<std::string>(&f.value)) {
      check(static_cast<int64_t>(s->size()) <= l.max_string_bytes && valid_utf8(*s));
    }
  }
  check(p.time_ns >= -9223372036854775806 && p.time_ns <= 9223372036854775806);
}

bool same_tags(std::vector<metrics::Tag> a, std::vector<metrics::Tag> b) {
  auto less = [](const metrics::Tag& x, const metrics::Tag& y) { return x.key < y.key; };
  std::sort(a.begin(), a.end(), less);
  std::sort(b.begin(), b.end(), less);
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (a[i].key != b[i].key || a[i].value != b[i].value) return false;
  }
  return true;
}

bool same_point(const Point& a, const Point& b) {
  if (a.measurement != b.measurement || a.time_ns != b.time_ns || !same_tags(a.tags, b.tags) ||
      a.fields.size() != b.fields.size()) {
    return false;
  }
  for (size_t i = 0; i < a.fields.size(); ++i) {
    if (a.fields[i].key != b.fields[i].key || a.fields[i].value != b.fields[i].value) return false;
  }
  return true;
}

// Re-encodes the points; those the encoder wrote whole must parse back equal.
void round_trip(const std::vector<Point>& points, const config::IngestLimits& l) {
  metrics::LineProtocolEncoder encoder;
  std::string body;
  std::vector<const Point*> whole;  // encoded without dropping anything
  std::vector<bool> is_whole;
  size_t written = 0;
  for (const Point& p : points) {
    const metrics::LineProtocolCounters before = encoder.counters();
    if (!encoder.append(body, p)) continue;
    ++written;
    const metrics::LineProtocolCounters& after = encoder.counters();
    is_whole.push_back(after.dropped_fields == before.dropped_fields &&
                       after.dropped_tags == before.dropped_tags);
    whole.push_back(&p);
  }
  ingest::LineProtocolResult again = ingest::parse_line_protocol(body, 1, 0, l);
  check(!again.first_error && !again.too_many_points);
  check(again.points.size() == written);
  for (size_t i = 0; i < written; ++i) {
    if (is_whole[i]) check(same_point(*whole[i], again.points[i]));
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  static const int64_t kUnits[] = {
      1, 1'000, 1'000'000, 1'000'000'000, 60'000'000'000, 3'600'000'000'000};
  const int64_t unit = kUnits[data[0] % 6];
  // Copied so that reading one byte past the end is caught by ASan.
  const std::string body(reinterpret_cast<const char*>(data) + 1, size - 1);
  const config::IngestLimits limits = small_limits();
  ingest::LineProtocolResult r = ingest::parse_line_protocol(body, unit, kNow, limits);
  check(static_cast<int64_t>(r.points.size()) <= limits.max_points);
  check((r.lines_rejected > 0) == r.first_error.has_value());
  if (r.first_error) {
    check(r.first_error->line >= 1 && r.first_error->excerpt.size() <= 128);
    check(!r.first_error->message.empty() && valid_utf8(ingest::describe(*r.first_error)));
  }
  if (r.too_many_points) check(static_cast<int64_t>(r.points.size()) == limits.max_points);
  for (const Point& p : r.points)
    check_point(p, limits);
  round_trip(r.points, limits);
  return 0;
}
