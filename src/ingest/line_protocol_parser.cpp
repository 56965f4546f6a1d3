#include "ingest/line_protocol_parser.hpp"

#include <algorithm>
#include <array>
#include <bit>
#include <charconv>
#include <cstring>
#include <limits>
#include <utility>

#include "core/utf8.hpp"

namespace edgemon::ingest {
namespace {

using metrics::Field;
using metrics::FieldValue;
using metrics::Point;
using metrics::Tag;

// InfluxDB's valid range: int64 minus the two values it keeps as sentinels.
constexpr int64_t kMaxTimeNs = std::numeric_limits<int64_t>::max() - 1;
constexpr int64_t kMinTimeNs = std::numeric_limits<int64_t>::min() + 2;
constexpr size_t kExcerptBytes = 128;
constexpr size_t kQuotedBytes = 64;
// Above this many tags or fields, duplicates are found by sorting rather
// than by comparing every pair.
constexpr size_t kPairwiseMax = 16;

// A name or value for an error message: 'text', cut at kQuotedBytes, with
// control bytes (and every high byte when the text is not UTF-8) as \xNN so
// the message is printable and safe to put in a JSON answer.
std::string quoted(std::string_view text) {
  return "'" + printable(text, kQuotedBytes) + "'";
}

std::string longer_than(std::string_view what, int64_t limit) {
  return std::string(what) + " is longer than " + std::to_string(limit) + " bytes";
}

bool reserved_key(std::string_view key) {
  return key == "time" || key == "_field" || key == "_measurement";
}

// Byte classes for the scanners: which element a byte ends, and escapes.
// A table lookup per byte instead of a chain of comparisons is most of the
// parser's speed, as nearly every byte is an ordinary one.
enum : uint8_t {
  kEndsMeasurement = 1,  // , and space
  kEndsKey = 2,          // , = and space: tag keys, tag values, field keys
  kEndsValue = 4,        // , and space: unquoted field values
  kBackslash = 8,
  kQuote = 16,
};

constexpr std::array<uint8_t, 256> make_byte_classes() {
  std::array<uint8_t, 256> t{};
  t[','] = kEndsMeasurement | kEndsKey | kEndsValue;
  t[' '] = kEndsMeasurement | kEndsKey | kEndsValue;
  t['='] = kEndsKey;
  t['\\'] = kBackslash;
  t['"'] = kQuote;
  return t;
}

constexpr std::array<uint8_t, 256> kByteClass = make_byte_classes();

uint8_t byte_class(char c) {
  return kByteClass[static_cast<unsigned char>(c)];
}

// Bit 7 of each byte of `word` that equals `byte` (exact for the lowest
// match; higher bits may be false positives, which scan_name re-checks).
constexpr uint64_t bytes_equal(uint64_t word, unsigned char byte) {
  constexpr uint64_t kOnes = 0x0101010101010101ULL;
  const uint64_t x = word ^ (kOnes * byte);
  return (x - kOnes) & ~x & (kOnes << 7);
}

// Skips eight bytes at a time while none of them can end a name or start
// an escape: names are most of a line's bytes.
size_t skip_plain_bytes(std::string_view s, size_t pos, uint8_t stop) {
  if constexpr (std::endian::native != std::endian::little) return pos;
  while (pos + 8 <= s.size()) {
    uint64_t w;
    std::memcpy(&w, s.data() + pos, sizeof w);
    uint64_t hits = bytes_equal(w, ',') | bytes_equal(w, ' ') | bytes_equal(w, '\\');
    if (stop & kEndsKey) hits |= bytes_equal(w, '=');
    if (hits != 0) return pos + static_cast<size_t>(std::countr_zero(hits)) / 8;
    pos += 8;
  }
  return pos;
}

// End of a name: the next unescaped byte of class `stop`. Like InfluxDB's
// scanner, a backslash pairs with whatever byte follows it, so `a\\,b` ends
// after `a\\`. *escaped tells whether there was any backslash to undo.
size_t scan_name(std::string_view s, size_t pos, uint8_t stop, bool* escaped) {
  while (pos < s.size()) {
    pos = skip_plain_bytes(s, pos, stop);
    if (pos >= s.size()) break;
    const uint8_t c = byte_class(s[pos]);
    if (c & stop) return pos;
    if (c & kBackslash) {
      *escaped = true;
      ++pos;
    }
    ++pos;
  }
  return s.size();
}

// A backslash before a delimiter of `stop` is an escape; any other
// backslash is a literal byte. Together with scan_name that reads `\\\,`
// as `\\,`, exactly what LineProtocolEncoder writes for it.
void unescape_name(std::string_view raw, bool escaped, uint8_t stop, std::string* out) {
  if (!escaped) {
    out->assign(raw.data(), raw.size());
    return;
  }
  out->clear();
  out->reserve(raw.size());
  for (size_t i = 0; i < raw.size(); ++i) {
    if (raw[i] == '\\' && i + 1 < raw.size() && (byte_class(raw[i + 1]) & stop)) ++i;
    out->push_back(raw[i]);
  }
}

// Inside a string field value only \" and \\ are escapes.
void unescape_string(std::string_view raw, std::string* out) {
  if (raw.find('\\') == std::string_view::npos) {
    out->assign(raw.data(), raw.size());
    return;
  }
  out->clear();
  out->reserve(raw.size());
  for (size_t i = 0; i < raw.size(); ++i) {
    if (raw[i] == '\\' && i + 1 < raw.size() && (raw[i + 1] == '"' || raw[i + 1] == '\\')) ++i;
    out->push_back(raw[i]);
  }
}

enum class Scalar { kOk, kSyntax, kNanInf, kIntRange, kUintRange, kFloatRange };

template <typename T>
Scalar parse_integer(std::string_view digits, Scalar range_error, FieldValue* value) {
  T v{};
  const char* end = digits.data() + digits.size();
  const auto [ptr, ec] = std::from_chars(digits.data(), end, v);
  if (ec == std::errc::result_out_of_range && ptr == end) return range_error;
  if (ec != std::errc() || ptr != end) return Scalar::kSyntax;
  *value = v;
  return Scalar::kOk;
}

// InfluxDB's float syntax: [-]digits[.digits][(e|E)[+-]digits], at least one
// mantissa digit. Checked here because from_chars would also take "inf".
bool float_syntax(std::string_view s) {
  size_t i = s.starts_with('-') ? 1 : 0;
  size_t digits = 0;
  while (i < s.size() && s[i] >= '0' && s[i] <= '9')
    ++i, ++digits;
  if (i < s.size() && s[i] == '.') {
    ++i;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9')
      ++i, ++digits;
  }
  if (digits == 0) return false;
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
    const size_t exponent_start = i;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9')
      ++i;
    if (i == exponent_start) return false;
  }
  return i == s.size();
}

bool nan_or_inf(std::string_view s) {
  if (s.starts_with('-') || s.starts_with('+')) s.remove_prefix(1);
  std::string lower(s.substr(0, 8));
  for (char& c : lower)
    c = static_cast<char>(c >= 'A' && c <= 'Z' ? c + 32 : c);
  return lower == "nan" || lower == "inf" || lower == "infinity";
}

Scalar parse_float(std::string_view s, FieldValue* value) {
  if (!float_syntax(s)) return nan_or_inf(s) ? Scalar::kNanInf : Scalar::kSyntax;
  double v = 0;
  const auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  // Out of range covers overflow to Inf and underflow to zero; neither can
  // come from a client that prints doubles so that they round-trip.
  if (ec == std::errc::result_out_of_range) return Scalar::kFloatRange;
  if (ec != std::errc() || ptr != s.data() + s.size()) return Scalar::kSyntax;
  *value = v;
  return Scalar::kOk;
}

bool parse_bool(std::string_view s, FieldValue* value) {
  if (s == "t" || s == "T" || s == "true" || s == "True" || s == "TRUE") {
    *value = true;
    return true;
  }
  if (s == "f" || s == "F" || s == "false" || s == "False" || s == "FALSE") {
    *value = false;
    return true;
  }
  return false;
}

Scalar parse_scalar(std::string_view s, FieldValue* value) {
  switch (s.back()) {
    case 'i':
      return parse_integer<int64_t>(s.substr(0, s.size() - 1), Scalar::kIntRange, value);
    case 'u':
      return parse_integer<uint64_t>(s.substr(0, s.size() - 1), Scalar::kUintRange, value);
    default:
      break;
  }
  if (parse_bool(s, value)) return Scalar::kOk;
  return parse_float(s, value);
}

std::string scalar_error(Scalar status, std::string_view key, std::string_view text) {
  const std::string field = quoted(key);
  switch (status) {
    case Scalar::kNanInf:
      return "invalid value for field " + field + ": NaN and Inf are not accepted";
    case Scalar::kIntRange:
      return "integer out of range for field " + field + ": " + quoted(text) +
             " (must fit in a signed 64-bit integer)";
    case Scalar::kUintRange:
      return "unsigned integer out of range for field " + field + ": " + quoted(text) +
             " (must fit in an unsigned 64-bit integer)";
    case Scalar::kFloatRange:
      return "float out of range for field " + field + ": " + quoted(text);
    default:
      break;
  }
  return "invalid field format: " + quoted(std::string(key) + "=" + std::string(text)) +
         " (expected a number, a quoted string or a boolean)";
}

// Index of the first key that occurs twice, or npos.
template <typename T>
size_t find_duplicate(const std::vector<T>& items) {
  if (items.size() <= kPairwiseMax) {
    for (size_t i = 1; i < items.size(); ++i) {
      for (size_t j = 0; j < i; ++j) {
        if (items[i].key == items[j].key) return i;
      }
    }
    return std::string::npos;
  }
  std::vector<size_t> order(items.size());
  for (size_t i = 0; i < order.size(); ++i)
    order[i] = i;
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return items[a].key < items[b].key; });
  size_t found = std::string::npos;
  for (size_t i = 1; i < order.size(); ++i) {
    if (items[order[i]].key == items[order[i - 1]].key) found = std::min(found, order[i]);
  }
  return found;
}

