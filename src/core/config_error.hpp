#pragma once
// A configuration problem, located well enough for an operator to fix it.
#include <string>
#include <vector>

namespace edgemon::config {

struct ConfigError {
  std::string file;  // "" for environment / flags
  int line = 0;      // 1-based; 0 when not from a file
  int column = 0;
  std::string key;  // dotted key path, e.g. "http.limits.max_connections"
  std::string message;

  // "edgemon.yaml:12:5: http.limits.max_connections: must be between 1 and 1000000 (got 0)"
  std::string to_string() const;
};

using Errors = std::vector<ConfigError>;

}  // namespace edgemon::config
