#pragma once
// The one place where what sources see fans out. A source publishes the
// whole of what it sees now (a snapshot of families, replacing its previous
// one) or withdraws it; consumers subscribe: the latest-value registry
// behind /metrics, and the daemon's point path into history and outputs.
// Loop thread only; publish() calls every subscriber before it returns.
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "metrics/snapshot.hpp"

namespace edgemon::bus {

struct Publication {
  std::string kind;    // the source's kind, e.g. "exec"
  std::string source;  // the instance's name, unique among sources
  int64_t time_unix_ms = 0;
  // Null: the source withdrew everything it published (it stopped, or it
  // failed and its last values would look healthy).
  std::shared_ptr<const metrics::Snapshot> families;
  // Whether /metrics labels the series with `source`: yes for kinds with
  // named instances, no for the host collectors, whose families keep
  // node_exporter's exact labels.
  bool label_source = true;
};

class Bus {
 public:
  using Subscriber = std::function<void(const Publication&)>;

  void subscribe(Subscriber subscriber) { subscribers_.push_back(std::move(subscriber)); }
  void publish(const Publication& publication) {
    ++published_;
    for (const auto& s : subscribers_)
      s(publication);
  }
  uint64_t published() const { return published_; }

 private:
  std::vector<Subscriber> subscribers_;
  uint64_t published_ = 0;
};

}  // namespace edgemon::bus