// InfluxDB keeps the last value of a field key given twice in one line; the
// field stays where the key first appeared. One sort, so a hostile line of
// many repeated keys costs n log n.
void drop_overwritten_fields(std::vector<Field>* fields) {
  if (find_duplicate(*fields) == std::string::npos) return;
  std::vector<Field>& f = *fields;
  std::vector<size_t> order(f.size());
  for (size_t i = 0; i < order.size(); ++i)
    order[i] = i;
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return f[a].key < f[b].key; });
  std::vector<bool> dropped(f.size(), false);
  for (size_t i = 0; i < order.size();) {
    size_t last = i;
    while (last + 1 < order.size() && f[order[last + 1]].key == f[order[i]].key)
      ++last;
    if (last != i) std::swap(f[order[i]].value, f[order[last]].value);
    for (size_t k = i + 1; k <= last; ++k)
      dropped[order[k]] = true;
    i = last + 1;
  }
  size_t kept = 0;
  for (size_t i = 0; i < f.size(); ++i) {
    if (dropped[i]) continue;
    if (kept != i) f[kept] = std::move(f[i]);
    ++kept;
  }
  f.resize(kept);
}

// Parses one line into a Point. Kept across lines for the size hints.
class LineParser {
 public:
  LineParser(const config::IngestLimits& limits, int64_t ns_per_unit, int64_t now_ns)
      : limits_(limits), ns_per_unit_(ns_per_unit), now_ns_(now_ns) {}

