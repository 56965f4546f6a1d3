#pragma once
// The latest publication of every source, for /metrics. Families of the same
// name from several sources (two instances of one kind) are written as one
// family, each series labelled with its `source`, so the text format's rule
// of one contiguous block per family holds. A withdrawn source's series
// disappear at once.
#include <cstdint>
#include <map>
#include <string>

#include "bus/bus.hpp"
#include "metrics/metric_sink.hpp"

namespace edgemon::bus {

class LatestRegistry {
 public:
  void on_publication(const Publication& publication);
  // Every family, in name order; HELP and TYPE from the first source that
  // declared it. A family another source declares with a different type is
  // left out for that source and counted, rather than written as a lie.
  void write(metrics::MetricSink& sink) const;
  // Changes whenever write() would write something else.
  uint64_t generation() const { return generation_; }
  size_t sources() const { return latest_.size(); }
  size_t bytes() const { return bytes_; }
  uint64_t type_conflicts() const { return type_conflicts_; }

 private:
  struct Entry {
    std::shared_ptr<const metrics::Snapshot> families;
    bool label_source;
  };
  // By kind and source name: instances of different kinds may share a name.
  std::map<std::pair<std::string, std::string>, Entry> latest_;
  uint64_t generation_ = 0;
  size_t bytes_ = 0;
  mutable uint64_t type_conflicts_ = 0;
};

}  // namespace edgemon::bus
