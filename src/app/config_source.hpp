#pragma once
// Where a configuration comes from, in increasing precedence: built-in
// defaults, the YAML file (-c), what a config server serves for this device,
// environment variables, command-line flags. Kept so that a reload (SIGHUP)
// rebuilds the configuration the same way.
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/config_loader.hpp"
#include "core/log.hpp"

namespace edgemon::app {

struct ConfigSource {
  std::string path;  // empty: no file, defaults only
  bool use_environment = true;
  // Flag overrides as (dotted key, text); repeated list keys accumulate.
  std::vector<std::pair<std::string, std::string>> flags;

  // Loads and validates, including building every enabled collector once so
  // that e.g. a bad filter regex is reported here, not at run time.
  // `served` is the config server's answer (YAML, possibly several
  // documents), laid over the file; `served_name` names it in errors.
  config::Errors load(config::Config* out, std::string_view served = {},
                      const std::string& served_name = "config server") const;
};

// What a config server checks before it stores a document: one YAML
// document that loads over the defaults with every check of `edgemon check`,
// and leaves config_server alone (that stays each agent's own).
config::Errors check_served_document(std::string_view yaml, const std::string& name);

// The `log` section as the logger's options.
log::Options log_options(const config::Config& config);

// Prints errors one per line to stderr.
void print_errors(const config::Errors& errors);

}  // namespace edgemon::app
