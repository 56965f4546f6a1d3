// Configuration loading: one test per kind of error, each asserting that the
// message names the file, line, column and key.
#include <fstream>
#include <sstream>

#include "cmocka_all.hpp"
#include "core/config_assign.hpp"
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
  // Stacked repetitions make glibc's regcomp take exponential memory.
  assert_contains(only_error("collect:\n  netdev:\n    devices_exclude: \"^veth++++\"\n"),
                  "a repetition of a repetition");
  assert_contains(only_error("collect:\n  netdev:\n    devices_exclude: \"x{2}{3}\"\n"),
                  "a repetition of a repetition");
  Config c;
  assert_true(load_yaml_string(
                  "collect:\n  netdev:\n    devices_exclude: \"^(eth|en)[0-9+*]{1,3}\\\\+$\"\n",
                  "test.yaml", &c)
                  .empty());
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

const char* kTwoOutputs =
    "outputs:\n"
    "  stop_timeout: 2s\n"
    "  influxdb:\n"
    "    - name: local\n"
    "      url: http://127.0.0.1:8086\n"
    "      database: edge\n"
    "      batch_size: 100\n"
    "      flush_interval: 500ms\n"
    "    - name: cloud\n"
    "      url: https://influx.example.com\n"
    "      version: 2\n"
    "      org: acme\n"
    "      bucket: edge\n"
    "      token: t0k\n"
    "      gzip: false\n"
    "      max_bytes: 1GiB\n"
    "      max_age: 0\n";

void list_of_sections_is_read(void**) {
  Config c;
  Errors e = load(kTwoOutputs, &c);
  assert_true(e.empty());
  assert_true(validate(c).empty());
  assert_int_equal(c.outputs.stop_timeout.count(), 2000);
  assert_int_equal(c.outputs.influxdb.size(), 2);
  const InfluxOutputConfig& local = c.outputs.influxdb[0];
  assert_string_equal(local.name.c_str(), "local");
  assert_string_equal(local.database.c_str(), "edge");
  assert_int_equal(local.batch_size, 100);
  assert_int_equal(local.flush_interval.count(), 500);
  assert_int_equal(local.version, 1);
  assert_true(local.gzip);  // untouched keys keep their defaults
  assert_string_equal(local.precision.c_str(), "ms");
  const InfluxOutputConfig& cloud = c.outputs.influxdb[1];
  assert_int_equal(cloud.version, 2);
  assert_string_equal(cloud.bucket.c_str(), "edge");
  assert_false(cloud.gzip);
  assert_int_equal(cloud.max_bytes.bytes, uint64_t{1} << 30);
  assert_int_equal(cloud.max_age.count(), 0);
  assert_int_equal(cloud.batch_size, 5000);

  // A file replaces the list as a whole; null empties it.
  assert_true(load("outputs:\n  influxdb:\n", &c).empty());
  assert_int_equal(c.outputs.influxdb.size(), 0);
  assert_true(load(kTwoOutputs, &c).empty());
  assert_true(load("outputs:\n  influxdb: []\n", &c).empty());
  assert_int_equal(c.outputs.influxdb.size(), 0);
}

void list_item_errors_name_index_line_and_column(void**) {
  assert_contains(only_error("outputs:\n"
                             "  influxdb:\n"
                             "    - name: a\n"
                             "      url: http://x:8086\n"
                             "    - name: b\n"
                             "      url: ftp://x\n"),
                  "test.yaml:6:12: outputs.influxdb[1].url: expected an http:// or https:// URL");
  assert_contains(only_error("outputs:\n  influxdb:\n    - {name: a, batch_size: 0}\n"),
                  "test.yaml:3:29: outputs.influxdb[0].batch_size: must be between 1 and 1000000");
  assert_contains(only_error("outputs:\n  influxdb:\n    - name: Bad Name\n"),
                  "test.yaml:3:13: outputs.influxdb[0].name: expected 1 to 64 of a-z");
  assert_contains(only_error("outputs:\n  influxdb:\n    - name: a\n      name: b\n"),
                  "test.yaml:4:7: outputs.influxdb[0].name: duplicate key");
}