  // "" or why the line is rejected. `line` is trimmed, not blank or a
  // comment, and has no CR.
  std::string parse(std::string_view line, bool check_utf8, Point* point);

 private:
  std::string parse_measurement(Point* point);
  std::string parse_tags();
  std::string parse_tag();
  std::string parse_fields();
  std::string parse_field();
  std::string parse_string_value(Field* field);
  std::string parse_timestamp(Point* point);
  std::string check_key(std::string_view what, const std::string& key) const;
  struct Span {
    std::string_view raw;  // as sent, escapes included
    size_t end;            // index of the delimiter (or the line's size)
    bool escaped = false;  // raw holds a backslash
  };
  Span scan(size_t from, uint8_t stop) const {
    Span span;
    span.end = scan_name(line_, from, stop, &span.escaped);
    span.raw = line_.substr(from, span.end - from);
    return span;
  }
  bool bad_utf8(std::string_view text) const { return check_utf8_ && !valid_utf8(text); }
  void skip_spaces() {
    while (pos_ < line_.size() && line_[pos_] == ' ')
      ++pos_;
  }

  const config::IngestLimits& limits_;
  const int64_t ns_per_unit_;
  const int64_t now_ns_;
  std::string_view line_;
  size_t pos_ = 0;
  bool check_utf8_ = false;
  // The point's own vectors, reserved to the previous good line's counts:
  // the lines of a batch are usually alike, so most points allocate each
  // vector once and at its final size.
  std::vector<Tag>* tags_ = nullptr;
  std::vector<Field>* fields_ = nullptr;
  size_t tags_hint_ = 0;
  size_t fields_hint_ = 0;
};

