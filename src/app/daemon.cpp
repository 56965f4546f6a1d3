#include "app/daemon.hpp"

#include <signal.h>
#include <uv.h>

#include <algorithm>
#include <cstdio>
#include <memory>

#include "api/alert_endpoints.hpp"
#include "api/config_server_endpoints.hpp"
#include "api/history_endpoints.hpp"
#include "api/ingest_endpoints.hpp"
#include "api/metric_selection_endpoints.hpp"
#include "api/metrics_endpoint.hpp"
#include "api/status_endpoints.hpp"
#include "app/config_server_agent.hpp"
#include "app/identity.hpp"
#include "build_info.hpp"
#include "bus/bus.hpp"
#include "bus/family_selection_file.hpp"
#include "bus/latest_registry.hpp"
#include "core/clock.hpp"
#include "core/heap.hpp"
#include "core/log.hpp"
#include "core/loop_close.hpp"
#include "core/loop_lag.hpp"
#include "core/signal_watcher.hpp"
#include "core/systemd.hpp"
#include "core/worker_thread.hpp"
#include "http/http_client.hpp"
#include "http/server.hpp"
#include "ingest/ingested_series.hpp"
#include "metrics/prometheus_text.hpp"
#include "outputs/pipeline.hpp"
#include "sources/host/scheduler.hpp"
#include "sources/own_points.hpp"
#include "sources/source_set.hpp"
#include "store/history.hpp"
#include "store/state_store.hpp"

namespace edgemon::app {
namespace {

// How often free heap pages go back to the kernel: after a burst of
// ingest, RSS is back down within this.
constexpr uint64_t kHeapTrimMs = 10000;
std::string join(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& i : items)
    out += (out.empty() ? "" : ",") + i;
  return out;
}

// Everything the running daemon owns. Members are destroyed in reverse
// order, which closes the server before the scheduler whose output it serves.
class Daemon final {
 public:
  Daemon(uv_loop_t* loop, const ConfigSource& source, std::shared_ptr<const config::Config> config)
      : loop_(loop),
        source_(source),
        config_(std::move(config)),
        scheduler_(loop),
        lag_(loop),
        heap_trimmer_(loop, kHeapTrimMs),
        http_client_(loop),
        state_store_(loop),
        sources_(loop, http_client_, state_store_, bus_),
        own_points_(scheduler_, bus_),
        pipeline_(loop, http_client_),
        ingest_(loop, bus_),
        pushed_series_(loop),
        history_(loop),
        history_endpoints_(history_),
        selection_saver_(loop, selection_),
        selection_endpoints_(selection_, selection_saver_),
        config_agent_(loop, http_client_, selection_, selection_endpoints_, info_),
        alerts_(loop),
        config_endpoints_(loop, check_served_document),
        status_(info_, scheduler_),
        metrics_(loop, registry_,
                 {{[this](metrics::MetricSink& sink) { scheduler_.write_health(sink); },
                   [this] { return scheduler_.generation(); }},
                  {[this](metrics::MetricSink& sink) { server_->write_metrics(sink); }, nullptr},
                  {[this](metrics::MetricSink& sink) { lag_.write_metrics(sink); },
                   [this] { return lag_.histogram().count(); }},
                  {[this](metrics::MetricSink& sink) { sources_.write_metrics(sink); },
                   [this] { return sources_.version(); }},
                  {[this](metrics::MetricSink& sink) { pipeline_.write_metrics(sink); }, nullptr},
                  {[this](metrics::MetricSink& sink) { ingest_.write_metrics(sink); }, nullptr},
                  {[this](metrics::MetricSink& sink) { alerts_.write_metrics(sink); }, nullptr},
                  {[this](metrics::MetricSink& sink) { history_.write_metrics(sink); }, nullptr},
                  {[this](metrics::MetricSink& sink) { selection_.write_metrics(sink); }, nullptr},
                  {[this](metrics::MetricSink& sink) {
                     config_agent_.write_metrics(sink);
                     config_endpoints_.write_metrics(sink);
                   },
                   nullptr},
                  {[this](metrics::MetricSink& sink) {
                     if (pushed_series_.enabled()) pushed_series_.write_metrics(sink);
                   },
                   [this] { return pushed_series_.version(); }}}) {
    status_.add_section([this](cJSON* root) { pipeline_.write_status(root); });
    status_.add_health_check([this] { return pipeline_.health_problem(); });
    status_.add_section([this](cJSON* root) { alerts_.write_status(root); });
    status_.add_section([this](cJSON* root) { history_.write_status(root); });
    status_.add_section([this](cJSON* root) { sources_.write_status(root); });
    status_.add_section([this](cJSON* root) {
      config_agent_.write_status(root);
      config_endpoints_.write_status(root);
    });
    status_.set_router(&router_, [this](const http::Route& route) {
      const config::Config& c = *config_;
      if (route.path == "/alert" || route.path == "/alerts") {
        return c.ingest.enabled && c.ingest.alerts;
      }
      if (route.path == "/history" || route.path == "/avg_usage" ||
          route.path == "/metrics_usage") {
        return c.history.enabled;
      }
      if (route.path.starts_with("/config")) return c.config_server.serve;
      return true;
    });
  }

