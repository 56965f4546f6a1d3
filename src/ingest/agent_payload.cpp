#include "ingest/agent_payload.hpp"

#include <cjson/cJSON.h>

#include <algorithm>
#include <cmath>
#include <memory>
#include <optional>
#include <unordered_set>
#include <utility>

#include "core/json_text.hpp"
#include "core/number_text.hpp"
#include "core/rfc3339.hpp"
#include "core/utf8.hpp"
#include "metrics/system_metrics.hpp"

namespace edgemon::ingest {
namespace {

using metrics::Field;
using metrics::FieldValue;
using metrics::Point;
using metrics::Tag;
using JsonPtr = std::unique_ptr<cJSON, decltype(&cJSON_Delete)>;

constexpr size_t kMaxProblems = 50;
constexpr size_t kShownKeyBytes = 64;
// Byte counts arrive as JSON numbers, i.e. doubles: above 2^53 they are no
// longer exact, and no board has 9 PB of anything.
constexpr double kMaxWhole = 9007199254740992.0;
// The end of int64 nanoseconds: 2262-04-11T23:47:16.854775807Z.
constexpr int64_t kMaxUnixSeconds = 9223372036;
constexpr int64_t kMaxFracNs = 854775807;
constexpr std::string_view kTimeForms =
    "expected unix seconds or an RFC 3339 time like \"2025-01-14T09:41:30Z\"";
constexpr std::string_view kTimeRange =
    "is out of range: times from 1970 to 2262-04-11 are accepted";

// ---- text ----

std::string number_text(double v) {
  std::string out;
  append_double(out, v);
  return out;
}

// A member name for a problem's path ("" for the empty one): control bytes (and every high byte
// when the name is not UTF-8) as \xNN, so the 400 answer stays valid JSON.
std::string shown_key(std::string_view key) {
  if (key.empty()) return "\"\"";
  return printable(key, kShownKeyBytes);
}

// The line protocol encoder drops a name or tag value in which a backslash
// run of odd length meets a delimiter or the end: the server would pair the
// last backslash with the escape or the delimiter that follows.
bool unpaired_backslash(std::string_view text) {
  size_t run = 0;
  for (char c : text) {
    if (run % 2 == 1 && (c == ',' || c == ' ' || c == '=' || c == '"')) return true;
    run = c == '\\' ? run + 1 : 0;
  }
  return run % 2 == 1;
}

// "" when `text` can be a tag key, tag value or field key, else why not.
std::string check_text(std::string_view text, int64_t max_bytes, std::string_view limit) {
  if (text.empty()) return "is empty";
  if (!valid_utf8(text)) return "is not valid UTF-8";
  if (text.find_first_of("\r\n") != std::string_view::npos) {
    return "contains a line break, which line protocol cannot carry";
  }
  // Names and tag values become series keys and stored names, which a
  // control character has no business in (and which break what prints them).
  for (char c : text) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) return "contains a control character";
  }
  if (static_cast<int64_t>(text.size()) > max_bytes) {
    return "is " + std::to_string(text.size()) + " bytes long, more than " + std::string(limit) +
           " (" + std::to_string(max_bytes) + ")";
  }
  if (unpaired_backslash(text)) {
    return "has an unpaired backslash before a comma, space, equals sign, quote or its end, "
           "which line protocol cannot carry";
  }
  return "";
}

std::string check_key(std::string_view key, const config::IngestLimits& limits) {
  if (key == "time" || key == "_field" || key == "_measurement") {
    return "is reserved by InfluxDB";
  }
  return check_text(key, limits.max_key_bytes, "limits.max_key_bytes");
}

std::string kind(const cJSON* item) {
  if (cJSON_IsTrue(item)) return "true";
  if (cJSON_IsFalse(item)) return "false";
  if (cJSON_IsNull(item)) return "null";
  if (cJSON_IsNumber(item)) return "a number";
  if (cJSON_IsString(item)) return "a string";
  if (cJSON_IsArray(item)) return "an array";
  if (cJSON_IsObject(item)) return "an object";
  return "something else";
}

bool absent(const cJSON* item) {
  return item == nullptr || cJSON_IsNull(item);
}

// ---- time ----

