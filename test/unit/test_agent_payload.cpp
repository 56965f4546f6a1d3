// The edge agent's JSON payload (POST /metrics): the original payload and
// its variants become the same system_metrics line protocol the agent's own
// collector writes; every bad payload gets its exact list of problems; and
// encode_agent_payload round-trips SystemMetrics points.
#include <chrono>  // before cmocka, whose fail() macro breaks <ios>
#include <cmath>
#include <string>
#include <vector>

#include "cmocka_all.hpp"
#include "ingest/agent_payload.hpp"
#include "metrics/line_protocol.hpp"
#include "metrics/system_metrics.hpp"

using namespace edgemon;
using ingest::AgentPayloadResult;
using metrics::Point;

namespace {

constexpr int64_t kNow = 1736900000000000000;

AgentPayloadResult parse(std::string_view body, const config::IngestLimits& limits = {}) {
  return ingest::parse_agent_payloads(body, kNow, limits);
}

std::string problems_of(const AgentPayloadResult& r) {
  std::string out;
  for (const auto& p : r.problems)
    out += p.field + ": " + p.reason + "\n";
  return out;
}

// The points as the InfluxDB output would send them: tags, field names,
// field types (i suffix) and time in one comparable string.
std::string lines_of(const AgentPayloadResult& r) {
  metrics::LineProtocolEncoder encoder;
  std::string out;
  for (const Point& p : r.points)
    assert_true(encoder.append(out, p));
  assert_int_equal(encoder.counters().dropped_tags, 0);
  assert_int_equal(encoder.counters().dropped_fields, 0);
  return out;
}

std::string lines(std::string_view body, const config::IngestLimits& limits = {}) {
  AgentPayloadResult r = parse(body, limits);
  assert_string_equal(problems_of(r).c_str(), "");
  assert_false(r.too_many_points);
  return lines_of(r);
}

void expect_problems(std::string_view body, const char* want,
                     const config::IngestLimits& limits = {}) {
  AgentPayloadResult r = parse(body, limits);
  assert_string_equal(problems_of(r).c_str(), want);
  assert_int_equal(r.points.size(), 0);
}

const char* kOriginal = R"({
  "device_id": "jetson-07", "hostname": "jetson-07.lab",
  "timestamp": "2025-01-14T09:41:30.123Z",
  "cpu_total": 12.5, "cpu_per_core": [10.0, 15.0],
  "memory_percent": 41.2, "memory_used": 1673527296, "memory_total": 4062691328,
  "disk_percent": 55.0, "disk_used": 16106127360, "disk_total": 29283893248,
  "heartbeat": 1234, "device_type": "jetson",
  "tags": {"location": "lab", "zone": "a"}, "gpu_temp": 48.5
})";

const char* kOriginalLine =
    "system_metrics,device_id=jetson-07,device_type=jetson,host=jetson-07.lab,location=lab,"
    "zone=a cpu=12.5,cpu_core_0=10,cpu_core_1=15,memory=41.2,memory_used=1673527296,"
    "memory_total=4062691328,disk=55,disk_used=16106127360,disk_total=29283893248,"
    "heartbeat=1234,gpu_temp=48.5 1736847690123000000\n";

// ---- good payloads ----

void original_payload_maps_to_system_metrics(void**) {
  assert_string_equal(lines(kOriginal).c_str(), kOriginalLine);
  // Tags come sorted, so the encoder has nothing to sort.
  AgentPayloadResult r = parse(kOriginal);
  const auto& tags = r.points.at(0).tags;
  for (size_t i = 1; i < tags.size(); ++i)
    assert_true(tags[i - 1].key < tags[i].key);
}

void minimal_payload_takes_now_and_device_id_as_host(void**) {
  assert_string_equal(
      lines(R"({"device_id":"d1","cpu_total":5})").c_str(),
      "system_metrics,device_id=d1,device_type=unknown,host=d1 cpu=5 1736900000000000000\n");
}

