#pragma once
// The central config server (a hub with config_server.serve): operators keep
// each device's configuration, and defaults per device type, here; agents
// fetch theirs with a conditional GET and report back what they run.
//
//   GET    /config/{device_id}[?device_type=T]  the type's defaults, then the
//                                               device's own, as one YAML
//                                               stream; ETag, 304, 404
//   GET    /config/{device_id}?version=N        one stored version
//   PUT    /config/{device_id}                  a new version (If-Match)
//   DELETE /config/{device_id}
//   GET    /config/{device_id}/versions
//   POST   /config/{device_id}/report           the agent's own state
//   GET    /config/{device_id}/report
//   GET|PUT|DELETE /config_defaults/{device_type}, .../versions
//   GET    /config                              every stored document
//
// Reading a device's configuration and reporting take that device's token
// (ingest.tokens), its fleet token or an operator's (http.access.write
// tokens); everything else is the write group's. A document is stored only
// once it passes every check of `edgemon check`; a refusal is a 400 listing
// every error with its key. SQLite and validation run on a worker thread.
#include <uv.h>

#include <cjson/cJSON.h>

#include <array>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "core/config.hpp"
#include "core/config_error.hpp"
#include "core/worker_thread.hpp"
#include "http/router.hpp"
#include "ingest/device_tokens.hpp"
#include "metrics/metric_sink.hpp"
#include "store/config_store.hpp"

namespace edgemon::api {

class ConfigServerEndpoints {
 public:
  // A configuration is a few KiB; this leaves room for long comments.
  static constexpr uint64_t kMaxDocumentBytes = 1 << 20;
  // An agent's report lists its metric families (10,000 at most).
  static constexpr uint64_t kMaxReportBytes = 2 << 20;

  // Checks one document as `edgemon check` would; runs on the worker thread.
  using Validator = std::function<config::Errors(std::string_view yaml, const std::string& name)>;

  ConfigServerEndpoints(uv_loop_t* loop, Validator validator);
  // Finishes queued jobs (a stored document is committed), then closes.
  ~ConfigServerEndpoints();
  ConfigServerEndpoints(const ConfigServerEndpoints&) = delete;
  ConfigServerEndpoints& operator=(const ConfigServerEndpoints&) = delete;

  // On when config_server.serve; the store is opened at `path` the first
  // time (or when the path changes). Off, the routes are removed.
  void configure(const config::Config& config, const std::string& path);
  void add_routes(http::Router& router);

  void write_metrics(metrics::MetricSink& sink) const;
  // Adds "config_server_store" to /status when serving.
  void write_status(cJSON* root) const;

 private:
  enum Result { kServed, kNotModified, kNotFound, kStored, kInvalid, kConflict, kFailed, kCount };
  struct Target;

  bool head_check(const http::Request& head, http::Response* refusal) const;
  void handle(const http::Request& request, http::Response& response);
  void get_device(const Target& target, const http::Request& request, http::Response& response);
  void get_version(const Target& target, int64_t version, http::Response& response);
  void get_versions(const Target& target, http::Response& response);
  void put_document(const Target& target, const http::Request& request, http::Response& response);
  void delete_document(const Target& target, const http::Request& request,
                       http::Response& response);
  void post_report(const Target& target, const http::Request& request, http::Response& response);
  void get_report(const Target& target, http::Response& response);
  void list(http::Response& response);
  // Runs `job` on the store's thread and answers with what it returns.
  void run(http::Response& response, std::function<http::Response(store::ConfigStore*)> job);
  bool is_operator(const http::Request& request) const;

  uv_loop_t* loop_;
  Validator validator_;
  bool enabled_ = false;
  ingest::DeviceTokens device_tokens_;
  std::vector<std::string> operator_tokens_;
  int64_t versions_kept_ = 20;
  std::string path_;
  std::unique_ptr<WorkerThread> worker_;
  // Owned by the worker thread's jobs once opened; read there only.
  std::shared_ptr<std::unique_ptr<store::ConfigStore>> store_;
  std::string store_error_;
  std::array<uint64_t, kCount> results_{};
};

}  // namespace edgemon::api
