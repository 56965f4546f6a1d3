#pragma once
// The adapter that makes the host collectors a source: runs every enabled
// collector on the collection timer, records what each gather found once
// (a snapshot) and publishes it on the bus as source "host"/<collector>, so
// a scrape never waits on a collector. The push path takes the same
// snapshots per round.
//
// Collectors are isolated from each other: each has its own gather in
// flight, its own success flag and error, and a slow one (a hung NFS statfs)
// only delays its own section. A collector still busy when its next tick
// comes is skipped for that tick, and the skip is counted.
#include <uv.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "bus/bus.hpp"
#include "core/timer.hpp"
#include "metrics/snapshot.hpp"
#include "sources/host/collector.hpp"

namespace edgemon::collect {

// The kind the host collectors publish under on the bus.
inline constexpr std::string_view kHostKind = "host";

struct CollectorStatus {
  std::string name;
  int64_t last_run_unix_ms = 0;  // start of the last completed gather; 0 = never
  double last_duration_seconds = 0;
  bool success = false;
  std::string error;
  uint64_t runs = 0;
  uint64_t failures = 0;
  uint64_t skipped = 0;
};

// A collector whose gather completed (successfully or not), for the push
// path, which renders points from the snapshot of that gather.
struct CompletedCollector {
  const CollectorStatus* status;
  const metrics::Snapshot* snapshot;  // null after a failed gather
};

class Scheduler {
 public:
  explicit Scheduler(uv_loop_t* loop);
  ~Scheduler();
  Scheduler(const Scheduler&) = delete;
  Scheduler& operator=(const Scheduler&) = delete;

  // (Re)builds the collectors from `config` (those not in collect.disable).
  // A collector whose settings did not change is kept, with its state (CPU
  // deltas, unwrapped energy counters); changed ones start afresh.
  [[nodiscard]] std::string configure(std::shared_ptr<const config::Config> config);

  // Collects now and then every collect.interval.
  void start();
  void stop();
  // One collection of every collector; `done` runs when all have reported.
  void run_once(std::function<void()> done);
  // Called whenever a round completes (timer rounds and run_once's, before
  // its `done`), so the push path can take what the round produced.
  void set_round_listener(std::function<void()> listener);

  // Where each gather's snapshot is published (null: nowhere).
  void set_bus(bus::Bus* bus) { bus_ = bus; }

  // Appends the Prometheus text of every collector's last gather plus the
  // per-collector health families (edgemon_collector_*), for `edgemon
  // collect`.
  void write_exposition(std::string& out) const;
  // The edgemon_collector_* families of every collector that has run.
  void write_health(metrics::MetricSink& sink) const { write_health(sink, statuses_); }
  // Increments whenever a gather completes or the collectors change.
  uint64_t generation() const { return generation_; }
  // Numbers completed gathers, counting on across reconfigures, so a reader
  // that remembers the last number it saw takes each gather at most once.
  uint64_t completions() const { return completions_; }
  // Collectors whose last gather completed after completion number `after`,
  // in collector name order.
  std::vector<CompletedCollector> completed_since(uint64_t after) const;
  // Writes the edgemon_collector_* families of `statuses` (those that have
  // run at least once).
  static void write_health(metrics::MetricSink& sink, std::span<const CollectorStatus> statuses);

  const std::vector<CollectorStatus>& statuses() const { return statuses_; }
  // Wall-clock time the last complete round of collection finished; 0 = never.
  int64_t last_round_unix_ms() const { return last_round_unix_ms_; }
  std::chrono::milliseconds interval() const;

 private:
  struct Slot;
  static std::string fingerprint(const config::Config& config, const std::string& name);
  void tick();
  void gather(size_t index);
  void finish(size_t index, uint64_t started_ns, int64_t started_unix_ms, const std::string& error);
  void round_complete();
  void publish(size_t index);

  uv_loop_t* loop_;
  Timer timer_;
  std::shared_ptr<const config::Config> config_;
  std::vector<std::unique_ptr<Slot>> slots_;
  std::vector<CollectorStatus> statuses_;
  // Shared with in-flight ready() callbacks so a callback arriving after a
  // reconfigure (or after the scheduler is gone) is recognised and ignored.
  std::shared_ptr<uint64_t> epoch_;
  uint64_t generation_ = 0;
  uint64_t completions_ = 0;
  uint64_t round_ = 0;
  size_t pending_in_round_ = 0;
  int64_t last_round_unix_ms_ = 0;
  std::function<void()> round_done_;
  std::function<void()> round_listener_;
  bus::Bus* bus_ = nullptr;
};

}  // namespace edgemon::collect
