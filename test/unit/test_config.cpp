// Configuration loading: one test per kind of error, each asserting that the
// message names the file, line, column and key.
#include <fstream>
#include <sstream>

#include "cmocka_all.hpp"
#include "core/config_loader.hpp"

using namespace edgemon::config;

namespace {

Errors load(const char* yaml, Config* out) {
  return load_yaml_string(yaml, "test.yaml", out);
}

std::string only_error(const char* yaml) {
  Config c;
  Errors errors = load(yaml, &c);
  if (errors.size() != 1) {
    std::string all;
    for (const auto& e : errors)
      all += e.to_string() + "\n";
    fail_msg("expected exactly one error, got %zu:\n%s", errors.size(), all.c_str());
  }
  return errors[0].to_string();
}

void empty_file_gives_defaults(void**) {
  Config c;
  assert_true(load("", &c).empty());
  assert_true(load("# only a comment\n", &c).empty());
  assert_int_equal(c.collect.interval.count(), 15000);
  assert_int_equal(c.http.listen.size(), 1);
  assert_string_equal(c.http.listen[0].c_str(), "127.0.0.1:9110");
  assert_int_equal(c.http.limits.max_connections, 1024);
}

void values_are_applied(void**) {
  Config c;
  Errors e = load(
      "collect:\n"
      "  interval: 1s\n"
      "  disable: [thermal]\n"
      "http:\n"
      "  listen: [\"127.0.0.1:0\", \"[::1]:0\"]\n"
      "  limits:\n"
      "    max_header_bytes: 8KiB\n"
      "    header_timeout: 250ms\n"
      "  access:\n"
      "    read:\n"
      "      rate: 2.5\n"
      "      burst: 5\n"
      "log:\n"
      "  level: debug\n",
      &c);
  assert_true(e.empty());
  assert_int_equal(c.collect.interval.count(), 1000);
  assert_string_equal(c.collect.disable.at(0).c_str(), "thermal");
  assert_int_equal(c.http.listen.size(), 2);
  assert_string_equal(c.http.listen[1].c_str(), "[::1]:0");
  assert_int_equal(c.http.limits.max_header_bytes.bytes, 8192);
  assert_int_equal(c.http.limits.header_timeout.count(), 250);
  assert_true(c.http.access.read.rate == 2.5);
  assert_int_equal(c.http.access.read.burst, 5);
  assert_string_equal(c.log.level.c_str(), "debug");
}

void unknown_key_names_line_and_suggests(void**) {
  std::string e = only_error("collect:\n  intervall: 5s\n");
  assert_contains(e, "test.yaml:2:3: collect.intervall: unknown key (did you mean 'interval'?)");
}

void wrong_type_is_an_error(void**) {
  std::string e = only_error("http:\n  limits:\n    max_connections:\n      a: 1\n");
  assert_contains(e, "test.yaml:4:7: http.limits.max_connections: expected a value, got a mapping");
  e = only_error("http: [1, 2]\n");
  assert_contains(e, "test.yaml:1:7: http: expected a mapping, got a list");
}

void out_of_range_is_an_error(void**) {
  std::string e = only_error("http:\n  limits:\n    max_connections: 0\n");
  assert_contains(e, "test.yaml:3:22: http.limits.max_connections: must be between 1 and 1000000");
  e = only_error("collect:\n  interval: 10ms\n");
  assert_contains(e, "test.yaml:2:13: collect.interval: must be between 100ms and 1h (got 10ms)");
}

void bad_scalar_forms_are_errors(void**) {
  assert_contains(only_error("collect:\n  interval: soon\n"),
                  "test.yaml:2:13: collect.interval: expected a duration");
  assert_contains(only_error("http:\n  limits:\n    max_body_bytes: lots\n"),
                  "test.yaml:3:21: http.limits.max_body_bytes: expected a size");
  assert_contains(only_error("http:\n  limits:\n    max_connections: 12abc\n"),
                  "http.limits.max_connections: expected an integer");
  assert_contains(only_error("log:\n  level: loud\n"),
                  "test.yaml:2:10: log.level: expected one of debug, info, warn, error");
}

void list_items_are_checked(void**) {
  assert_contains(only_error("http:\n  access:\n    read:\n      allow: [10.0.0.0/8, 300.1.1.1]\n"),
                  "test.yaml:4:27: http.access.read.allow: invalid address in '300.1.1.1'");
  assert_contains(only_error("http:\n  listen:\n    - \"::1:80\"\n"),
                  "test.yaml:3:7: http.listen: IPv6 addresses need brackets");
  assert_contains(only_error("collect:\n  disable: [nope]\n"),
                  "test.yaml:2:13: collect.disable: no collector named 'nope'");
  assert_contains(only_error("collect:\n  filesystem:\n    fs_types_exclude: \"(\"\n"),
                  "collect.filesystem.fs_types_exclude: invalid regular expression");
}

void syntax_error_names_position(void**) {
  std::string e = only_error("http:\n  listen: [\"a\"\n  limits: {}\n");
  assert_contains(e, "test.yaml:");
  assert_contains(e, "YAML syntax error");
}

void duplicate_key_is_an_error(void**) {
  assert_contains(only_error("log:\n  level: info\n  level: warn\n"),
                  "test.yaml:3:3: log.level: duplicate key");
}

void top_level_must_be_a_mapping(void**) {
  assert_contains(only_error("- a\n- b\n"), "test.yaml:1:1: the top level must be a mapping");
}

void all_errors_are_reported(void**) {
  Config c;
  Errors e = load("collect:\n  interval: 0s\n  bogus: 1\nlog:\n  level: x\n", &c);
  assert_int_equal(e.size(), 3);
}

void missing_file_is_an_error(void**) {
  Config c;
  Errors e = load_yaml_file("/nonexistent/edgemon.yaml", &c);
  assert_int_equal(e.size(), 1);
  assert_contains(e[0].to_string(), "/nonexistent/edgemon.yaml: cannot read");
}

const char* fake_env(const char* name) {
  std::string_view n(name);
  if (n == "EDGEMON_LISTEN") return "127.0.0.1:1234, [::1]:1234";
  if (n == "EDGEMON_LOG_LEVEL") return "warn";
  if (n == "EDGEMON_API_TOKEN") return "s3cret";
  if (n == "EDGEMON_INTERVAL") return "forever";
  return nullptr;
}

void environment_overrides_apply_and_report(void**) {
  Config c;
  c.http.access.write.tokens = {"from-file"};
  Errors e = apply_environment(&c, fake_env);
  assert_int_equal(c.http.listen.size(), 2);
  assert_string_equal(c.http.listen[1].c_str(), "[::1]:1234");
  assert_string_equal(c.log.level.c_str(), "warn");
  assert_int_equal(c.http.access.write.tokens.size(), 2);  // appended
  assert_int_equal(e.size(), 1);
  assert_contains(e[0].to_string(), "environment EDGEMON_INTERVAL: collect.interval");
}

void set_key_reports_unknown_and_bad(void**) {
  Config c;
  assert_string_equal(set_key(&c, "collect.interval", "2s").c_str(), "");
  assert_int_equal(c.collect.interval.count(), 2000);
  assert_string_equal(set_key(&c, "collect.nothing", "1").c_str(), "no such key");
  assert_contains(set_key(&c, "http.listen", "nohost"), "expected HOST:PORT");
}

void cross_key_validation(void**) {
  Config c;
  c.http.listen = {"127.0.0.1:1", "127.0.0.1:1"};
  c.http.access.read.rate = 5;
  c.http.access.read.burst = 0;
  Errors e = validate(c);
  assert_int_equal(e.size(), 2);
}

void reference_file_round_trips_and_is_checked_in(void**) {
  std::string reference = render_reference_yaml();
  Config c;
  Errors e = load_yaml_string(reference, "reference", &c);
  for (const auto& err : e)
    fprintf(stderr, "%s\n", err.to_string().c_str());
  assert_true(e.empty());
  assert_int_equal(c.http.limits.max_header_bytes.bytes,
                   Config{}.http.limits.max_header_bytes.bytes);
  assert_string_equal(c.collect.filesystem.fs_types_exclude.c_str(),
                      Config{}.collect.filesystem.fs_types_exclude.c_str());
  std::ifstream in(EDGEMON_SOURCE_DIR "/etc/edgemon.yaml");
  std::stringstream checked_in;
  checked_in << in.rdbuf();
  if (checked_in.str() != reference) {
    fail_msg("etc/edgemon.yaml is out of date: regenerate it with `make etc`");
  }
}

}  // namespace

int main() {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(empty_file_gives_defaults),
      cmocka_unit_test(values_are_applied),
      cmocka_unit_test(unknown_key_names_line_and_suggests),
      cmocka_unit_test(wrong_type_is_an_error),
      cmocka_unit_test(out_of_range_is_an_error),
      cmocka_unit_test(bad_scalar_forms_are_errors),
      cmocka_unit_test(list_items_are_checked),
      cmocka_unit_test(syntax_error_names_position),
      cmocka_unit_test(duplicate_key_is_an_error),
      cmocka_unit_test(top_level_must_be_a_mapping),
      cmocka_unit_test(all_errors_are_reported),
      cmocka_unit_test(missing_file_is_an_error),
      cmocka_unit_test(environment_overrides_apply_and_report),
      cmocka_unit_test(set_key_reports_unknown_and_bad),
      cmocka_unit_test(cross_key_validation),
      cmocka_unit_test(reference_file_round_trips_and_is_checked_in),
  };
  return cmocka_run_group_tests(tests, nullptr, nullptr);
}
