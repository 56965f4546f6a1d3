// `edgemon config --import`: the replaced tools' configuration files as
// their READMEs show them, converted into configurations that load, with
// every key that has no edgemon counterpart listed, and refusals for what
// is not such a file.
#include <string>

#include "app/config_import.hpp"
#include "core/config.hpp"
#include "core/config_loader.hpp"

// cmocka defines fail(), which clashes with <ios>: it goes last.
#include "cmocka_all.hpp"

using namespace edgemon;

namespace {

bool listed(const app::ImportedConfig& c, std::string_view key) {
  for (const auto& u : c.unmapped)
    if (u.starts_with(std::string(key) + ":")) return true;
  return false;
}

config::Config loaded(const app::ImportedConfig& c) {
  config::Config out;
  config::Errors errors = config::load_yaml_string(c.yaml, "imported", &out);
  if (!errors.empty()) fail_msg("%s\n%s", errors.front().to_string().c_str(), c.yaml.c_str());
  return out;
}

void power_exporter_config_yaml(void**) {
  auto c = app::import_config(R"(device_type: "jetson_orin"  # Device type
interval: 1
port: 9100
reload_port: 9101
metrics:
  jetson_power_vdd_gpu_soc_watts: true
  jetson_temp_gpu_celsius: false
  "bad name": true
)");
  assert_string_equal(c.error.c_str(), "");
  assert_contains(c.tool, "edge power exporter");
  config::Config cfg = loaded(c);
  assert_string_equal(cfg.tags.at("device_type").c_str(), "jetson_orin");
  assert_string_equal(cfg.metrics.at("jetson_temp_gpu_celsius").c_str(), "false");
  assert_string_equal(cfg.http.listen.at(0).c_str(), "0.0.0.0:9100");
  auto tegrastats = cfg.sources.kinds.of("tegrastats");
  assert_int_equal(tegrastats.size(), 1);
  assert_contains(c.yaml, "      interval: 1s\n");  // tegrastats --interval, its own key
  assert_contains(c.yaml, "exporter_names: true");
  assert_true(listed(c, "reload_port"));
  assert_true(listed(c, "metrics.bad name"));
  // What would not load is listed, not written.
  auto bad_port = app::import_config("port: x\ndevice_type: a\n");
  assert_string_equal(bad_port.error.c_str(), "");
  assert_true(listed(bad_port, "port"));
}

void the_older_list_form(void**) {
  auto c = app::import_config("enabled_metrics: [jetson_gpu_usage_percent]\n");
  config::Config cfg = loaded(c);
  assert_int_equal(cfg.enabled_metrics.size(), 1);
}

void observability_agent_json(void**) {
  auto c = app::import_config(R"({"api_endpoint": "https://x/api", "api_token": "pos_1",
    "log_source_id": "u", "log_files": ["/var/log/syslog"], "collect_metrics": false,
    "metrics_interval": 300, "http_services": [], "log_level": "WARNING", "surprise": 1})");
  assert_string_equal(c.error.c_str(), "");
  config::Config cfg = loaded(c);
  assert_int_equal(cfg.collect.interval.count(), 300000);
  assert_string_equal(cfg.log.level.c_str(), "warn");
  assert_false(cfg.collect.disable.empty());  // collect_metrics: false
  for (const char* key : {"api_endpoint", "api_token", "log_files", "http_services", "surprise"})
    assert_true(listed(c, key));
}

void what_is_not_such_a_file(void**) {
  assert_string_not_equal(app::import_config("foo: 1\n").error.c_str(), "");
  assert_string_not_equal(app::import_config("[1, 2").error.c_str(), "");
  assert_string_not_equal(app::import_config("- a\n- b\n").error.c_str(), "");
  // Aliases make a graph: its walk is bounded.
  std::string laughs = "a: &a [x, x, x, x, x, x, x, x, x, x]\n";
  char prev = 'a';
  for (char n = 'b'; n <= 'k'; ++n, ++prev) {
    laughs += std::string(1, n) + ": &" + n + " [";
    for (int i = 0; i < 10; ++i)
      laughs += std::string(i ? ", *" : "*") + prev;
    laughs += "]\n";
  }
  laughs += "device_type: x\n";
  assert_string_not_equal(app::import_config(laughs).error.c_str(), "");
}

}  // namespace

int main() {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(power_exporter_config_yaml),
      cmocka_unit_test(the_older_list_form),
      cmocka_unit_test(observability_agent_json),
      cmocka_unit_test(what_is_not_such_a_file),
  };
  return cmocka_run_group_tests(tests, nullptr, nullptr);
}
