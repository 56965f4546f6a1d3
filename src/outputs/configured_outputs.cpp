#include "outputs/configured_outputs.hpp"

#include "outputs/hub_output.hpp"
#include "outputs/influxdb_output.hpp"

namespace edgemon::outputs {

std::vector<OutputSpec> configured_outputs(const config::Config& config) {
  std::vector<OutputSpec> out;
  for (const auto& c : config.outputs.influxdb)
    out.push_back(influxdb_spec(c));
  for (const auto& h : config.outputs.hub)
    out.push_back(hub_spec(h));
  return out;
}

}  // namespace edgemon::outputs
