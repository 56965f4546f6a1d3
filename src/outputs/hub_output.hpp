#pragma once
// The edgemon hub kinds of output (`outputs.hub`): another edgemon's
// InfluxDB-compatible POST /write (format lp, any schema), or the edge
// agent's JSON payload on its POST /metrics (format json, system_metrics
// only). Both are line-oriented (line_output.hpp) and authenticate with the
// device's bearer token.
#include "core/config.hpp"
#include "outputs/output_kind.hpp"

namespace edgemon::outputs {

// The output one `outputs.hub` entry describes; its `format` picks the kind.
[[nodiscard]] OutputSpec hub_spec(const config::HubOutputConfig& config);

}  // namespace edgemon::outputs