void unknown_key_in_list_item_suggests(void**) {
  assert_contains(only_error("outputs:\n  influxdb:\n    - name: a\n    - nmae: b\n"),
                  "test.yaml:4:7: outputs.influxdb[1].nmae: unknown key (did you mean 'name'?)");
  assert_contains(only_error("outputs:\n  influxdbb: []\n"),
                  "test.yaml:2:3: outputs.influxdbb: unknown key (did you mean 'influxdb'?)");
}

void list_shape_errors(void**) {
  assert_contains(only_error("outputs:\n  influxdb:\n    name: a\n"),
                  "test.yaml:3:5: outputs.influxdb: expected a list of mappings, got a mapping");
  assert_contains(only_error("outputs:\n  influxdb: local\n"),
                  "test.yaml:2:13: outputs.influxdb: expected a list of mappings, got a value");
  assert_contains(only_error("outputs:\n  influxdb:\n    - {name: a}\n    - [1]\n"),
                  "test.yaml:4:7: outputs.influxdb[1]: list items must be mappings, got a list");
}

void string_map_is_read(void**) {
  Config c;
  assert_true(load("tags: {location: lab, zone: \"a b\"}\n", &c).empty());
  assert_int_equal(c.tags.size(), 2);
  assert_string_equal(c.tags.at("location").c_str(), "lab");
  assert_string_equal(c.tags.at("zone").c_str(), "a b");
  assert_true(load("tags:\n  device_type: gateway\n  rack: 7\n", &c).empty());
  assert_int_equal(c.tags.size(), 2);  // replaced, not merged
  assert_string_equal(c.tags.at("rack").c_str(), "7");
  assert_true(load("tags: {}\n", &c).empty());
  assert_true(c.tags.empty());
}

void string_map_errors(void**) {
  assert_contains(only_error("tags:\n  a: 1\n  a: 2\n"), "test.yaml:3:3: tags.a: duplicate key");
  assert_contains(only_error("tags:\n  a: [1]\n"),
                  "test.yaml:2:6: tags.a: expected a value, got a list");
  assert_contains(only_error("tags: [a, b]\n"),
                  "test.yaml:1:7: tags: expected a mapping of names to values, got a list");
  assert_contains(only_error("tags:\n  zone: a\n  host: x\n"),
                  "test.yaml:3:3: tags: 'host' is set by edgemon itself");
  assert_contains(only_error("tags: {_measurement: x}\n"), "tags: tag names starting with _");
  assert_contains(only_error("tags: {\"a b\": x}\n"),
                  "tags: tag names may only use A-Z, a-z, 0-9, _, . and - (got 'a b')");
  assert_contains(only_error("tags: {[a]: x}\n"), "test.yaml:1:8: tags: keys must be plain names");
}

void map_renders_as_flow_yaml(void**) {
  using edgemon::config::detail::to_yaml;
  assert_string_equal(to_yaml(StringMap{}).c_str(), "{}");
  StringMap m{{"zone", "a b"}, {"location", "lab"}, {"x", "null"}, {"y", "-1"}};
  std::string text = to_yaml(m);
  assert_string_equal(text.c_str(), "{location: lab, x: \"null\", y: \"-1\", zone: \"a b\"}");
  Config c;
  assert_true(load(("tags: " + text + "\n").c_str(), &c).empty());
  assert_true(c.tags == m);
}

void set_key_addresses_list_items(void**) {
  Config c;
  assert_string_equal(set_key(&c, "outputs.influxdb.0.name", "local").c_str(), "");
  assert_int_equal(c.outputs.influxdb.size(), 1);
  assert_string_equal(set_key(&c, "outputs.influxdb.0.url", "http://127.0.0.1:1").c_str(), "");
  assert_string_equal(set_key(&c, "outputs.influxdb.1.version", "2").c_str(), "");
  assert_int_equal(c.outputs.influxdb.size(), 2);
  assert_string_equal(c.outputs.influxdb[0].url.c_str(), "http://127.0.0.1:1");
  assert_int_equal(c.outputs.influxdb[1].version, 2);

  assert_contains(set_key(&c, "outputs.influxdb.3.name", "x"),
                  "item 3 does not exist; the list has 2 (use index 2 to add one)");
  assert_string_equal(set_key(&c, "outputs.influxdb.2.nope", "x").c_str(), "no such key");
  assert_contains(set_key(&c, "outputs.influxdb.2.version", "3"), "must be between 1 and 2");
  assert_int_equal(c.outputs.influxdb.size(), 2);  // failed additions leave no item behind
  assert_contains(set_key(&c, "outputs.influxdb.x.name", "a"),
                  "expected outputs.influxdb.INDEX.KEY");
  assert_contains(set_key(&c, "outputs.influxdb.-1.name", "a"),
                  "expected outputs.influxdb.INDEX.KEY");
  assert_contains(set_key(&c, "outputs.influxdb.0", "a"), "expected outputs.influxdb.INDEX.KEY");
  assert_contains(set_key(&c, "outputs.influxdb", "a"), "outputs.influxdb.INDEX.KEY");
}

