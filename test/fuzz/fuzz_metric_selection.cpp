// The metric selection's JSON: POST /metrics/enable bodies come from the
// network (a client of the write group), metrics.json from disk, where it
// may be cut short by a full disk or edited by hand. Arbitrary bytes give a
// parse or a short error, never a crash; a record that parses survives a
// write and a second parse unchanged.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "bus/family_selection_file.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  std::map<std::string, bool> changes;
  std::string error = edgemon::bus::parse_family_changes(text, &changes);
  if (!error.empty() && (!changes.empty() || error.size() > 1400)) std::abort();

  edgemon::bus::FamilyChoices choices;
  error = edgemon::bus::parse_family_choices(text, &choices);
  if (!error.empty()) return 0;
  edgemon::bus::FamilyChoices again;
  std::string written = edgemon::bus::family_choices_json(choices);
  if (!edgemon::bus::parse_family_choices(written, &again).empty()) std::abort();
  if (again.size() != choices.size()) std::abort();
  for (const auto& [name, choice] : choices) {
    auto found = again.find(name);
    if (found == again.end() || found->second.enabled != choice.enabled ||
        found->second.origin != choice.origin) {
      std::abort();
    }
  }
  return 0;
}