std::string LineParser::parse(std::string_view line, bool check_utf8, Point* point) {
  line_ = line;
  pos_ = 0;
  check_utf8_ = check_utf8;
  tags_ = &point->tags;
  fields_ = &point->fields;
  tags_->clear();
  fields_->clear();
  if (std::string err = parse_measurement(point); !err.empty()) return err;
  if (std::string err = parse_tags(); !err.empty()) return err;
  if (size_t key = metrics::series_key_bytes(*point);
      static_cast<int64_t>(key) > limits_.max_series_key_bytes) {
    return "series key (measurement and tags) of " + std::to_string(key) +
           " bytes is longer than limits.max_series_key_bytes (" +
           std::to_string(limits_.max_series_key_bytes) + ")";
  }
  skip_spaces();
  if (pos_ >= line_.size()) return "missing fields";
  if (std::string err = parse_fields(); !err.empty()) return err;
  if (std::string err = parse_timestamp(point); !err.empty()) return err;
  if (size_t dup = find_duplicate(*tags_); dup != std::string::npos) {
    return "duplicate tag key " + quoted((*tags_)[dup].key);
  }
  drop_overwritten_fields(fields_);
  tags_hint_ = tags_->size();
  fields_hint_ = fields_->size();
  return {};
}

// A NUL is valid UTF-8, but names and tag values are keys of the series
// (and of the history's index, which separates them with NUL): one inside
// would let a point pose as another series. The other control bytes have
// no business in a name either, and break whatever prints one.
std::string control_byte(std::string_view text) {
  for (char c : text) {
    auto byte = static_cast<unsigned char>(c);
    if (byte == 0) return "NUL byte";
    if (byte < 0x20 || byte == 0x7f) {
      static constexpr char kHex[] = "0123456789abcdef";
      return std::string("control byte 0x") + kHex[byte >> 4] + kHex[byte & 15];
    }
  }
  return {};
}

// Length, reserved names, control bytes and UTF-8 of a tag or field key, after unescaping.
std::string LineParser::check_key(std::string_view what, const std::string& key) const {
  if (static_cast<int64_t>(key.size()) > limits_.max_key_bytes) {
    return longer_than(std::string(what) + " " + quoted(key), limits_.max_key_bytes);
  }
  if (reserved_key(key)) {
    return "reserved " + std::string(what) + " " + quoted(key) +
           " (time, _field and _measurement cannot be tag or field keys)";
  }
  if (bad_utf8(key)) return "invalid UTF-8 in " + std::string(what) + " " + quoted(key);
  if (std::string c = control_byte(key); !c.empty()) {
    return c + " in " + std::string(what) + " " + quoted(key);
  }
  return {};
}

std::string LineParser::parse_measurement(Point* point) {
  const Span name = scan(pos_, kEndsMeasurement);
  if (name.raw.empty()) return "missing measurement";
  unescape_name(name.raw, name.escaped, kEndsMeasurement, &point->measurement);
  pos_ = name.end;
  if (static_cast<int64_t>(point->measurement.size()) > limits_.max_key_bytes) {
    return longer_than("measurement " + quoted(point->measurement), limits_.max_key_bytes);
  }
  if (bad_utf8(point->measurement)) {
    return "invalid UTF-8 in measurement " + quoted(point->measurement);
  }
  if (std::string c = control_byte(point->measurement); !c.empty()) {
    return c + " in measurement " + quoted(point->measurement);
  }
  return {};
}

std::string LineParser::parse_tags() {
  while (pos_ < line_.size() && line_[pos_] == ',') {
    ++pos_;
    if (static_cast<int64_t>(tags_->size()) >= limits_.max_tags) {
      return "too many tags: more than " + std::to_string(limits_.max_tags) + " (at tag " +
             quoted(scan(pos_, kEndsKey).raw) + ")";
    }
    if (std::string err = parse_tag(); !err.empty()) return err;
  }
  return {};
}

