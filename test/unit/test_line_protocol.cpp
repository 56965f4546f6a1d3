// The InfluxDB line-protocol encoder: escaping, field types, tag order,
// what is dropped and counted, timestamp precision.
#include <cmath>
#include <limits>

#include "cmocka_all.hpp"
#include "metrics/line_protocol.hpp"

using namespace edgemon::metrics;

namespace {

constexpr int64_t kT = 1736847690123456789;

Point make_point(std::string measurement, std::vector<Tag> tags, std::vector<Field> fields,
                 int64_t time_ns = kT) {
  return Point{std::move(measurement), std::move(tags), std::move(fields), time_ns};
}

std::string encode(const Point& p, LineProtocolOptions options = {}) {
  LineProtocolEncoder enc(options);
  std::string out;
  enc.append(out, p);
  return out;
}

void worked_example_is_byte_exact(void**) {
  Point p = make_point("my meas", {{"tag key", "a,b=c"}}, {{"path", "C:\\models\\\"new\""}},
                       1736847690000000000);
  assert_string_equal(encode(p, {Precision::kS, true}).c_str(),
                      "my\\ meas,tag\\ key=a\\,b\\=c path=\"C:\\\\models\\\\\\\"new\\\"\" "
                      "1736847690\n");
}

void measurement_escapes_comma_and_space_only(void**) {
  Point p = make_point("a,b c=d\"e", {}, {{"v", 1.0}});
  assert_string_equal(encode(p).c_str(), "a\\,b\\ c=d\"e v=1 1736847690123456789\n");
}

void keys_and_tag_values_escape_comma_equals_space(void**) {
  Point p = make_point("m", {{"k,= ", "v,= "}}, {{"f,= \"", int64_t{1}}});
  assert_string_equal(encode(p).c_str(),
                      "m,k\\,\\=\\ =v\\,\\=\\  f\\,\\=\\ \"=1i 1736847690123456789\n");
}

void lone_backslashes_pass_through(void**) {
  // A backslash before an ordinary byte, or an even run, reads back as is.
  Point p = make_point("m\\x", {{"path", "C:\\dir"}, {"unc", "\\\\srv\\share"}, {"e", "a\\\\,b"}},
                       {{"f\\k", true}});
  assert_string_equal(encode(p).c_str(),
                      "m\\x,e=a\\\\\\,b,path=C:\\dir,unc=\\\\srv\\share f\\k=true "
                      "1736847690123456789\n");
}

void string_values_escape_quote_and_backslash(void**) {
  Point p = make_point("m", {}, {{"s", "say \"hi\" \\ ,= x"}, {"empty", ""}});
  assert_string_equal(encode(p).c_str(),
                      "m s=\"say \\\"hi\\\" \\\\ ,= x\",empty=\"\" 1736847690123456789\n");
}

void every_field_type(void**) {
  Point p = make_point("m", {},
                       {{"f", 1.5},
                        {"whole", 3.0},
                        {"tiny", 5e-324},
                        {"big", 1e300},
                        {"neg", -0.1},
                        {"i", int64_t{-42}},
                        {"imin", std::numeric_limits<int64_t>::min()},
                        {"u", uint64_t{7}},
                        {"umax", std::numeric_limits<uint64_t>::max()},
                        {"t", true},
                        {"b", false},
                        {"s", std::string("x")}});
  assert_string_equal(encode(p).c_str(),
                      "m f=1.5,whole=3,tiny=5e-324,big=1e+300,neg=-0.1,i=-42i,"
                      "imin=-9223372036854775808i,u=7u,umax=18446744073709551615u,t=true,"
                      "b=false,s=\"x\" 1736847690123456789\n");
}

void uint_without_support_becomes_int_or_float(void**) {
  Point p = make_point("m", {},
                       {{"small", uint64_t{7}},
                        {"edge", uint64_t{9223372036854775807ull}},
                        {"over", uint64_t{9223372036854775808ull}},
                        {"max", std::numeric_limits<uint64_t>::max()}});
  assert_string_equal(encode(p, {Precision::kNs, false}).c_str(),
                      "m small=7i,edge=9223372036854775807i,over=9223372036854775808,"
                      "max=18446744073709551616 1736847690123456789\n");
}

void tags_sorted_bytewise_and_empty_omitted(void**) {
  Point p = make_point("m", {{"b", "2"}, {"a", "1"}, {"empty", ""}, {"B", "0"}, {"\xc3\xa9", "e"}},
                       {{"v", int64_t{1}}});
  assert_string_equal(encode(p).c_str(), "m,B=0,a=1,b=2,\xc3\xa9=e v=1i 1736847690123456789\n");
  // The caller's order is left alone.
  assert_string_equal(p.tags[0].key.c_str(), "b");
}

void non_finite_fields_dropped_and_counted(void**) {
  LineProtocolEncoder enc;
  std::string out;
  Point p = make_point("m", {},
                       {{"nan", std::numeric_limits<double>::quiet_NaN()},
                        {"ok", 2.0},
                        {"inf", std::numeric_limits<double>::infinity()},
                        {"ninf", -std::numeric_limits<double>::infinity()}});
  assert_true(enc.append(out, p));
  assert_string_equal(out.c_str(), "m ok=2 1736847690123456789\n");
  assert_int_equal(enc.counters().dropped_fields, 3);
  assert_int_equal(enc.counters().dropped_points, 0);
}

void point_without_fields_dropped_and_counted(void**) {
  LineProtocolEncoder enc;
  std::string out = "keep\n";
  assert_false(enc.append(out, make_point("m", {{"t", "v"}}, {})));
  assert_false(
      enc.append(out, make_point("m", {}, {{"nan", std::numeric_limits<double>::quiet_NaN()}})));
  assert_false(enc.append(out, make_point("", {}, {{"v", 1.0}})));
  assert_false(enc.append(out, make_point("#comment", {}, {{"v", 1.0}})));
  assert_false(enc.append(out, make_point("bad\nname", {}, {{"v", 1.0}})));
  assert_string_equal(out.c_str(), "keep\n");
  assert_int_equal(enc.counters().dropped_points, 5);
  assert_int_equal(enc.counters().dropped_fields, 1);
  assert_int_equal(enc.counters().dropped_tags, 0);
}

void newlines_drop_the_tag_or_field(void**) {
  LineProtocolEncoder enc;
  std::string out;
  Point p = make_point("m", {{"a", "x\ny"}, {"b\r", "v"}, {"c", "ok"}},
                       {{"s", "line1\nline2"}, {"k\n", 1.0}, {"cr", "a\rb"}, {"v", 1.0}});
  assert_true(enc.append(out, p));
  assert_string_equal(out.c_str(), "m,c=ok v=1 1736847690123456789\n");
  assert_int_equal(enc.counters().dropped_tags, 2);
  assert_int_equal(enc.counters().dropped_fields, 3);
}

void ambiguous_backslashes_and_reserved_keys_dropped(void**) {
  LineProtocolEncoder enc;
  std::string out;
  Point p = make_point("m",
                       {{"end", "a\\"},
                        {"before_comma", "a\\,b"},
                        {"before_space", "a\\ b"},
                        {"time", "x"},
                        {"_measurement", "x"},
                        {"", "x"},
                        {"ok", "a\\\\"}},
                       {{"k\\", 1.0},
                        {"k\\=x", 1.0},
                        {"k\\\"", 1.0},
                        {"time", 1.0},
                        {"_field", 1.0},
                        {"", 1.0},
                        {"v", 1.0}});
  assert_true(enc.append(out, p));
  assert_string_equal(out.c_str(), "m,ok=a\\\\ v=1 1736847690123456789\n");
  assert_int_equal(enc.counters().dropped_tags, 6);
  assert_int_equal(enc.counters().dropped_fields, 6);
  assert_false(enc.append(out, make_point("m\\", {}, {{"v", 1.0}})));
  assert_false(enc.append(out, make_point("m\\ x", {}, {{"v", 1.0}})));
  assert_int_equal(enc.counters().dropped_points, 2);
}

void each_precision(void**) {
  Point p = make_point("m", {}, {{"v", 1.0}}, 1736847690123456789);
  assert_string_equal(encode(p, {Precision::kNs, true}).c_str(), "m v=1 1736847690123456789\n");
  assert_string_equal(encode(p, {Precision::kUs, true}).c_str(), "m v=1 1736847690123456\n");
  assert_string_equal(encode(p, {Precision::kMs, true}).c_str(), "m v=1 1736847690123\n");
  assert_string_equal(encode(p, {Precision::kS, true}).c_str(), "m v=1 1736847690\n");
}

void negative_timestamps_floor(void**) {
  assert_int_equal(convert_timestamp(-1, Precision::kS), -1);
  assert_int_equal(convert_timestamp(-1'000'000'000, Precision::kS), -1);
  assert_int_equal(convert_timestamp(-1'000'000'001, Precision::kS), -2);
  assert_int_equal(convert_timestamp(-1'500'000, Precision::kMs), -2);
  assert_int_equal(convert_timestamp(-999, Precision::kUs), -1);
  assert_int_equal(convert_timestamp(-7, Precision::kNs), -7);
  assert_int_equal(convert_timestamp(0, Precision::kS), 0);
  assert_int_equal(convert_timestamp(std::numeric_limits<int64_t>::min(), Precision::kS),
                   -9223372037);
  Point p = make_point("m", {}, {{"v", 1.0}}, -1'500'000'000);
  assert_string_equal(encode(p, {Precision::kS, true}).c_str(), "m v=1 -2\n");
}

void precision_names_round_trip(void**) {
  for (Precision p : {Precision::kNs, Precision::kUs, Precision::kMs, Precision::kS}) {
    auto parsed = parse_precision(precision_name(p));
    assert_true(parsed.has_value());
    assert_true(*parsed == p);
  }
  assert_false(parse_precision("n").has_value());
  assert_false(parse_precision("").has_value());
  assert_false(parse_precision("S").has_value());
  assert_string_equal(std::string(precision_v1_name(Precision::kNs)).c_str(), "n");
  assert_string_equal(std::string(precision_v1_name(Precision::kUs)).c_str(), "u");
  assert_string_equal(std::string(precision_v1_name(Precision::kMs)).c_str(), "ms");
  assert_string_equal(std::string(precision_v1_name(Precision::kS)).c_str(), "s");
}

void appends_several_points(void**) {
  LineProtocolEncoder enc({Precision::kS, true});
  std::string out;
  assert_true(enc.append(out, make_point("a", {}, {{"v", int64_t{1}}}, 1'000'000'000)));
  assert_true(enc.append(out, make_point("b", {}, {{"v", int64_t{2}}}, 2'000'000'000)));
  assert_string_equal(out.c_str(), "a v=1i 1\nb v=2i 2\n");
}

}  // namespace

int main() {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(worked_example_is_byte_exact),
      cmocka_unit_test(measurement_escapes_comma_and_space_only),
      cmocka_unit_test(keys_and_tag_values_escape_comma_equals_space),
      cmocka_unit_test(lone_backslashes_pass_through),
      cmocka_unit_test(string_values_escape_quote_and_backslash),
      cmocka_unit_test(every_field_type),
      cmocka_unit_test(uint_without_support_becomes_int_or_float),
      cmocka_unit_test(tags_sorted_bytewise_and_empty_omitted),
      cmocka_unit_test(non_finite_fields_dropped_and_counted),
      cmocka_unit_test(point_without_fields_dropped_and_counted),
      cmocka_unit_test(newlines_drop_the_tag_or_field),
      cmocka_unit_test(ambiguous_backslashes_and_reserved_keys_dropped),
      cmocka_unit_test(each_precision),
      cmocka_unit_test(negative_timestamps_floor),
      cmocka_unit_test(precision_names_round_trip),
      cmocka_unit_test(appends_several_points),
  };
  return cmocka_run_group_tests(tests, nullptr, nullptr);
}
