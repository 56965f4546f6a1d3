#include "api/query_params.hpp"

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <ctime>
#include <initializer_list>

#include "core/config_types.hpp"
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

// Days since 1970-01-01 of a proleptic Gregorian date.
int64_t days_from_civil(int64_t y, int64_t m, int64_t d) {
  y -= m <= 2 ? 1 : 0;
  int64_t era = (y >= 0 ? y : y - 399) / 400;
  int64_t yoe = y - era * 400;
  int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

bool digits(std::string_view text, size_t pos, size_t n, int64_t* out) {
  if (pos + n > text.size()) return false;
  int64_t v = 0;
  for (size_t i = pos; i < pos + n; ++i) {
    if (text[i] < '0' || text[i] > '9') return false;
    v = v * 10 + (text[i] - '0');
  }
  *out = v;
  return true;
}

bool leap(int64_t y) {
  return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

bool parse_rfc3339(std::string_view t, int64_t* unix_ms) {
  int64_t y, mo, d, h, mi, s;
  if (!digits(t, 0, 4, &y) || t.size() < 19 || t[4] != '-' || !digits(t, 5, 2, &mo) ||
      t[7] != '-' || !digits(t, 8, 2, &d) || (t[10] != 'T' && t[10] != 't' && t[10] != ' ') ||
      !digits(t, 11, 2, &h) || t[13] != ':' || !digits(t, 14, 2, &mi) || t[16] != ':' ||
      !digits(t, 17, 2, &s)) {
    return false;
  }
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (mo < 1 || mo > 12 || d < 1 || d > kDays[mo - 1] + (mo == 2 && leap(y) ? 1 : 0) || h > 23 ||
      mi > 59 || s > 60) {
    return false;
  }
  size_t pos = 19;
  int64_t ms = 0;
  if (pos < t.size() && t[pos] == '.') {
    size_t start = ++pos;
    int64_t scale = 100;
    while (pos < t.size() && t[pos] >= '0' && t[pos] <= '9') {
      ms += (t[pos] - '0') * scale;
      scale /= 10;
      ++pos;
    }
    if (pos == start) return false;
  }
  int64_t offset_min = 0;
  if (pos < t.size() && (t[pos] == 'Z' || t[pos] == 'z')) {
    ++pos;
  } else if (pos < t.size() && (t[pos] == '+' || t[pos] == '-')) {
    int64_t oh, om;
    if (!digits(t, pos + 1, 2, &oh) || pos + 3 >= t.size() || t[pos + 3] != ':' ||
        !digits(t, pos + 4, 2, &om) || oh > 23 || om > 59) {
      return false;
    }
    offset_min = (t[pos] == '-' ? -1 : 1) * (oh * 60 + om);
    pos += 6;
  } else {
    return false;
  }
  if (pos != t.size()) return false;
  // A leap second is read as the last second of its minute.
  if (s == 60) s = 59;
  int64_t secs = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + s - offset_min * 60;
  *unix_ms = secs * 1000 + ms;
  return true;
}

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

// from/to/range into [from, to]; `default_range_ms` when none is given.
ParamError parse_range(const Params& p, const QueryLimits& limits, int64_t default_range_ms,
                       int64_t* from_ms, int64_t* to_ms) {
  const std::string* range = p.get("range");
  const std::string* from = p.get("from");
  const std::string* to = p.get("to");
  if (range != nullptr && (from != nullptr || to != nullptr)) {
    return error("range", "give either range or from/to, not both");
  }
  *to_ms = limits.now_ms;
  if (to != nullptr && !parse_time(*to, to_ms)) {
    return error("to", "expected RFC 3339 or unix seconds");
  }
  int64_t span = default_range_ms;
  if (range != nullptr) {
    config::Duration d{};
    if (!config::parse_duration(*range, &d).empty() || d.count() <= 0) {
      return error("range", "expected a duration such as 15m, 1h, 24h or 7d");
    }
    span = d.count();
  }
  *from_ms = *to_ms - std::min(span, limits.max_range_ms);
  if (from != nullptr) {
    if (!parse_time(*from, from_ms)) return error("from", "expected RFC 3339 or unix seconds");
    if (*from_ms > *to_ms) return error("from", "must not be after 'to'");
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

ParamError parse_usage_common(const Params& p, const QueryLimits& limits, UsageParams* out) {
  if (ParamError e = parse_metric(p, &out->metric); !e.ok()) return e;
  if (ParamError e = p.text("device", &out->device); !e.ok()) return e;
  return parse_range(p, limits, kDefaultUsageRangeMs, &out->from_ms, &out->to_ms);
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
  if (text.size() >= 5 && text[4] == '-') return parse_rfc3339(text, unix_ms);
  return parse_unix_seconds(text, unix_ms);
}

std::string format_time(int64_t unix_ms) {
  int64_t secs = floor_to(unix_ms, 1000) / 1000;
  auto t = static_cast<time_t>(secs);
  struct tm tm {};
  gmtime_r(&t, &tm);
  char buf[96];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                static_cast<int>(unix_ms - secs * 1000));
  return buf;
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
  Params p;
  if (ParamError e = p.parse(query, {"metric", "device", "from", "to", "range"}); !e.ok()) {
    return e;
  }
  if (ParamError e = parse_usage_common(p, limits, out); !e.ok()) return e;
  out->from_ms = floor_to(out->from_ms, kMinuteMs);
  out->to_ms = std::max(ceil_to(out->to_ms, kMinuteMs), out->from_ms + kMinuteMs);
  out->step_ms = out->to_ms - out->from_ms;
  return {};
}

ParamError parse_metrics_usage_params(std::string_view query, const QueryLimits& limits,
                                      UsageParams* out) {
  Params p;
  if (ParamError e = p.parse(query, {"metric", "device", "from", "to", "range", "step"}); !e.ok()) {
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
  out->from_ms = floor_to(out->from_ms, out->step_ms);
  out->to_ms = std::max(ceil_to(out->to_ms, out->step_ms), out->from_ms + out->step_ms);
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
