#include "app/config_source.hpp"

#include <algorithm>
#include <cstdio>
#include <cstdlib>

#include "sources/host/collector.hpp"

namespace edgemon::app {

config::Errors ConfigSource::load(config::Config* out) const {
  config::Config cfg;
  config::Errors errors;
  if (!path.empty()) errors = config::load_yaml_file(path, &cfg);
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
  for (const std::string& name : collect::registered_collector_names()) {
    const auto& disabled = cfg.collect.disable;
    if (std::find(disabled.begin(), disabled.end(), name) != disabled.end()) continue;
    std::string error;
    if (collect::create_collector(name, cfg, &error) == nullptr) {
      errors.push_back({path, 0, 0, "collect", "collector " + name + ": " + error});
    }
  }
  if (errors.empty()) *out = std::move(cfg);
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
