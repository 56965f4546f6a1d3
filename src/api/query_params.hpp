#pragma once
// The parameters of the query endpoints (/history, /avg_usage,
// /metrics_usage, /devices): parsed, checked and capped here, apart from
// HTTP and SQLite, so every error is unit-testable. Each error names the
// parameter it is about.
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace edgemon::api {

struct ParamError {
  std::string parameter;  // the offending parameter
  std::string message;    // "parameter 'from': expected RFC 3339 or unix seconds"
  bool ok() const { return message.empty(); }
};

// `name=value&...`, percent-decoded ('+' is a space). A name given twice is
// an error.
ParamError split_query(std::string_view query,
                       std::vector<std::pair<std::string, std::string>>* out);

// RFC 3339 ("2024-05-01T12:00:00Z", fraction and offset allowed) or unix
// seconds (fraction allowed) to unix milliseconds.
bool parse_time(std::string_view text, int64_t* unix_ms);
// "2024-05-01T12:00:00.000Z"
std::string format_time(int64_t unix_ms);

struct QueryLimits {
  int64_t now_ms = 0;
  int64_t max_range_ms = 0;  // history.aggregate_retention: ranges are capped to it
  int64_t max_points = 0;    // history.max_query_points: limit= is capped to it
};

inline constexpr int64_t kDefaultHistoryLimit = 100;
inline constexpr int64_t kDefaultUsageRangeMs = 3600000;
inline constexpr int64_t kMaxBuckets = 10000;

// GET /history
struct HistoryParams {
  std::string device;  // "" = any
  std::string measurement;
  std::string field;
  int64_t from_ms = 0;  // inclusive
  int64_t to_ms = 0;    // inclusive
  int64_t limit = kDefaultHistoryLimit;
};
ParamError parse_history_params(std::string_view query, const QueryLimits& limits,
                                HistoryParams* out);

// GET /avg_usage and GET /metrics_usage. Aggregates are kept per minute, so
// /avg_usage widens the range to whole minutes, and /metrics_usage narrows
// it to the whole minutes inside what was asked, its buckets aligned to
// multiples of `step` since the epoch like InfluxDB's GROUP BY time() (the
// first and last may cover less than a step).
//
// The metrics-collection system's parameters are taken too: `resource`
// (cpu, mem or disk), `start` and `end` (ISO 8601 without a zone, taken as
// UTC) and `range` in whole hours; given `resource`, the answer has that
// system's shape (see `legacy`).
struct UsageParams {
  std::string metric;     // a system_metrics field: cpu, memory, disk...
  std::string device;     // "" = every device
  int64_t from_ms = 0;    // inclusive
  int64_t to_ms = 0;      // exclusive
  int64_t step_ms = 0;    // /metrics_usage only
  int64_t origin_ms = 0;  // where buckets are aligned: at or before from_ms
  // The `resource` asked for ("cpu", "mem", "disk"); "" for edgemon's own
  // parameters. Set: {"average_<resource>_usage": x} and
  // {"<resource>_usage": [{"YYYY-mm-dd HH:MM:SS": avg}, ...]}.
  std::string legacy;
};
ParamError parse_avg_usage_params(std::string_view query, const QueryLimits& limits,
                                  UsageParams* out);
ParamError parse_metrics_usage_params(std::string_view query, const QueryLimits& limits,
                                      UsageParams* out);

// GET /devices[?active=true|false]
struct DevicesParams {
  int active = -1;  // -1 all, 0 inactive only, 1 active only
};
ParamError parse_devices_params(std::string_view query, DevicesParams* out);

// The system_metrics fields /avg_usage and /metrics_usage accept.
bool known_metric(std::string_view metric);

}  // namespace edgemon::api