// Agents write times many ways: Python's str(datetime) (a space, maybe no
// offset), ISO 8601's +0200, and a leap second, which runs into the next
// minute.
constexpr Rfc3339Options kAgentTime{.space_separator = true,
                                    .offset_without_colon = true,
                                    .utc_when_no_offset = true,
                                    .leap_second = LeapSecond::kNextMinute};

// "" with *out set, or why the text is not a time edgemon takes.
std::string parse_time_text(std::string_view s, int64_t* out) {
  Rfc3339Time t;
  if (!parse_rfc3339(s, &t, kAgentTime)) return std::string(kTimeForms);
  if (t.unix_seconds < 0 || t.unix_seconds > kMaxUnixSeconds ||
      (t.unix_seconds == kMaxUnixSeconds && t.nanos > kMaxFracNs)) {
    return std::string(kTimeRange);
  }
  *out = t.unix_seconds * 1000000000 + t.nanos;
  return "";
}

// A double carries about 0.24 us at today's unix seconds (0.95 us by 2106),
// so numeric timestamps are read to the microsecond, exactly.
std::string parse_time_number(double v, int64_t* out) {
  if (!std::isfinite(v) || v < 0 || v >= 9223372036.854775) return std::string(kTimeRange);
  auto secs = static_cast<int64_t>(v);
  // Below the limit the fraction rounds to at most 854775 us: no overflow.
  int64_t us = std::llround((v - static_cast<double>(secs)) * 1e6);
  if (us == 1000000) {
    ++secs;
    us = 0;
  }
  *out = secs * 1000000000 + us * 1000;
  return "";
}

// ---- splitting the body into payloads ----

constexpr std::string_view kNul = "contains a NUL character";
constexpr std::string_view kNulWhy = " (a zero byte or \\u0000), which no name or value may hold";

struct Slice {
  std::string_view text;
  size_t offset = 0;  // of text in the body
  size_t values = 0;  // an upper bound of the JSON values inside
};

struct Split {
  std::vector<Slice> slices;
  bool one_object = false;  // the body is a single value, not an array
  bool array = false;       // a top-level value was an array
  bool too_many = false;
  std::optional<FieldProblem> error;  // the first problem the scan itself saw
};

// Finds where each payload starts and ends without building a DOM, so that
// cJSON only ever holds one payload: a 32 MiB array of numbers as one tree
// would take over a gigabyte. Validation is left to cJSON.
class Splitter {
 public:
  Splitter(std::string_view body, size_t max_payloads) : body_(body), max_(max_payloads) {}

  Split run();

 private:
  void skip_space() {
    while (pos_ < body_.size() && (body_[pos_] == ' ' || body_[pos_] == '\t' ||
                                   body_[pos_] == '\n' || body_[pos_] == '\r')) {
      ++pos_;
    }
  }
  bool add_value();
  void read_array();
  size_t string_end(size_t i);
  size_t value_end(size_t* values);
  void fail(size_t at, std::string_view head, std::string_view tail = "");

  std::string_view body_;
  size_t max_;
  size_t pos_ = 0;
  Split split_;
};

void Splitter::fail(size_t at, std::string_view head, std::string_view tail) {
  if (split_.error) return;
  split_.error = FieldProblem{
      "body", std::string(head) + " near byte " + std::to_string(at) + std::string(tail)};
}

// After the opening quote at i: the index after the closing one.
size_t Splitter::string_end(size_t i) {
  for (++i; i < body_.size(); ++i) {
    const char c = body_[i];
    if (c == '"') return i + 1;
    if (c == '\0') fail(i, kNul, kNulWhy);
    if (c != '\\') continue;
    // cJSON keeps strings NUL-terminated: a \u0000 would silently cut one.
    if (body_.substr(i + 1, 5) == "u0000") fail(i, kNul, kNulWhy);
    ++i;
  }
  return body_.size();
}

size_t Splitter::value_end(size_t* values) {
  size_t i = pos_;
  int64_t depth = 0;
  *values = 1;
  while (i < body_.size()) {
    const char c = body_[i];
    if (c == '"') {
      i = string_end(i);
      if (depth == 0) return i;
      continue;
    }
    if (c == '\0') fail(i, kNul, kNulWhy);
    if (c == '{' || c == '[') ++depth;
    if (c == ',' || c == ':' || c == '{' || c == '[') ++*values;
    if (c == '}' || c == ']') --depth;
    ++i;
    if (depth <= 0 && (c == '}' || c == ']')) return i;
    // A scalar ends where the next token or whitespace starts.
    if (depth == 0 && i < body_.size() &&
        std::string_view(",:[]{}\" \t\r\n").find(body_[i]) != std::string_view::npos) {
      return i;
    }
  }
  return body_.size();
}

