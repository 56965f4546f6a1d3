#pragma once
// InfluxDB line protocol encoder (v1 /write and v2 /api/v2/write bodies).
//
// What cannot be represented is dropped and counted rather than sent, since
// one bad line makes the server reject it (and on v2 the whole batch):
// - CR or LF anywhere in a name, tag value or string value (the protocol has
//   no escape for them);
// - an odd run of backslashes at the end of a name or tag value, or right
//   before a character the element escapes (, = space ") -- the server would
//   read the backslash as escaping our escape or the delimiter;
// - empty keys and the keys `time`, `_field`, `_measurement`, which v1
//   rejects or discards the point for;
// - NaN and +-Inf field values (v1 rejects them);
// - a measurement starting with `#` (the line would be a comment).
// A bad tag drops the tag, a bad field drops the field, a bad measurement or
// a point left without fields drops the point. Empty tag values are omitted
// (that is how the protocol spells "no tag"), not counted.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "metrics/point.hpp"

namespace edgemon::metrics {

enum class Precision { kNs, kUs, kMs, kS };

// "ns", "us", "ms", "s" -- the v2 `precision=` spelling.
std::optional<Precision> parse_precision(std::string_view text);
std::string_view precision_name(Precision precision);
// v1 /write spells them "n", "u", "ms", "s" and silently treats anything
// else (including "ns" and "us") as nanoseconds, so v1 URLs must use this.
std::string_view precision_v1_name(Precision precision);
// Whole units of `precision` in time_ns, rounded toward negative infinity
// so that times before 1970 stay in the second they belong to.
int64_t convert_timestamp(int64_t time_ns, Precision precision);

struct LineProtocolOptions {
  Precision precision = Precision::kNs;
  // v1 has no unsigned type: when false, a uint64 up to INT64_MAX is written
  // as an integer (`42i`) and a larger one as a float. A series whose values
  // cross INT64_MAX thus changes type and v1 rejects those points as a field
  // type conflict; that is rarer than losing every uint field.
  bool uint_support = true;
};

struct LineProtocolCounters {
  uint64_t dropped_fields = 0;  // unrepresentable fields, also of dropped points
  uint64_t dropped_tags = 0;    // unrepresentable tags of points that were written
  uint64_t dropped_points = 0;  // points that produced no line
};

class LineProtocolEncoder {
 public:
  explicit LineProtocolEncoder(LineProtocolOptions options = {}) : options_(options) {}

  // Appends one '\n'-terminated line to `out`, or nothing when the point
  // cannot be represented. Returns whether a line was written.
  bool append(std::string& out, const Point& point);

  const LineProtocolCounters& counters() const { return counters_; }
  const LineProtocolOptions& options() const { return options_; }

 private:
  void append_tags(std::string& out, const Point& point, uint64_t* dropped);
  bool append_field(std::string& out, const Field& field, bool first);
  bool append_value(std::string& out, const FieldValue& value);

  LineProtocolOptions options_;
  LineProtocolCounters counters_;
  // Reused between points so sorting tags does not allocate per point.
  std::vector<const Tag*> sorted_tags_;
};

}  // namespace edgemon::metrics
