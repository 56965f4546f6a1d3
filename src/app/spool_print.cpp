#include "app/spool_print.hpp"

#include <chrono>

#include "core/config_types.hpp"
#include "core/json_text.hpp"
#include "core/rfc3339.hpp"

namespace edgemon::app {
namespace {

std::string format(const char* fmt, auto... args) {
  char buf[512];
  int n = std::snprintf(buf, sizeof buf, fmt, args...);
  if (n < 0) return "";
  if (static_cast<size_t>(n) < sizeof buf) return std::string(buf, static_cast<size_t>(n));
  std::string out(static_cast<size_t>(n), '\0');
  std::snprintf(out.data(), out.size() + 1, fmt, args...);
  return out;
}

long long ll(int64_t v) {
  return static_cast<long long>(v);
}

bool all_digits(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

// How operators type times on the command line: a space for the T is fine,
// and second 60 is the next minute's first.
constexpr Rfc3339Options kCommandLineTime{.space_separator = true,
                                          .leap_second = LeapSecond::kNextMinute};

void field(std::string& out, const char* key, int64_t value) {
  out += format("\"%s\":%lld,", key, ll(value));
}

void field(std::string& out, const char* key, std::string_view value) {
  out += '"';
  out += key;
  out += "\":";
  append_json_string(out, value);
  out += ',';
}

void close_object(std::string& out) {
  if (!out.empty() && out.back() == ',') out.pop_back();
  out += '}';
}

}  // namespace

int64_t now_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

std::string parse_point_in_time(std::string_view text, int64_t now, int64_t* out_ms) {
  if (all_digits(text)) {
    int64_t secs = 0;
    if (!config::parse_int(text, &secs).empty()) return "Unix seconds out of range";
    *out_ms = secs * 1000;
    return "";
  }
  if (Rfc3339Time t; parse_rfc3339(text, &t, kCommandLineTime)) {
    *out_ms = t.unix_ms();
    return "";
  }
  // A bare number is Unix seconds (above), so a duration needs its unit.
  config::Duration d{};
  if (!text.empty() && !all_digits(text.substr(text.size() - 1)) &&
      config::parse_duration(text, &d).empty()) {
    *out_ms = now - d.count();
    return "";
  }
  return "expected RFC 3339 (2025-01-31T12:00:00Z), Unix seconds or a duration (2h, 7d), got '" +
         std::string(text) + "'";
}

std::string format_age(int64_t ms) {
  int64_t s = ms < 0 ? 0 : ms / 1000;
  if (s < 60) return format("%llds", ll(s));
  if (s < 3600) return format("%lldm%llds", ll(s / 60), ll(s % 60));
  if (s < 86400) return format("%lldh%lldm", ll(s / 3600), ll(s % 3600 / 60));
  return format("%lldd%lldh", ll(s / 86400), ll(s % 86400 / 3600));
}

std::string stats_text(const std::string& path, int64_t file_bytes,
                       const std::vector<store::QueueStats>& stats, int64_t now) {
  std::string out = format("spool %s: %lld bytes on disk\n", path.c_str(), ll(file_bytes));
  if (stats.empty()) return out + "nothing queued, no dead letters\n";
  int width = 6;
  for (const auto& s : stats)
    width = std::max(width, static_cast<int>(s.output.size()));
  out += format("%-*s %10s %12s %14s %10s %12s %12s\n", width, "OUTPUT", "BATCHES", "POINTS",
                "BYTES", "OLDEST", "DEAD", "DEAD_POINTS");
  for (const auto& s : stats) {
    std::string age = s.batches > 0 ? format_age(now - s.oldest_created_ms) : "-";
    out += format("%-*s %10lld %12lld %14lld %10s %12lld %12lld\n", width, s.output.c_str(),
                  ll(s.batches), ll(s.points), ll(s.bytes), age.c_str(), ll(s.dead_letters),
                  ll(s.dead_points));
  }
  return out;
}

std::string stats_json(const std::string& path, int64_t file_bytes,
                       const std::vector<store::QueueStats>& stats, int64_t now) {
  std::string out = "{";
  field(out, "path", path);
  field(out, "file_bytes", file_bytes);
  out += "\"outputs\":[";
  for (const auto& s : stats) {
    out += '{';
    field(out, "output", s.output);
    field(out, "batches", s.batches);
    field(out, "points", s.points);
    field(out, "bytes", s.bytes);
    field(out, "oldest_created_ms", s.oldest_created_ms);
    field(out, "oldest_age_ms", s.batches > 0 ? now - s.oldest_created_ms : 0);
    field(out, "dead_letters", s.dead_letters);
    field(out, "dead_points", s.dead_points);
    close_object(out);
    out += ',';
  }
  if (out.back() == ',') out.pop_back();
  out += "]}\n";
  return out;
}

std::string batch_header() {
  return format("%10s  %-16s  %-24s  %8s  %10s  %-9s  %s\n", "ID", "OUTPUT", "CREATED", "POINTS",
                "BYTES", "PRECISION", "ATTEMPTS");
}

std::string batch_line(const store::Batch& b) {
  return format("%10lld  %-16s  %-24s  %8lld  %10lld  %-9s  %lld\n", ll(b.id), b.output.c_str(),
                format_rfc3339_ms(b.created_ms).c_str(), ll(b.points), ll(b.bytes),
                b.precision.c_str(), ll(b.attempts));
}

std::string batch_details(const store::Batch& b) {
  return format(
      "id: %lld\noutput: %s\ncreated: %s\npoints: %lld\nbytes: %lld\nprecision: %s\n"
      "attempts: %lld\n",
      ll(b.id), b.output.c_str(), format_rfc3339_ms(b.created_ms).c_str(), ll(b.points),
      ll(b.bytes), b.precision.c_str(), ll(b.attempts));
}

std::string batch_json(const store::Batch& b, bool with_body) {
  std::string out = "{";
  field(out, "id", b.id);
  field(out, "output", b.output);
  field(out, "created", format_rfc3339_ms(b.created_ms));
  field(out, "created_ms", b.created_ms);
  field(out, "points", b.points);
  field(out, "bytes", b.bytes);
  field(out, "precision", b.precision);
  field(out, "attempts", b.attempts);
  if (with_body) field(out, "body", b.body);
  close_object(out);
  return out + "\n";
}

std::string dead_letter_header() {
  return format("%10s  %10s  %-16s  %-24s  %-24s  %8s  %10s  %6s  %s\n", "ID", "BATCH", "OUTPUT",
                "CREATED", "DEAD_AT", "POINTS", "BYTES", "STATUS", "ERROR");
}

std::string dead_letter_line(const store::DeadLetter& d) {
  // A server's error text may span lines; a listing keeps one per letter.
  std::string error = d.error;
  for (char& c : error) {
    if (c == '\n' || c == '\r' || c == '\t') c = ' ';
  }
  return format("%10lld  %10lld  %-16s  %-24s  %-24s  %8lld  %10lld  %6d  %s\n", ll(d.id),
                ll(d.batch_id), d.output.c_str(), format_rfc3339_ms(d.created_ms).c_str(),
                format_rfc3339_ms(d.dead_ms).c_str(), ll(d.points), ll(d.bytes), d.status,
                error.c_str());
}

std::string dead_letter_details(const store::DeadLetter& d) {
  return format(
      "id: %lld\nbatch: %lld\noutput: %s\ncreated: %s\ndead: %s\npoints: %lld\nbytes: %lld\n"
      "precision: %s\nstatus: %d\nerror: %s\n",
      ll(d.id), ll(d.batch_id), d.output.c_str(), format_rfc3339_ms(d.created_ms).c_str(),
      format_rfc3339_ms(d.dead_ms).c_str(), ll(d.points), ll(d.bytes), d.precision.c_str(),
      d.status, d.error.c_str());
}

std::string removed_text(const store::Removed& r, const char* one, const char* many) {
  return format("%lld %s (%lld point%s, %lld bytes)", ll(r.batches), r.batches == 1 ? one : many,
                ll(r.points), r.points == 1 ? "" : "s", ll(r.bytes));
}

void write_body(std::string_view body, FILE* out) {
  std::fwrite(body.data(), 1, body.size(), out);
  if (!body.empty() && body.back() != '\n') std::fputc('\n', out);
}

}  // namespace edgemon::app