bool Splitter::add_value() {
  if (split_.slices.size() == max_) {
    split_.too_many = true;
    return false;
  }
  Slice slice;
  slice.offset = pos_;
  const size_t end = value_end(&slice.values);
  slice.text = body_.substr(pos_, end - pos_);
  split_.slices.push_back(slice);
  pos_ = end;
  return !split_.error;
}

void Splitter::read_array() {
  ++pos_;
  skip_space();
  if (pos_ < body_.size() && body_[pos_] == ']') {
    ++pos_;
    return;
  }
  while (pos_ < body_.size()) {
    if (!add_value()) return;
    skip_space();
    if (pos_ < body_.size() && body_[pos_] == ']') {
      ++pos_;
      return;
    }
    if (pos_ >= body_.size() || body_[pos_] != ',') break;
    ++pos_;
    skip_space();
  }
  fail(pos_, "invalid JSON");
}

Split Splitter::run() {
  if (body_.starts_with("\xEF\xBB\xBF")) pos_ = 3;
  size_t values = 0;
  bool array = false;
  for (skip_space(); pos_ < body_.size() && !split_.error && !split_.too_many; skip_space()) {
    ++values;
    if (body_[pos_] == '[') {
      array = true;
      read_array();
    } else {
      add_value();
    }
  }
  split_.one_object = values == 1 && !array;
  split_.array = array;
  return std::move(split_);
}

// ---- one payload ----

enum class Range { kPercent, kWhole, kAny };

struct Mapping {
  std::string_view member;
  std::string_view field;
  Range range;
};

// Every field is a float, byte counts and the heartbeat included, as the
// original edge server wrote them (and SystemMetrics does): one InfluxDB
// measurement must never see two types for a field, and databases that
// server filled have these as floats.
constexpr Mapping kMappings[] = {
    {"cpu_total", "cpu", Range::kPercent},         {"memory_percent", "memory", Range::kPercent},
    {"memory_used", "memory_used", Range::kWhole}, {"memory_total", "memory_total", Range::kWhole},
    {"disk_percent", "disk", Range::kPercent},     {"disk_used", "disk_used", Range::kWhole},
    {"disk_total", "disk_total", Range::kWhole},   {"heartbeat", "heartbeat", Range::kWhole},
};

constexpr std::string_view kCorePrefix = "cpu_core_";

const Mapping* find_mapping(std::string_view member) {
  for (const Mapping& m : kMappings)
    if (m.member == member) return &m;
  return nullptr;
}

bool identity_member(std::string_view key) {
  return key == "device_id" || key == "hostname" || key == "device_type" || key == "tags" ||
         key == "timestamp";
}

// N of a field named cpu_core_N (N in canonical decimal, as cpu_per_core
// names it), else nullopt.
std::optional<int> core_index(std::string_view field) {
  if (!field.starts_with(kCorePrefix)) return std::nullopt;
  const std::string_view digits = field.substr(kCorePrefix.size());
  if (digits.empty() || digits.size() > 9 || (digits.size() > 1 && digits[0] == '0')) {
    return std::nullopt;
  }
  int n = 0;
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), n);
  if (ec != std::errc() || end != digits.data() + digits.size()) return std::nullopt;
  return n;
}

// Extra members named like the fields that the mapped ones produce are held
// to the same range, so no payload can push system_metrics.cpu past 100 by
// the back door and skew /avg_usage.
Range extra_range(std::string_view field) {
  for (const Mapping& m : kMappings)
    if (m.field == field) return m.range;
  return core_index(field) ? Range::kPercent : Range::kAny;
}

const cJSON* member_of(const cJSON* object, const char* key) {
  return cJSON_GetObjectItemCaseSensitive(object, key);
}

// The mapped member that already sets field `field` of this payload, or "".
std::string mapped_setter(const cJSON* payload, std::string_view field) {
  for (const Mapping& m : kMappings) {
    if (m.field == field && m.member != field && !absent(member_of(payload, m.member.data()))) {
      return std::string(m.member);
    }
  }
  return "";
}