std::string LineParser::parse_tag() {
  const Span key = scan(pos_, kEndsKey);
  if (key.raw.empty()) return "missing tag key";
  if (key.end >= line_.size() || line_[key.end] != '=') {
    return "missing tag value for tag key " + quoted(key.raw);
  }
  const Span value = scan(key.end + 1, kEndsKey);
  pos_ = value.end;
  if (tags_->empty()) tags_->reserve(tags_hint_);
  Tag& tag = tags_->emplace_back();
  unescape_name(key.raw, key.escaped, kEndsKey, &tag.key);
  if (std::string err = check_key("tag key", tag.key); !err.empty()) return err;
  if (value.raw.empty()) {
    return "missing tag value for tag key " + quoted(tag.key) +
           " (omit the tag rather than send it empty)";
  }
  if (value.end < line_.size() && line_[value.end] == '=') {
    return "invalid tag format: unescaped '=' in the value of tag " + quoted(tag.key);
  }
  unescape_name(value.raw, value.escaped, kEndsKey, &tag.value);
  if (static_cast<int64_t>(tag.value.size()) > limits_.max_tag_value_bytes) {
    return longer_than("value of tag " + quoted(tag.key), limits_.max_tag_value_bytes);
  }
  if (bad_utf8(tag.value)) return "invalid UTF-8 in the value of tag " + quoted(tag.key);
  if (std::string c = control_byte(tag.value); !c.empty()) {
    return c + " in the value of tag " + quoted(tag.key);
  }
  return {};
}

std::string LineParser::parse_fields() {
  while (true) {
    if (static_cast<int64_t>(fields_->size()) >= limits_.max_fields) {
      return "too many fields: more than " + std::to_string(limits_.max_fields) + " (at field " +
             quoted(scan(pos_, kEndsKey).raw) + ")";
    }
    if (std::string err = parse_field(); !err.empty()) return err;
    if (pos_ >= line_.size() || line_[pos_] != ',') return {};
    ++pos_;
  }
}

std::string LineParser::parse_field() {
  const Span key = scan(pos_, kEndsKey);
  if (key.end >= line_.size() || line_[key.end] != '=') {
    return "invalid field format: " + quoted(key.raw) + " (expected key=value)";
  }
  if (key.raw.empty()) return "missing field key";
  if (fields_->empty()) fields_->reserve(fields_hint_);
  Field& field = fields_->emplace_back();
  unescape_name(key.raw, key.escaped, kEndsKey, &field.key);
  if (std::string err = check_key("field key", field.key); !err.empty()) return err;
  pos_ = key.end + 1;
  if (pos_ < line_.size() && line_[pos_] == '"') return parse_string_value(&field);
  size_t end = pos_;
  while (end < line_.size() && !(byte_class(line_[end]) & kEndsValue))
    ++end;
  const std::string_view text = line_.substr(pos_, end - pos_);
  pos_ = end;
  if (text.empty()) return "missing value for field " + quoted(field.key);
  const Scalar status = parse_scalar(text, &field.value);
  if (status != Scalar::kOk) return scalar_error(status, field.key, text);
  return {};
}

std::string LineParser::parse_string_value(Field* field) {
  size_t end = pos_ + 1;
  while (end < line_.size()) {
    const uint8_t c = byte_class(line_[end]);
    if (c & kQuote) break;
    end += (c & kBackslash) ? 2 : 1;
  }
  if (end >= line_.size()) {
    return "unterminated string value for field " + quoted(field->key) +
           " (a string cannot contain a newline)";
  }
  const std::string_view raw = line_.substr(pos_ + 1, end - pos_ - 1);
  pos_ = end + 1;
  std::string& text = field->value.emplace<std::string>();
  unescape_string(raw, &text);
  if (static_cast<int64_t>(text.size()) > limits_.max_string_bytes) {
    return longer_than("string value of field " + quoted(field->key), limits_.max_string_bytes);
  }
  if (bad_utf8(text)) return "invalid UTF-8 in the string value of field " + quoted(field->key);
  if (pos_ < line_.size() && line_[pos_] != ',' && line_[pos_] != ' ') {
    return "invalid field format: unexpected " + quoted(line_.substr(pos_, 1)) +
           " after the string value of field " + quoted(field->key);
  }
  return {};
}