void set_key_fills_maps(void**) {
  Config c;
  assert_string_equal(set_key(&c, "tags", "location=lab, zone=a").c_str(), "");
  assert_int_equal(c.tags.size(), 2);
  assert_string_equal(set_key(&c, "tags", "zone=b,rack=3", true).c_str(), "");
  assert_int_equal(c.tags.size(), 3);
  assert_string_equal(c.tags.at("zone").c_str(), "b");
  assert_string_equal(set_key(&c, "tags.site", "north").c_str(), "");
  assert_string_equal(c.tags.at("site").c_str(), "north");
  assert_contains(set_key(&c, "tags", "a=1,oops"), "expected NAME=VALUE pairs");
  assert_contains(set_key(&c, "tags", "host=x"), "'host' is set by edgemon itself");
  assert_contains(set_key(&c, "tags.time", "x"), "'time' is set by edgemon itself");
  assert_int_equal(c.tags.size(), 4);  // failed sets change nothing
  assert_string_equal(set_key(&c, "tags", "x=1").c_str(), "");
  assert_int_equal(c.tags.size(), 1);
}

const char* store_env(const char* name) {
  std::string_view n(name);
  if (n == "EDGEMON_TAGS") return "zone=b,rack=3";
  if (n == "EDGEMON_SPOOL_PATH") return "/data/spool.db";
  return nullptr;
}

void environment_sets_tags_and_spool(void**) {
  Config c;
  c.tags = {{"location", "lab"}, {"zone", "a"}};
  assert_true(apply_environment(&c, store_env).empty());
  assert_int_equal(c.tags.size(), 3);
  assert_string_equal(c.tags.at("zone").c_str(), "b");
  assert_string_equal(c.spool.path.c_str(), "/data/spool.db");
}

InfluxOutputConfig output(const char* name) {
  InfluxOutputConfig o;
  o.name = name;
  o.url = "http://127.0.0.1:8086";
  o.database = "edge";
  return o;
}

std::string all_errors(const Errors& errors) {
  std::string all;
  for (const auto& e : errors)
    all += e.to_string() + "\n";
  return all;
}

// A body is charged to the HTTP memory budget whole at its head: a body
// limit above the budget would refuse every body that large.
void body_limits_fit_the_memory_budget(void**) {
  Config c;
  assert_true(validate(c).empty());
  c.ingest.enabled = true;
  c.http.limits.memory_budget.bytes = 4 * 1024 * 1024;
  std::string e = all_errors(validate(c));
  assert_contains(e, "ingest.limits.max_body_bytes: is larger than http.limits.memory_budget");
  c.http.limits.max_body_bytes.bytes = 5 * 1024 * 1024;
  e = all_errors(validate(c));
  assert_contains(e, "http.limits.max_body_bytes: is larger than http.limits.memory_budget");
  c.ingest.limits.max_body_bytes.bytes = 1024 * 1024;
  c.http.limits.max_body_bytes.bytes = 1024 * 1024;
  assert_true(validate(c).empty());
  // And to an address's share of it.
  c.http.limits.memory_budget.bytes = 16 * 1024 * 1024;
  c.http.limits.memory_per_address.bytes = 1024 * 1024;
  c.ingest.limits.max_body_bytes.bytes = 2 * 1024 * 1024;
  e = all_errors(validate(c));
  assert_contains(e, "ingest.limits.max_body_bytes: is larger than http.limits.memory_per_address");
}