// Which entries of cpu_per_core hold a value: known before the members are
// read, as an extra cpu_core_N may come first, and without a walk of the
// array per extra member.
std::vector<bool> cores_set(const cJSON* payload) {
  std::vector<bool> set;
  const cJSON* cores = member_of(payload, "cpu_per_core");
  if (!cJSON_IsArray(cores)) return set;
  for (const cJSON* c = cores->child; c != nullptr; c = c->next)
    set.push_back(!cJSON_IsNull(c));
  return set;
}

class PayloadReader {
 public:
  PayloadReader(const config::IngestLimits& limits, std::vector<FieldProblem>* problems,
                std::string prefix)
      : limits_(limits), problems_(problems), prefix_(std::move(prefix)) {}

  std::optional<Point> read(const cJSON* payload, int64_t now_ns);
  void whole(std::string reason);

 private:
  void problem(std::string_view path, std::string reason);
  void check_duplicates(const cJSON* object, std::string_view path_prefix);
  void read_identity(const cJSON* payload, Point* p);
  bool read_tag(std::string_view path, const cJSON* item, std::string_view key, Point* p);
  void read_tag_object(const cJSON* tags, Point* p);
  int64_t read_time(const cJSON* payload, int64_t now_ns);
  void read_fields(const cJSON* payload, Point* p);
  void read_cores(const cJSON* cores, Point* p);
  void read_extra(const cJSON* payload, const cJSON* member, Point* p);
  std::optional<double> number(std::string_view path, const cJSON* item, Range range);
  void check_counts(const Point& p);

  const config::IngestLimits& limits_;
  std::vector<FieldProblem>* problems_;
  std::string prefix_;  // "" for a body of one object, else "[i]."
  size_t found_ = 0;    // problems of this payload, also those past the cap
  std::vector<bool> cores_set_;
};

void PayloadReader::problem(std::string_view path, std::string reason) {
  ++found_;
  if (problems_->size() < kMaxProblems)
    problems_->push_back({prefix_ + std::string(path), std::move(reason)});
}

void PayloadReader::whole(std::string reason) {
  ++found_;
  std::string path = prefix_.empty() ? "body" : prefix_.substr(0, prefix_.size() - 1);
  if (problems_->size() < kMaxProblems) problems_->push_back({std::move(path), std::move(reason)});
}

// cJSON keeps every duplicate; lookups would see only the first.
void PayloadReader::check_duplicates(const cJSON* object, std::string_view path_prefix) {
  std::unordered_set<std::string_view> seen;
  for (const cJSON* m = object->child; m != nullptr; m = m->next) {
    if (!seen.insert(m->string).second) {
      problem(std::string(path_prefix) + shown_key(m->string), "is given more than once");
    }
  }
}

bool PayloadReader::read_tag(std::string_view path, const cJSON* item, std::string_view key,
                             Point* p) {
  if (!cJSON_IsString(item)) {
    problem(path, "expected a string, got " + kind(item));
    return false;
  }
  const std::string_view value = item->valuestring;
  std::string why = check_text(value, limits_.max_tag_value_bytes, "limits.max_tag_value_bytes");
  if (!why.empty()) {
    problem(path, std::move(why));
    return false;
  }
  p->tags.push_back({std::string(key), std::string(value)});
  return true;
}

void PayloadReader::read_identity(const cJSON* payload, Point* p) {
  const cJSON* id = member_of(payload, "device_id");
  std::string device_id;
  if (absent(id)) {
    problem("device_id", "is required");
  } else if (read_tag("device_id", id, "device_id", p)) {
    device_id = p->tags.back().value;
  }
  const cJSON* host = member_of(payload, "hostname");
  if (!absent(host)) {
    read_tag("hostname", host, "host", p);
  } else if (!device_id.empty()) {
    p->tags.push_back({"host", device_id});
  }
  const cJSON* type = member_of(payload, "device_type");
  if (!absent(type)) read_tag("device_type", type, "device_type", p);
  const cJSON* tags = member_of(payload, "tags");
  if (!absent(tags)) read_tag_object(tags, p);
}

