#pragma once
// Loading a Config: YAML file, then environment, then command-line flags.
#include <string>
#include <string_view>
#include <vector>

#include "core/config.hpp"
#include "core/config_error.hpp"

namespace edgemon::config {

// A configuration larger than this, or nested deeper, is refused before it
// is parsed: a reload runs on the loop.
inline constexpr size_t kMaxConfigBytes = 4 << 20;
inline constexpr int kMaxConfigDepth = 32;

// Reads YAML into *out, which should hold the defaults. Every problem is
// reported, not just the first, so one `edgemon check` run lists them all.
Errors load_yaml_file(const std::string& path, Config* out);
// A string holding several documents applies each in turn over *out.
Errors load_yaml_string(std::string_view yaml, const std::string& name, Config* out);
// What a config server stores is one document without directives, so that
// documents can be served one after the other as a stream.
Errors check_single_document(std::string_view yaml, const std::string& name);

// Sets one key by its dotted path from text, as environment variables and
// flags give it. Lists are comma-separated; `append` adds to a list instead
// of replacing it. Returns "" or the error.
[[nodiscard]] std::string set_key(Config* config, std::string_view path, std::string_view text,
                                  bool append = false);

struct EnvironmentOverride {
  const char* variable;
  const char* key;
  bool append;
};
// The environment variables honoured, in the order they are applied.
const std::vector<EnvironmentOverride>& environment_overrides();
// Applies every set variable of environment_overrides() using `getenv_fn`.
Errors apply_environment(Config* config, const char* (*getenv_fn)(const char*));

// Cross-key checks that a single key's constraint cannot express.
Errors validate(const Config& config);
// The ingest, history and hub-output rules (config_hub.cpp).
void validate_hub_parts(const Config& config, Errors& errors);

// The commented reference file: every key, its default and its meaning.
std::string render_reference_yaml();

}  // namespace edgemon::config