  // Returns the exit code to use if startup fails, 0 when running.
  int start(const StartServed& start_served) {
    info_.start_unix_ms = unix_now_ms();
    info_.config_path = source_.path;
    info_.hostname = hostname();
    info_.device_id = resolve_device_id(*config_);
    info_.state_dir = resolve_state_dir(*config_);
    if (std::string err = prepare_state_dir(info_.state_dir); !err.empty()) {
      log::error("state_dir_unusable", {{"error", err}});
      return 1;
    }
    if (std::string err = scheduler_.configure(config_); !err.empty()) {
      log::error("collectors_failed", {{"error", err}});
      return 1;
    }
    own_points_.set_common_tags(
        collect::host_common_tags(info_.device_id, info_.hostname, config_->tags));
    ingest_.set_measurement_lister([this](api::IngestEndpoints::MeasurementsDone done) {
      list_measurements(std::move(done));
    });
    start_selection();
    scheduler_.set_bus(&bus_);
    bus_.set_selection(&selection_);
    bus_.subscribe([this](const bus::Publication& p) { registry_.on_publication(p); });
    bus_.subscribe([this](const bus::Publication&) {
      selection_saver_.changed();
      config_agent_.selection_changed();
    });
    bus_.add_consumer(history_);
    bus_.add_consumer(pipeline_);
    bus_.add_consumer(pushed_series_);
    if (std::string err = state_store_.open(source_state_path(*config_)); !err.empty()) {
      log::warn("source_state_unavailable", {{"error", err}});
    }
    pipeline_.start(*config_, spool_path(*config_));
    configure_hub(*config_);
    history_.start(config_->history, history_path(*config_), config_->ingest.device_active_window);
    alerts_.configure(*config_, alerts_path(*config_));
    config_endpoints_.configure(*config_, config_store_path(*config_));
    config_agent_.start(start_served, *config_,
                        [this](const char* trigger, ServedConfig served, ReloadDone done) {
                          load_and_apply(trigger, std::move(served), std::move(done));
                        });
    register_routes();
    server_ = std::make_unique<http::Server>(loop_, config_->http, router_);
    if (std::string err = server_->configure_ingest(config_->ingest); !err.empty()) {
      log::error("ingest_config_failed", {{"error", err}});
      return 1;
    }
    if (std::string err = server_->listen(); !err.empty()) {
      log::error("listen_failed", {{"error", err}});
      return 1;
    }
    log_ingest();
    info_.listeners = server_->listening();
    signals_.push_back(
        std::make_unique<SignalWatcher>(loop_, SIGTERM, [this] { stop("SIGTERM"); }));
    signals_.push_back(std::make_unique<SignalWatcher>(loop_, SIGINT, [this] { stop("SIGINT"); }));
    signals_.push_back(
        std::make_unique<SignalWatcher>(loop_, SIGHUP, [this] { reload("SIGHUP", nullptr); }));
    for (auto& s : signals_)
      s->unref();
    watchdog_ = std::make_unique<systemd::Watchdog>(loop_);
    lag_.start();
    scheduler_.start();
    sources_.configure(config_->sources.kinds);
    std::string where = join(info_.listeners);
    log::info("ready", {{"version", build::kVersion},
                        {"listen", where},
                        {"device_id", info_.device_id},
                        {"state_dir", info_.state_dir},
                        {"config", source_.path.empty() ? "(embedded defaults)" : source_.path},
                        {"watchdog_ms", watchdog_->interval_ms()}});
    systemd::notify_ready("serving on " + where);
    return 0;
  }