void PayloadReader::read_tag_object(const cJSON* tags, Point* p) {
  if (!cJSON_IsObject(tags)) {
    problem("tags", "expected an object of strings, got " + kind(tags));
    return;
  }
  check_duplicates(tags, "tags.");
  for (const cJSON* t = tags->child; t != nullptr; t = t->next) {
    const std::string_view key = t->string;
    const std::string path = "tags." + shown_key(key);
    if (cJSON_IsNull(t)) continue;
    if (key == "device_id" || key == "device_type") {
      problem(path, "conflicts with the top-level " + std::string(key));
      continue;
    }
    if (key == "host") {
      problem(path, "conflicts with the top-level hostname (tag host)");
      continue;
    }
    std::string why = check_key(key, limits_);
    if (!why.empty()) {
      problem(path, "name " + why);
      continue;
    }
    read_tag(path, t, key, p);
  }
}

int64_t PayloadReader::read_time(const cJSON* payload, int64_t now_ns) {
  const cJSON* t = member_of(payload, "timestamp");
  if (absent(t)) return now_ns;
  int64_t ns = now_ns;
  std::string why;
  if (cJSON_IsNumber(t)) {
    why = parse_time_number(t->valuedouble, &ns);
  } else if (cJSON_IsString(t)) {
    why = parse_time_text(t->valuestring, &ns);
  } else {
    why = std::string(kTimeForms) + ", got " + kind(t);
  }
  if (!why.empty()) problem("timestamp", std::move(why));
  return ns;
}

std::optional<double> PayloadReader::number(std::string_view path, const cJSON* item, Range range) {
  if (!cJSON_IsNumber(item)) {
    problem(path, "expected a number, got " + kind(item));
    return std::nullopt;
  }
  const double v = item->valuedouble;
  // JSON has no NaN or infinity, but cJSON reads 1e999 as one.
  if (!std::isfinite(v)) {
    problem(path, "is out of range: it overflows a double");
    return std::nullopt;
  }
  if (range == Range::kPercent && !(v >= 0 && v <= 100)) {
    problem(path, "expected a percentage from 0 to 100, got " + number_text(v));
    return std::nullopt;
  }
  if (range == Range::kWhole && !(v >= 0 && v <= kMaxWhole && v == std::floor(v))) {
    problem(path, "expected a whole number from 0 to 9007199254740992, got " + number_text(v));
    return std::nullopt;
  }
  return v;
}

void PayloadReader::read_cores(const cJSON* cores, Point* p) {
  if (!cJSON_IsArray(cores)) {
    problem("cpu_per_core", "expected an array of numbers, got " + kind(cores));
    return;
  }
  size_t i = 0;
  for (const cJSON* c = cores->child; c != nullptr; c = c->next, ++i) {
    // null: a core the agent could not read (offline, say), as psutil's None.
    if (cJSON_IsNull(c)) continue;
    const std::string n = std::to_string(i);
    if (auto v = number("cpu_per_core[" + n + "]", c, Range::kPercent)) {
      p->fields.push_back({std::string(kCorePrefix) + n, *v});
    }
  }
}

void PayloadReader::read_extra(const cJSON* payload, const cJSON* member, Point* p) {
  const std::string_view key = member->string;
  const std::string path = shown_key(key);
  if (!cJSON_IsNumber(member)) {
    problem(path,
            "unknown member: only numeric ones are kept (as extra fields), got " + kind(member));
    return;
  }
  std::string why = check_key(key, limits_);
  if (!why.empty()) {
    problem(path, "name " + why);
    return;
  }
  std::string setter = mapped_setter(payload, key);
  const std::optional<int> core = core_index(key);
  if (core && static_cast<size_t>(*core) < cores_set_.size() && cores_set_[*core]) {
    setter = "cpu_per_core[" + std::to_string(*core) + "]";
  }
  if (!setter.empty()) {
    problem(path, "sets field " + path + ", which " + setter + " sets already");
    return;
  }
  if (auto v = number(path, member, extra_range(key))) p->fields.push_back({std::string(key), *v});
}

void PayloadReader::read_fields(const cJSON* payload, Point* p) {
  for (const cJSON* m = payload->child; m != nullptr; m = m->next) {
    const std::string_view key = m->string;
    // null: a metric the agent could not read this time.
    if (identity_member(key) || cJSON_IsNull(m)) continue;
    if (key == "cpu_per_core") {
      read_cores(m, p);
    } else if (const Mapping* map = find_mapping(key)) {
      if (auto v = number(key, m, map->range)) {
        p->fields.push_back({std::string(map->field), *v});
      }
    } else {
      read_extra(payload, m, p);
    }
  }
}

