#pragma once
// The local history as the loop sees it. add() copies the numeric fields of
// points into a bounded in-memory queue and returns; a write thread stores
// the queue in the history file (store/history_db.hpp) once a second, one
// transaction per batch; a read thread with its own read-only connection
// answers queries, so a query never waits behind a write transaction (WAL)
// and no SQLite call runs on the loop. Retention runs on a timer.
//
// The device registry (store/history_devices.hpp) is kept here too, also
// when history is disabled (then in memory only).
#include <cjson/cJSON.h>
#include <uv.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "bus/point_consumer.hpp"
#include "core/config_hub.hpp"
#include "core/timer.hpp"
#include "core/worker_thread.hpp"
#include "metrics/metric_sink.hpp"
#include "metrics/point.hpp"
#include "store/history_batch.hpp"
#include "store/history_db.hpp"
#include "store/history_devices.hpp"

namespace edgemon::store {

// Values (one numeric field of one point) not stored, by reason.
struct HistoryDropped {
  uint64_t queue_full = 0;   // the queue was at history.max_queue_bytes
  uint64_t max_series = 0;   // a new series beyond history.max_series
  uint64_t max_bytes = 0;    // a new series while the file is at history.max_bytes
  uint64_t duplicate = 0;    // same series and time already stored
  uint64_t too_old = 0;      // older than aggregate_retention
  uint64_t non_finite = 0;   // NaN or infinite
  uint64_t write_error = 0;  // the file could not be written (or opened)
};

// Rows deleted, by table and reason.
struct HistoryDeleted {
  uint64_t raw_retention = 0;
  uint64_t minute_retention = 0;
  uint64_t five_minute_retention = 0;
  uint64_t hour_retention = 0;
  uint64_t raw_max_bytes = 0;
  uint64_t minute_max_bytes = 0;
  uint64_t five_minute_max_bytes = 0;
  uint64_t hour_max_bytes = 0;
  uint64_t devices_retention = 0;  // devices forgotten, not rows
};

struct HistoryReport {
  std::string path;
  bool open = false;
  std::string error;  // why it is not open, or the last write failure
  int64_t file_bytes = 0;
  int64_t series = 0;
  // The two connections' page caches, as of their last write and query.
  int64_t writer_cache_bytes = 0;
  int64_t reader_cache_bytes = 0;
  uint64_t written = 0;
  uint64_t writes = 0;  // transactions
  HistoryDropped dropped;
  HistoryDeleted deleted;
  uint64_t corrupt_files = 0;
  std::string moved_to;
  bool over_size = false;  // still above max_bytes after the last pass
  // Set by a batch that refused a new series or device for max_bytes
  // (store/history_budget.hpp), cleared by one that added a series.
  bool refusing_new_series = false;
};

// What History::add() does per point, as a value any thread can make: the
// hub prepares received points on the thread pool.
struct HistoryIntake {
  PointBatch values;  // empty unless history kept values when prepared
  int64_t non_finite = 0;
  // Values not laid out because the queue was full when they came.
  uint64_t queue_full = 0;
  std::vector<DeviceSighting> devices;
};

class History final : public bus::PointConsumer {
 public:
  explicit History(uv_loop_t* loop);
  // Writes nothing more; what a stop() did not wait for is lost.
  ~History();
  History(const History&) = delete;
  History& operator=(const History&) = delete;

  // `path` is the resolved history file (config history.path, or history.db
  // in the state directory). Opens it on the write thread; devices stored
  // there are loaded before the first write.
  void start(const config::HistorySection& config, std::string path,
             config::Duration device_active_window);
  // Limits apply at once; a changed path or `enabled` closes the file (after
  // writing what is queued) and opens the new one.
  void reconfigure(const config::HistorySection& config, std::string path,
                   config::Duration device_active_window);

  // Points received (ingested, or collected here): counted in the device
  // registry and, if history is enabled, queued for the file. Returns in
  // microseconds: copies and appends only.
  void add(std::span<const metrics::Point> points);
  // The same in two steps: prepare() on any thread, add() on the loop.
  // `keep` is intake_mode() when the points came: at a queue already full,
  // copying values only to drop them would cost a busy hub most of it.
  // Points that came while history was off are not its own, even if a
  // reload turns it on before add().
  enum class Intake { kDevicesOnly, kCountValues, kValues };
  static HistoryIntake prepare(std::span<const metrics::Point> points, Intake keep);
  void add(HistoryIntake&& intake);
  bool keeps_values() const { return config_.enabled && !stopping_; }
  Intake intake_mode() const;
  // This device's own points of one collection round, kept according to
  // history.schema (system_metrics, host or both).
  void add_own(std::span<const metrics::Point> host,
               std::span<const metrics::Point> system_metrics);