void output_validation(void**) {
  Config c;
  c.outputs.influxdb = {output("a"), output("b")};
  assert_true(validate(c).empty());

  c.outputs.influxdb[1].name = "a";
  c.outputs.influxdb[0].database = "";
  std::string e = all_errors(validate(c));
  assert_contains(e, "outputs.influxdb[0].database: is required when version is 1");
  assert_contains(e, "outputs.influxdb[1].name: 'a' is already the name of outputs.influxdb[0]");

  c.outputs.influxdb = {InfluxOutputConfig{}};
  e = all_errors(validate(c));
  assert_contains(e, "outputs.influxdb[0].name: is required");
  assert_contains(e, "outputs.influxdb[0].url: is required");

  InfluxOutputConfig v2 = output("v2");
  v2.version = 2;
  v2.username = "u";
  v2.token = "t";
  v2.password = "p";
  c.outputs.influxdb = {v2};
  e = all_errors(validate(c));
  assert_contains(e, "outputs.influxdb[0].org: is required when version is 2");
  assert_contains(e, "outputs.influxdb[0].bucket: is required when version is 2");
  assert_contains(e, "outputs.influxdb[0].database: is only used with version 1");
  assert_contains(e, "outputs.influxdb[0].username: set either token or username/password");

  InfluxOutputConfig o = output("o");
  o.password = "p";
  o.url = "https://h:1/?db=x";
  o.retry_initial = std::chrono::minutes(10);
  o.max_age = std::chrono::seconds(30);
  o.precision = "m";
  c.outputs.influxdb = {o};
  e = all_errors(validate(c));
  assert_contains(e, "outputs.influxdb[0].password: needs a username");
  assert_contains(e, "outputs.influxdb[0].url: the URL must not have a query string");
  assert_contains(e, "outputs.influxdb[0].retry_initial: is longer than retry_max (5m)");
  assert_contains(e, "outputs.influxdb[0].max_age: must be 0 (no limit) or at least 1m (got 30s)");
  assert_contains(e, "outputs.influxdb[0].precision: expected ns, us, ms or s");
  assert_int_equal(validate(c).size(), 5);
}

void tag_and_spool_validation(void**) {
  Config c;
  c.tags = {{"empty", ""},
            {"crlf", "a\r\nb"},
            {"long", std::string(257, 'x')},
            {"ok", std::string(256, 'x')}};
  c.spool.sync = "sometimes";
  std::string e = all_errors(validate(c));
  assert_contains(e, "tags.empty: tag values must not be empty");
  assert_contains(e, "tags.crlf: tag values must not contain line breaks");
  assert_contains(e, "tags.long: tag values are at most 256 bytes (got 257)");
  assert_contains(e, "spool.sync: expected normal or full (got 'sometimes')");
  assert_int_equal(validate(c).size(), 4);
  assert_contains(only_error("spool:\n  sync: always\n"),
                  "test.yaml:2:9: spool.sync: expected normal or full");
  assert_contains(only_error("spool:\n  commit_interval: 50ms\n"),
                  "spool.commit_interval: must be between 100ms and 1m");
}

// Collects the key names a struct declares, to check the reference file
// documents every one of them.
struct KeyLister {
  std::vector<std::string> names;
  template <typename T, typename C>
  void field(std::string_view name, T&, std::string_view, C) {
    names.emplace_back(name);
  }
  template <typename S>
  void section(std::string_view name, S&, std::string_view) {
    names.emplace_back(name);
  }
  template <typename S>
  void list(std::string_view name, std::vector<S>&, std::string_view) {
    names.emplace_back(name);
  }
};