void PayloadReader::check_counts(const Point& p) {
  if (static_cast<int64_t>(p.tags.size()) > limits_.max_tags) {
    whole("has " + std::to_string(p.tags.size()) +
          " tags (device_id, host and device_type included), more than limits.max_tags (" +
          std::to_string(limits_.max_tags) + ")");
  }
  if (size_t key = metrics::series_key_bytes(p);
      static_cast<int64_t>(key) > limits_.max_series_key_bytes) {
    whole("has a series key (measurement and tags) of " + std::to_string(key) +
          " bytes, longer than limits.max_series_key_bytes (" +
          std::to_string(limits_.max_series_key_bytes) + ")");
  }
  if (static_cast<int64_t>(p.fields.size()) > limits_.max_fields) {
    whole("has " + std::to_string(p.fields.size()) + " fields, more than limits.max_fields (" +
          std::to_string(limits_.max_fields) + ")");
  }
  // A point without fields is no line of line protocol at all.
  if (p.fields.empty() && found_ == 0) {
    whole("has no metrics: a payload needs at least one numeric member besides timestamp");
  }
}

std::optional<Point> PayloadReader::read(const cJSON* payload, int64_t now_ns) {
  if (!cJSON_IsObject(payload)) {
    whole("expected an object, got " + kind(payload));
    return std::nullopt;
  }
  check_duplicates(payload, "");
  cores_set_ = cores_set(payload);
  Point p;
  p.measurement = "system_metrics";
  read_identity(payload, &p);
  p.time_ns = read_time(payload, now_ns);
  read_fields(payload, &p);
  // The original server tagged device_type=unknown when a payload had none
  // (queries grouping by device_type must not lose those devices). The
  // limits count it: it is a tag the stored point carries.
  if (std::none_of(p.tags.begin(), p.tags.end(),
                   [](const Tag& t) { return t.key == "device_type"; })) {
    p.tags.push_back({"device_type", std::string(metrics::kUnknownDeviceType)});
  }
  check_counts(p);
  if (found_ > 0) return std::nullopt;
  // In key order once here, so the line protocol encoder need not sort.
  std::sort(p.tags.begin(), p.tags.end(), [](const Tag& a, const Tag& b) { return a.key < b.key; });
  return p;
}

// ---- encoding ----

void append_key(std::string& out, std::string_view key) {
  if (out.size() > 1) out.push_back(',');
  append_json_string(out, key);
  out.push_back(':');
}

// Seconds with milliseconds, or microseconds when the time has them (all a
// double carries); floored, so the fraction is never negative.
void append_time(std::string& out, int64_t time_ns) {
  int64_t secs = time_ns / 1000000000;
  int64_t ns = time_ns % 1000000000;
  if (ns < 0) {
    --secs;
    ns += 1000000000;
  }
  const bool ms = ns % 1000000 == 0;
  const std::string frac = std::to_string(ms ? ns / 1000000 : ns / 1000);
  append_integer(out, secs);
  out.push_back('.');
  out.append((ms ? 3 : 6) - frac.size(), '0');
  out += frac;
}

// The JSON number for a field, or "" for what the payload cannot carry:
// strings, booleans, NaN and infinities.
std::string number_of(const FieldValue& value) {
  std::string out;
  if (const auto* d = std::get_if<double>(&value)) {
    if (std::isfinite(*d)) out = number_text(*d);
  } else if (const auto* i = std::get_if<int64_t>(&value)) {
    append_integer(out, *i);
  } else if (const auto* u = std::get_if<uint64_t>(&value)) {
    append_integer(out, *u);
  }
  return out;
}

// The member a field is sent as, or "" when a member of that name would be
// read back as something else (a field called "tags", say).
std::string_view member_for(std::string_view field) {
  for (const Mapping& m : kMappings) {
    if (m.field == field) return m.member;
    if (m.member == field) return "";
  }
  if (identity_member(field) || field == "cpu_per_core") return "";
  return field;
}

// cpu_core_0, cpu_core_1, ... from fields[i] on as one cpu_per_core array;
// returns the index after the run. Cores after a gap become members of
// their own (cpu_core_5), which read back as the same fields.
size_t append_cores(std::string& out, const std::vector<Field>& fields, size_t i) {
  append_key(out, "cpu_per_core");
  out.push_back('[');
  for (size_t n = 0; i < fields.size(); ++n, ++i) {
    const std::string text = number_of(fields[i].value);
    if (fields[i].key != std::string(kCorePrefix) + std::to_string(n) || text.empty()) break;
    if (n > 0) out.push_back(',');
    out += text;
  }
  out.push_back(']');
  return i;
}

