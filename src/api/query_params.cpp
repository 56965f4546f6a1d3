#include "api/query_params.hpp"

#include <algorithm>
#include <charconv>
#include <initializer_list>

#include "core/config_types.hpp"
#include "core/rfc3339.hpp"
#include "http/query_string.hpp"

namespace edgemon::api {
namespace {

constexpr int64_t kMinuteMs = 60000;
// 9999-12-31T23:59:59Z: beyond it RFC 3339 has no form.
constexpr int64_t kMaxUnixSeconds = 253402300799;

ParamError error(std::string_view parameter, std::string_view what) {
  return {std::string(parameter),
          "parameter '" + std::string(parameter) + "': " + std::string(what)};
}

// People and scripts write these: a space for the T is taken, and a leap
// second is read as the last second of its minute.
constexpr Rfc3339Options kQueryTime{.space_separator = true,
                                    .leap_second = LeapSecond::kLastSecond};

bool parse_unix_seconds(std::string_view t, int64_t* unix_ms) {
  if (t.empty() || t.size() > 24) return false;
  for (char c : t) {
    if ((c < '0' || c > '9') && c != '.') return false;
  }
  double seconds = 0;
  auto [end, ec] = std::from_chars(t.data(), t.data() + t.size(), seconds);
  if (ec != std::errc() || end != t.data() + t.size()) return false;
  if (seconds > static_cast<double>(kMaxUnixSeconds)) return false;
  *unix_ms = static_cast<int64_t>(seconds * 1000.0 + 0.5);
  return true;
}

int64_t floor_to(int64_t t, int64_t width) {
  int64_t q = t / width;
  if (t % width != 0 && t < 0) --q;
  return q * width;
}

int64_t ceil_to(int64_t t, int64_t width) {
  int64_t f = floor_to(t, width);
  return f == t ? t : f + width;
}

// The parameters after split_query, with the allowed names checked.
class Params {
 public:
  ParamError parse(std::string_view query, std::initializer_list<std::string_view> allowed) {
    if (ParamError e = split_query(query, &pairs_); !e.ok()) return e;
    for (const auto& [name, value] : pairs_) {
      if (std::find(allowed.begin(), allowed.end(), name) != allowed.end()) continue;
      std::string list;
      for (std::string_view a : allowed)
        list += (list.empty() ? "" : ", ") + std::string(a);
      return error(name, "unknown parameter; expected one of " + list);
    }
    return {};
  }
  const std::string* get(std::string_view name) const {
    for (const auto& [n, v] : pairs_) {
      if (n == name) return &v;
    }
    return nullptr;
  }
  // A text filter: absent is "", present must not be empty.
  ParamError text(std::string_view name, std::string* out) const {
    const std::string* v = get(name);
    if (v == nullptr) return {};
    if (v->empty()) return error(name, "must not be empty");
    *out = *v;
    return {};
  }

