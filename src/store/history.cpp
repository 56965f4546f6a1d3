// The loop side of the history: the queue, the two threads and the timers.
#include "store/history.hpp"

#include <algorithm>
#include <utility>

#include "core/clock.hpp"
#include "core/log.hpp"

namespace edgemon::store {
namespace {

// A batch is written every history.flush_interval, or at once when this
// much is queued: large enough that a transaction carries many points, small
// enough that a burst from ingest does not sit in memory.
constexpr size_t kFlushBytes = 256 * 1024;
// Points pushed to a hub are written within this, whatever flush_interval
// says: a hub's queries must neither wait for a write (History::read writes
// first only what waited longer than kReadBehindMs) nor be further behind.
constexpr uint64_t kPushedFlushMs = 1000;
// The writer touches the newest leaf page of every series in each of the
// four tables, 16 KiB a series and some interior pages: about 8 MiB for
// 400 series (a hub of 50 devices). With less, every write reads and spills
// pages through the kernel, which at a busy hub's rate cost it more CPU
// than the SQL itself. The cache is sized to the series kept, so an agent
// writing a few keeps a few hundred KiB however long it runs: with a fixed
// 8 MiB, every new page of its file stayed cached, and the cache grew with
// the file for the week its aggregates are kept. The read connection scans
// ranges and keeps 1 MiB.
constexpr int64_t kWriterCacheKib = 8192;
constexpr int64_t kWriterCacheKibPerSeries = 20;
constexpr int64_t kReaderCacheKib = 1024;
// A client flooding new series keeps the history at its cap for as long as
// it lasts: one line when the refusals start, again at most this often.
constexpr int64_t kRefusalLogIntervalMs = 10 * 60 * 1000;

}  // namespace

History::History(uv_loop_t* loop)
    // Ingest and collection must never wait for the history: under load
    // its writer falls behind, and its queue bound drops (and counts) values.
    : loop_(loop),
      writer_(loop, WorkerThread::Priority::kBackground),
      reader_(loop),
      flush_timer_(loop),
      retention_timer_(loop) {
  flush_timer_.unref();
  retention_timer_.unref();
}

History::~History() = default;

void History::start(const config::HistorySection& config, std::string path,
                    config::Duration device_active_window) {
  config_ = config;
  path_ = std::move(path);
  active_window_ms_ = device_active_window.count();
  devices_.set_max_devices(static_cast<size_t>(config_.max_series));
  report_.path = path_;
  started_ = true;
  if (!config_.enabled) {
    ready_ = true;
    return;
  }
  open_files(true);
  start_retention_timer();
}

void History::reconfigure(const config::HistorySection& config, std::string path,
                          config::Duration device_active_window) {
  bool reopen = config.enabled != config_.enabled || path != path_;
  bool interval_changed = config.retention_interval != config_.retention_interval;
  active_window_ms_ = device_active_window.count();
  devices_.set_max_devices(static_cast<size_t>(config.max_series));
  if (!started_) {
    config_ = config;
    path_ = std::move(path);
    return;
  }
  if (reopen) close_files();
  config_ = config;
  path_ = std::move(path);
  report_.path = path_;
  if (reopen && config_.enabled) open_files(false);
  if (reopen || interval_changed) start_retention_timer();
}

void History::start_retention_timer() {
  retention_timer_.stop();
  if (!config_.enabled) return;
  auto interval = static_cast<uint64_t>(config_.retention_interval.count());
  retention_timer_.start(interval, interval, [this] { enforce_retention(); });
}

void History::open_files(bool load_devices) {
  opening_ = true;
  ready_ = false;
  struct Result {
    std::string error;
    HistoryOpenReport report;
    std::vector<DeviceRow> rows;
  };
  auto r = std::make_shared<Result>();
  HistoryOptions options{path_, false, kWriterCacheKib, 1000, kWriterCacheKibPerSeries};
  writer_.post(
      [this, r, options, load_devices] {
        writer_db_.reset();
        writer_db_ = HistoryDb::open(options, &r->report, &r->error);
        if (writer_db_ && load_devices) r->error = writer_db_->load_devices(&r->rows);
        if (!r->error.empty()) writer_db_.reset();
      },
      [this, r, load_devices] {
        on_opened(std::move(r->error), std::move(r->report), std::move(r->rows), load_devices);
      });
}

void History::on_opened(std::string error, HistoryOpenReport report, std::vector<DeviceRow> rows,
                        bool load_devices) {
  opening_ = false;
  ready_ = true;
  if (!report.moved_to.empty()) {
    ++report_.corrupt_files;
    report_.moved_to = report.moved_to;
    log::warn("history_corrupt_moved_aside",
              {{"path", path_}, {"moved_to", report.moved_to}, {"reason", report.corrupt_reason}});
  }
  if (!error.empty()) {
    open_ = false;
    report_.open = false;
    report_.error = error;
    log::error("history_open_failed", {{"path", path_}, {"error", error}});
  } else {
    open_ = true;
    report_.open = true;
    report_.error.clear();
    if (load_devices) {
      devices_.load(rows);
    } else {
      devices_.mark_all_dirty();
    }
    if (report.upgraded_from != 0) {
      log::info("history_upgraded",
                {{"path", path_}, {"from_schema", static_cast<int64_t>(report.upgraded_from)}});
    }
    log::info("history_opened", {{"path", path_},
                                 {"created", report.created},
                                 {"devices", static_cast<uint64_t>(rows.size())}});
    open_reader();
    enforce_retention();
  }
  auto waiting = std::move(after_open_);
  after_open_.clear();
  if (stopping_) {
    finish_stop();
  } else if (!pending_.empty() || devices_.has_dirty()) {
    schedule_flush(kPushedFlushMs);
  }
  if (!waiting.empty()) {
    post_write([waiting = std::move(waiting)] {
      for (const auto& done : waiting)
        done();
    });
  }
}

void History::open_reader() {
  struct Result {
    bool ok = false;
    std::string error;
  };
  auto r = std::make_shared<Result>();
  HistoryOptions options{path_, true, kReaderCacheKib, 1000};
  reader_.post(
      [this, r, options] {
        reader_db_.reset();
        reader_db_ = HistoryDb::open(options, nullptr, &r->error);
        r->ok = reader_db_ != nullptr;
      },
      [this, r] {
        reader_open_ = r->ok && open_;
        if (!r->ok) log::error("history_reader_open_failed", {{"error", r->error}});
      });
}

void History::close_files() {
  if (open_ || opening_) post_write(nullptr);
  writer_.post([this] { writer_db_.reset(); }, nullptr);
  reader_.post([this] { reader_db_.reset(); }, nullptr);
  open_ = false;
  opening_ = false;
  reader_open_ = false;
  report_.open = false;
  flush_timer_.stop();
}

void History::add(std::span<const metrics::Point> points) {
  add(prepare(points, keeps_values() ? Intake::kValues : Intake::kDevicesOnly));
}

History::Intake History::intake_mode() const {
  if (!keeps_values()) return Intake::kDevicesOnly;
  auto limit = static_cast<size_t>(config_.max_queue_bytes.bytes);
  return queue_bytes() >= limit ? Intake::kCountValues : Intake::kValues;
}

HistoryIntake History::prepare(std::span<const metrics::Point> points, Intake keep) {
  HistoryIntake intake;
  intake.devices = sightings(points);
  if (keep == Intake::kCountValues) {
    for (const metrics::Point& p : points)
      intake.queue_full += PointBatch::values_in(p, &intake.non_finite);
  } else if (keep == Intake::kValues) {
    for (const metrics::Point& p : points)
      intake.values.append(p, device_of(p), &intake.non_finite);
  }
  return intake;
}

void History::add(HistoryIntake&& intake) {
  enqueue(std::move(intake), static_cast<uint64_t>(config_.flush_interval.count()));
}

void History::enqueue(HistoryIntake&& intake, uint64_t flush_within_ms) {
  int64_t now = unix_now_ms();
  for (auto& seen : intake.devices)
    devices_.observe(std::move(seen), now);
  if (!keeps_values()) return;
  auto limit = static_cast<size_t>(config_.max_queue_bytes.bytes);
  size_t offered = intake.values.values();
  size_t room = limit > inflight_bytes_ ? limit - inflight_bytes_ : 0;
  size_t queued = pending_.append(std::move(intake.values), room);
  report_.dropped.queue_full += offered - queued + intake.queue_full;
  report_.dropped.non_finite += static_cast<uint64_t>(intake.non_finite);
  if (unwritten_since_ == 0 && (!pending_.empty() || devices_.has_dirty())) {
    unwritten_since_ = uv_now(loop_);
  }
  if (pending_.bytes() >= kFlushBytes) {
    flush();
  } else if (!pending_.empty() || devices_.has_dirty()) {
    schedule_flush(flush_within_ms);
  }
}

bus::PointConsumer::Preparer History::ingest_preparer() const {
  return [keep = intake_mode()](std::span<const metrics::Point> points) -> bus::Prepared {
    return std::make_shared<HistoryIntake>(prepare(points, keep));
  };
}

void History::take_ingested(std::span<const metrics::Point> points, bus::Prepared&& prepared,
                            const Durable&) {
  if (auto* intake = std::any_cast<std::shared_ptr<HistoryIntake>>(&prepared)) {
    enqueue(std::move(**intake), kPushedFlushMs);
  } else {
    enqueue(prepare(points, keeps_values() ? Intake::kValues : Intake::kDevicesOnly),
            kPushedFlushMs);
  }
}

void History::add_own(std::span<const metrics::Point> host,
                      std::span<const metrics::Point> system_metrics) {
  const std::string& schema = config_.schema;
  if (schema == "system_metrics" || schema == "both") add(system_metrics);
  if (schema == "host" || schema == "both") add(host);
}

void History::schedule_flush(uint64_t within_ms) {
  within_ms = std::min(within_ms, static_cast<uint64_t>(config_.flush_interval.count()));
  uint64_t due = uv_now(loop_) + within_ms;
  if (flush_timer_.active() && flush_due_ <= due) return;
  flush_due_ = due;
  flush_timer_.start(within_ms, 0, [this] { flush(); });
}

void History::flush(std::function<void()> done) {
  flush_timer_.stop();
  if (!config_.enabled) {
    if (done) done();
    return;
  }
  // Devices stored in the file are merged before the first write, so that
  // their persisted counts are never overwritten by this run's alone.
  if (opening_) {
    if (done) after_open_.push_back(std::move(done));
    return;
  }
  post_write(std::move(done));
}

void History::post_write(std::function<void()> done) {
  struct Result {
    std::string error;
    WriteStats stats;
    int64_t file_bytes = 0;
    int64_t series = 0;
    int64_t cache_bytes = 0;
  };
  size_t values = pending_.values();
  unwritten_since_ = 0;
  auto data = std::make_shared<std::string>(pending_.take());
  size_t bytes = data->size();
  inflight_bytes_ += bytes;
  auto devices = std::make_shared<std::vector<DeviceRow>>(devices_.take_dirty());
  WriteLimits limits{config_.max_series, unix_now_ms() - config_.aggregate_retention.count(),
                     static_cast<int64_t>(config_.max_bytes.bytes)};
  auto r = std::make_shared<Result>();
  writer_.post(
      [this, data, devices, limits, r] {
        if (!writer_db_) {
          r->error = "history file not open";
        } else {
          r->error = writer_db_->write(*data, *devices, limits, &r->stats);
          r->file_bytes = writer_db_->file_bytes();
          r->series = writer_db_->series_count();
          r->cache_bytes = writer_db_->cache_bytes();
        }
        // Freed here, not on the loop.
        std::string().swap(*data);
      },
      [this, bytes, values, r, done = std::move(done)] {
        inflight_bytes_ -= bytes;
        if (!r->error.empty()) {
          report_.dropped.write_error += values;
          if (r->error != report_.error) {
            log::warn("history_write_failed", {{"path", path_}, {"error", r->error}});
          }
          report_.error = r->error;
          devices_.mark_all_dirty();
        } else {
          ++report_.writes;
          report_.written += static_cast<uint64_t>(r->stats.written);
          report_.dropped.duplicate += static_cast<uint64_t>(r->stats.duplicate);
          report_.dropped.max_series += static_cast<uint64_t>(r->stats.max_series);
          report_.dropped.max_bytes += static_cast<uint64_t>(r->stats.max_bytes);
          note_refusals(r->stats);
          report_.dropped.too_old += static_cast<uint64_t>(r->stats.too_old);
          report_.file_bytes = r->file_bytes;
          report_.series = r->series;
          report_.writer_cache_bytes = r->cache_bytes;
          if (open_) report_.error.clear();
        }
        if (done) done();
      });
}

void History::note_refusals(const WriteStats& stats) {
  bool refused = stats.max_bytes > 0 || stats.devices_refused > 0;
  if (refused && !report_.refusing_new_series) {
    int64_t now = unix_now_ms();
    if (refusal_logged_ms_ == 0 || now - refusal_logged_ms_ >= kRefusalLogIntervalMs) {
      refusal_logged_ms_ = now;
      log::warn("history_refusing_new_series",
                {{"path", path_},
                 {"max_bytes", config_.max_bytes.bytes},
                 {"action",
                  "the file is at history.max_bytes: values of new series are not stored "
                  "(edgemon_history_dropped_points_total{reason=\"max_bytes\"}), those of "
                  "stored series still are and retention trims them; raise max_bytes or find "
                  "the client inventing series"}});
    }
  }
  // Until a batch finds room for a newcomer again.
  if (refused) {
    report_.refusing_new_series = true;
  } else if (stats.series_added > 0) {
    report_.refusing_new_series = false;
  }
}

void History::enforce_retention(std::function<void()> done) {
  if (!open_ || retention_running_) {
    if (done) done();
    return;
  }
  retention_running_ = true;
  struct Result {
    std::string error;
    RetentionStats stats;
    int64_t file_bytes = 0;
    int64_t series = 0;
  };
  int64_t now = unix_now_ms();
  RetentionLimits limits;
  limits.raw_before_ms = now - config_.raw_retention.count();
  limits.aggregate_before_ms = now - config_.aggregate_retention.count();
  limits.max_bytes = static_cast<int64_t>(config_.max_bytes.bytes);
  // The file's rows of these devices go in the same pass.
  report_.deleted.devices_retention += devices_.forget_before(limits.aggregate_before_ms);
  auto r = std::make_shared<Result>();
  writer_.post(
      [this, limits, r] {
        if (!writer_db_) return;
        r->error = writer_db_->enforce_retention(limits, &r->stats);
        r->file_bytes = writer_db_->file_bytes();
        r->series = writer_db_->series_count();
      },
      [this, r, done = std::move(done)] {
        retention_running_ = false;
        const RetentionStats& s = r->stats;
        HistoryDeleted& d = report_.deleted;
        d.raw_retention += static_cast<uint64_t>(s.raw_age);
        d.minute_retention += static_cast<uint64_t>(s.minute_age);
        d.five_minute_retention += static_cast<uint64_t>(s.five_minute_age);
        d.hour_retention += static_cast<uint64_t>(s.hour_age);
        d.raw_max_bytes += static_cast<uint64_t>(s.raw_size);
        d.minute_max_bytes += static_cast<uint64_t>(s.minute_size);
        d.five_minute_max_bytes += static_cast<uint64_t>(s.five_minute_size);
        d.hour_max_bytes += static_cast<uint64_t>(s.hour_size);
        if (r->file_bytes > 0) report_.file_bytes = r->file_bytes;
        report_.series = r->series;
        if (s.over_size && !report_.over_size) {
          log::warn("history_over_max_bytes", {{"path", path_}, {"file_bytes", r->file_bytes}});
        }
        report_.over_size = s.over_size;
        if (!r->error.empty()) log::warn("history_retention_failed", {{"error", r->error}});
        if (done) done();
      });
}

void History::stop(std::function<void()> done) {
  stopping_ = true;
  stopped_ = std::move(done);
  flush_timer_.stop();
  retention_timer_.stop();
  if (!config_.enabled || (!open_ && !opening_)) {
    if (auto d = std::move(stopped_)) d();
    return;
  }
  // An open still in flight calls finish_stop() when it completes.
  if (!opening_) finish_stop();
}

void History::finish_stop() {
  post_write([this] {
    if (auto d = std::move(stopped_)) d();
  });
}

}  // namespace edgemon::store
