#include "sources/host/collector.hpp"

#include <map>

namespace edgemon::collect {
namespace {

// Function-local so registration from other translation units' static
// initialisers never sees it unconstructed.
std::map<std::string, Factory>& factories() {
  static std::map<std::string, Factory> table;
  return table;
}

}  // namespace

Registration::Registration(const char* name, Factory factory, const char* help,
                           std::function<std::unique_ptr<config::Options>()> make_options)
    : known_to_config_({"collectors", name, help, std::move(make_options)}) {
  factories().emplace(name, std::move(factory));
}

std::vector<std::string> registered_collector_names() {
  std::vector<std::string> names;
  for (const auto& [name, _] : factories())
    names.push_back(name);
  return names;
}

std::unique_ptr<Collector> create_collector(const std::string& name, const config::Config& config,
                                            std::string* error) {
  auto it = factories().find(name);
  if (it == factories().end()) {
    *error = "no collector named " + name;
    return nullptr;
  }
  return it->second(config, error);
}

}  // namespace edgemon::collect
