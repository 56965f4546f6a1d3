#pragma once
// Runs the configured source instances and applies reloads to them with the
// least disturbance: an instance whose options are unchanged keeps running
// (its child, its in-memory state, its timer phase); a changed one is
// stopped and started anew; a removed one is stopped, its publication
// withdrawn and its durable state cleared.
#include <cjson/cJSON.h>
#include <uv.h>

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "bus/bus.hpp"
#include "core/options.hpp"
#include "core/timer.hpp"
#include "http/http_client.hpp"
#include "metrics/metric_sink.hpp"
#include "store/state_store.hpp"

namespace edgemon::sources {

struct InstanceStatus {
  std::string kind;
  std::string name;
  bool up = false;  // the last collection (or report) succeeded
  std::string error;
  int64_t last_unix_ms = 0;
  double last_duration_seconds = 0;
  uint64_t collections = 0;
  uint64_t failures = 0;
  uint64_t skipped = 0;  // ticks that found the previous collection running
  uint64_t publications = 0;
  int64_t started_unix_ms = 0;
};

class SourceSet {
 public:
  SourceSet(uv_loop_t* loop, http::HttpClient& http, store::StateStore& state, bus::Bus& bus);
  ~SourceSet();
  SourceSet(const SourceSet&) = delete;
  SourceSet& operator=(const SourceSet&) = delete;

  // Starts, keeps, restarts and stops instances to match `sources`. Every
  // instance's kind must be registered (the configuration only reads
  // registered kinds).
  void configure(const config::KindLists& sources);
  // Stops every instance; `done` once all have stopped.
  void stop(std::function<void()> done);

  size_t running() const { return instances_.size(); }
  std::vector<InstanceStatus> statuses() const;
  // edgemon_source_* health families, labelled kind and source.
  void write_metrics(metrics::MetricSink& sink) const;
  // Adds "sources": one object per instance.
  void write_status(cJSON* root) const;
  // Changes whenever write_metrics() would.
  uint64_t version() const { return version_; }

 private:
  class Running;
  void start_instance(const config::Instance& instance);
  void stop_instance(std::unique_ptr<Running> running, bool forget_state);
  void check_stopped();

  uv_loop_t* loop_;
  http::HttpClient& http_;
  store::StateStore& state_;
  bus::Bus& bus_;
  std::map<std::string, std::unique_ptr<Running>> instances_;  // by name
  std::vector<std::unique_ptr<Running>> stopping_;
  std::function<void()> stopped_;
  Timer reap_;
  uint64_t version_ = 0;
};

}  // namespace edgemon::sources
