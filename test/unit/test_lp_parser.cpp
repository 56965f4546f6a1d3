// The strict line-protocol parser of the hub's /write endpoints: grammar,
// escaping, every field type, every error with its message and line number,
// partial batches, limits, precision, UTF-8, and round trips through the
// encoder. Also the UTF-8 validator it relies on.
#include <algorithm>
#include <cmath>
#include <limits>

#include "core/utf8.hpp"
#include "ingest/line_protocol_parser.hpp"
#include "metrics/line_protocol.hpp"
// After the headers above: cmocka defines a fail() macro that <chrono>'s
// iostreams would trip over.
#include "cmocka_all.hpp"

using namespace edgemon;
using namespace edgemon::ingest;
using metrics::Field;
using metrics::FieldValue;
using metrics::Point;
using metrics::Tag;

namespace {

constexpr int64_t kNow = 1736847690000000000;

LineProtocolResult parse(std::string_view body, int64_t ns_per_unit = 1,
                         const config::IngestLimits& limits = {}) {
  return parse_line_protocol(body, ns_per_unit, kNow, limits);
}

// The one point of a body that must parse cleanly.
Point parse_one(std::string_view line, int64_t ns_per_unit = 1) {
  LineProtocolResult r = parse(line, ns_per_unit);
  if (r.first_error) fail_msg("unexpected error: %s", describe(*r.first_error).c_str());
  assert_int_equal(r.points.size(), 1);
  return r.points[0];
}

// The error of a body of one bad line; asserts it was rejected.
LineError parse_bad(std::string_view body, const config::IngestLimits& limits = {}) {
  LineProtocolResult r = parse(body, 1, limits);
  if (!r.first_error) fail_msg("expected an error for [%.*s]", int(body.size()), body.data());
  assert_int_equal(r.points.size(), 0);
  assert_int_equal(r.lines_rejected, 1);
  return *r.first_error;
}

const std::string* tag(const Point& p, std::string_view key) {
  for (const Tag& t : p.tags) {
    if (t.key == key) return &t.value;
  }
  return nullptr;
}

const FieldValue& field(const Point& p, std::string_view key) {
  for (const Field& f : p.fields) {
    if (f.key == key) return f.value;
  }
  fail_msg("no field %.*s", int(key.size()), key.data());
  static FieldValue none;
  return none;
}

template <typename T>
T as(const FieldValue& v) {
  if (!std::holds_alternative<T>(v)) fail_msg("field has another type (index %zu)", v.index());
  return std::get<T>(v);
}

void reference_worked_examples(void**) {
  Point p = parse_one(
      "edge_cpu,host=jetson-orin-07,cpu=total usage_percent=23.5,iowait_percent=0.8 "
      "1736847690000000000");
  assert_string_equal(p.measurement.c_str(), "edge_cpu");
  assert_int_equal(p.tags.size(), 2);
  assert_string_equal(tag(p, "host")->c_str(), "jetson-orin-07");
  assert_string_equal(tag(p, "cpu")->c_str(), "total");
  assert_true(as<double>(field(p, "usage_percent")) == 23.5);
  assert_true(as<double>(field(p, "iowait_percent")) == 0.8);
  assert_int_equal(p.time_ns, 1736847690000000000);

  p = parse_one("edge_power,host=jetson-orin-07,rail=VDD_IN power_mw=5299i,avg_mw=5299i 17");
  assert_int_equal(as<int64_t>(field(p, "power_mw")), 5299);
  assert_int_equal(as<int64_t>(field(p, "avg_mw")), 5299);

  p = parse_one(
      "edge_container,host=jetson-orin-07,name=edge-infer state=\"running\",health=\"healthy\","
      "restarts=2i,oom_killed=false 1736847690000000000");
  assert_string_equal(as<std::string>(field(p, "state")).c_str(), "running");
  assert_string_equal(as<std::string>(field(p, "health")).c_str(), "healthy");
  assert_int_equal(as<int64_t>(field(p, "restarts")), 2);
  assert_false(as<bool>(field(p, "oom_killed")));

  p = parse_one("my\\ meas,tag\\ key=a\\,b\\=c path=\"C:\\\\models\\\\\\\"new\\\"\" 1736847690",
                1'000'000'000);
  assert_string_equal(p.measurement.c_str(), "my meas");
  assert_string_equal(tag(p, "tag key")->c_str(), "a,b=c");
  assert_string_equal(as<std::string>(field(p, "path")).c_str(), "C:\\models\\\"new\"");
  assert_int_equal(p.time_ns, 1736847690000000000);
}

void every_field_type(void**) {
  Point p = parse_one(
      "m a=1,b=1.0,c=-1.234456e+78,d=1.e+78,e=.5,f=-0,g=2E-3,h=12i,i=-3i,j=12u,"
      "k=9223372036854775807i,l=-9223372036854775808i,m=18446744073709551615u,n=\"\",o=\"x y,z=\"");
  assert_true(as<double>(field(p, "a")) == 1.0);
  assert_true(as<double>(field(p, "b")) == 1.0);
  assert_true(as<double>(field(p, "c")) == -1.234456e+78);
  assert_true(as<double>(field(p, "d")) == 1e78);
  assert_true(as<double>(field(p, "e")) == 0.5);
  assert_true(std::signbit(as<double>(field(p, "f"))));
  assert_true(as<double>(field(p, "g")) == 2e-3);
  assert_int_equal(as<int64_t>(field(p, "h")), 12);
  assert_int_equal(as<int64_t>(field(p, "i")), -3);
  assert_true(as<uint64_t>(field(p, "j")) == 12u);
  assert_true(as<int64_t>(field(p, "k")) == std::numeric_limits<int64_t>::max());
  assert_true(as<int64_t>(field(p, "l")) == std::numeric_limits<int64_t>::min());
  assert_true(as<uint64_t>(field(p, "m")) == std::numeric_limits<uint64_t>::max());
  assert_string_equal(as<std::string>(field(p, "n")).c_str(), "");
  assert_string_equal(as<std::string>(field(p, "o")).c_str(), "x y,z=");
  assert_int_equal(p.time_ns, kNow);  // no timestamp: the time of the request
}

void every_boolean_spelling(void**) {
  Point p = parse_one("m a=t,b=T,c=true,d=True,e=TRUE,f=f,g=F,h=false,i=False,j=FALSE,k=\"true\"");
  for (const char* key : {"a", "b", "c", "d", "e"})
    assert_true(as<bool>(field(p, key)));
  for (const char* key : {"f", "g", "h", "i", "j"})
    assert_false(as<bool>(field(p, key)));
  assert_string_equal(as<std::string>(field(p, "k")).c_str(), "true");
  assert_contains(parse_bad("m a=tRUE").message, "invalid field format: 'a=tRUE'");
  assert_contains(parse_bad("m a=yes").message, "invalid field format: 'a=yes'");
}

void string_escapes(void**) {
  // \" and \\ are escapes; any other backslash is literal.
  Point p = parse_one("m s=\"a\\\"b\\\\c\\nd\\e\\\\\"");
  assert_string_equal(as<std::string>(field(p, "s")).c_str(), "a\"b\\c\\nd\\e\\");
  p = parse_one("m s=\"\\\\\\\"\"");
  assert_string_equal(as<std::string>(field(p, "s")).c_str(), "\\\"");
}

void name_escapes_pair_backslashes_like_influxdb(void**) {
  // A backslash pairs with the next byte while scanning; only an escaped
  // delimiter loses its backslash.
  Point p = parse_one("m\\x,e=a\\\\\\,b,path=C:\\dir,q=\"x\" f\\k=1,\"q\"=2");
  assert_string_equal(p.measurement.c_str(), "m\\x");
  assert_string_equal(tag(p, "e")->c_str(), "a\\\\,b");
  assert_string_equal(tag(p, "path")->c_str(), "C:\\dir");
  assert_string_equal(tag(p, "q")->c_str(), "\"x\"");  // quotes are not delimiters in names
  assert_true(as<double>(field(p, "f\\k")) == 1.0);
  assert_true(as<double>(field(p, "\"q\"")) == 2.0);
  // '=' needs no escape in a measurement, and \= is kept there as is.
  p = parse_one("a=b\\=c v=1");
  assert_string_equal(p.measurement.c_str(), "a=b\\=c");
  // An even run before a comma leaves the comma a delimiter.
  LineError e = parse_bad("m,t=a\\\\,u v=1");
  assert_string_equal(e.message.c_str(), "missing tag value for tag key 'u'");
}

void whitespace_comments_and_blank_lines(void**) {
  LineProtocolResult r = parse("# comment\n\n   \n\t m   v=1   2 \t\n  # indented comment\nn v=2");
  assert_null(r.first_error ? &*r.first_error : nullptr);
  assert_int_equal(r.points.size(), 2);
  assert_int_equal(r.points[0].time_ns, 2);
  assert_string_equal(r.points[1].measurement.c_str(), "n");
  assert_int_equal(r.points[1].time_ns, kNow);
  r = parse("");
  assert_int_equal(r.points.size(), 0);
  assert_false(r.first_error.has_value());
  r = parse("m v=1\n");  // a final newline is not an empty extra line
  assert_int_equal(r.points.size(), 1);
}

struct BadLine {
  const char* line;
  const char* message;
};

// Every rejection path, each with the exact message a client will read.
const BadLine kBadLines[] = {
    {",t=1 v=1", "missing measurement"},
    {" ,t=1 v=1", "missing measurement"},
    {"m", "missing fields"},
    {"m,t=1", "missing fields"},
    {"m,t=1  ", "missing fields"},
    {"m,=1 v=1", "missing tag key"},
    {"m,t v=1", "missing tag value for tag key 't'"},
    {"m,t", "missing tag value for tag key 't'"},
    {"m,t= v=1", "missing tag value for tag key 't' (omit the tag rather than send it empty)"},
    {"m,t=a=b v=1", "invalid tag format: unescaped '=' in the value of tag 't'"},
    {"m,t=1,t=2 v=1", "duplicate tag key 't'"},
    {"m,time=1 v=1",
     "reserved tag key 'time' (time, _field and _measurement cannot be tag or field keys)"},
    {"m,_field=1 v=1",
     "reserved tag key '_field' (time, _field and _measurement cannot be tag or field keys)"},
    {"m _measurement=1",
     "reserved field key '_measurement' (time, _field and _measurement cannot be tag or field "
     "keys)"},
    {"m time=1",
     "reserved field key 'time' (time, _field and _measurement cannot be tag or field "
     "keys)"},
    {"m value", "invalid field format: 'value' (expected key=value)"},
    {"m v=1,", "invalid field format: '' (expected key=value)"},
    {"m v=1,w", "invalid field format: 'w' (expected key=value)"},
    {"m =1", "missing field key"},
    {"m v=", "missing value for field 'v'"},
    {"m v=,w=1", "missing value for field 'v'"},
    {"m value=abc",
     "invalid field format: 'value=abc' (expected a number, a quoted string or a boolean)"},
    {"m v=1.2.3",
     "invalid field format: 'v=1.2.3' (expected a number, a quoted string or a boolean)"},
    {"m v=1e", "invalid field format: 'v=1e' (expected a number, a quoted string or a boolean)"},
    {"m v=+1", "invalid field format: 'v=+1' (expected a number, a quoted string or a boolean)"},
    {"m v=0x10",
     "invalid field format: 'v=0x10' (expected a number, a quoted string or a boolean)"},
    {"m v=1.5i",
     "invalid field format: 'v=1.5i' (expected a number, a quoted string or a boolean)"},
    {"m v=-1u", "invalid field format: 'v=-1u' (expected a number, a quoted string or a boolean)"},
    {"m v=i", "invalid field format: 'v=i' (expected a number, a quoted string or a boolean)"},
    {"m v='x'", "invalid field format: 'v='x'' (expected a number, a quoted string or a boolean)"},
    {"m v=NaN", "invalid value for field 'v': NaN and Inf are not accepted"},
    {"m v=-inf", "invalid value for field 'v': NaN and Inf are not accepted"},
    {"m v=Infinity", "invalid value for field 'v': NaN and Inf are not accepted"},
    {"m v=1e999", "float out of range for field 'v': '1e999'"},
    {"m v=9223372036854775808i",
     "integer out of range for field 'v': '9223372036854775808i' (must fit in a signed 64-bit "
     "integer)"},
    {"m v=-9223372036854775809i",
     "integer out of range for field 'v': '-9223372036854775809i' (must fit in a signed 64-bit "
     "integer)"},
    {"m v=18446744073709551616u",
     "unsigned integer out of range for field 'v': '18446744073709551616u' (must fit in an "
     "unsigned 64-bit integer)"},
    {"m s=\"abc", "unterminated string value for field 's' (a string cannot contain a newline)"},
    {"m s=\"abc\\\"",
     "unterminated string value for field 's' (a string cannot contain a newline)"},
    {"m s=\"a\"b", "invalid field format: unexpected 'b' after the string value of field 's'"},
    {"m v=1 12a", "invalid timestamp '12a' (expected an integer)"},
    {"m v=1 +12", "invalid timestamp '+12' (expected an integer)"},
    {"m v=1 1.5", "invalid timestamp '1.5' (expected an integer)"},
    {"m v=1 12 13", "unexpected text after the timestamp: '13'"},
    {"m v=1 12 x y", "unexpected text after the timestamp: 'x y'"},
    {"m v=1 9223372036854775808",
     "timestamp out of range: '9223372036854775808' (at the request's precision; must be within "
     "+-9223372036854775806 ns)"},
    {"m v=1 9223372036854775807",
     "timestamp out of range: '9223372036854775807' (at the request's precision; must be within "
     "+-9223372036854775806 ns)"},
    {"m v=1 -9223372036854775807",
     "timestamp out of range: '-9223372036854775807' (at the request's precision; must be "
     "within +-9223372036854775806 ns)"},
    {"m v=1\r", "carriage return in line (line protocol lines end with \\n only)"},
    {"m s=\"a\rb\"", "carriage return in line (line protocol lines end with \\n only)"},
    {"# comment\r", "carriage return in line (line protocol lines end with \\n only)"},
};

void every_error_has_its_message(void**) {
  for (const BadLine& bad : kBadLines) {
    LineError e = parse_bad(bad.line);
    if (e.message != bad.message) {
      fail_msg("line [%s]\n  got:      %s\n  expected: %s", bad.line, e.message.c_str(),
               bad.message);
    }
    assert_int_equal(e.line, 1);
    assert_string_equal(e.excerpt.c_str(), bad.line);
  }
}

void error_names_line_and_keeps_good_lines(void**) {
  const std::string body =
      "m v=1 1\n"
      "# comment\n"
      "m value=abc 2\n"
      "m v=3 3\n"
      "m,t v=4\n"
      "\n"
      "m v=5 5";
  LineProtocolResult r = parse(body);
  assert_int_equal(r.points.size(), 3);
  assert_int_equal(r.points[0].time_ns, 1);
  assert_int_equal(r.points[1].time_ns, 3);
  assert_int_equal(r.points[2].time_ns, 5);
  assert_int_equal(r.lines_rejected, 2);
  assert_false(r.too_many_points);
  assert_int_equal(r.first_error->line, 3);  // the comment counts as a line
  assert_string_equal(r.first_error->excerpt.c_str(), "m value=abc 2");
  assert_string_equal(describe(*r.first_error).c_str(),
                      "line 3: invalid field format: 'value=abc' (expected a number, a quoted "
                      "string or a boolean)");
}

void crlf_body_is_refused_line_by_line(void**) {
  LineProtocolResult r = parse("m v=1 1\r\nm v=2 2\r\n");
  assert_int_equal(r.points.size(), 0);
  assert_int_equal(r.lines_rejected, 2);
  assert_int_equal(r.first_error->line, 1);
  assert_contains(r.first_error->message, "carriage return");
}

void excerpt_is_first_128_bytes(void**) {
  std::string line = "m v=" + std::string(300, 'x');
  LineError e = parse_bad(line);
  assert_int_equal(e.excerpt.size(), 128);
  assert_true(e.excerpt == line.substr(0, 128));
  // The message quotes at most 64 bytes of the value.
  const std::string shown = "'v=" + std::string(62, 'x') + "...'";
  assert_contains(e.message, shown);
}

void duplicate_field_keeps_last_value(void**) {
  Point p = parse_one("m a=1,v=1,b=2,v=\"x\",v=3i");
  assert_int_equal(p.fields.size(), 3);
  assert_string_equal(p.fields[0].key.c_str(), "a");
  assert_string_equal(p.fields[1].key.c_str(), "v");  // where it first appeared
  assert_int_equal(as<int64_t>(p.fields[1].value), 3);
  assert_string_equal(p.fields[2].key.c_str(), "b");
  // The same with more fields than the pairwise check handles.
  std::string line = "m ";
  for (int i = 0; i < 40; ++i)
    line += "f" + std::to_string(i % 20) + "=" + std::to_string(i) + "i,";
  line.pop_back();
  p = parse_one(line);
  assert_int_equal(p.fields.size(), 20);
  for (int i = 0; i < 20; ++i) {
    assert_string_equal(p.fields[i].key.c_str(), ("f" + std::to_string(i)).c_str());
    assert_int_equal(as<int64_t>(p.fields[i].value), i + 20);
  }
  // Many tags: a duplicate is still found.
  std::string tags = "m";
  for (int i = 0; i < 30; ++i)
    tags += ",t" + std::to_string(i) + "=x";
  assert_string_equal(parse_bad(tags + ",t7=y v=1").message.c_str(), "duplicate tag key 't7'");
}

config::IngestLimits small_limits() {
  config::IngestLimits l;
  l.max_points = 3;
  l.max_tags = 2;
  l.max_fields = 2;
  l.max_key_bytes = 5;
  l.max_tag_value_bytes = 4;
  l.max_string_bytes = 6;
  return l;
}

void limits_name_the_key(void**) {
  const config::IngestLimits l = small_limits();
  assert_string_equal(parse_bad("m,a=1,b=2,c=3 v=1", l).message.c_str(),
                      "too many tags: more than 2 (at tag 'c')");
  assert_string_equal(parse_bad("m a=1,b=2,c=3", l).message.c_str(),
                      "too many fields: more than 2 (at field 'c')");
  assert_string_equal(parse_bad("meas12 v=1", l).message.c_str(),
                      "measurement 'meas12' is longer than 5 bytes");
  assert_string_equal(parse_bad("m,tagkey=1 v=1", l).message.c_str(),
                      "tag key 'tagkey' is longer than 5 bytes");
  assert_string_equal(parse_bad("m,t=12345 v=1", l).message.c_str(),
                      "value of tag 't' is longer than 4 bytes");
  assert_string_equal(parse_bad("m fields=1", l).message.c_str(),
                      "field key 'fields' is longer than 5 bytes");
  assert_string_equal(parse_bad("m s=\"1234567\"", l).message.c_str(),
                      "string value of field 's' is longer than 6 bytes");
  // Limits count bytes after unescaping: `a\ b\,c` is 5 bytes.
  Point p = parse_line_protocol("a\\ b\\,c,t=\\=\\=\\=\\= s=\"\\\"\\\"\\\"\\\"\\\"\\\"\"", 1, 0, l)
                .points.at(0);
  assert_string_equal(p.measurement.c_str(), "a b,c");
  assert_string_equal(tag(p, "t")->c_str(), "====");
  assert_string_equal(as<std::string>(field(p, "s")).c_str(), "\"\"\"\"\"\"");
  // Exactly at every limit is fine.
  LineProtocolResult r = parse("abcde,t1=1234,t2=x f1=\"123456\",f2=1", 1, l);
  assert_false(r.first_error.has_value());
  // The series key as a whole: "abcde" + ",t1=1234" + ",t2=x" is 18 bytes.
  config::IngestLimits keyed = l;
  keyed.max_series_key_bytes = 17;
  assert_string_equal(parse_bad("abcde,t1=1234,t2=x f1=1", keyed).message.c_str(),
                      "series key (measurement and tags) of 18 bytes is longer than "
                      "limits.max_series_key_bytes (17)");
  keyed.max_series_key_bytes = 18;
  assert_false(parse("abcde,t1=1234,t2=x f1=1", 1, keyed).first_error.has_value());
}

void too_many_points_stops(void**) {
  const config::IngestLimits l = small_limits();
  // Bad lines and comments do not count; the fourth good line does.
  LineProtocolResult r = parse("m v=1\nbad\n# c\nm v=2\nm v=3\nbad\nm v=4\nm v=5", 1, l);
  assert_true(r.too_many_points);
  assert_int_equal(r.points.size(), 3);
  r = parse("m v=1\nm v=2\nm v=3\nbad\n\n", 1, l);
  assert_false(r.too_many_points);
  assert_int_equal(r.points.size(), 3);
  assert_int_equal(r.lines_rejected, 1);
}

void precision_names(void**) {
  struct Case {
    const char* text;
    bool v2;
    int64_t ns;  // 0 = refused
  } cases[] = {
      {"", false, 1},
      {"n", false, 1},
      {"ns", false, 1},
      {"u", false, 1000},
      {"us", false, 1000},
      {"ms", false, 1000000},
      {"s", false, 1000000000},
      {"m", false, 60000000000},
      {"h", false, 3600000000000},
      {"", true, 1},
      {"ns", true, 1},
      {"us", true, 1000},
      {"ms", true, 1000000},
      {"s", true, 1000000000},
      {"n", true, 0},
      {"u", true, 0},
      {"m", true, 0},
      {"h", true, 0},
      {"S", false, 0},
      {"sec", true, 0},
      {"d", false, 0},
  };
  for (const Case& c : cases) {
    std::optional<int64_t> got = parse_write_precision(c.text, c.v2);
    if (c.ns == 0) {
      if (got) fail_msg("precision '%s' (v2=%d) should be refused", c.text, c.v2);
    } else if (!got || *got != c.ns) {
      fail_msg("precision '%s' (v2=%d) should be %lld ns", c.text, c.v2,
               static_cast<long long>(c.ns));
    }
  }
}

void timestamps_scale_and_range_check(void**) {
  assert_int_equal(parse_one("m v=1 1736847690", 1'000'000'000).time_ns, 1736847690000000000);
  assert_int_equal(parse_one("m v=1 -2", 1'000'000'000).time_ns, -2'000'000'000);
  assert_int_equal(parse_one("m v=1 5", 60'000'000'000).time_ns, 300'000'000'000);
  assert_int_equal(parse_one("m v=1 1736847690123", 1'000'000).time_ns, 1736847690123000000);
  assert_int_equal(parse_one("m v=1 9223372036854775806").time_ns, 9223372036854775806);
  assert_int_equal(parse_one("m v=1 -9223372036854775806").time_ns, -9223372036854775806);
  // 2262-04-11 is the last second; one more overflows after scaling.
  assert_int_equal(parse_one("m v=1 9223372036", 1'000'000'000).time_ns, 9223372036000000000);
  LineProtocolResult r = parse("m v=1 9223372037", 1'000'000'000);
  assert_contains(r.first_error->message, "timestamp out of range: '9223372037'");
  r = parse("m v=1 -9223372037", 1'000'000'000);
  assert_contains(r.first_error->message, "timestamp out of range");
  r = parse("m v=1 9223372036854775806", 1'000);
  assert_contains(r.first_error->message, "timestamp out of range");
  // A line without a timestamp gets the request time whatever the precision.
  assert_int_equal(parse_one("m v=1", 1'000'000'000).time_ns, kNow);
}

void invalid_utf8_is_rejected_where_it_is(void**) {
  struct Case {
    std::string line;
    const char* message;
  } cases[] = {
      {"m\xff v=1", "invalid UTF-8 in measurement 'm\\xff'"},
      {"m,k\xc3=1 v=1", "invalid UTF-8 in tag key 'k\\xc3'"},
      {"m,k=\xed\xa0\x80 v=1", "invalid UTF-8 in the value of tag 'k'"},  // a surrogate
      {"m f\xc0\xaf=1", "invalid UTF-8 in field key 'f\\xc0\\xaf'"},      // overlong '/'
      {"m s=\"ok\xf4\x90\x80\x80\"", "invalid UTF-8 in the string value of field 's'"},
      {"m v=1\xff",
       "invalid field format: 'v=1\\xff' (expected a number, a quoted string or a boolean)"},
      {"m v=1 1\xff", "invalid timestamp '1\\xff' (expected an integer)"},
  };
  for (const Case& c : cases) {
    LineError e = parse_bad(c.line);
    if (e.message != c.message) {
      fail_msg("got: %s\nexpected: %s", e.message.c_str(), c.message);
    }
  }
  // Valid multi-byte text passes, and shows as is in messages.
  Point p = parse_one("température,lieu=salle\\ été s=\"✓ 😀\"");
  assert_string_equal(p.measurement.c_str(), "température");
  assert_string_equal(tag(p, "lieu")->c_str(), "salle été");
  assert_string_equal(parse_bad("m,été= v=1").message.c_str(),
                      "missing tag value for tag key 'été' (omit the tag rather than send it "
                      "empty)");
}

// NUL is valid UTF-8 but would let a point pose as another series where
// keys are joined with NUL (the history's index).
void nul_in_names_is_rejected(void**) {
  using namespace std::string_literals;
  struct Case {
    std::string line;
    const char* message;
  } cases[] = {
      {"system_metrics\0cpu,device_id=dev1 zzz=777"s,
       "NUL byte in measurement 'system_metrics\\x00cpu'"},
      {"m,k\0x=1 v=1"s, "NUL byte in tag key 'k\\x00x'"},
      {"m,k=a\0b v=1"s, "NUL byte in the value of tag 'k'"},
      {"m f\0=1"s, "NUL byte in field key 'f\\x00'"},
      {"m,k\x01"
       "ey=v v=1"s,
       "control byte 0x01 in tag key 'k\\x01ey'"},
      {"m,k=va\x1flue v=1"s, "control byte 0x1f in the value of tag 'k'"},
      {"m fi\x7f=1"s, "control byte 0x7f in field key 'fi\\x7f'"},
      {"m\x02 v=1"s, "control byte 0x02 in measurement 'm\\x02'"},
  };
  for (const Case& c : cases) {
    LineError e = parse_bad(c.line);
    if (e.message != c.message) fail_msg("got: %s\nexpected: %s", e.message.c_str(), c.message);
  }
}

void utf8_validator(void**) {
  assert_true(valid_utf8(""));
  assert_true(valid_utf8("plain ascii, long enough for the word-at-a-time path"));
  assert_true(valid_utf8(std::string_view("nul\0ok", 6)));
  assert_true(
      valid_utf8("\xc2\x80 \xdf\xbf \xe0\xa0\x80 \xef\xbf\xbf \xf0\x90\x80\x80 \xf4\x8f\xbf\xbf"));
  const char* bad[] = {
      "\x80",              // lone continuation
      "\xc1\xbf",          // overlong 2-byte
      "\xe0\x9f\xbf",      // overlong 3-byte
      "\xf0\x8f\xbf\xbf",  // overlong 4-byte
      "\xed\xa0\x80",      // U+D800
      "\xed\xbf\xbf",      // U+DFFF
      "\xf4\x90\x80\x80",  // U+110000
      "\xf5\x80\x80\x80",  // never a lead byte
      "\xfe",
      "\xc3",              // truncated at the end
      "abcdefgh\xe2\x82",  // truncated after the fast path
      "\xe2\x28\xa1",      // bad second byte
      "\xf0\x90\x28\xbc",  // bad third byte
  };
  for (size_t i = 0; i < std::size(bad); ++i) {
    if (valid_utf8(bad[i])) fail_msg("accepted invalid UTF-8 #%zu", i);
  }
  assert_true(utf8_truncate("abc", 5) == "abc");
  assert_true(utf8_truncate("été", 2) == "\xc3\xa9");
  assert_true(utf8_truncate("été", 1) == "");
  assert_true(utf8_truncate("a😀", 4) == "a");
  assert_true(utf8_truncate("a😀", 5) == "a😀");
}

bool same_point(const Point& a, const Point& b) {
  auto tag_less = [](const Tag& x, const Tag& y) { return x.key < y.key; };
  std::vector<Tag> ta = a.tags, tb = b.tags;
  std::sort(ta.begin(), ta.end(), tag_less);
  std::sort(tb.begin(), tb.end(), tag_less);
  if (a.measurement != b.measurement || a.time_ns != b.time_ns || ta.size() != tb.size() ||
      a.fields.size() != b.fields.size()) {
    return false;
  }
  for (size_t i = 0; i < ta.size(); ++i) {
    if (ta[i].key != tb[i].key || ta[i].value != tb[i].value) return false;
  }
  for (size_t i = 0; i < a.fields.size(); ++i) {
    if (a.fields[i].key != b.fields[i].key || a.fields[i].value != b.fields[i].value) return false;
  }
  return true;
}

void encoder_output_parses_back(void**) {
  const std::vector<Point> points = {
      {"system_metrics",
       {{"host", "edge-01"}, {"device_id", "d1"}, {"zone", "a b,c=d"}},
       {{"cpu_total", 12.5},
        {"memory_used", int64_t{123456789}},
        {"heartbeat", true},
        {"bytes", uint64_t{18446744073709551615u}},
        {"note", std::string("say \"hi\" \\ ,= x")}},
       1736847690123456789},
      {"my meas,x", {{"tag key", "a,b=c"}}, {{"path", std::string("C:\\models\\\"new\"")}}, -5},
      {"m\\x", {{"unc", "\\\\srv\\share"}, {"e", "a\\\\,b"}}, {{"f\\k", false}}, 0},
      {"a=b\"c",
       {{"k\"", "v\""}},
       {{"f\"", 1e-300}, {"g", -0.1}, {"h", 1.7976931348623157e308}},
       9223372036854775806},
      {"ünï",
       {{"çà", "✓"}},
       {{"s", std::string("")}, {"i", int64_t{-9223372036854775807 - 1}}},
       -9223372036854775806},
  };
  metrics::LineProtocolEncoder encoder;
  std::string body;
  for (const Point& p : points)
    assert_true(encoder.append(body, p));
  LineProtocolResult r = parse(body);
  if (r.first_error) fail_msg("%s\n%s", describe(*r.first_error).c_str(), body.c_str());
  assert_int_equal(r.points.size(), points.size());
  for (size_t i = 0; i < points.size(); ++i) {
    if (!same_point(points[i], r.points[i])) fail_msg("point %zu differs:\n%s", i, body.c_str());
  }
  // Second precision: times come back truncated to the second.
  metrics::LineProtocolEncoder seconds({metrics::Precision::kS, true});
  body.clear();
  seconds.append(body, points[0]);
  r = parse(body, 1'000'000'000);
  assert_int_equal(r.points.at(0).time_ns, 1736847690000000000);
}

}  // namespace

int main() {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(reference_worked_examples),
      cmocka_unit_test(every_field_type),
      cmocka_unit_test(every_boolean_spelling),
      cmocka_unit_test(string_escapes),
      cmocka_unit_test(name_escapes_pair_backslashes_like_influxdb),
      cmocka_unit_test(whitespace_comments_and_blank_lines),
      cmocka_unit_test(every_error_has_its_message),
      cmocka_unit_test(error_names_line_and_keeps_good_lines),
      cmocka_unit_test(crlf_body_is_refused_line_by_line),
      cmocka_unit_test(excerpt_is_first_128_bytes),
      cmocka_unit_test(duplicate_field_keeps_last_value),
      cmocka_unit_test(limits_name_the_key),
      cmocka_unit_test(too_many_points_stops),
      cmocka_unit_test(precision_names),
      cmocka_unit_test(timestamps_scale_and_range_check),
      cmocka_unit_test(invalid_utf8_is_rejected_where_it_is),
      cmocka_unit_test(nul_in_names_is_rejected),
      cmocka_unit_test(utf8_validator),
      cmocka_unit_test(encoder_output_parses_back),
  };
  return cmocka_run_group_tests(tests, nullptr, nullptr);
}