 private:
  void configure_hub(const config::Config& config) {
    ingest_.configure(config.ingest);
    const config::IngestSection& in = config.ingest;
    pushed_series_.configure(in.enabled && in.expose_metrics, static_cast<size_t>(in.max_series),
                             in.device_active_window.count());
  }

  // SHOW MEASUREMENTS: what the history keeps, read on its query thread.
  void list_measurements(api::IngestEndpoints::MeasurementsDone done) {
    if (!config_->history.enabled) {
      done({}, "the hub lists measurements from its history, which is off (history.enabled)");
      return;
    }
    using Listed = std::pair<std::vector<std::string>, std::string>;
    history_.read<Listed>(
        [](store::HistoryDb* db) {
          Listed listed;
          if (db == nullptr) {
            listed.second = "history is not open";
          } else {
            listed.second = db->measurements(10000, &listed.first);
          }
          return listed;
        },
        [done = std::move(done)](Listed&& listed) {
          done(std::move(listed.first), listed.second);
        });
  }

  // Before the first publication, so that what an earlier run recorded (a
  // family switched off through the API) holds from the first collection.
  void start_selection() {
    bus::FamilyChoices saved;
    std::string path = metric_selection_path(*config_);
    if (std::string err = bus::load_family_choices(path, &saved); !err.empty()) {
      log::error("metric_selection_unreadable", {{"error", err}});
    }
    selection_.restore(std::move(saved));
    selection_saver_.set_path(path);
    configure_selection(*config_);
  }

  void configure_selection(const config::Config& config) {
    for (const auto& name :
         selection_.configure(config.metrics, config.enabled_metrics, config.new_metrics)) {
      log::warn("metric_selection_overridden",
                {{"family", name},
                 {"detail",
                  "the configuration's metrics entry was edited after POST "
                  "/metrics/enable set it; the configuration wins"}});
    }
    auto device_type = config.tags.find("device_type");
    selection_endpoints_.set_device_type(device_type == config.tags.end() ? ""
                                                                          : device_type->second);
    selection_saver_.changed();
  }

  void log_ingest() const {
    const config::IngestSection& in = config_->ingest;
    if (!in.enabled) return;
    log::info("ingest_enabled", {{"json", in.json},
                                 {"line_protocol", in.line_protocol},
                                 {"alerts", in.alerts},
                                 {"device_tokens", static_cast<uint64_t>(in.tokens.size())},
                                 {"forwarding_outputs", pipeline_.enabled()}});
    if (in.tokens.empty()) {
      log::warn("ingest_without_tokens",
                {{"detail",
                  "any client in ingest.allow may push for any device; set "
                  "ingest.tokens"}});
    }
  }

  void register_routes() {
    using http::Group;
    router_.add("GET", "/metrics", Group::kRead,
                [this](const http::Request& q, http::Response& r) { metrics_.handle(q, r); });
    router_
        .add("GET", "/health", Group::kRead,
             [this](const http::Request& q, http::Response& r) { status_.health(q, r); })
        .always_answered = true;
    router_.add("GET", "/status", Group::kRead,
                [this](const http::Request& q, http::Response& r) { status_.status(q, r); });
    router_.add("GET", "/", Group::kRead,
                [this](const http::Request& q, http::Response& r) { status_.index(q, r); });
    router_.add("POST", "/reload", Group::kWrite,
                [this](const http::Request&, http::Response& r) { reload_endpoint(r); });
    config_endpoints_.add_routes(router_);
    ingest_.add_routes(router_);
    alerts_.add_routes(router_);
    history_endpoints_.add_routes(router_);
    selection_endpoints_.add_routes(router_);
  }

