// Encodes JSON points from stdin as InfluxDB line protocol on stdout, so the
// integration tests can feed the real encoder's output to a real influxd.
//
//   lp_encode <ns|us|ms|s> [nouint] < points.json
//
// Input: [{"measurement": "m", "tags": {"k": "v"}, "time_ns": "123",
//          "fields": {"a": {"f": 1.5}, "b": {"i": "3"}, "c": {"u": "5"},
//                     "d": {"b": true}, "e": {"s": "text"}}}]
// Integers and time_ns may be strings, since JSON numbers are doubles and
// lose digits past 2^53. Counters go to stderr as one JSON object.
#include <cjson/cJSON.h>

#include <charconv>
#include <cstdio>
#include <cstring>
#include <limits>
#include <string>

#include "metrics/line_protocol.hpp"

using namespace edgemon::metrics;

namespace {

template <typename T>
bool json_integer(const cJSON* item, T* out) {
  if (cJSON_IsString(item)) {
    const char* s = item->valuestring;
    auto [end, ec] = std::from_chars(s, s + std::strlen(s), *out);
    return ec == std::errc() && *end == '\0';
  }
  if (!cJSON_IsNumber(item)) return false;
  *out = static_cast<T>(item->valuedouble);
  return true;
}

bool parse_field(const cJSON* item, Field* field) {
  field->key = item->string;
  const cJSON* v = item->child;
  if (!cJSON_IsObject(item) || v == nullptr || v->string == nullptr) return false;
  const std::string type = v->string;
  if (type == "f" && cJSON_IsNumber(v)) {
    field->value = v->valuedouble;
  } else if (type == "f" && cJSON_IsString(v)) {
    // "nan", "inf", "-inf": JSON has no literal for them.
    field->value = std::strtod(v->valuestring, nullptr);
  } else if (type == "i") {
    int64_t i = 0;
    if (!json_integer(v, &i)) return false;
    field->value = i;
  } else if (type == "u") {
    uint64_t u = 0;
    if (!json_integer(v, &u)) return false;
    field->value = u;
  } else if (type == "b" && cJSON_IsBool(v)) {
    field->value = cJSON_IsTrue(v) != 0;
  } else if (type == "s" && cJSON_IsString(v)) {
    field->value = std::string(v->valuestring);
  } else {
    return false;
  }
  return true;
}

bool parse_point(const cJSON* item, Point* point) {
  const cJSON* m = cJSON_GetObjectItemCaseSensitive(item, "measurement");
  if (!cJSON_IsString(m)) return false;
  point->measurement = m->valuestring;
  const cJSON* tag = nullptr;
  cJSON_ArrayForEach(tag, cJSON_GetObjectItemCaseSensitive(item, "tags")) {
    if (!cJSON_IsString(tag)) return false;
    point->tags.push_back({tag->string, tag->valuestring});
  }
  const cJSON* f = nullptr;
  cJSON_ArrayForEach(f, cJSON_GetObjectItemCaseSensitive(item, "fields")) {
    Field field;
    if (!parse_field(f, &field)) return false;
    point->fields.push_back(std::move(field));
  }
  const cJSON* t = cJSON_GetObjectItemCaseSensitive(item, "time_ns");
  return t == nullptr || json_integer(t, &point->time_ns);
}

std::string read_stdin() {
  std::string text;
  char buf[65536];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, stdin)) > 0)
    text.append(buf, n);
  return text;
}

}  // namespace

int main(int argc, char** argv) {
  auto precision = argc >= 2 ? parse_precision(argv[1]) : std::nullopt;
  if (!precision || argc > 3 || (argc == 3 && std::strcmp(argv[2], "nouint") != 0)) {
    std::fprintf(stderr, "usage: lp_encode <ns|us|ms|s> [nouint] < points.json\n");
    return 2;
  }
  const std::string text = read_stdin();
  cJSON* root = cJSON_ParseWithLength(text.data(), text.size());
  if (!cJSON_IsArray(root)) {
    std::fprintf(stderr, "lp_encode: stdin is not a JSON array\n");
    cJSON_Delete(root);
    return 2;
  }
  LineProtocolEncoder encoder({*precision, argc != 3});
  std::string out;
  int index = 0;
  const cJSON* item = nullptr;
  cJSON_ArrayForEach(item, root) {
    Point point;
    if (!parse_point(item, &point)) {
      std::fprintf(stderr, "lp_encode: point %d is malformed\n", index);
      cJSON_Delete(root);
      return 2;
    }
    encoder.append(out, point);
    ++index;
  }
  cJSON_Delete(root);
  std::fwrite(out.data(), 1, out.size(), stdout);
  const auto& c = encoder.counters();
  std::fprintf(stderr, "{\"dropped_fields\":%llu,\"dropped_tags\":%llu,\"dropped_points\":%llu}\n",
               static_cast<unsigned long long>(c.dropped_fields),
               static_cast<unsigned long long>(c.dropped_tags),
               static_cast<unsigned long long>(c.dropped_points));
  return 0;
}
