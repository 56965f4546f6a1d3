#pragma once
// The InfluxDB kinds of output (`outputs.influxdb`): version 1 writes to
// /write with a database, version 2 to /api/v2/write with an org and a
// bucket. Both send line protocol in the line-oriented way (line_output.hpp).
#include "core/config.hpp"
#include "outputs/output_kind.hpp"

namespace edgemon::outputs {

// The output one `outputs.influxdb` entry describes; its `version` picks the kind.
[[nodiscard]] OutputSpec influxdb_spec(const config::InfluxOutputConfig& config);

}  // namespace edgemon::outputs