void append_fields(std::string& out, const std::vector<Field>& fields) {
  size_t i = 0;
  while (i < fields.size()) {
    const Field& f = fields[i];
    const std::string text = number_of(f.value);
    const std::string_view name = member_for(f.key);
    if (text.empty() || name.empty()) {
      ++i;
    } else if (f.key == "cpu_core_0") {
      i = append_cores(out, fields, i);
    } else {
      append_key(out, name);
      out += text;
      ++i;
    }
  }
}

void append_tags(std::string& out, const std::vector<Tag>& tags) {
  static constexpr std::pair<std::string_view, std::string_view> kTopLevel[] = {
      {"device_id", "device_id"}, {"host", "hostname"}, {"device_type", "device_type"}};
  for (const auto& [tag, name] : kTopLevel) {
    for (const Tag& t : tags) {
      // The hub tags a payload without a type as unknown itself: the
      // payload keeps the original agent's shape.
      bool implied = t.key == "device_type" && t.value == metrics::kUnknownDeviceType;
      if (t.key == tag && !t.value.empty() && !implied) {
        append_key(out, name);
        append_json_string(out, t.value);
        break;
      }
    }
  }
}

void append_other_tags(std::string& out, const std::vector<Tag>& tags) {
  bool any = false;
  for (const Tag& t : tags) {
    if (t.value.empty() || t.key == "device_id" || t.key == "host" || t.key == "device_type") {
      continue;
    }
    if (!any) append_key(out, "tags");
    out.push_back(any ? ',' : '{');
    any = true;
    append_json_string(out, t.key);
    out.push_back(':');
    append_json_string(out, t.value);
  }
  if (any) out.push_back('}');
}

}  // namespace

AgentPayloadResult parse_agent_payloads(std::string_view body, int64_t now_ns,
                                        const config::IngestLimits& limits) {
  AgentPayloadResult result;
  Split split = Splitter(body, static_cast<size_t>(limits.max_points)).run();
  if (split.too_many) {
    result.too_many_points = true;
    return result;
  }
  if (split.slices.empty() && !split.error) {
    result.problems.push_back({"body", split.array ? "is an empty array" : "is empty"});
    return result;
  }
  // Room for every member the limits allow, with cJSON's tree per payload
  // bounded accordingly.
  const size_t max_values = 2 * static_cast<size_t>(limits.max_fields + limits.max_tags) + 64;
  for (size_t i = 0; i < split.slices.size() && result.problems.size() < kMaxProblems; ++i) {
    const Slice& slice = split.slices[i];
    PayloadReader reader(limits, &result.problems,
                         split.one_object ? "" : "[" + std::to_string(i) + "].");
    if (slice.values > max_values) {
      reader.whole("is too large: more than " + std::to_string(max_values) +
                   " JSON values, beyond what limits.max_fields and limits.max_tags allow");
      continue;
    }
    const char* end = nullptr;
    JsonPtr json(cJSON_ParseWithLengthOpts(slice.text.data(), slice.text.size(), &end, false),
                 cJSON_Delete);
    if (!json || end != slice.text.data() + slice.text.size()) {
      const size_t at =
          slice.offset + (end != nullptr ? static_cast<size_t>(end - slice.text.data()) : 0);
      result.problems.assign(1, {"body", "invalid JSON near byte " + std::to_string(at)});
      result.points.clear();
      return result;
    }
    if (auto point = reader.read(json.get(), now_ns)) result.points.push_back(std::move(*point));
  }
  // The scan stopped there; every payload before it was read above.
  if (split.error) result.problems.assign(1, *split.error);
  if (!result.problems.empty()) result.points.clear();
  return result;
}

std::string encode_agent_payload(const metrics::Point& point) {
  std::string out = "{";
  append_tags(out, point.tags);
  append_key(out, "timestamp");
  append_time(out, point.time_ns);
  append_fields(out, point.fields);
  append_other_tags(out, point.tags);
  out.push_back('}');
  return out;
}

}  // namespace edgemon::ingest
