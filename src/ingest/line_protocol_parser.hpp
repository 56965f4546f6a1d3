#pragma once
// Strict InfluxDB line protocol parser for the hub's POST /write and
// POST /api/v2/write bodies (../shared/reference/influxdb-line-protocol.md).
//
// InfluxDB's partial-write semantics: every good line becomes a Point, every
// bad line is skipped and counted, and the first bad one is reported (its
// 1-based line number, why, and the start of its text) so the 400 answer can
// name it. Limits (config ingest.limits) are part of "bad": a point with
// too many tags or an over-long key is rejected like a syntax error.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/config_hub.hpp"
#include "metrics/point.hpp"

namespace edgemon::ingest {

// The `precision=` parameter as nanoseconds per unit. v1 /write accepts
// n, ns, u, us, ms, s, m, h (and empty: ns); v2 /api/v2/write accepts ns,
// us, ms, s (and empty: ns). Anything else is nullopt (answered 400).
std::optional<int64_t> parse_write_precision(std::string_view text, bool v2);

struct LineError {
  size_t line = 0;      // 1-based line number in the body
  std::string message;  // e.g. "invalid field format: 'temp=abc' (expected ...)"
  std::string excerpt;  // the line's first bytes (at most 128, as sent), for the answer
};

// "line 3: invalid field format: ..." -- InfluxDB's way of naming a bad
// line. Names in the message are quoted, cut at 64 bytes, and bytes that
// are not printable UTF-8 appear as \xNN: the message is always valid
// UTF-8 (the excerpt is raw bytes and may not be).
std::string describe(const LineError& error);

struct LineProtocolResult {
  std::vector<metrics::Point> points;
  size_t lines_rejected = 0;
  std::optional<LineError> first_error;
  // More than limits.max_points good lines: parsing stopped, nothing of
  // the request may be accepted (answered 413).
  bool too_many_points = false;
};

// `ns_per_unit` from parse_write_precision; `now_ns` is the time of lines
// without a timestamp. Blank lines and # comments are skipped; a CR is an
// error (the protocol forbids it), even in a comment. Timestamps are
// range-checked after scaling (overflow is an error on that line).
// Leading and trailing spaces and tabs of a line are ignored, and runs of
// spaces between its sections, as InfluxDB does. Names, tag values and
// string values must be UTF-8. A field key given twice in one line keeps
// the last value (InfluxDB's rule); a tag key given twice is an error.
LineProtocolResult parse_line_protocol(std::string_view body, int64_t ns_per_unit, int64_t now_ns,
                                       const config::IngestLimits& limits);

}  // namespace edgemon::ingest
