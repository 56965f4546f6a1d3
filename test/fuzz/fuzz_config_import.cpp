// `edgemon config --import` reads a file an operator brings from another
// tool. Arbitrary bytes give a configuration that loads, or an error; an
// alias-heavy YAML document stays bounded.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "app/config_import.hpp"
#include "core/config.hpp"
#include "core/config_loader.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  edgemon::app::ImportedConfig c = edgemon::app::import_config(text);
  if (!c.error.empty()) {
    if (!c.yaml.empty() && c.error.find("please report") != std::string::npos) std::abort();
    return 0;
  }
  edgemon::config::Config config;
  if (!edgemon::config::load_yaml_string(c.yaml, "imported", &config).empty()) std::abort();
  return 0;
}
