#pragma once
// The Alertmanager receiver: POST /alert takes webhook notifications (see
// ingest/alert_webhook.hpp) and GET /alerts lists what was received, from
// store/alert_store.hpp on a worker thread of its own. Parsing, SQLite and
// rendering all run on that thread; the loop only routes, answers, logs and
// counts.
//
// POST /alert answers 200 {"received":N} once the notification is committed,
// 400 naming the bad field (Alertmanager does not retry 4xx, right for a
// payload that will never parse), 401 without the right token, 503 while the
// store is unavailable or busy (Alertmanager retries 5xx).
#include <uv.h>

#include <cjson/cJSON.h>

#include <array>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/config.hpp"
#include "core/timer.hpp"
#include "core/worker_thread.hpp"
#include "http/router.hpp"
#include "ingest/device_tokens.hpp"
#include "metrics/metric_sink.hpp"
#include "store/alert_store.hpp"

namespace edgemon::api {

class AlertEndpoints {
 public:
  explicit AlertEndpoints(uv_loop_t* loop);
  // Finishes the queued jobs (so an accepted notification is written), then
  // closes the file; answers not yet sent are dropped.
  ~AlertEndpoints();
  AlertEndpoints(const AlertEndpoints&) = delete;
  AlertEndpoints& operator=(const AlertEndpoints&) = delete;

  // Applies the configuration: the receiver is on when ingest.enabled and
  // ingest.alerts; the first time it is on (or when `path` changes) the
  // store is opened at `path`. Off, both routes answer 404.
  void configure(const config::Config& config, const std::string& path);
  // Refuses new notifications (503) and stops the retention timer; what is
  // queued is still written.
  void stop();

  // POST /alert (Group::kIngest) and GET /alerts (Group::kRead).
  void add_routes(http::Router& router);

  void write_metrics(metrics::MetricSink& sink) const;
  // Adds "alerts" to /status.
  void write_status(cJSON* root) const;

  // Alertnames counted separately in /metrics; further ones count as "other".
  static constexpr size_t kMaxAlertnames = 1000;

 private:
  struct Posted;
  struct Listed;
  struct StoreReport {
    bool open = false;
    std::string error;
    std::string moved_to;  // the last corrupt file, moved aside
    std::string corrupt_reason;
    int64_t corrupt_files = 0;
    store::AlertCounts counts;
    int64_t file_bytes = 0;
  };
  enum Result { kStored, kInvalid, kUnauthorized, kUnavailable, kFailed, kResultCount };

  void post_alert(const http::Request& request, http::Response& response);
  void get_alerts(const http::Request& request, http::Response& response);
  // "" or why the request may not post alerts (401).
  std::string unauthorized(const http::Request& request) const;
  void finish_post(Posted& posted, http::Responder& responder);
  void count_received(const std::string& alertname, bool firing);
  void open_store(const std::string& path);
  void run_retention();
  void take_report(const StoreReport& report);
  // Worker thread.
  void store_notification(Posted& posted);
  void list_alerts(Listed& listed);
  void reopen(const std::string& path);
  StoreReport worker_report() const;

  // Loop thread.
  uv_loop_t* loop_;
  bool enabled_ = false;
  bool stopping_ = false;
  std::string path_;
  ingest::DeviceTokens tokens_;  // ingest.tokens; the entries alertmanager and * may post
  store::AlertLimits limits_;
  uint64_t max_body_bytes_ = 0;
  StoreReport report_;
  size_t pending_ = 0;
  size_t pending_bytes_ = 0;
  std::array<uint64_t, kResultCount> results_{};
  std::array<uint64_t, 5> changes_{};  // by store::AlertChange
  store::AlertsDeleted deleted_;
  // alertname -> {firing, resolved}; at most kMaxAlertnames + "other".
  std::map<std::string, std::array<uint64_t, 2>, std::less<>> received_;
  std::unique_ptr<Timer> retention_timer_;

  // Worker thread only.
  std::unique_ptr<store::AlertStore> store_;
  StoreReport worker_state_;  // open, error, corrupt files as the worker saw them
  std::string store_path_;

  // Last: destroyed first, so its final jobs still find store_.
  WorkerThread worker_;
};

}  // namespace edgemon::api