void null_members_are_absent(void**) {
  // psutil's None for what the agent could not read: nothing, not an error.
  assert_string_equal(
      lines(R"({"device_id":"d1","hostname":null,"timestamp":null,"cpu_total":null,)"
            R"("cpu_per_core":[null,30],"memory_percent":7,"tags":{"zone":null},"x":null})")
          .c_str(),
      "system_metrics,device_id=d1,device_type=unknown,host=d1 cpu_core_1=30,memory=7 "
      "1736900000000000000\n");
}

void timestamps_in_every_accepted_form(void**) {
  struct Case {
    const char* json;
    int64_t ns;
  };
  const Case cases[] = {
      {"1736847690", 1736847690000000000},
      {"1736847690.123", 1736847690123000000},
      {"1736847690.123456", 1736847690123456000},
      {"0", 0},
      {R"("2025-01-14T09:41:30Z")", 1736847690000000000},
      {R"("2025-01-14t09:41:30z")", 1736847690000000000},
      {R"("2025-01-14T09:41:30")", 1736847690000000000},
      {R"("2025-01-14T09:41:30.123+02:00")", 1736840490123000000},
      {R"("2025-01-14T09:41:30.123+0200")", 1736840490123000000},
      // Python's str(datetime), naive and aware.
      {R"("2025-01-14 09:41:30.123456")", 1736847690123456000},
      {R"("2025-01-14 09:41:30.123456+00:00")", 1736847690123456000},
      {R"("2025-01-14 09:41:30")", 1736847690000000000},
      {R"("2024-02-29T23:59:59.999999-05:30")", 1709270999999999000},
      {R"("2000-03-01T00:00:00Z")", 951868800000000000},
      {R"("2100-03-01T00:00:00Z")", 4107542400000000000},
      {R"("2025-01-14T09:41:30.1234567891Z")", 1736847690123456789},
      {R"("1970-01-01T00:00:00Z")", 0},
      {R"("2262-04-11T23:47:16.854775807Z")", 9223372036854775807},
  };
  for (const Case& c : cases) {
    std::string body = std::string(R"({"device_id":"d","heartbeat":1,"timestamp":)") + c.json + "}";
    AgentPayloadResult r = parse(body);
    if (!r.problems.empty() || r.points.size() != 1) {
      fail_msg("%s: %s", c.json, problems_of(r).c_str());
    }
    if (r.points[0].time_ns != c.ns) {
      fail_msg("%s: got %lld, want %lld", c.json, static_cast<long long>(r.points[0].time_ns),
               static_cast<long long>(c.ns));
    }
  }
}

void array_ndjson_and_concatenated_bodies(void**) {
  const std::string a = R"({"device_id":"a","cpu_total":1,"timestamp":1})";
  const std::string b = R"({"device_id":"b","cpu_total":2,"timestamp":2})";
  const std::string want =
      "system_metrics,device_id=a,device_type=unknown,host=a cpu=1 1000000000\n"
      "system_metrics,device_id=b,device_type=unknown,host=b cpu=2 2000000000\n";
  assert_string_equal(lines("[" + a + ",\n " + b + "]").c_str(), want.c_str());
  assert_string_equal(lines(a + "\n" + b + "\n").c_str(), want.c_str());
  assert_string_equal(lines(a + "\r\n" + b + "\r\n").c_str(), want.c_str());
  assert_string_equal(lines(a + b).c_str(), want.c_str());
  assert_string_equal(lines("[" + a + "]\n" + b).c_str(), want.c_str());
  assert_string_equal(lines("\xEF\xBB\xBF" + a + "\n" + b).c_str(), want.c_str());
}

void extra_numeric_members_are_float_fields(void**) {
  // Always floats, so 48 and 48.5 in two payloads are no type conflict.
  assert_string_equal(
      lines(R"({"device_id":"d","timestamp":1,"gpu_temp":48,"fan_rpm":1200.5,"cpu_core_7":3})")
          .c_str(),
      "system_metrics,device_id=d,device_type=unknown,host=d "
      "gpu_temp=48,fan_rpm=1200.5,cpu_core_7=3 1000000000\n");
}