  // On the bus: own points as add_own(); pushed points laid out on the
  // parser thread by prepare() and added here (never durable: the spool is).
  void take_own(std::span<const metrics::Point> host,
                std::span<const metrics::Point> system_metrics) override {
    add_own(host, system_metrics);
  }
  Preparer ingest_preparer() const override;
  void take_ingested(std::span<const metrics::Point> points, bus::Prepared&& prepared,
                     const Durable& durable) override;
  // What the preparer made is all it keeps.
  bool reads_points(const bus::Prepared& prepared) const override { return !prepared.has_value(); }

  // Writes what is queued, then calls `done` (on the loop thread).
  void stop(std::function<void()> done);

  // Runs job(db) on the read thread -- db is null when history is disabled
  // or not open yet -- then done(result) on the loop thread. The job must
  // not hold anything that lives on the loop (a Responder...).
  template <typename R>
  void read(std::function<R(HistoryDb*)> job, std::function<void(R&&)> done) {
    auto result = std::make_shared<R>();
    auto run = [this, job = std::move(job), done = std::move(done), result] {
      auto cache = std::make_shared<int64_t>(0);
      reader_.post(
          [this, job, result, cache] {
            *result = job(reader_db_.get());
            if (reader_db_) *cache = reader_db_->cache_bytes();
          },
          [this, done, result, cache] {
            report_.reader_cache_bytes = *cache;
            done(std::move(*result));
          });
    };
    // Values wait up to flush_interval before they are written: what has
    // waited longer than kReadBehindMs is written before the query runs, so
    // that no answer is more than that behind, and a busy hub's queries
    // (its pushed points are written within a second) never wait.
    bool behind = unwritten_since_ != 0 && uv_now(loop_) - unwritten_since_ >= kReadBehindMs;
    if ((open_ || opening_) && behind) {
      flush(std::move(run));
    } else {
      run();
    }
  }

  // Enforces retention now (tests; the timer does it every
  // retention_interval); `done` runs once it finished.
  void enforce_retention(std::function<void()> done = nullptr);
  // Writes what is queued now; `done` runs once it is in the file.
  void flush(std::function<void()> done = nullptr);

  bool enabled() const { return config_.enabled; }
  // The query thread has the file open.
  bool readable() const { return reader_open_; }
  const config::HistorySection& config() const { return config_; }
  int64_t device_active_window_ms() const { return active_window_ms_; }
  const DeviceRegistry& devices() const { return devices_; }
  const HistoryReport& report() const { return report_; }
  size_t queue_bytes() const { return pending_.bytes() + inflight_bytes_; }
  // Values or device sightings queued or being written.
  bool unwritten() const { return queue_bytes() > 0 || devices_.has_dirty(); }

  // edgemon_history_* and edgemon_devices[_active].
  void write_metrics(metrics::MetricSink& sink) const;
  // Adds "history" to a /status document.
  void write_status(cJSON* root) const;

 private:
  void open_files(bool load_devices);
  void on_opened(std::string error, HistoryOpenReport report, std::vector<DeviceRow> rows,
                 bool load_devices);
  void open_reader();
  void close_files();
  // Queued values and sightings: written within `flush_within_ms` (at most
  // flush_interval), or at once past kFlushBytes.
  void enqueue(HistoryIntake&& intake, uint64_t flush_within_ms);
  void schedule_flush(uint64_t within_ms);
  void start_retention_timer();
  void finish_stop();
  void post_write(std::function<void()> done);
  void note_refusals(const WriteStats& stats);

  uv_loop_t* loop_;
  config::HistorySection config_;
  std::string path_;
  int64_t active_window_ms_ = 300000;
  DeviceRegistry devices_;
  PointBatch pending_;
  size_t inflight_bytes_ = 0;
  bool started_ = false;
  bool opening_ = false;  // an open is posted and not completed
  bool open_ = false;     // the write thread has the file open
  bool ready_ = false;    // devices loaded: writes may start
  bool reader_open_ = false;
  bool retention_running_ = false;
  bool stopping_ = false;
  std::function<void()> stopped_;
  std::vector<std::function<void()>> after_open_;  // flush()es waiting for the open
  HistoryReport report_;
  int64_t refusal_logged_ms_ = 0;  // rate limit of history_refusing_new_series
  // Declared before the threads: destroyed after their last job ran.
  std::unique_ptr<HistoryDb> writer_db_;
  std::unique_ptr<HistoryDb> reader_db_;
  WorkerThread writer_;
  WorkerThread reader_;
  Timer flush_timer_;
  uint64_t flush_due_ = 0;        // uv_now() when flush_timer_ fires
  uint64_t unwritten_since_ = 0;  // uv_now() when the oldest queued value came; 0: none
  static constexpr uint64_t kReadBehindMs = 1000;
  Timer retention_timer_;
};

}  // namespace edgemon::store
