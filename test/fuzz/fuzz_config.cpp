// Configuration files and config server documents are operator input:
// arbitrary bytes must give errors, never a crash, and a loaded
// configuration must pass validation or report.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "core/config_loader.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  // What a config server checks before storing a document.
  for (const auto& e : edgemon::config::check_single_document(text, "fuzz.yaml"))
    (void)e.to_string();
  edgemon::config::Config config;
  auto errors = edgemon::config::load_yaml_string(text, "fuzz.yaml", &config);
  if (errors.empty()) errors = edgemon::config::validate(config);
  for (const auto& e : errors)
    (void)e.to_string();
  return 0;
}