void no_cpu_per_core(void**) {
  assert_string_equal(
      lines(R"({"device_id":"d","timestamp":1,"memory_percent":41.2,"memory_used":1.0e3})").c_str(),
      "system_metrics,device_id=d,device_type=unknown,host=d memory=41.2,memory_used=1000 "
      "1000000000\n");
}

// ---- hostile values ----

void hostile_tag_values_are_escaped_in_line_protocol(void**) {
  assert_string_equal(
      lines(R"({"device_id":"d 1","hostname":"h,=\"x\"","timestamp":1,"cpu_total":1,)"
            R"("tags":{"loc ation":"a,b c=d\"e","path":"C:\\dir","ok":"\\\\"}})")
          .c_str(),
      "system_metrics,device_id=d\\ 1,device_type=unknown,host=h\\,\\=\"x\",loc\\ ation=a\\,b\\ "
      "c\\=d\"e,"
      "ok=\\\\,path=C:\\dir cpu=1 1000000000\n");
}

void line_breaks_and_bad_utf8_are_precise_problems(void**) {
  const std::string body = std::string(R"({"device_id":"d","cpu_total":1,"tags":{)") +
                           R"("nl":"a\nb","cr":"a\rb","raw":")" + "a\nb" + R"(",)" + R"("bad":")" +
                           "caf\xc3" + R"(",)" + R"("over":")" + "\xc0\xaf" + R"(",)" + R"(")" +
                           "k\xff" + R"(":"v","empty":"","end":"C:\\",)" +
                           R"("q":"a\\\"b","tab":"a\tb","del":"a\u007fb","esc":"\u001b[31m"},)" +
                           R"( "hostname": "\ud83d\ude00 ok"})";
  expect_problems(body,
                  "tags.nl: contains a line break, which line protocol cannot carry\n"
                  "tags.cr: contains a line break, which line protocol cannot carry\n"
                  "tags.raw: contains a line break, which line protocol cannot carry\n"
                  "tags.bad: is not valid UTF-8\n"
                  "tags.over: is not valid UTF-8\n"
                  "tags.k\\xff: name is not valid UTF-8\n"
                  "tags.empty: is empty\n"
                  "tags.end: has an unpaired backslash before a comma, space, equals sign, "
                  "quote or its end, which line protocol cannot carry\n"
                  "tags.q: has an unpaired backslash before a comma, space, equals sign, "
                  "quote or its end, which line protocol cannot carry\n"
                  "tags.tab: contains a control character\n"
                  "tags.del: contains a control character\n"
                  "tags.esc: contains a control character\n");
}

void nul_characters_are_refused(void**) {
  expect_problems(R"({"device_id":"a\u0000b","cpu_total":1})",
                  "body: contains a NUL character near byte 15 (a zero byte or \\u0000), which "
                  "no name or value may hold\n");
  expect_problems(std::string_view("{\"device_id\":\"a\0b\",\"cpu_total\":1}", 33),
                  "body: contains a NUL character near byte 15 (a zero byte or \\u0000), which "
                  "no name or value may hold\n");
  // An escaped backslash before u0000 is just text.
  assert_string_equal(
      lines(R"({"device_id":"a\\u0000","timestamp":1,"cpu_total":1})").c_str(),
      "system_metrics,device_id=a\\u0000,device_type=unknown,host=a\\u0000 cpu=1 1000000000\n");
}

// ---- wrong payloads ----

