#pragma once
// Samples of families whose names are only known once the files are read
// (node_hwmon_<type>_<property>_<unit>, node_rapl_<zone>_joules_total),
// collected in any order and written grouped by family, each family once,
// series sorted by label values. A second sample with the same labels in a
// family is dropped, as node_exporter drops duplicate series.
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "metrics/metric_sink.hpp"

namespace edgemon::collect {

class FamilyTable {
 public:
  using LabelPairs = std::vector<std::pair<std::string, std::string>>;

  void clear() { samples_.clear(); }
  bool empty() const { return samples_.empty(); }

  // The first help seen for a family is the one written.
  void add(std::string_view family, std::string_view help, metrics::Type type, LabelPairs labels,
           double value);
  void add(const metrics::FamilyDesc& desc, LabelPairs labels, double value) {
    add(desc.name, desc.help, desc.type, std::move(labels), value);
  }

  // Sorts, then writes. Not const: sorting happens in place, once.
  void finish();
  void write(metrics::MetricSink& sink) const;

 private:
  struct Sample {
    std::string family;
    std::string help;
    metrics::Type type;
    LabelPairs labels;
    double value;
    size_t order;  // insertion order, so the first help wins after sorting
  };
  std::vector<Sample> samples_;
};

}  // namespace edgemon::collect
