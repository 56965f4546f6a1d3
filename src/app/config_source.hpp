#pragma once
// Where a configuration comes from, in increasing precedence: built-in
// defaults, the YAML file (-c), environment variables, command-line flags.
// Kept so that a reload (SIGHUP) rebuilds the configuration the same way.
#include <memory>
#include <string>
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
  config::Errors load(config::Config* out) const;
};

// The `log` section as the logger's options.
log::Options log_options(const config::Config& config);

// Prints errors one per line to stderr.
void print_errors(const config::Errors& errors);

}  // namespace edgemon::app