void wrong_types_each_named(void**) {
  expect_problems(
      R"({"device_id": 7, "hostname": ["h"], "device_type": false, "tags": {"zone": 5},)"
      R"( "timestamp": true, "cpu_total": "12", "memory_used": true, "memory_total": 12.5,)"
      R"( "disk_percent": 101, "memory_percent": -0.5, "heartbeat": -1,)"
      R"( "cpu_per_core": [1, "x", false, {}], "note": "str", "nested": {"a": 1}, "l": []})",
      "device_id: expected a string, got a number\n"
      "hostname: expected a string, got an array\n"
      "device_type: expected a string, got false\n"
      "tags.zone: expected a string, got a number\n"
      "timestamp: expected unix seconds or an RFC 3339 time like \"2025-01-14T09:41:30Z\", "
      "got true\n"
      "cpu_total: expected a number, got a string\n"
      "memory_used: expected a number, got true\n"
      "memory_total: expected a whole number from 0 to 9007199254740992, got 12.5\n"
      "disk_percent: expected a percentage from 0 to 100, got 101\n"
      "memory_percent: expected a percentage from 0 to 100, got -0.5\n"
      "heartbeat: expected a whole number from 0 to 9007199254740992, got -1\n"
      "cpu_per_core[1]: expected a number, got a string\n"
      "cpu_per_core[2]: expected a number, got false\n"
      "cpu_per_core[3]: expected a number, got an object\n"
      "note: unknown member: only numeric ones are kept (as extra fields), got a string\n"
      "nested: unknown member: only numeric ones are kept (as extra fields), got an object\n"
      "l: unknown member: only numeric ones are kept (as extra fields), got an array\n");
  expect_problems(R"({"device_id":"d","tags":["a"],"cpu_per_core":{"0":1}})",
                  "tags: expected an object of strings, got an array\n"
                  "cpu_per_core: expected an array of numbers, got an object\n");
}

void missing_or_empty_device_id(void**) {
  expect_problems(R"({"hostname":"h","cpu_total":1})", "device_id: is required\n");
  expect_problems(R"({"device_id":null,"cpu_total":1})", "device_id: is required\n");
  expect_problems(R"({"device_id":"","cpu_total":1})", "device_id: is empty\n");
}

void overflowing_numbers_are_refused(void**) {
  // JSON has no NaN or infinity; 1e999 is cJSON's way to make one.
  expect_problems(R"({"device_id":"d","cpu_total":1e999,"gpu":-1e999,"disk_used":1e300})",
                  "cpu_total: is out of range: it overflows a double\n"
                  "gpu: is out of range: it overflows a double\n"
                  "disk_used: expected a whole number from 0 to 9007199254740992, got 1e+300\n");
}

void bad_timestamps(void**) {
  const char* cases[] = {
      R"("2025-02-30T00:00:00Z")",  R"("2025-01-14")",
      R"("2025-01-14T25:00:00Z")",  R"("2025-01-14T09:41:30+2")",
      R"("2025-01-14T09:41:30Zx")", R"("2025-01-14T09:41:30.")",
      R"(" 2025-01-14T09:41:30Z")", R"("")",
      R"("2023-02-29T00:00:00Z")",  R"("1736847690")",
  };
  for (const char* c : cases) {
    expect_problems(std::string(R"({"device_id":"d","heartbeat":1,"timestamp":)") + c + "}",
                    "timestamp: expected unix seconds or an RFC 3339 time like "
                    "\"2025-01-14T09:41:30Z\"\n");
  }
  const char* out_of_range[] = {
      "-1",
      "1736847690123",  // milliseconds, as JavaScript's Date.now()
      "9223372036.9",
      R"("1969-12-31T23:59:59Z")",
      R"("1970-01-01T00:30:00+01:00")",
      R"("2262-04-11T23:47:16.854775808Z")",
      R"("9999-12-31T23:59:59Z")",
  };
  for (const char* c : out_of_range) {
    expect_problems(std::string(R"({"device_id":"d","heartbeat":1,"timestamp":)") + c + "}",
                    "timestamp: is out of range: times from 1970 to 2262-04-11 are accepted\n");
  }
}

void conflicts_duplicates_and_reserved_names(void**) {
  expect_problems(R"({"device_id":"d","device_id":"e","cpu_total":1,"cpu":2,"cpu_per_core":[1,2],)"
                  R"("cpu_core_1":3,"cpu_core_2":500,"memory":5,"time":1,"_field":2,)"
                  R"("tags":{"host":"x","device_id":"y","device_type":"z","a":"1","a":"2"}})",
                  "device_id: is given more than once\n"
                  "tags.a: is given more than once\n"
                  "tags.host: conflicts with the top-level hostname (tag host)\n"
                  "tags.device_id: conflicts with the top-level device_id\n"
                  "tags.device_type: conflicts with the top-level device_type\n"
                  "cpu: sets field cpu, which cpu_total sets already\n"
                  "cpu_core_1: sets field cpu_core_1, which cpu_per_core[1] sets already\n"
                  "cpu_core_2: expected a percentage from 0 to 100, got 500\n"
                  "time: name is reserved by InfluxDB\n"
                  "_field: name is reserved by InfluxDB\n");
}

