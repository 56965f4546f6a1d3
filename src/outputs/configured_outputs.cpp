#include "outputs/configured_outputs.hpp"

#include "core/log.hpp"
#include "outputs/hub_output.hpp"
#include "outputs/influxdb_output.hpp"
#include "outputs/output_registry.hpp"

namespace edgemon::outputs {

std::vector<OutputSpec> configured_outputs(const config::Config& config) {
  std::vector<OutputSpec> out;
  for (const auto& c : config.outputs.influxdb)
    out.push_back(influxdb_spec(c));
  for (const auto& h : config.outputs.hub)
    out.push_back(hub_spec(h));
  for (const auto& instance : config.outputs.kinds.instances) {
    const OutputFactory* factory = find_output_factory(instance.kind);
    if (factory == nullptr || instance.options == nullptr) {
      // The configuration only takes registered kinds; this is a kind
      // declared with config::KindRegistration but no factory.
      log::error("output_kind_unknown", {{"kind", instance.kind}, {"output", instance.name}});
      continue;
    }
    out.push_back((*factory)(instance));
  }
  return out;
}

}  // namespace edgemon::outputs
