#pragma once
// Where points go after collection: encoded for every configured output,
// committed to the spool (one short transaction per commit_interval, not per
// point), and sent from there by each output. Also the spool's housekeeping
// (age caps, space reclaim), the outputs' reports for /status and /metrics,
// and the bounded flush on SIGTERM.
#include <cjson/cJSON.h>
#include <uv.h>

#include <chrono>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "bus/point_consumer.hpp"
#include "core/config.hpp"
#include "core/timer.hpp"
#include "http/http_client.hpp"
#include "metrics/metric_sink.hpp"
#include "metrics/point.hpp"
#include "outputs/output_kind.hpp"
#include "outputs/point_encoding.hpp"
#include "outputs/spooled_output.hpp"
#include "store/spool_worker.hpp"

namespace edgemon::outputs {

struct SpoolReport {
  std::string path;
  bool open = false;
  std::string error;  // why it is not open, or the last write failure
  int64_t file_bytes = 0;
  uint64_t commits = 0;
  uint64_t commit_failures = 0;
  uint64_t corrupt_files = 0;  // files moved aside since the daemon started
  std::string moved_to;        // the last one
  size_t unspooled_bytes = 0;  // held in memory while the spool fails
};

class Pipeline final : public bus::PointConsumer {
 public:
  Pipeline(uv_loop_t* loop, http::HttpClient& client);
  ~Pipeline();
  Pipeline(const Pipeline&) = delete;
  Pipeline& operator=(const Pipeline&) = delete;

  // Builds the outputs and opens the spool file (on the spool thread;
  // sending starts once it is open). Nothing is opened when no output is
  // configured.
  void start(const config::Config& config, const std::string& spool_path);
  // Applies a reloaded configuration: outputs whose settings changed are
  // rebuilt (a request in flight is abandoned and its batch resent), removed
  // ones stop (their spooled batches stay, for `edgemon spool`).
  void reconfigure(const config::Config& config);

  // The points of one collection round, in both schemas.
  void publish(std::span<const metrics::Point> host,
               std::span<const metrics::Point> system_metrics);

  // Points received by the hub: encoded for every output and committed at
  // once rather than at the next commit_interval. Commits are grouped: while
  // one transaction runs, what arrives waits for the next, which starts as
  // soon as it ends. `done` runs on the loop once the points are in the
  // spool; at once (with "") when there are no outputs, so nothing to keep
  // them for; with an error when the spool cannot take them. `encoded` is
  // what ingest_encoding()'s encode() made of the points off the loop; if a
  // reload changed the outputs since, the points are encoded again here.
  struct Encoded {
    std::shared_ptr<const IngestEncoding> by;
    std::vector<EncodedPoints> outputs;
  };
  void ingest(std::span<const metrics::Point> points, Encoded&& encoded, Durable done);
  // How the outputs encode now, for the thread pool.
  std::shared_ptr<const IngestEncoding> ingest_encoding() const { return encoding_; }

  // On the bus: own points as publish(); pushed points encoded for every
  // output on the parser thread and made durable by ingest().
  void take_own(std::span<const metrics::Point> host,
                std::span<const metrics::Point> system_metrics) override {
    publish(host, system_metrics);
  }
  Preparer ingest_preparer() const override;
  void take_ingested(std::span<const metrics::Point> points, bus::Prepared&& prepared,
                     const Durable& durable) override;
  bool makes_durable() const override { return true; }

  // Commits what is pending, lets healthy outputs send what they can within
  // `timeout`, then abandons requests in flight (their batches stay in the
  // spool) and calls `done`.
  void stop(std::chrono::milliseconds timeout, std::function<void()> done);

  bool enabled() const { return !outputs_.empty(); }
  void write_metrics(metrics::MetricSink& sink) const;
  // Points produced for the outputs and not durable yet: what a SIGKILL or
  // power cut would lose now (pending, in the running transaction, or held
  // in memory while the spool fails).
  int64_t uncommitted_points() const;
  // Why points cannot be made durable now (the spool failed to open or its
  // last write failed: a full disk, say), or "". While it is so every ingest
  // gets 503 and collected points wait in memory, so /health says so.
  std::string health_problem() const;
  // Adds "outputs" and "spool" to a /status document.
  void write_status(cJSON* root) const;
  const std::vector<std::unique_ptr<SpooledOutput>>& outputs() const { return outputs_; }
  const SpoolReport& spool_report() const { return report_; }

 private:
  void begin();
  void open_spool();
  void commit();
  void schedule_commit();
  void housekeeping();
  void distribute(std::vector<store::QueueStats>&& queues);
  void keep_unspooled(std::vector<store::NewBatch>&& batches);
  void settle_waiters(std::vector<Durable>& waiters, const std::string& error);
  SpooledOutput* find(const std::string& name);
  void check_stopped();
  std::unique_ptr<SpooledOutput> make_output(OutputSpec spec);
  void remake_encoding();

  uv_loop_t* loop_;
  http::HttpClient& client_;
  store::SpoolWorker spool_;
  std::vector<std::unique_ptr<SpooledOutput>> outputs_;
  // Of outputs_, rebuilt with them.
  std::shared_ptr<const IngestEncoding> encoding_ =
      std::make_shared<const IngestEncoding>(std::vector<PointEncoding>{});
  config::SpoolSection spool_config_;
  SpoolReport report_;
  Timer commit_timer_;
  Timer housekeeping_timer_;
  Timer stop_timer_;
  Timer stop_deadline_;
  bool started_ = false;  // the spool was opened (or is being)
  bool committing_ = false;
  int64_t committing_points_ = 0;  // in the transaction running now
  bool stopping_ = false;
  int64_t last_commit_ms_ = 0;
  // Batches the spool could not take yet, oldest first, bounded in bytes.
  std::vector<store::NewBatch> unspooled_;
  std::function<void()> stopped_;
  // ingest() callers waiting for the next commit, and for the running one.
  std::vector<Durable> waiting_;
  std::vector<Durable> committing_waiters_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace edgemon::outputs
