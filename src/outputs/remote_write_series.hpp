#pragma once
// One series as a Prometheus remote-write request carries it: what the
// encoder takes and the decoder gives back.
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace edgemon::outputs {

struct RwSeries {
  // Name and value pairs; the metric name is the label __name__.
  std::vector<std::pair<std::string, std::string>> labels;
  // Milliseconds since the Unix epoch, and the value.
  std::vector<std::pair<int64_t, double>> samples;
};

}  // namespace edgemon::outputs
