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
  std::vector<metrics::Point> points;
  // Any problem rejects the whole request (400 listing all of them, at most
  // 50): unlike line protocol, a JSON payload is one unit.
  std::vector<FieldProblem> problems;
  bool too_many_points = false;  // more payloads than limits.max_points
};

// `now_ns` is the time of payloads without a timestamp.
AgentPayloadResult parse_agent_payloads(std::string_view body, int64_t now_ns,
                                        const config::IngestLimits& limits);

// One payload object (no trailing newline) for a system_metrics point as
// edgemon's collector produces it; the inverse of the mapping above.
std::string encode_agent_payload(const metrics::Point& point);

}  // namespace edgemon::ingest
