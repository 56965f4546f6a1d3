#include "api/history_endpoints.hpp"

#include <algorithm>
#include <charconv>
#include <cstring>
#include <map>

#include "api/query_params.hpp"
#include "core/clock.hpp"
#include "core/config_types.hpp"
#include "core/json_text.hpp"
#include "core/number_text.hpp"
#include "core/rfc3339.hpp"

namespace edgemon::api {
namespace {

constexpr const char* kSystemMetrics = "system_metrics";

// A /history answer stops (truncated) at this size, and until it is written
// the request holds its estimate of the HTTP memory budget: `limit` values
// of this size each, which short tags stay under.
constexpr size_t kMaxHistoryAnswerBytes = 4 * 1024 * 1024;
constexpr uint64_t kHistoryValueBytes = 160;

struct Rendered {
  int status = 200;
  std::string body;
};

void key(std::string& out, const char* name) {
  append_json_string(out, name);
  out += ':';
}

// A bucket's row of an answer, written in place: its literals, a time, three
// numbers and a count.
constexpr size_t kRowMax = 64 + kRfc3339MsMax + 3 * kNumberTextMax + 32;

template <size_t N>
char* put(char* at, const char (&literal)[N]) {
  std::memcpy(at, literal, N - 1);
  return at + N - 1;
}

// Our own text, digits and punctuation: nothing to escape.
void append_time(std::string& out, int64_t unix_ms) {
  out += '"';
  append_rfc3339_ms(out, unix_ms);
  out += '"';
}

http::Response param_error(const ParamError& e) {
  http::Response r;
  r.status = 400;
  std::string body = "{";
  key(body, "error");
  append_json_string(body, e.message);
  body += ",\"status\":400,";
  key(body, "parameter");
  append_json_string(body, e.parameter);
  body += "}\n";
  r.set_body(std::move(body));
  return r;
}

QueryLimits limits_of(const store::History& history) {
  const config::HistorySection& c = history.config();
  return {unix_now_ms(), c.aggregate_retention.count(), c.max_query_points};
}

Rendered failed(const std::string& error) {
  http::Response r = http::json_error(500, "history query failed: " + error);
  Rendered out{500, {}};
  for (const auto& part : r.body)
    out.body += *part;
  return out;
}

// Runs `job` on the read thread and answers with what it rendered.
void answer_later(store::History& history, http::Response& response,
                  std::function<Rendered(store::HistoryDb*)> job) {
  http::Responder responder = response.defer();
  history.read<Rendered>(std::move(job), [responder](Rendered&& r) mutable {
    http::Response out;
    out.status = r.status;
    out.set_body(std::move(r.body));
    responder.send(std::move(out));
  });
}

Rendered render_history(store::HistoryDb* db, const HistoryParams& p) {
  if (db == nullptr) return failed("history is not open");
  store::HistoryDb::Snapshot snapshot(db);
  std::vector<store::SeriesInfo> series;
  std::vector<store::RawValue> values;
  bool truncated = false;
  std::string e = db->find_series({p.device, p.measurement, p.field}, &series);
  if (e.empty()) e = db->recent(series, p.from_ms, p.to_ms, p.limit, &values, &truncated);
  if (!e.empty()) return failed(e);
  Rendered r;
  std::string& out = r.body;
  out.reserve(values.size() * 160 + 64);
  out += "{\"points\":[";
  size_t written = 0;
  for (size_t i = 0; i < values.size(); ++i) {
    // Long tags could make `limit` values a large answer: it stops here and
    // says it is truncated.
    if (out.size() >= kMaxHistoryAnswerBytes) {
      truncated = true;
      break;
    }
    ++written;
    const store::RawValue& v = values[i];
    const store::SeriesInfo& s = series[v.series];
    out += i == 0 ? "{" : ",{";
    key(out, "time");
    append_time(out, v.t_ms);
    out += ',';
    key(out, "device");
    append_json_string(out, s.device);
    out += ',';
    key(out, "measurement");
    append_json_string(out, s.measurement);
    out += ',';
    key(out, "field");
    append_json_string(out, s.field);
    out += ',';
    key(out, "value");
    append_double(out, v.value);
    out += ',';
    key(out, "tags");
    // Stored as a canonical JSON object already.
    out += s.tags_json;
    out += '}';
  }
  out += "],\"count\":";
  append_integer(out, static_cast<int64_t>(written));
  out += truncated ? ",\"truncated\":true}\n" : ",\"truncated\":false}\n";
  return r;
}

// One device's buckets in time order, its series merged (a device whose
// tags changed has several series of the same field).
using DeviceBuckets = std::map<std::string, std::vector<store::Bucket>>;

// Merges `more` (in time order) into `into` (in time order).
void merge_buckets(std::vector<store::Bucket>* into, const std::vector<store::Bucket>& more) {
  std::vector<store::Bucket> merged;
  merged.reserve(into->size() + more.size());
  auto a = into->begin();
  auto b = more.begin();
  while (a != into->end() || b != more.end()) {
    if (b == more.end() || (a != into->end() && a->t_ms < b->t_ms)) {
      merged.push_back(*a++);
    } else if (a == into->end() || b->t_ms < a->t_ms) {
      merged.push_back(*b++);
    } else {
      store::Bucket m = *a++;
      m.min = std::min(m.min, b->min);
      m.max = std::max(m.max, b->max);
      m.sum += b->sum;
      m.count += b->count;
      ++b;
      merged.push_back(m);
    }
  }
  *into = std::move(merged);
}

std::string collect_buckets(store::HistoryDb* db, const UsageParams& p, DeviceBuckets* out) {
  store::HistoryDb::Snapshot snapshot(db);
  std::vector<store::SeriesInfo> series;
  if (std::string e = db->find_series({p.device, kSystemMetrics, p.metric}, &series); !e.empty()) {
    return e;
  }
  std::vector<store::Bucket> buckets;
  for (const store::SeriesInfo& s : series) {
    if (std::string e = db->buckets(s.id, p.from_ms, p.to_ms, p.step_ms, p.origin_ms, &buckets);
        !e.empty()) {
      return e;
    }
    auto& merged = (*out)[s.device];
    if (merged.empty()) {
      merged.swap(buckets);
    } else {
      merge_buckets(&merged, buckets);
    }
  }
  return "";
}

void append_average(std::string& out, double sum, int64_t count) {
  key(out, "average");
  if (count == 0) {
    out += "null";
  } else {
    append_double(out, sum / static_cast<double>(count));
  }
  out += ",\"samples\":";
  append_integer(out, count);
}

void append_range(std::string& out, const UsageParams& p) {
  key(out, "metric");
  append_json_string(out, p.metric);
  out += ',';
  key(out, "from");
  append_time(out, p.from_ms);
  out += ',';
  key(out, "to");
  append_time(out, p.to_ms);
}

Rendered render_avg(store::HistoryDb* db, const UsageParams& p) {
  if (db == nullptr) return failed("history is not open");
  DeviceBuckets devices;
  if (std::string e = collect_buckets(db, p, &devices); !e.empty()) return failed(e);
  double total = 0;
  int64_t samples = 0;
  std::string list;
  for (const auto& [device, buckets] : devices) {
    double sum = 0;
    int64_t count = 0;
    for (const store::Bucket& b : buckets) {
      sum += b.sum;
      count += b.count;
    }
    total += sum;
    samples += count;
    // A device with nothing in the range has no average to give.
    if (count == 0) continue;
    list += list.empty() ? "{" : ",{";
    key(list, "device");
    append_json_string(list, device);
    list += ',';
    append_average(list, sum, count);
    list += '}';
  }
  Rendered r;
  if (!p.legacy.empty()) {
    // The metrics-collection system's answer: one number, over every
    // device asked for (null when nothing is stored in the range).
    r.body = "{";
    key(r.body, ("average_" + p.legacy + "_usage").c_str());
    if (samples == 0) {
      r.body += "null";
    } else {
      append_double(r.body, total / static_cast<double>(samples));
    }
    r.body += "}\n";
    return r;
  }
  r.body = "{";
  append_range(r.body, p);
  r.body += ',';
  append_average(r.body, total, samples);
  r.body += ",\"devices\":[" + list + "]}\n";
  return r;
}

// The metrics-collection system's /metrics_usage answer: per bucket the
// average over every device asked for, keyed by its start as
// "YYYY-mm-dd HH:MM:SS" (UTC).
Rendered render_legacy_series(const UsageParams& p, const DeviceBuckets& devices,
                              int64_t max_points) {
  std::vector<store::Bucket> all;
  for (const auto& [device, buckets] : devices)
    merge_buckets(&all, buckets);
  Rendered r;
  r.body = "{";
  key(r.body, (p.legacy + "_usage").c_str());
  r.body += '[';
  int64_t emitted = 0;
  for (const store::Bucket& b : all) {
    if (b.count == 0 || emitted == max_points) continue;
    // {"2024-05-01 12:00:00":37.5}: the RFC 3339 text cut at the seconds.
    char row[kRowMax];
    char* at = emitted++ == 0 ? put(row, "{\"") : put(row, ",{\"");
    char* t = at;
    at = write_rfc3339_ms(at, b.t_ms);
    if (at - t >= 19) {
      t[10] = ' ';
      at = t + 19;
    }
    at = put(at, "\":");
    at = format_double(at, b.sum / static_cast<double>(b.count));
    *at++ = '}';
    r.body.append(row, static_cast<size_t>(at - row));
  }
  r.body += "]}\n";
  return r;
}

Rendered render_series(store::HistoryDb* db, const UsageParams& p, int64_t max_points) {
  if (db == nullptr) return failed("history is not open");
  DeviceBuckets devices;
  if (std::string e = collect_buckets(db, p, &devices); !e.empty()) return failed(e);
  if (!p.legacy.empty()) return render_legacy_series(p, devices, max_points);
  Rendered r;
  std::string& out = r.body;
  // Up to about 125 bytes a bucket (three 17-digit numbers): reserved once,
  // not doubled at the end of a megabyte.
  size_t total = 0;
  for (const auto& [device, list] : devices)
    total += list.size();
  out.reserve(256 + 64 * devices.size() +
              128 * std::min(total, static_cast<size_t>(std::max<int64_t>(max_points, 0))));
  out = "{";
  append_range(out, p);
  out += ',';
  key(out, "step");
  append_json_string(out, config::format_duration(config::Duration(p.step_ms)));
  out += ",\"devices\":[";
  int64_t emitted = 0;
  bool truncated = false;
  bool first_device = true;
  for (const auto& [device, buckets] : devices) {
    out += first_device ? "{" : ",{";
    first_device = false;
    key(out, "device");
    append_json_string(out, device);
    out += ",\"points\":[";
    bool first = true;
    for (const store::Bucket& b : buckets) {
      if (emitted == max_points) {
        truncated = true;
        break;
      }
      ++emitted;
      // One append a bucket: at 14,400 buckets an answer, appending each
      // piece was a fifth of the time.
      char row[kRowMax];
      char* at = first ? put(row, "{\"time\":\"") : put(row, ",{\"time\":\"");
      first = false;
      at = write_rfc3339_ms(at, b.t_ms);
      at = put(at, "\",\"avg\":");
      at = format_double(at, b.sum / static_cast<double>(b.count));
      at = put(at, ",\"min\":");
      at = format_double(at, b.min);
      at = put(at, ",\"max\":");
      at = format_double(at, b.max);
      at = put(at, ",\"count\":");
      at = std::to_chars(at, row + sizeof row, b.count).ptr;
      *at++ = '}';
      out.append(row, static_cast<size_t>(at - row));
    }
    out += "]}";
  }
  out += truncated ? "],\"truncated\":true}\n" : "],\"truncated\":false}\n";
  return r;
}

}  // namespace

void HistoryEndpoints::add_routes(http::Router& router) {
  router
      .add("GET", "/history", http::Group::kRead,
           [this](const http::Request& q, http::Response& r) { history(q, r); })
      .response_estimate = [this](const http::Request& head) { return history_estimate(head); };
  router.add("GET", "/avg_usage", http::Group::kRead,
             [this](const http::Request& q, http::Response& r) { avg_usage(q, r); });
  router.add("GET", "/metrics_usage", http::Group::kRead,
             [this](const http::Request& q, http::Response& r) { metrics_usage(q, r); });
  router.add("GET", "/devices", http::Group::kRead,
             [this](const http::Request& q, http::Response& r) { devices(q, r); });
}

uint64_t HistoryEndpoints::history_estimate(const http::Request& head) const {
  HistoryParams p;
  // A request with bad parameters gets a small 400.
  if (!parse_history_params(head.query, limits_of(history_), &p).ok()) return 0;
  return std::min<uint64_t>(static_cast<uint64_t>(p.limit) * kHistoryValueBytes,
                            kMaxHistoryAnswerBytes);
}

bool HistoryEndpoints::available(http::Response& response) const {
  if (!history_.enabled()) {
    response = http::json_error(503, "history is disabled (history.enabled is false)");
    return false;
  }
  if (!history_.readable()) {
    const std::string& error = history_.report().error;
    response = http::json_error(
        503, error.empty() ? "history is starting" : "history is unavailable: " + error);
    response.headers.emplace_back("Retry-After", "1");
    return false;
  }
  return true;
}

void HistoryEndpoints::history(const http::Request& request, http::Response& response) {
  HistoryParams p;
  if (ParamError e = parse_history_params(request.query, limits_of(history_), &p); !e.ok()) {
    response = param_error(e);
    return;
  }
  if (!available(response)) return;
  answer_later(history_, response, [p](store::HistoryDb* db) { return render_history(db, p); });
}

void HistoryEndpoints::avg_usage(const http::Request& request, http::Response& response) {
  UsageParams p;
  if (ParamError e = parse_avg_usage_params(request.query, limits_of(history_), &p); !e.ok()) {
    response = param_error(e);
    return;
  }
  if (!available(response)) return;
  answer_later(history_, response, [p](store::HistoryDb* db) { return render_avg(db, p); });
}

void HistoryEndpoints::metrics_usage(const http::Request& request, http::Response& response) {
  UsageParams p;
  if (ParamError e = parse_metrics_usage_params(request.query, limits_of(history_), &p); !e.ok()) {
    response = param_error(e);
    return;
  }
  if (!available(response)) return;
  int64_t max_points = history_.config().max_query_points;
  answer_later(history_, response,
               [p, max_points](store::HistoryDb* db) { return render_series(db, p, max_points); });
}

void HistoryEndpoints::devices(const http::Request& request, http::Response& response) const {
  DevicesParams p;
  if (ParamError e = parse_devices_params(request.query, &p); !e.ok()) {
    response = param_error(e);
    return;
  }
  int64_t now = unix_now_ms();
  int64_t window = history_.device_active_window_ms();
  std::string out = "{\"devices\":[";
  size_t count = 0;
  size_t active_count = 0;
  for (const auto& [name, d] : history_.devices().devices()) {
    bool active = now - d.last_seen_ms <= window;
    if (p.active >= 0 && active != (p.active == 1)) continue;
    out += count == 0 ? "{" : ",{";
    ++count;
    active_count += active ? 1 : 0;
    key(out, "device");
    append_json_string(out, name);
    out += ',';
    key(out, "tags");
    out += '{';
    for (size_t i = 0; i < d.tags.size(); ++i) {
      if (i > 0) out += ',';
      append_json_string(out, d.tags[i].key);
      out += ':';
      append_json_string(out, d.tags[i].value);
    }
    out += "},";
    key(out, "first_seen");
    append_time(out, d.first_seen_ms);
    out += ',';
    key(out, "last_seen");
    append_time(out, d.last_seen_ms);
    out += ",\"points\":";
    append_integer(out, d.points);
    out += active ? ",\"active\":true}" : ",\"active\":false}";
  }
  out += "],\"count\":";
  append_integer(out, static_cast<int64_t>(count));
  out += ",\"active\":";
  append_integer(out, static_cast<int64_t>(active_count));
  out += ",\"active_window_seconds\":";
  append_integer(out, window / 1000);
  out += "}\n";
  response.status = 200;
  response.set_body(std::move(out));
}

}  // namespace edgemon::api