// The reference shows `influxdb: []` and a commented-out item; removing the
// comment marks must give a loadable item with the default values.
void reference_example_item_uncomments_to_defaults(void**) {
  std::string reference = render_reference_yaml();
  InfluxOutputConfig defaults;
  KeyLister keys;
  defaults.visit(keys);
  assert_true(keys.names.size() >= 20);
  for (const auto& k : keys.names) {
    std::string documented = "\n  #    " + k + ": ";
    assert_contains(reference, documented);
  }
  assert_contains(reference, "\n  influxdb: []\n  #  - # Unique name of this output");
  assert_contains(reference, "\ntags: {}\n");

  std::stringstream in(reference);
  std::string line, uncommented;
  bool inside = false;
  while (std::getline(in, line)) {
    if (line == "  influxdb: []") {
      line = "  influxdb:";
      inside = true;
    } else if (inside && line.rfind("  #", 0) == 0) {
      line.erase(2, 1);
    } else {
      inside = false;
    }
    uncommented += line + "\n";
  }
  assert_contains(uncommented, "\n  influxdb:\n    - # Unique name");
  Config c;
  Errors e = load_yaml_string(uncommented, "uncommented", &c);
  if (!e.empty()) fail_msg("%s", all_errors(e).c_str());
  assert_int_equal(c.outputs.influxdb.size(), 1);
  const InfluxOutputConfig& o = c.outputs.influxdb[0];
  assert_int_equal(o.version, defaults.version);
  assert_string_equal(o.precision.c_str(), defaults.precision.c_str());
  assert_string_equal(o.schema.c_str(), defaults.schema.c_str());
  assert_int_equal(o.batch_size, defaults.batch_size);
  assert_int_equal(o.max_bytes.bytes, defaults.max_bytes.bytes);
  assert_int_equal(o.max_age.count(), defaults.max_age.count());
  assert_int_equal(o.retry_max.count(), defaults.retry_max.count());
  assert_true(o.gzip == defaults.gzip && o.tls_skip_verify == defaults.tls_skip_verify);
  std::string v = all_errors(validate(c));
  assert_contains(v, "outputs.influxdb[0].name: is required");
  assert_contains(v, "outputs.influxdb[0].url: is required");
  assert_contains(v, "outputs.influxdb[0].database: is required");
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
  assert_string_equal(c.collect.collectors.canonical_text().c_str(),
                      Config{}.collect.collectors.canonical_text().c_str());
  assert_contains(c.collect.collectors.canonical_text(), "filesystem.fs_types_exclude: ");
  assert_true(c.tags.empty());
  assert_true(c.outputs.influxdb.empty());
  assert_string_equal(c.spool.sync.c_str(), "normal");
  assert_true(validate(c).empty());
  std::ifstream in(EDGEMON_SOURCE_DIR "/etc/edgemon.yaml");
  std::stringstream checked_in;
  checked_in << in.rdbuf();
  if (checked_in.str() != reference) {
    fail_msg("etc/edgemon.yaml is out of date: regenerate it with `make etc`");
  }
}

// What a reload must refuse before parsing: not a file, too large, or
// nested deep enough to make the loader crawl.
void hostile_files_are_refused(void**) {
  Config c;
  Errors e = load_yaml_file("/tmp", &c);
  assert_int_equal(e.size(), 1);
  assert_string_equal(e[0].to_string().c_str(), "/tmp: not a regular file");
  std::string nested(100000, '[');
  e = load_yaml_string("tags: " + nested, "deep.yaml", &c);
  assert_int_equal(e.size(), 1);
  assert_contains(e[0].to_string(), "deep.yaml:1:");
  assert_contains(e[0].to_string(), "nested deeper than 32 levels");
  std::string big(kMaxConfigBytes + 1, '#');
  e = load_yaml_string(big, "big.yaml", &c);
  assert_int_equal(e.size(), 1);
  assert_contains(e[0].to_string(), "a configuration is at most 4194304 bytes");
  // Sensible nesting still loads.
  e = load_yaml_string(
      "outputs:\n  influxdb:\n    - name: a\n      url: http://x:1\n"
      "      database: d\n",
      "ok.yaml", &c);
  assert_true(e.empty());
}

