#pragma once
// The output seam for kinds beyond outputs.influxdb and outputs.hub. A kind
// is its own file(s): an options struct, an OutputKind, and one
// OutputKindRegistration line that declares the options to the
// configuration (YAML `outputs: {KIND: [{name: ..., ...}]}`, `edgemon
// check`, the reference file) and its factory to the Pipeline. Nothing
// central lists kinds (see HACKING.md, "Adding an output").
#include <functional>
#include <string_view>

#include "core/options.hpp"
#include "outputs/output_kind.hpp"

namespace edgemon::outputs {

// Builds the output one configured instance describes. Called on the loop,
// at start and on every reload; the instance's options were validated.
using OutputFactory = std::function<OutputSpec(const config::Instance& instance)>;

class OutputKindRegistration {
 public:
  // `decl.family` must be "outputs".
  OutputKindRegistration(config::KindDecl decl, OutputFactory factory);

 private:
  config::KindRegistration config_;
};

// The factory registered for `kind`, or null.
const OutputFactory* find_output_factory(std::string_view kind);

}  // namespace edgemon::outputs
