#include "app/daemon.hpp"

#include <signal.h>
#include <uv.h>

#include <cstdio>
#include <memory>

#include "api/metrics_endpoint.hpp"
#include "api/status_endpoints.hpp"
#include "app/identity.hpp"
#include "build_info.hpp"
#include "collect/scheduler.hpp"
#include "core/log.hpp"
#include "core/loop_lag.hpp"
#include "core/signal_watcher.hpp"
#include "core/systemd.hpp"
#include "http/server.hpp"
#include "metrics/prometheus_text.hpp"

namespace edgemon::app {
namespace {

int64_t unix_now_ms() {
  uv_timeval64_t tv{};
  uv_gettimeofday(&tv);
  return tv.tv_sec * 1000 + tv.tv_usec / 1000;
}

log::Options log_options(const config::Config& config) {
  log::Options o;
  log::parse_level(config.log.level, &o.level);
  o.file = config.log.file;
  o.max_file_bytes = config.log.max_size.bytes;
  o.max_files = static_cast<int>(config.log.max_files);
  return o;
}

std::string join(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& i : items)
    out += (out.empty() ? "" : ",") + i;
  return out;
}

// Everything the running daemon owns. Members are destroyed in reverse
// order, which closes the server before the scheduler whose output it serves.
class Daemon {
 public:
  Daemon(uv_loop_t* loop, const ConfigSource& source, std::shared_ptr<const config::Config> config)
      : loop_(loop),
        source_(source),
        config_(std::move(config)),
        scheduler_(loop),
        lag_(loop),
        status_(info_, scheduler_),
        metrics_(scheduler_,
                 {{[this](metrics::MetricSink& sink) { server_->write_metrics(sink); }, nullptr},
                  {[this](metrics::MetricSink& sink) { lag_.write_metrics(sink); },
                   [this] { return lag_.histogram().count(); }}}) {}

  // Returns the exit code to use if startup fails, 0 when running.
  int start() {
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
    register_routes();
    server_ = std::make_unique<http::Server>(loop_, config_->http, router_);
    if (std::string err = server_->listen(); !err.empty()) {
      log::error("listen_failed", {{"error", err}});
      return 1;
    }
    info_.listeners = server_->listening();
    signals_.push_back(
        std::make_unique<SignalWatcher>(loop_, SIGTERM, [this] { stop("SIGTERM"); }));
    signals_.push_back(std::make_unique<SignalWatcher>(loop_, SIGINT, [this] { stop("SIGINT"); }));
    signals_.push_back(
        std::make_unique<SignalWatcher>(loop_, SIGHUP, [this] { reload("SIGHUP"); }));
    for (auto& s : signals_)
      s->unref();
    watchdog_ = std::make_unique<systemd::Watchdog>(loop_);
    lag_.start();
    scheduler_.start();
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
  void register_routes() {
    using http::Group;
    router_.add("GET", "/metrics", Group::kRead,
                [this](const http::Request& q, http::Response& r) { metrics_.handle(q, r); });
    router_.add("GET", "/health", Group::kRead,
                [this](const http::Request& q, http::Response& r) { status_.health(q, r); });
    router_.add("GET", "/status", Group::kRead,
                [this](const http::Request& q, http::Response& r) { status_.status(q, r); });
    router_.add("GET", "/", Group::kRead,
                [this](const http::Request& q, http::Response& r) { status_.index(q, r); });
    router_.add("POST", "/reload", Group::kWrite,
                [this](const http::Request&, http::Response& r) { reload_endpoint(r); });
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
    // The server force-closes connections after limits.shutdown_timeout; the
    // deadline here only guards against a shutdown that never reports back.
    stop_deadline_ = std::make_unique<Timer>(loop_);
    stop_deadline_->unref();
    stop_deadline_->start(
        static_cast<uint64_t>(config_->http.limits.shutdown_timeout.count()) + 1000, 0, [this] {
          log::warn("stop_deadline_passed");
          uv_stop(loop_);
        });
    server_->shutdown([this] { watchdog_.reset(); });
  }

  // Loads the configuration again from the same sources; applies it only if
  // every part validates, so a broken file keeps the running configuration.
  config::Errors reload(const char* trigger) {
    systemd::notify_reloading();
    // Reopening follows logrotate's rename whatever becomes of the reload.
    log::reopen();
    auto fresh = std::make_shared<config::Config>();
    config::Errors errors = source_.load(fresh.get());
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
      return errors;
    }
    server_->reconfigure(fresh->http);
    config_ = fresh;
    info_.device_id = resolve_device_id(*config_);
    log::info("reloaded", {{"trigger", trigger}});
    systemd::notify_ready("serving on " + join(info_.listeners));
    return errors;
  }