// A config server serves its documents as one stream: the device type's
// defaults, then the device's own. Each applies over the last; what it does
// not name stays; a map is replaced whole.
void documents_of_a_stream_apply_in_order(void**) {
  Config c;
  Errors e = load_yaml_string(
      "# defaults\n---\ncollect:\n  interval: 5s\n  disable: [filesystem]\n"
      "tags: {site: a, zone: b}\n# device\n---\ncollect:\n  interval: 2s\n"
      "tags: {site: c}\n",
      "served", &c);
  assert_true(e.empty());
  assert_int_equal(c.collect.interval.count(), 2000);
  assert_int_equal(c.collect.disable.size(), 1);
  assert_int_equal(c.tags.size(), 1);
  assert_string_equal(c.tags["site"].c_str(), "c");
  // An empty document in the stream changes nothing.
  e = load_yaml_string("---\n---\nlog: {level: warn}\n", "served", &c);
  assert_true(e.empty());
  assert_string_equal(c.log.level.c_str(), "warn");
  assert_int_equal(c.collect.interval.count(), 2000);
  // Errors in a later document name its line in the stream.
  e = load_yaml_string("---\nlog: {level: warn}\n---\ncollect:\n  intervall: 1s\n", "s", &c);
  assert_int_equal(e.size(), 1);
  assert_contains(e[0].to_string(), "s:5:");
}

void a_stored_document_is_one_without_directives(void**) {
  assert_true(check_single_document("collect: {interval: 1s}\n", "d").empty());
  assert_true(check_single_document("---\ncollect: {interval: 1s}\n...\n", "d").empty());
  Errors e = check_single_document("a: 1\n---\nb: 2\n", "d");
  assert_int_equal(e.size(), 1);
  assert_contains(e[0].to_string(), "more than one YAML document");
  e = check_single_document("%YAML 1.1\n---\na: 1\n", "d");
  assert_int_equal(e.size(), 1);
  assert_contains(e[0].to_string(), "directives");
  // A syntax error is the loader's to report, with its position.
  assert_true(check_single_document("a: [\n", "d").empty());
}

void config_server_settings_are_checked(void**) {
  Config c;
  assert_true(load("config_server:\n  url: http://hub.lan:9110\n  poll_interval: 0\n", &c).empty());
  assert_true(validate(c).empty());
  c = Config{};
  assert_true(load("config_server:\n  url: ftp://hub\n", &c).size() == 1);
  c = Config{};
  assert_true(load("config_server:\n  poll_interval: 500ms\n  serve: true\n", &c).empty());
  Errors e = validate(c);
  std::string all;
  for (const auto& err : e)
    all += err.to_string() + "\n";
  assert_contains(all, "config_server.poll_interval: must be 0");
  assert_contains(all, "config_server.serve: needs ingest.enabled");
  c = Config{};
  assert_true(load("ingest: {enabled: true}\nconfig_server: {serve: true}\n", &c).empty());
  e = validate(c);
  assert_int_equal(e.size(), 1);
  assert_contains(e[0].to_string(), "needs ingest.tokens");
  // The exporter's environment variables; CONFIG_TIMEOUT is in seconds.
  c = Config{};
  e = apply_environment(&c, [](const char* name) -> const char* {
    if (std::string_view(name) == "CONFIG_SERVER_URL") return "http://central:8080";
    if (std::string_view(name) == "CONFIG_TIMEOUT") return "7";
    return nullptr;
  });
  assert_true(e.empty());
  assert_string_equal(c.config_server.url.c_str(), "http://central:8080");
  assert_int_equal(c.config_server.timeout.count(), 7000);
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
      cmocka_unit_test(list_of_sections_is_read),
      cmocka_unit_test(list_item_errors_name_index_line_and_column),
      cmocka_unit_test(unknown_key_in_list_item_suggests),
      cmocka_unit_test(list_shape_errors),
      cmocka_unit_test(string_map_is_read),
      cmocka_unit_test(string_map_errors),
      cmocka_unit_test(map_renders_as_flow_yaml),
      cmocka_unit_test(set_key_addresses_list_items),
      cmocka_unit_test(set_key_fills_maps),
      cmocka_unit_test(environment_sets_tags_and_spool),
      cmocka_unit_test(body_limits_fit_the_memory_budget),
      cmocka_unit_test(output_validation),
      cmocka_unit_test(tag_and_spool_validation),
      cmocka_unit_test(reference_example_item_uncomments_to_defaults),
      cmocka_unit_test(reference_file_round_trips_and_is_checked_in),
      cmocka_unit_test(hostile_files_are_refused),
      cmocka_unit_test(documents_of_a_stream_apply_in_order),
      cmocka_unit_test(a_stored_document_is_one_without_directives),
      cmocka_unit_test(config_server_settings_are_checked),
  };
  return cmocka_run_group_tests(tests, nullptr, nullptr);
}
