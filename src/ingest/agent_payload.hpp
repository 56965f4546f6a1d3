#pragma once
// The edge agent's JSON payload (POST /metrics on the original Flask server,
// and edgemon's hub output with format json) <-> a system_metrics Point.
//
// Payload (one object; the hub also takes a JSON array of them, or several
// objects one per line):
//   {"device_id": "jetson-07", "hostname": "jetson-07", "timestamp": ...,
//    "cpu_total": 12.5, "cpu_per_core": [10.0, 15.0], "memory_percent": 41.2,
//    "memory_used": 1673527296, "memory_total": 4062691328, "disk_percent": 55.0,
//    "disk_used": ..., "disk_total": ..., "heartbeat": 1234,
//    "device_type": "jetson", "tags": {"location": "lab", "zone": "a"}, "gpu_temp": 48.5}
// Mapped to measurement system_metrics with the field names of
// metrics/system_metrics.hpp (cpu, cpu_core_N, memory, memory_used,
// memory_total, disk, disk_used, disk_total, heartbeat), tags device_id, host
// (from hostname), device_type and the payload's tags; unknown numeric
// top-level members are kept as extra float fields.
//
// Field types match SystemMetrics' points (percentages float, byte counts
// and heartbeat int64; extras always float), so InfluxDB never sees a type
// conflict between ingested points and a hub's own. Nothing is dropped
// silently: an unknown member that is not a number, a nested object, a
// boolean or string where a number belongs, a percentage outside 0..100 (also
// for extras named cpu, memory, disk or cpu_core_N: a hostile agent must not
// skew averages), a byte count that is not a whole number in 0..2^53, a
// non-finite number (cJSON reads 1e999 as inf), and every text line protocol
// could not carry whole (empty, not UTF-8, a line break, a NUL, an unpaired
// backslash before a delimiter or at the end) are problems. Only `null` is
// taken as "no value" (psutil's None), for any member but device_id.
//
// Timestamps: a number is unix seconds, read to the microsecond (what a
// double holds); a string is RFC 3339 to the nanosecond, with T, t or a space
// between date and time (Python's str(datetime)), and Z, +HH:MM, +HHMM or no
// offset (UTC). Accepted from 1970 to 2262-04-11 (int64 nanoseconds).
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/config_hub.hpp"
#include "metrics/point.hpp"

namespace edgemon::ingest {

struct FieldProblem {
  std::string field;   // JSON path, e.g. "cpu_total", "tags.zone", "[2].device_id"
  std::string reason;  // e.g. "expected a number, got a string"
};

struct AgentPayloadResult {
  std::vector<metrics::Point> points;  // tags sorted by key
  // Any problem rejects the whole request (400 listing all of them, at most
  // 50): unlike line protocol, a JSON payload is one unit.
  std::vector<FieldProblem> problems;
  bool too_many_points = false;  // more payloads than limits.max_points
};

// `now_ns` is the time of payloads without a timestamp. Problems name the
// member by JSON path, prefixed "[i]." when the body is not exactly one
// object; a body that is not JSON gets the single problem
// {"body", "invalid JSON near byte N"} (N a 0-based offset). cJSON holds one
// payload at a time, and a payload with more JSON values than the limits on
// tags and fields could use is refused before it is parsed.
AgentPayloadResult parse_agent_payloads(std::string_view body, int64_t now_ns,
                                        const config::IngestLimits& limits);

// One payload object (no trailing newline) for a system_metrics point as
// edgemon's collector produces it; the inverse of the mapping above:
// parse(encode(p)) == p for SystemMetrics points with sorted tags. The time
// is written as seconds with 3 decimals (6 when it has microseconds; finer
// is lost). Cores after a gap (cpu1 offline) become members cpu_core_N of
// their own. What the payload cannot carry is left out: string, boolean and
// non-finite fields, fields named like payload members (tags, timestamp,
// cpu_total, ...) and empty tags. A point without a device_id tag encodes to
// a payload the hub refuses.
std::string encode_agent_payload(const metrics::Point& point);

}  // namespace edgemon::ingest
