#pragma once
// Every output a configuration asks for, as the Pipeline runs them: the
// entries of outputs.influxdb and outputs.hub, then those of every output
// kind registered in the catalog, in that order.
#include <vector>

#include "core/config.hpp"
#include "outputs/output_kind.hpp"

namespace edgemon::outputs {

[[nodiscard]] std::vector<OutputSpec> configured_outputs(const config::Config& config);

}  // namespace edgemon::outputs
