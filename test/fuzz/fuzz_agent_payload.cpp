// The agent payload parser on arbitrary bodies. Beyond not crashing: every
// point it accepts is one the line protocol encoder writes whole (nothing
// dropped), every problem is printable UTF-8 for the 400 answer, and
// encode_agent_payload reads back as the same point (time to the
// microsecond, which is what a JSON number carries).
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/utf8.hpp"
#include "ingest/agent_payload.hpp"
#include "metrics/line_protocol.hpp"

using namespace edgemon;

namespace {

// Small limits, so that inputs of a few hundred bytes reach them.
config::IngestLimits fuzz_limits() {
  config::IngestLimits limits;
  limits.max_points = 64;
  limits.max_tags = 8;
  limits.max_fields = 32;
  limits.max_key_bytes = 32;
  limits.max_tag_value_bytes = 64;
  return limits;
}

void check(bool ok) {
  if (!ok) __builtin_trap();
}

bool has_tag(const metrics::Point& p, std::string_view key) {
  for (const metrics::Tag& t : p.tags)
    if (t.key == key) return true;
  return false;
}

void check_point(const metrics::Point& p, const config::IngestLimits& limits) {
  check(p.measurement == "system_metrics");
  check(!p.fields.empty() && static_cast<int64_t>(p.fields.size()) <= limits.max_fields);
  check(static_cast<int64_t>(p.tags.size()) <= limits.max_tags);
  check(has_tag(p, "device_id") && has_tag(p, "host"));
  check(p.time_ns >= 0);
  for (size_t i = 1; i < p.tags.size(); ++i)
    check(p.tags[i - 1].key < p.tags[i].key);
  for (size_t i = 0; i < p.fields.size(); ++i) {
    const metrics::FieldValue& v = p.fields[i].value;
    check(std::holds_alternative<int64_t>(v) ||
          (std::holds_alternative<double>(v) && std::isfinite(std::get<double>(v))));
    for (size_t j = 0; j < i; ++j)
      check(p.fields[j].key != p.fields[i].key);
  }
  metrics::LineProtocolEncoder encoder;
  std::string line;
  check(encoder.append(line, p));
  check(encoder.counters().dropped_tags == 0 && encoder.counters().dropped_fields == 0);
  check(valid_utf8(line));
}

bool same_point(const metrics::Point& a, const metrics::Point& b) {
  if (a.tags.size() != b.tags.size() || a.fields.size() != b.fields.size()) return false;
  for (size_t i = 0; i < a.tags.size(); ++i) {
    if (a.tags[i].key != b.tags[i].key || a.tags[i].value != b.tags[i].value) return false;
  }
  for (size_t i = 0; i < a.fields.size(); ++i) {
    if (a.fields[i].key != b.fields[i].key || !(a.fields[i].value == b.fields[i].value)) {
      return false;
    }
  }
  return a.measurement == b.measurement && a.time_ns == b.time_ns;
}

void check_round_trip(metrics::Point p, const config::IngestLimits& limits) {
  // Past 2106 a double no longer holds unix seconds to the microsecond.
  if (p.time_ns >= 4'000'000'000'000'000'000) return;
  const std::string json = ingest::encode_agent_payload(p);
  ingest::AgentPayloadResult again = ingest::parse_agent_payloads(json, 0, limits);
  check(again.problems.empty() && again.points.size() == 1);
  p.time_ns -= p.time_ns % 1000;
  check(same_point(again.points[0], p));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // Copied so that reading one byte past the end is caught by ASan.
  const std::string body(reinterpret_cast<const char*>(data), size);
  const config::IngestLimits limits = fuzz_limits();
  ingest::AgentPayloadResult r = ingest::parse_agent_payloads(body, 1736847690123456789, limits);
  check(r.problems.size() <= 50);
  if (r.too_many_points) check(r.problems.empty() && r.points.empty());
  if (!r.problems.empty()) check(r.points.empty());
  for (const ingest::FieldProblem& problem : r.problems) {
    check(!problem.field.empty() && !problem.reason.empty());
    check(valid_utf8(problem.field) && valid_utf8(problem.reason));
  }
  for (const metrics::Point& p : r.points) {
    check_point(p, limits);
    check_round_trip(p, limits);
  }
  return 0;
}
