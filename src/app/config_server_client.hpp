#pragma once
// The agent's side of the central config server (config_server.url): what
// the hub serves for this device is fetched at start (never waiting longer
// than config_server.timeout), asked for again every poll_interval with
// If-None-Match, and laid over the local file (app/config_source.hpp). What
// the agent runs, and its metric families with their switches, are posted
// back to /config/{device_id}/report.
//
// Whether a fetched document is applied is the daemon's business: this
// only fetches, remembers what it was told, and reports.
#include <uv.h>

#include <cjson/cJSON.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/config.hpp"
#include "core/timer.hpp"
#include "http/http_client.hpp"
#include "metrics/metric_sink.hpp"

namespace edgemon::app {

// What the server serves this device: a YAML stream, and its ETag.
struct ServedConfig {
  std::string text;  // empty: nothing served
  std::string etag;
  bool operator==(const ServedConfig&) const = default;
};

struct ConfigFetch {
  enum Outcome { kChanged, kNotModified, kNone, kFailed };
  Outcome outcome = kFailed;
  ServedConfig served;  // kChanged
  std::string error;    // kFailed
};

struct ConfigServerTarget {
  config::ConfigServerSection settings;
  std::string device_id;
  std::string device_type;  // "" when the configuration names none
};
ConfigServerTarget config_server_target(const config::Config& config, const std::string& device_id);

// At start, before the daemon's loop runs: one request on a loop of its own,
// bounded by settings.timeout.
ConfigFetch fetch_config_blocking(const ConfigServerTarget& target);

class ConfigServerClient {
 public:
  using PollDone = std::function<void(ConfigFetch&&)>;

  ConfigServerClient(uv_loop_t* loop, http::HttpClient& client);

  // Applies the running configuration's settings; polling (re)starts when
  // they changed. `on_poll` gets every poll's outcome.
  void configure(const ConfigServerTarget& target, PollDone on_poll);
  bool active() const { return !target_.settings.url.empty(); }
  // At shutdown: no more polls, and requests in flight are abandoned (their
  // sockets must not hold the loop open).
  void stop();
  const std::string& url() const { return target_.settings.url; }

  // Fetches now: with `conditional`, a 304 while the last seen ETag holds.
  void fetch(bool conditional, PollDone done);

  // What the daemon decided about the last fetched document.
  enum class State { kLocal, kApplied, kRejected, kUnreachable };
  void set_state(State state, const ServedConfig& seen, std::vector<std::string> errors = {});
  State state() const { return state_; }

  // Posts `report` (a JSON object) to /config/{device_id}/report unless it is
  // what the server already has; a failed post is tried again at the next
  // poll.
  void report(std::string report);
  // Adds what this client knows (state, ETag, errors) to a report or /status.
  void describe(cJSON* object) const;

  void write_metrics(metrics::MetricSink& sink) const;

 private:
  void poll();
  void post_report();

  http::HttpClient& client_;
  ConfigServerTarget target_;
  PollDone on_poll_;
  Timer poll_timer_;
  bool fetching_ = false;
  uint64_t fetch_id_ = 0;
  uint64_t report_id_ = 0;
  std::string seen_etag_;  // of the last document applied or rejected
  State state_ = State::kLocal;
  std::vector<std::string> errors_;
  std::string last_error_;
  int64_t last_fetch_ms_ = 0;
  std::string report_;    // newest report to send
  std::string reported_;  // what the server has
  bool reporting_ = false;
  uint64_t fetches_[4] = {};  // by ConfigFetch::Outcome
  uint64_t report_failures_ = 0;
};

}  // namespace edgemon::app