void payload_without_metrics(void**) {
  expect_problems(R"({"device_id":"d","timestamp":1,"tags":{"a":"b"}})",
                  "body: has no metrics: a payload needs at least one numeric member besides "
                  "timestamp\n");
}

void problems_of_several_payloads_carry_their_index(void**) {
  expect_problems(
      "[{\"device_id\":\"a\",\"cpu_total\":1}, 42, {\"cpu_total\":\"x\",\"device_id\":\"c\"}]",
      "[1]: expected an object, got a number\n"
      "[2].cpu_total: expected a number, got a string\n");
  expect_problems("{\"device_id\":\"a\",\"cpu_total\":1}\n{\"cpu_total\":2}\n",
                  "[1].device_id: is required\n");
  expect_problems("[[{\"device_id\":\"a\",\"cpu_total\":1}]]",
                  "[0]: expected an object, got an array\n");
  expect_problems("42", "body: expected an object, got a number\n");
  expect_problems("\"x\"", "body: expected an object, got a string\n");
}

void syntax_errors_name_the_byte(void**) {
  expect_problems(R"({"device_id": "a", "cpu_total": })", "body: invalid JSON near byte 32\n");
  expect_problems(R"({"device_id":"a","cpu_total":1} x)", "body: invalid JSON near byte 32\n");
  expect_problems(R"([{"device_id":"a","cpu_total":1} {"device_id":"b"}])",
                  "body: invalid JSON near byte 33\n");
  expect_problems(R"([{"device_id":"a","cpu_total":1},])", "body: invalid JSON near byte 33\n");
  expect_problems(R"({"device_id":"a","cpu_total":1)", "body: invalid JSON near byte 29\n");
  expect_problems("[{\"device_id\":\"a\",\"cpu_total\":1}", "body: invalid JSON near byte 32\n");
  expect_problems("{\"a\":NaN}", "body: invalid JSON near byte 5\n");
  // A syntax error wins over the problems of the payloads before it.
  expect_problems("{\"cpu_total\":1}\n{\"a\":", "body: invalid JSON near byte 20\n");
  expect_problems("", "body: is empty\n");
  expect_problems(" \r\n\t", "body: is empty\n");
  expect_problems("[ ]", "body: is an empty array\n");
}

// ---- limits ----

void limits_on_keys_values_tags_and_fields(void**) {
  config::IngestLimits limits;
  limits.max_key_bytes = 4;
  limits.max_tag_value_bytes = 5;
  expect_problems(R"({"device_id":"d","cpu_total":1,"gpu_temp":3,"tags":{"zone":"abcdef"}})",
                  "tags.zone: is 6 bytes long, more than limits.max_tag_value_bytes (5)\n"
                  "gpu_temp: name is 8 bytes long, more than limits.max_key_bytes (4)\n",
                  limits);
  limits = {};
  limits.max_tags = 3;
  limits.max_fields = 2;
  expect_problems(R"({"device_id":"d","tags":{"a":"1","b":"2"},"cpu_per_core":[1,2,3]})",
                  "body: has 5 tags (device_id, host and device_type included), more than "
                  "limits.max_tags (3)\n"
                  "body: has 3 fields, more than limits.max_fields (2)\n",
                  limits);
  // The implied device_type=unknown is a tag the stored point carries: it counts.
  limits.max_tags = 4;
  assert_string_equal(
      lines(R"({"device_id":"d","tags":{"a":"1"},"timestamp":1,"cpu_per_core":[1,2]})", limits)
          .c_str(),
      "system_metrics,a=1,device_id=d,device_type=unknown,host=d cpu_core_0=1,cpu_core_1=2 "
      "1000000000\n");
  // The series key: "system_metrics" + ",a=1" + ",device_id=d" + ",host=d"
  // + ",device_type=unknown".
  limits = {};
  limits.max_series_key_bytes = 32;
  expect_problems(R"({"device_id":"d","tags":{"a":"1"},"cpu_total":1})",
                  "body: has a series key (measurement and tags) of 57 bytes, longer than "
                  "limits.max_series_key_bytes (32)\n",
                  limits);
}