 private:
  std::vector<std::pair<std::string, std::string>> pairs_;
};

// The metrics-collection system wrote its times as Python's isoformat()
// of a naive datetime: no zone, taken as UTC.
constexpr Rfc3339Options kLegacyTime{
    .space_separator = true, .utc_when_no_offset = true, .leap_second = LeapSecond::kLastSecond};

bool parse_legacy_time(std::string_view text, int64_t* unix_ms) {
  Rfc3339Time t;
  if (!parse_rfc3339(text, &t, kLegacyTime)) return false;
  *unix_ms = t.unix_ms();
  return true;
}

bool all_digits(std::string_view text) {
  return !text.empty() && text.size() <= 6 &&
         std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// from/to/range into [from, to]; `default_range_ms` when none is given. With
// `legacy`, start/end stand for from/to and a bare number of range is hours.
ParamError parse_range(const Params& p, const QueryLimits& limits, int64_t default_range_ms,
                       int64_t* from_ms, int64_t* to_ms, bool legacy = false) {
  const std::string* range = p.get("range");
  const char* from_name = legacy && p.get("start") != nullptr ? "start" : "from";
  const char* to_name = legacy && p.get("end") != nullptr ? "end" : "to";
  const std::string* from = p.get(from_name);
  const std::string* to = p.get(to_name);
  // start and end are the metrics-collection system's: ISO without a zone.
  auto is_legacy_name = [](const char* name) {
    return std::string_view(name) == "start" || std::string_view(name) == "end";
  };
  auto read_time = [&](const char* name, const std::string& text, int64_t* out) {
    return is_legacy_name(name) ? parse_legacy_time(text, out) : parse_time(text, out);
  };
  auto time_error = [&](const char* name) {
    return error(name, is_legacy_name(name)
                           ? "expected ISO 8601 such as 2024-05-01T12:00:00 (taken as UTC)"
                           : "expected RFC 3339 or unix seconds");
  };
  if (legacy && ((p.get("start") != nullptr && p.get("from") != nullptr) ||
                 (p.get("end") != nullptr && p.get("to") != nullptr))) {
    return error(from_name, "give start/end or from/to, not both");
  }
  if (range != nullptr && (from != nullptr || to != nullptr)) {
    return error("range",
                 std::string("give either range or ") + from_name + "/" + to_name + ", not both");
  }
  *to_ms = limits.now_ms;
  if (to != nullptr && !read_time(to_name, *to, to_ms)) return time_error(to_name);
  int64_t span = default_range_ms;
  if (range != nullptr) {
    config::Duration d{};
    if (legacy && all_digits(*range)) {
      span = std::stoll(*range) * 3600000;
      if (span <= 0) return error("range", "expected a whole number of hours of at least 1");
    } else if (all_digits(*range)) {
      return error("range",
                   "expected a duration with a unit such as 15m or 1h (a bare number is hours "
                   "only with the metrics-collection system's resource=)");
    } else if (!config::parse_duration(*range, &d).empty() || d.count() <= 0) {
      return error("range", legacy ? "expected whole hours (e.g. 1) or a duration such as 15m"
                                   : "expected a duration such as 15m, 1h, 24h or 7d");
    } else {
      span = d.count();
    }
  }
  *from_ms = *to_ms - std::min(span, limits.max_range_ms);
  if (from != nullptr) {
    if (!read_time(from_name, *from, from_ms)) return time_error(from_name);
    if (*from_ms > *to_ms)
      return error(from_name, std::string("must not be after '") + to_name + "'");
  }
  // Nothing older than the retention exists: a wider range only costs.
  *from_ms = std::max(*from_ms, *to_ms - limits.max_range_ms);
  return {};
}

ParamError parse_metric(const Params& p, std::string* out) {
  const std::string* metric = p.get("metric");
  if (metric == nullptr) return error("metric", "required (cpu, memory or disk)");
  if (!known_metric(*metric)) {
    return error("metric",
                 "expected cpu, memory, disk, memory_used, memory_total, disk_used, disk_total "
                 "or cpu_core_N");
  }
  *out = *metric;
  return {};
}

// resource=cpu|mem|disk: the metrics-collection system's name for metric.
ParamError parse_resource(const Params& p, UsageParams* out) {
  const std::string* resource = p.get("resource");
  if (resource == nullptr) return {};
  if (p.get("metric") != nullptr) return error("resource", "give either resource or metric");
  static constexpr std::pair<std::string_view, std::string_view> kResources[] = {
      {"cpu", "cpu"}, {"mem", "memory"}, {"memory", "memory"}, {"disk", "disk"}};
  for (const auto& [name, metric] : kResources) {
    if (*resource == name) {
      out->legacy = *resource;
      out->metric = metric;
      return {};
    }
  }
  return error("resource", "expected cpu, mem or disk");
}

ParamError parse_usage_common(const Params& p, const QueryLimits& limits, UsageParams* out) {
  if (ParamError e = parse_resource(p, out); !e.ok()) return e;
  if (out->legacy.empty()) {
    if (ParamError e = parse_metric(p, &out->metric); !e.ok()) return e;
    for (const char* name : {"start", "end"}) {
      if (p.get(name) != nullptr) {
        return error(name, "is the metrics-collection system's, taken with resource=; use from/to");
      }
    }
  }
  if (ParamError e = p.text("device", &out->device); !e.ok()) return e;
  return parse_range(p, limits, kDefaultUsageRangeMs, &out->from_ms, &out->to_ms,
                     !out->legacy.empty());
}

// The smallest of these giving at most ~1000 buckets when no step is given.
constexpr int64_t kDefaultSteps[] = {60000, 300000, 900000, 3600000, 21600000, 86400000};

}  // namespace

ParamError split_query(std::string_view query,
                       std::vector<std::pair<std::string, std::string>>* out) {
  out->clear();
  while (!query.empty()) {
    size_t amp = query.find('&');
    std::string_view part = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    if (part.empty()) continue;
    size_t eq = part.find('=');
    std::string_view raw_name = part.substr(0, eq);
    std::string_view raw_value = eq == std::string_view::npos ? "" : part.substr(eq + 1);
    std::string name, value;
    if (!http::percent_decode(raw_name, &name)) return error(raw_name, "bad percent-encoding");
    if (!http::percent_decode(raw_value, &value)) return error(name, "bad percent-encoding");
    for (const auto& [n, v] : *out) {
      if (n == name) return error(name, "given more than once");
    }
    out->emplace_back(std::move(name), std::move(value));
  }
  return {};
}

bool parse_time(std::string_view text, int64_t* unix_ms) {
  if (text.size() < 5 || text[4] != '-') return parse_unix_seconds(text, unix_ms);
  Rfc3339Time t;
  if (!parse_rfc3339(text, &t, kQueryTime)) return false;
  *unix_ms = t.unix_ms();
  return true;
}

std::string format_time(int64_t unix_ms) {
  return format_rfc3339_ms(unix_ms);
}

bool known_metric(std::string_view metric) {
  for (std::string_view m :
       {"cpu", "memory", "disk", "memory_used", "memory_total", "disk_used", "disk_total"}) {
    if (metric == m) return true;
  }
  constexpr std::string_view kCore = "cpu_core_";
  if (!metric.starts_with(kCore) || metric.size() == kCore.size() || metric.size() > 14) {
    return false;
  }
  return std::all_of(metric.begin() + kCore.size(), metric.end(),
                     [](char c) { return c >= '0' && c <= '9'; });
}

ParamError parse_history_params(std::string_view query, const QueryLimits& limits,
                                HistoryParams* out) {
  Params p;
  if (ParamError e =
          p.parse(query, {"device", "measurement", "field", "from", "to", "range", "limit"});
      !e.ok()) {
    return e;
  }
  for (auto [name, target] :
       {std::pair{"device", &out->device}, std::pair{"measurement", &out->measurement},
        std::pair{"field", &out->field}}) {
    if (ParamError e = p.text(name, target); !e.ok()) return e;
  }
  if (ParamError e = parse_range(p, limits, limits.max_range_ms, &out->from_ms, &out->to_ms);
      !e.ok()) {
    return e;
  }
  out->limit = std::min(kDefaultHistoryLimit, limits.max_points);
  if (const std::string* limit = p.get("limit")) {
    int64_t n = 0;
    if (!config::parse_int(*limit, &n).empty() || n < 1) {
      return error("limit", "expected a whole number of at least 1");
    }
    out->limit = std::min(n, limits.max_points);
  }
  return {};
}

ParamError parse_avg_usage_params(std::string_view query, const QueryLimits& limits,
                                  UsageParams* out) {
  *out = UsageParams{};
  Params p;
  if (ParamError e =
          p.parse(query, {"metric", "device", "from", "to", "range", "resource", "start", "end"});
      !e.ok()) {
    return e;
  }
  if (ParamError e = parse_usage_common(p, limits, out); !e.ok()) return e;
  out->from_ms = floor_to(out->from_ms, kMinuteMs);
  out->to_ms = std::max(ceil_to(out->to_ms, kMinuteMs), out->from_ms + kMinuteMs);
  out->step_ms = out->to_ms - out->from_ms;
  out->origin_ms = out->from_ms;
  return {};
}

ParamError parse_metrics_usage_params(std::string_view query, const QueryLimits& limits,
                                      UsageParams* out) {
  *out = UsageParams{};
  Params p;
  if (ParamError e = p.parse(
          query, {"metric", "device", "from", "to", "range", "step", "resource", "start", "end"});
      !e.ok()) {
    return e;
  }
  if (ParamError e = parse_usage_common(p, limits, out); !e.ok()) return e;
  int64_t span = std::max<int64_t>(out->to_ms - out->from_ms, 1);
  if (const std::string* step = p.get("step")) {
    config::Duration d{};
    if (!config::parse_duration(*step, &d).empty() || d.count() <= 0) {
      return error("step", "expected a duration such as 1m, 5m, 15m or 1h");
    }
    out->step_ms = d.count();
    if (out->step_ms < kMinuteMs || out->step_ms % kMinuteMs != 0) {
      return error("step", "expected a whole number of minutes, at least 1m");
    }
    if (out->step_ms > std::max(span, kMinuteMs)) {
      return error("step", "must not be longer than the range");
    }
    if ((span + out->step_ms - 1) / out->step_ms > kMaxBuckets) {
      return error(
          "step", "too small for the range: more than " + std::to_string(kMaxBuckets) + " buckets");
    }
  } else {
    out->step_ms = kDefaultSteps[std::size(kDefaultSteps) - 1];
    for (int64_t s : kDefaultSteps) {
      if (span / s <= 1000) {
        out->step_ms = s;
        break;
      }
    }
  }
  // Only values inside what was asked, to the minute the aggregates keep.
  out->from_ms = ceil_to(out->from_ms, kMinuteMs);
  out->to_ms = std::max(floor_to(out->to_ms, kMinuteMs), out->from_ms);
  out->origin_ms = floor_to(out->from_ms, out->step_ms);
  return {};
}

ParamError parse_devices_params(std::string_view query, DevicesParams* out) {
  Params p;
  if (ParamError e = p.parse(query, {"active"}); !e.ok()) return e;
  if (const std::string* active = p.get("active")) {
    bool b = false;
    if (!config::parse_bool(*active, &b).empty()) return error("active", "expected true or false");
    out->active = b ? 1 : 0;
  }
  return {};
}

}  // namespace edgemon::api
