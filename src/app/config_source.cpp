#include "app/config_source.hpp"

#include <algorithm>
#include <cstdio>
#include <cstdlib>

#include "sources/host/collector.hpp"

namespace edgemon::app {

namespace {

void check_collectors(const config::Config& cfg, const std::string& where, config::Errors& errors) {
  for (const std::string& name : collect::registered_collector_names()) {
    const auto& disabled = cfg.collect.disable;
    if (std::find(disabled.begin(), disabled.end(), name) != disabled.end()) continue;
    std::string error;
    if (collect::create_collector(name, cfg, &error) == nullptr) {
      errors.push_back({where, 0, 0, "collect", "collector " + name + ": " + error});
    }
  }
}

// Lays the served YAML over *cfg; the server may not move the agent to
// another server, change how it is reached, nor rename the device (which
// would make it fetch another device's configuration).
void apply_served(std::string_view served, const std::string& name, config::Config* cfg,
                  config::Errors& errors) {
  config::ConfigServerSection own = cfg->config_server;
  std::string own_id = cfg->device_id;
  auto served_errors = config::load_yaml_string(served, name, cfg);
  errors.insert(errors.end(), served_errors.begin(), served_errors.end());
  if (!served_errors.empty()) return;
  if (!(cfg->config_server == own)) {
    errors.push_back({name, 0, 0, "config_server",
                      "is each agent's own setting (its file or CONFIG_SERVER_URL); a served "
                      "configuration may not set it"});
  }
  if (cfg->device_id != own_id) {
    errors.push_back({name, 0, 0, "device_id",
                      "names the device whose configuration is served; a served configuration "
                      "may not change it"});
  }
}

}  // namespace

config::Errors ConfigSource::load(config::Config* out, std::string_view served,
                                  const std::string& served_name) const {
  config::Config cfg;
  config::Errors errors;
  if (!path.empty()) errors = config::load_yaml_file(path, &cfg);
  if (!served.empty()) apply_served(served, served_name, &cfg, errors);
  if (use_environment) {
    auto env_errors = config::apply_environment(
        &cfg, [](const char* name) -> const char* { return std::getenv(name); });
    errors.insert(errors.end(), env_errors.begin(), env_errors.end());
  }
  std::vector<std::string> lists_set;  // A flag list replaces the file's, then accumulates.
  for (const auto& [key, text] : flags) {
    bool append = std::find(lists_set.begin(), lists_set.end(), key) != lists_set.end();
    if (std::string err = config::set_key(&cfg, key, text, append); !err.empty()) {
      errors.push_back({"command line", 0, 0, key, err});
    }
    lists_set.push_back(key);
  }
  if (!errors.empty()) return errors;
  errors = config::validate(cfg);
  check_collectors(cfg, path, errors);
  if (errors.empty()) *out = std::move(cfg);
  return errors;
}

config::Errors check_served_document(std::string_view yaml, const std::string& name) {
  config::Errors errors = config::check_single_document(yaml, name);
  if (!errors.empty()) return errors;
  config::Config cfg;
  apply_served(yaml, name, &cfg, errors);
  if (!errors.empty()) return errors;
  errors = config::validate(cfg);
  check_collectors(cfg, name, errors);
  return errors;
}

void print_errors(const config::Errors& errors) {
  for (const auto& e : errors)
    std::fprintf(stderr, "%s\n", e.to_string().c_str());
}

log::Options log_options(const config::Config& config) {
  log::Options o;
  log::parse_level(config.log.level, &o.level);
  o.file = config.log.file;
  o.max_file_bytes = config.log.max_size.bytes;
  o.max_files = static_cast<int>(config.log.max_files);
  return o;
}

}  // namespace edgemon::app