void too_many_payloads(void**) {
  config::IngestLimits limits;
  limits.max_points = 2;
  const std::string one = R"({"device_id":"d","cpu_total":1})";
  AgentPayloadResult r = parse(one + "\n" + one + "\n" + one, limits);
  assert_true(r.too_many_points);
  assert_int_equal(r.points.size(), 0);
  assert_int_equal(r.problems.size(), 0);
  r = parse("[" + one + "," + one + "," + one + "]", limits);
  assert_true(r.too_many_points);
  r = parse(one + "\n" + one, limits);
  assert_false(r.too_many_points);
  assert_int_equal(r.points.size(), 2);
}

void problems_are_capped_at_fifty(void**) {
  std::string body = R"({"device_id":"d")";
  for (int i = 0; i < 80; ++i)
    body += ",\"s" + std::to_string(i) + "\":\"x\"";
  body += "}";
  AgentPayloadResult r = parse(body);
  assert_int_equal(r.problems.size(), 50);
  assert_string_equal(r.problems[49].field.c_str(), "s49");
}

void oversized_payload_is_refused_before_parsing(void**) {
  config::IngestLimits limits;
  limits.max_fields = 2;
  limits.max_tags = 2;
  std::string body = R"({"device_id":"d","cpu_per_core":[)";
  for (int i = 0; i < 200; ++i)
    body += "1,";
  body += "1]}";
  expect_problems(body,
                  "body: is too large: more than 72 JSON values, beyond what limits.max_fields "
                  "and limits.max_tags allow\n",
                  limits);
}

// ---- encoding ----

Point system_point(std::vector<metrics::CoreUsage> cores, int64_t time_ns) {
  metrics::SystemSample sample;
  sample.has_cpu = true;
  sample.cpu_ratio = 0.125;
  sample.cores = std::move(cores);
  sample.has_mem_total = sample.has_mem_available = true;
  sample.mem_total = 4062691328;
  sample.mem_available = 2389164032;
  sample.disk_parts = 7;
  sample.disk_size = 29283893248;
  sample.disk_free = 13177765888;
  sample.disk_avail = 11675381760;
  metrics::SystemMetrics sm;
  std::vector<metrics::Tag> tags{
      {"app", "edge"}, {"device_id", "jetson-07"}, {"host", "jetson 07"}, {"zone", "a,b"}};
  std::vector<Point> out;
  sm.add_round(sample, tags, time_ns, &out);
  sm.add_round(sample, tags, time_ns, &out);
  assert_int_equal(out.size(), 2);
  return out[1];
}

void assert_same_point(const Point& got, const Point& want) {
  metrics::LineProtocolEncoder encoder;
  std::string a;
  std::string b;
  encoder.append(a, got);
  encoder.append(b, want);
  assert_string_equal(a.c_str(), b.c_str());
  assert_int_equal(got.tags.size(), want.tags.size());
  assert_int_equal(got.fields.size(), want.fields.size());
  for (size_t i = 0; i < got.tags.size(); ++i) {
    assert_string_equal(got.tags[i].key.c_str(), want.tags[i].key.c_str());
    assert_string_equal(got.tags[i].value.c_str(), want.tags[i].value.c_str());
  }
  for (size_t i = 0; i < got.fields.size(); ++i) {
    assert_string_equal(got.fields[i].key.c_str(), want.fields[i].key.c_str());
    assert_true(got.fields[i].value == want.fields[i].value);  // type and value
  }
  assert_int_equal(got.time_ns, want.time_ns);
}

