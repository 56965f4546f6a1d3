#pragma once
// The agent's side of the central configuration, as the daemon sees it:
// what the server served at start, the polls, and the reports back. The
// daemon hands it a way to apply a document (laid over the local file, like
// a reload) and tells it what came of each; everything else -- which
// document the running configuration includes, when to ask the server
// again, when the server must hear about a change -- is decided here.
#include <uv.h>

#include <cjson/cJSON.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "api/metric_selection_endpoints.hpp"
#include "api/status_endpoints.hpp"
#include "app/config_server_client.hpp"
#include "app/config_source.hpp"
#include "bus/family_selection.hpp"
#include "core/config.hpp"
#include "core/timer.hpp"
#include "http/http_client.hpp"
#include "metrics/metric_sink.hpp"

namespace edgemon::app {

// What the config server served at start, and what became of it.
struct StartServed {
  ServedConfig served;  // included in the configuration when state is kApplied
  ConfigServerClient::State state = ConfigServerClient::State::kLocal;
  std::vector<std::string> errors;
};

// With config_server.url, the configuration is the local file with what the
// server serves laid over it: the server gets config_server.timeout to
// answer, and without an answer, or with a document that does not load, the
// local file runs alone (and is reported so). `config` becomes the layered
// configuration when the document applies.
StartServed fetch_at_start(const ConfigSource& source, std::shared_ptr<config::Config>& config);

class ConfigServerAgent {
 public:
  using ApplyDone = std::function<void(const config::Errors&)>;
  // Loads the configuration with `served` laid over the local file and
  // applies it like a reload; calls applied() with the outcome, then `done`.
  using Apply = std::function<void(const char* trigger, ServedConfig served, ApplyDone done)>;

  ConfigServerAgent(uv_loop_t* loop, http::HttpClient& http, const bus::FamilySelection& selection,
                    api::MetricSelectionEndpoints& selection_endpoints,
                    const api::DaemonInfo& info);
  ConfigServerAgent(const ConfigServerAgent&) = delete;
  ConfigServerAgent& operator=(const ConfigServerAgent&) = delete;

  void start(const StartServed& start, const config::Config& config, Apply apply);
  // After every reload: the server, the device or the poll interval may
  // have changed.
  void configure(const config::Config& config);
  // SIGHUP and POST /reload: with a server, what it serves now is laid over
  // the file (unreachable, what it served last stays); without one, the
  // file alone.
  void reload(const char* trigger, ApplyDone done);
  // What became of a served document: applied with the rest, or refused
  // (the running configuration stays, and the server hears why).
  void applied(const ServedConfig& served, const config::Errors& errors);
  // A publication on the bus: a family discovered or switched is reported.
  void selection_changed();
  // Requests in flight are abandoned; nothing is applied any more.
  void stop();

  // The name a served document's errors carry.
  std::string served_name() const { return "config server " + client_.url(); }
  void write_metrics(metrics::MetricSink& sink) const { client_.write_metrics(sink); }
  // Adds "config_server" to a /status document when there is a server.
  void write_status(cJSON* root) const;

 private:
  void on_poll(ConfigFetch&& fetch);
  void report_soon();
  void send_report();

  const bus::FamilySelection& selection_;
  api::MetricSelectionEndpoints& selection_endpoints_;
  const api::DaemonInfo& info_;
  ConfigServerClient client_;
  Apply apply_;
  ServedConfig served_;  // what the running configuration includes
  Timer report_timer_;
  bool report_armed_ = false;
  uint64_t reported_selection_ = 0;
  bool stopped_ = false;
};

}  // namespace edgemon::app