  void stop(const char* why) {
    if (stopping_) {
      log::warn("stop_forced", {{"signal", why}});
      uv_stop(loop_);  // A second signal: stop waiting for in-flight responses.
      return;
    }
    stopping_ = true;
    log::info("stopping", {{"signal", why}});
    systemd::notify_stopping();
    scheduler_.stop();
    lag_.stop();
    alerts_.stop();
    config_agent_.stop();
    // The server force-closes connections after limits.shutdown_timeout and
    // the outputs give up after outputs.stop_timeout; the deadline here only
    // guards against a shutdown that never reports back.
    int64_t longest = std::max(config_->http.limits.shutdown_timeout.count(),
                               config_->outputs.stop_timeout.count());
    stop_deadline_ = std::make_unique<Timer>(loop_);
    stop_deadline_->unref();
    stop_deadline_->start(static_cast<uint64_t>(longest) + 1000, 0, [this] {
      log::warn("stop_deadline_passed");
      uv_stop(loop_);
    });
    stopping_parts_ = 4;
    auto part_done = [this] {
      if (--stopping_parts_ == 0) watchdog_.reset();
    };
    pipeline_.stop(config_->outputs.stop_timeout, part_done);
    history_.stop(part_done);
    sources_.stop(part_done);
    server_->shutdown(part_done);
  }

  // Loads the configuration again from the same sources, on a thread of its
  // own (reading and parsing up to 4 MiB of YAML takes a tenth of a second,
  // which the loop must not wait for), then applies it on the loop only if
  // every part validates, so a broken file keeps the running configuration.
  // Reloads are applied in the order they were asked for.
  // With a config server, a reload (SIGHUP, POST /reload) asks it first:
  // what it serves now is laid over the file; unreachable, what it served
  // last stays.
  using ReloadDone = std::function<void(const config::Errors&)>;
  void reload(const char* trigger, ReloadDone done) {
    systemd::notify_reloading();
    // Reopening follows logrotate's rename whatever becomes of the reload.
    log::reopen();
    config_agent_.reload(trigger, std::move(done));
  }

  void load_and_apply(const char* trigger, ServedConfig served, ReloadDone done) {
    auto fresh = std::make_shared<config::Config>();
    auto errors = std::make_shared<config::Errors>();
    auto next = std::make_shared<ServedConfig>(std::move(served));
    if (!reload_thread_) reload_thread_ = std::make_unique<WorkerThread>(loop_);
    reload_thread_->post(
        [source = &source_, fresh, errors, next, name = config_agent_.served_name()] {
          *errors = source->load(fresh.get(), next->text, name);
        },
        [this, trigger, fresh, errors, next, done = std::move(done)] {
          if (stopping_) return;
          apply_reload(trigger, fresh, *errors);
          config_agent_.applied(*next, *errors);
          if (done) done(*errors);
        });
  }

  void apply_reload(const char* trigger, const std::shared_ptr<config::Config>& fresh,
                    config::Errors& errors) {
    if (errors.empty()) {
      std::string log_error;
      if (!log::configure(log_options(*fresh), &log_error)) {
        errors.push_back({"", 0, 0, "log.file", log_error});
      }
    }
    if (errors.empty()) {
      if (std::string err = scheduler_.configure(fresh); !err.empty()) {
        errors.push_back({"", 0, 0, "collect", err});
      }
    }
    if (!errors.empty()) {
      for (const auto& e : errors) {
        log::error("reload_rejected", {{"trigger", trigger}, {"error", e.to_string()}});
      }
      systemd::notify_ready("reload rejected; running the previous configuration");
      return;
    }
    server_->reconfigure(fresh->http);
    if (std::string err = server_->configure_ingest(fresh->ingest); !err.empty()) {
      log::warn("ingest_reconfigure_failed", {{"error", err}});
    }
    configure_hub(*fresh);
    history_.reconfigure(fresh->history, history_path(*fresh), fresh->ingest.device_active_window);
    ingest_.add_routes(router_);
    alerts_.configure(*fresh, alerts_path(*fresh));
    config_endpoints_.configure(*fresh, config_store_path(*fresh));
    config_endpoints_.add_routes(router_);
    config_ = fresh;
    configure_selection(*config_);
    info_.device_id = resolve_device_id(*config_);
    own_points_.set_common_tags(
        collect::host_common_tags(info_.device_id, info_.hostname, config_->tags));
    pipeline_.reconfigure(*config_);
    sources_.configure(config_->sources.kinds);
    config_agent_.configure(*config_);
    log::info("reloaded", {{"trigger", trigger}});
    systemd::notify_ready("serving on " + join(info_.listeners));
  }

