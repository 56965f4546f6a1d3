#include "outputs/output_registry.hpp"

#include <cassert>
#include <map>
#include <string>

namespace edgemon::outputs {
namespace {

// Built on first use: registrations run during static initialisation, in no
// defined order across files.
std::map<std::string, OutputFactory, std::less<>>& factories() {
  static std::map<std::string, OutputFactory, std::less<>> registered;
  return registered;
}

}  // namespace

OutputKindRegistration::OutputKindRegistration(config::KindDecl decl, OutputFactory factory)
    : config_([&] {
        assert(decl.family == "outputs");
        factories().emplace(decl.kind, std::move(factory));
        return std::move(decl);
      }()) {}

const OutputFactory* find_output_factory(std::string_view kind) {
  auto it = factories().find(kind);
  return it == factories().end() ? nullptr : &it->second;
}

}  // namespace edgemon::outputs