void encode_writes_the_original_shape(void**) {
  Point p = system_point({{"0", 0.1}, {"1", 0.15}}, 1736847690123000000);
  assert_string_equal(
      ingest::encode_agent_payload(p).c_str(),
      R"({"device_id":"jetson-07","hostname":"jetson 07","timestamp":1736847690.123,)"
      R"("cpu_total":12.5,"cpu_per_core":[10,15],"memory_percent":41.192578044659165,)"
      R"("memory_total":4062691328,"memory_used":1673527296,"disk_percent":57.97427090958549,)"
      R"("disk_total":29283893248,"disk_used":16106127360,"heartbeat":2,)"
      R"("tags":{"app":"edge","zone":"a,b"}})");
}

void round_trip_of_system_metrics_points(void**) {
  const std::vector<std::vector<metrics::CoreUsage>> core_sets = {
      {{"0", 0.1}, {"1", 0.15}, {"2", 1.0}, {"3", 0.0}},
      {},
      {{"0", 0.5}, {"2", 0.25}, {"3", 0.75}},  // cpu1 offline
      {{"1", 0.5}},
  };
  for (const auto& cores : core_sets) {
    for (int64_t t : {int64_t{1736847690123000000}, int64_t{1736847690123456000}, int64_t{0},
                      int64_t{4102444800999000000}}) {
      Point p = system_point(cores, t);
      const std::string json = ingest::encode_agent_payload(p);
      AgentPayloadResult r = parse(json);
      if (!r.problems.empty()) fail_msg("%s: %s", json.c_str(), problems_of(r).c_str());
      assert_int_equal(r.points.size(), 1);
      assert_same_point(r.points[0], p);
    }
  }
}

void encode_keeps_microseconds_and_skips_what_json_cannot_carry(void**) {
  Point p{"system_metrics",
          {{"device_id", "d"}, {"empty", ""}},
          {{"cpu", 1.0},
           {"s", std::string("x")},
           {"b", true},
           {"nan", std::nan("")},
           {"tags", 1.0},
           {"u", uint64_t{7}}},
          1736847690123456789};
  assert_string_equal(ingest::encode_agent_payload(p).c_str(),
                      R"({"device_id":"d","timestamp":1736847690.123456,"cpu_total":1,"u":7})");
}

}  // namespace

int main() {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(original_payload_maps_to_system_metrics),
      cmocka_unit_test(minimal_payload_takes_now_and_device_id_as_host),
      cmocka_unit_test(null_members_are_absent),
      cmocka_unit_test(timestamps_in_every_accepted_form),
      cmocka_unit_test(array_ndjson_and_concatenated_bodies),
      cmocka_unit_test(extra_numeric_members_are_float_fields),
      cmocka_unit_test(no_cpu_per_core),
      cmocka_unit_test(hostile_tag_values_are_escaped_in_line_protocol),
      cmocka_unit_test(line_breaks_and_bad_utf8_are_precise_problems),
      cmocka_unit_test(nul_characters_are_refused),
      cmocka_unit_test(wrong_types_each_named),
      cmocka_unit_test(missing_or_empty_device_id),
      cmocka_unit_test(overflowing_numbers_are_refused),
      cmocka_unit_test(bad_timestamps),
      cmocka_unit_test(conflicts_duplicates_and_reserved_names),
      cmocka_unit_test(payload_without_metrics),
      cmocka_unit_test(problems_of_several_payloads_carry_their_index),
      cmocka_unit_test(syntax_errors_name_the_byte),
      cmocka_unit_test(limits_on_keys_values_tags_and_fields),
      cmocka_unit_test(too_many_payloads),
      cmocka_unit_test(problems_are_capped_at_fifty),
      cmocka_unit_test(oversized_payload_is_refused_before_parsing),
      cmocka_unit_test(encode_writes_the_original_shape),
      cmocka_unit_test(round_trip_of_system_metrics_points),
      cmocka_unit_test(encode_keeps_microseconds_and_skips_what_json_cannot_carry),
  };
  return cmocka_run_group_tests(tests, nullptr, nullptr);
}