  void reload_endpoint(http::Response& response) {
    config::Errors errors = reload("api");
    if (errors.empty()) {
      response.set_body("{\"reloaded\":true}\n");
      return;
    }
    std::string message;
    for (const auto& e : errors)
      message += (message.empty() ? "" : "; ") + e.to_string();
    response = http::json_error(422, "configuration rejected, previous one kept: " + message);
  }

  uv_loop_t* loop_;
  const ConfigSource& source_;
  std::shared_ptr<const config::Config> config_;
  api::DaemonInfo info_;
  collect::Scheduler scheduler_;
  LoopLagMonitor lag_;
  api::StatusEndpoints status_;
  api::MetricsEndpoint metrics_;
  http::Router router_;
  std::unique_ptr<http::Server> server_;
  std::vector<std::unique_ptr<SignalWatcher>> signals_;
  std::unique_ptr<systemd::Watchdog> watchdog_;
  std::unique_ptr<Timer> stop_deadline_;
  bool stopping_ = false;
};

// Runs the loop until every handle has closed, but not forever: a statfs
// stuck on a dead NFS server holds a thread-pool request that no close can
// cancel, and that must not turn SIGTERM into a hang. Returns the number of
// handles still open, which after an orderly shutdown is a bug.
int close_loop(uv_loop_t* loop) {
  uv_timer_t deadline;
  uv_timer_init(loop, &deadline);
  uv_timer_start(
      &deadline, [](uv_timer_t* t) { uv_stop(t->loop); }, 2000, 0);
  uv_unref(reinterpret_cast<uv_handle_t*>(&deadline));
  uv_run(loop, UV_RUN_DEFAULT);
  uv_close(reinterpret_cast<uv_handle_t*>(&deadline), nullptr);
  uv_run(loop, UV_RUN_NOWAIT);
  if (uv_loop_close(loop) == 0) return 0;
  int leaked = 0;
  uv_walk(
      loop,
      [](uv_handle_t* h, void* count) {
        if (uv_is_closing(h)) return;
        ++*static_cast<int*>(count);
        log::error("handle_leaked", {{"type", uv_handle_type_name(uv_handle_get_type(h))}});
      },
      &leaked);
  if (leaked == 0) log::warn("requests_abandoned", {{"reason", "thread-pool work still running"}});
  return leaked;
}

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
  // A client that disconnects mid-response must not kill the daemon.
  ::signal(SIGPIPE, SIG_IGN);

  uv_loop_t loop;
  uv_loop_init(&loop);
  int exit_code = 0;
  {
    Daemon daemon(&loop, source, config);
    exit_code = daemon.start();
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

int collect_once(const ConfigSource& source) {
  auto config = std::make_shared<config::Config>();
  if (auto errors = source.load(config.get()); !errors.empty()) {
    print_errors(errors);
    return 2;
  }
  log::Options quiet = log_options(*config);
  std::string ignored;
  log::configure(quiet, &ignored);

  uv_loop_t loop;
  uv_loop_init(&loop);
  int exit_code = 0;
  {
    collect::Scheduler scheduler(&loop);
    if (std::string err = scheduler.configure(config); !err.empty()) {
      std::fprintf(stderr, "%s\n", err.c_str());
      exit_code = 2;
    } else {
      std::string out;
      scheduler.run_once([&] {
        scheduler.write_exposition(out);
        std::fwrite(out.data(), 1, out.size(), stdout);
        for (const auto& s : scheduler.statuses()) {
          if (s.success) continue;
          std::fprintf(stderr, "collector %s failed: %s\n", s.name.c_str(), s.error.c_str());
          exit_code = 1;
        }
        uv_stop(&loop);
      });
      uv_run(&loop, UV_RUN_DEFAULT);
    }
  }
  close_loop(&loop);
  return exit_code;
}

}  // namespace edgemon::app