std::string LineParser::parse_timestamp(Point* point) {
  skip_spaces();
  if (pos_ >= line_.size()) {
    point->time_ns = now_ns_;
    return {};
  }
  const size_t end = std::min(line_.find(' ', pos_), line_.size());
  const std::string_view text = line_.substr(pos_, end - pos_);
  pos_ = end;
  int64_t units = 0;
  const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), units);
  const bool whole = ptr == text.data() + text.size();
  if (ec == std::errc::invalid_argument || !whole) {
    return "invalid timestamp " + quoted(text) + " (expected an integer)";
  }
  int64_t ns = 0;
  if (ec == std::errc::result_out_of_range || __builtin_mul_overflow(units, ns_per_unit_, &ns) ||
      ns > kMaxTimeNs || ns < kMinTimeNs) {
    return "timestamp out of range: " + quoted(text) +
           " (at the request's precision; must be within +-9223372036854775806 ns)";
  }
  skip_spaces();
  if (pos_ < line_.size()) {
    return "unexpected text after the timestamp: " + quoted(line_.substr(pos_));
  }
  point->time_ns = ns;
  return {};
}

// memchr is vectorised; a byte loop (std::count) is not at -O2.
size_t count_lines(std::string_view body) {
  size_t lines = 1;
  const char* p = body.data();
  const char* end = p + body.size();
  while (const void* nl = std::memchr(p, '\n', static_cast<size_t>(end - p))) {
    ++lines;
    p = static_cast<const char*>(nl) + 1;
  }
  return lines;
}

// The line without leading and trailing spaces and tabs.
std::string_view trim_blanks(std::string_view line) {
  while (!line.empty() && (line.front() == ' ' || line.front() == '\t'))
    line.remove_prefix(1);
  while (!line.empty() && (line.back() == ' ' || line.back() == '\t'))
    line.remove_suffix(1);
  return line;
}

// "" for a good line (stored in *point), else why not.
std::string parse_one(LineParser& parser, std::string_view content, Point* point) {
  if (std::memchr(content.data(), '\r', content.size()) != nullptr) {
    return "carriage return in line (line protocol lines end with \\n only)";
  }
  // The fast whole-line check is exact: every delimiter is ASCII, so the
  // elements of a valid line are valid too. Only a bad line is re-parsed
  // element by element, to say where the bad bytes are.
  if (valid_utf8(content)) return parser.parse(content, false, point);
  std::string err = parser.parse(content, true, point);
  return err.empty() ? "invalid UTF-8" : err;
}

}  // namespace

std::optional<int64_t> parse_write_precision(std::string_view text, bool v2) {
  if (text.empty() || text == "ns") return 1;
  if (text == "us") return 1'000;
  if (text == "ms") return 1'000'000;
  if (text == "s") return 1'000'000'000;
  if (v2) return std::nullopt;
  if (text == "n") return 1;
  if (text == "u") return 1'000;
  if (text == "m") return int64_t{60} * 1'000'000'000;
  if (text == "h") return int64_t{3600} * 1'000'000'000;
  return std::nullopt;
}

std::string describe(const LineError& error) {
  return "line " + std::to_string(error.line) + ": " + error.message;
}

LineProtocolResult parse_line_protocol(std::string_view body, int64_t ns_per_unit, int64_t now_ns,
                                       const config::IngestLimits& limits) {
  LineProtocolResult result;
  const auto max_points = static_cast<size_t>(std::max<int64_t>(limits.max_points, 0));
  result.points.reserve(std::min(count_lines(body), max_points));
  LineParser parser(limits, ns_per_unit, now_ns);
  Point overflow;  // a good line beyond max_points is parsed here
  size_t line_no = 0;
  for (size_t pos = 0; pos <= body.size();) {
    const size_t end = std::min(body.find('\n', pos), body.size());
    const std::string_view line = body.substr(pos, end - pos);
    pos = end + 1;
    ++line_no;
    const std::string_view content = trim_blanks(line);
    if (content.empty() || content.front() == '#') {
      // A comment may not hide a CR either: the body is refused consistently.
      if (content.find('\r') == std::string_view::npos) continue;
    }
    const bool full = result.points.size() >= max_points;
    Point* point = full ? &overflow : &result.points.emplace_back();
    std::string err = parse_one(parser, content, point);
    if (err.empty()) {
      if (!full) continue;
      result.too_many_points = true;
      break;
    }
    if (!full) result.points.pop_back();
    ++result.lines_rejected;
    if (!result.first_error) {
      result.first_error =
          LineError{line_no, std::move(err), std::string(line.substr(0, kExcerptBytes))};
    }
  }
  return result;
}

}  // namespace edgemon::ingest