  void reload_endpoint(http::Response& response) {
    reload("api", [responder = response.defer()](const config::Errors& errors) mutable {
      http::Response answer;
      if (errors.empty()) {
        answer.set_body("{\"reloaded\":true}\n");
      } else {
        std::string message;
        for (const auto& e : errors)
          message += (message.empty() ? "" : "; ") + e.to_string();
        answer = http::json_error(422, "configuration rejected, previous one kept: " + message);
      }
      responder.send(std::move(answer));
    });
  }

  uv_loop_t* loop_;
  const ConfigSource& source_;
  std::shared_ptr<const config::Config> config_;
  api::DaemonInfo info_;
  collect::Scheduler scheduler_;
  LoopLagMonitor lag_;
  HeapTrimmer heap_trimmer_;
  http::HttpClient http_client_;
  bus::Bus bus_;
  bus::LatestRegistry registry_;
  store::StateStore state_store_;
  sources::SourceSet sources_;
  sources::OwnPoints own_points_;
  outputs::Pipeline pipeline_;
  api::IngestEndpoints ingest_;
  ingest::IngestedSeries pushed_series_;
  store::History history_;
  api::HistoryEndpoints history_endpoints_;
  bus::FamilySelection selection_;
  bus::FamilySelectionSaver selection_saver_;
  api::MetricSelectionEndpoints selection_endpoints_;
  ConfigServerAgent config_agent_;
  api::AlertEndpoints alerts_;
  api::ConfigServerEndpoints config_endpoints_;
  api::StatusEndpoints status_;
  api::MetricsEndpoint metrics_;
  http::Router router_;
  std::unique_ptr<http::Server> server_;
  std::vector<std::unique_ptr<SignalWatcher>> signals_;
  std::unique_ptr<systemd::Watchdog> watchdog_;
  std::unique_ptr<Timer> stop_deadline_;
  bool stopping_ = false;
  int stopping_parts_ = 0;
  // Last: destroyed first, its pending completions (which use the members
  // above) dropped.
  std::unique_ptr<WorkerThread> reload_thread_;
};

}  // namespace

int run_daemon(const ConfigSource& source) {
  auto config = std::make_shared<config::Config>();
  if (auto errors = source.load(config.get()); !errors.empty()) {
    print_errors(errors);
    return 2;
  }
  std::string log_error;
  if (!log::configure(log_options(*config), &log_error)) {
    std::fprintf(stderr, "%s\n", log_error.c_str());
    return 2;
  }
  StartServed start_served = fetch_at_start(source, config);
  if (start_served.state == ConfigServerClient::State::kApplied &&
      !log::configure(log_options(*config), &log_error)) {
    std::fprintf(stderr, "%s\n", log_error.c_str());
    return 2;
  }
  // A client that disconnects mid-response must not kill the daemon.
  ::signal(SIGPIPE, SIG_IGN);
  // Past a file-size limit (systemd's LimitFSIZE=) a write must fail with
  // EFBIG, which the spool reports and survives, not kill the daemon.
  ::signal(SIGXFSZ, SIG_IGN);
  tune_heap();

  uv_loop_t loop;
  uv_loop_init(&loop);
  int exit_code = 0;
  {
    Daemon daemon(&loop, source, config);
    exit_code = daemon.start(start_served);
    if (exit_code == 0) uv_run(&loop, UV_RUN_DEFAULT);
    // Closing the signal watchers restores the default actions; a second
    // SIGTERM during the last moments of an orderly exit must not turn it
    // into a kill.
    ::signal(SIGTERM, SIG_IGN);
    ::signal(SIGINT, SIG_IGN);
  }
  // The daemon's destructors have started closing their handles; let the
  // close callbacks run.
  if (close_loop(&loop) > 0 && exit_code == 0) exit_code = 1;
  log::info("stopped", {{"exit_code", exit_code}});
  return exit_code;
}

}  // namespace edgemon::app
