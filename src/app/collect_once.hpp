#pragma once
// `edgemon collect --once`: one collection of every enabled collector,
// printed to stdout, for checking a host (or a fixture tree) by hand and for
// the golden-file tests of both wire formats.
#include "app/config_source.hpp"
#include "sources/host/host_points.hpp"

namespace edgemon::app {

enum class CollectFormat { kPrometheus, kLineProtocol };

struct CollectOptions {
  CollectFormat format = CollectFormat::kPrometheus;
  // Line protocol only: which InfluxDB schema(s) to print.
  collect::HostSchema schema;
};

// Runs one collection and prints it. Returns the exit code: 0, 1 if a
// collector failed (reported on stderr), 2 for a bad configuration.
int collect_once(const ConfigSource& source, const CollectOptions& options = {});

}  // namespace edgemon::app
