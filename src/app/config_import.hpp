#pragma once
// `edgemon config --import FILE`: the configuration of a tool edgemon
// replaces -- the edge power exporter's config.yaml, the platform
// observability agent's agent_config.json -- as an edgemon configuration,
// with every key it could not map and why. What it writes passes `edgemon
// check` (it is checked before it is printed).
#include <string>
#include <string_view>
#include <vector>

namespace edgemon::app {

struct ImportedConfig {
  std::string tool;                   // which tool the file is from
  std::string yaml;                   // the edgemon configuration
  std::vector<std::string> unmapped;  // "key: why", in file order
  std::string error;                  // set: nothing was converted
};

// `text` is YAML or JSON (JSON is YAML); at most 1 MiB.
ImportedConfig import_config(std::string_view text);

}  // namespace edgemon::app
