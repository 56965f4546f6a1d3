#include "outputs/pipeline.hpp"

#include <algorithm>

#include "core/clock.hpp"
#include "core/log.hpp"
#include "outputs/configured_outputs.hpp"

namespace edgemon::outputs {
namespace {

// While the spool cannot be written (disk full, file system read-only) the
// batches wait in memory up to this much; beyond it the oldest are dropped
// and counted. A board with 1 GiB cannot hold an outage in memory anyway.
constexpr size_t kMaxUnspooledBytes = 16 * 1024 * 1024;
constexpr uint64_t kReopenMs = 10000;
constexpr uint64_t kStopPollMs = 20;

}  // namespace

Pipeline::Pipeline(uv_loop_t* loop, http::HttpClient& client)
    : loop_(loop),
      client_(client),
      spool_(loop),
      commit_timer_(loop),
      housekeeping_timer_(loop),
      stop_timer_(loop),
      stop_deadline_(loop) {}

Pipeline::~Pipeline() {
  *alive_ = false;
  outputs_.clear();  // Before the spool worker, whose last jobs they queued.
}

std::unique_ptr<SpooledOutput> Pipeline::make_output(OutputSpec spec) {
  auto output = std::make_unique<SpooledOutput>(
      loop_, client_, spool_, std::move(spec),
      [this](std::vector<store::QueueStats>&& queues) { distribute(std::move(queues)); });
  output->set_spool_ready(report_.open);
  return output;
}

void Pipeline::start(const config::Config& config, const std::string& spool_path) {
  spool_config_ = config.spool;
  report_.path = spool_path;
  for (auto& spec : configured_outputs(config))
    outputs_.push_back(make_output(std::move(spec)));
  remake_encoding();
  if (!outputs_.empty()) begin();
}

void Pipeline::remake_encoding() {
  std::vector<PointEncoding> encodings;
  for (const auto& o : outputs_)
    encodings.emplace_back(o->spec().kind);
  encoding_ = std::make_shared<const IngestEncoding>(std::move(encodings));
}

void Pipeline::begin() {
  started_ = true;
  open_spool();
  housekeeping_timer_.start(static_cast<uint64_t>(spool_config_.reclaim_interval.count()),
                            static_cast<uint64_t>(spool_config_.reclaim_interval.count()),
                            [this] { housekeeping(); });
}

void Pipeline::open_spool() {
  store::SpoolOptions options;
  options.path = report_.path;
  options.sync_full = spool_config_.sync == "full";
  std::weak_ptr<bool> alive = alive_;
  spool_.open(options, [this, alive](std::string error, store::OpenReport opened) {
    if (alive.expired()) return;
    if (!opened.moved_to.empty()) {
      ++report_.corrupt_files;
      report_.moved_to = opened.moved_to;
      log::error("spool_corrupt", {{"path", report_.path},
                                   {"reason", opened.corrupt_reason},
                                   {"moved_to", opened.moved_to},
                                   {"action", "started an empty spool"}});
    }
    if (!error.empty()) {
      report_.open = false;
      report_.error = error;
      log::error("spool_unavailable",
                 {{"path", report_.path}, {"error", error}, {"retry_seconds", kReopenMs / 1000}});
      if (!stopping_) commit_timer_.start(kReopenMs, 0, [this] { open_spool(); });
      return;
    }
    report_.open = true;
    report_.error.clear();
    log::info("spool_open",
              {{"path", report_.path}, {"created", opened.created}, {"sync", spool_config_.sync}});
    for (auto& o : outputs_)
      o->set_spool_ready(true);
    housekeeping();
    commit();
  });
}

void Pipeline::reconfigure(const config::Config& config) {
  if (config.spool.path != spool_config_.path || config.spool.sync != spool_config_.sync) {
    log::warn("restart_needed", {{"keys", "spool.path, spool.sync"}});
  }
  std::vector<const SpooledOutput*> before;
  for (const auto& o : outputs_)
    before.push_back(o.get());
  std::vector<std::unique_ptr<SpooledOutput>> next;
  const std::vector<OutputSpec> all = configured_outputs(config);
  for (const auto& spec : all) {
    auto it = std::find_if(outputs_.begin(), outputs_.end(),
                           [&](const auto& o) { return o && o->name() == spec.name; });
    if (it != outputs_.end() && (*it)->spec().settings == spec.settings) {
      (*it)->retry_now();
      next.push_back(std::move(*it));
    } else {
      next.push_back(make_output(spec));
    }
  }
  for (const auto& o : outputs_) {
    if (o == nullptr) continue;
    // Rebuilt or removed: what it collected but did not commit yet still
    // goes to the spool, under its name.
    o->take_pending(unix_now_ms(), &unspooled_);
    bool kept =
        std::any_of(all.begin(), all.end(), [&](const auto& c) { return c.name == o->name(); });
    if (!kept) {
      log::warn("output_removed",
                {{"output", o->name()},
                 {"queued_points", o->stats().queue.points},
                 {"note", "its batches stay in the spool; see `edgemon spool stats`"}});
    }
  }
  outputs_ = std::move(next);
  // Points being encoded on the thread pool stay valid through a reload
  // that kept every output as it was.
  bool same = outputs_.size() == before.size();
  for (size_t i = 0; same && i < outputs_.size(); ++i)
    same = outputs_[i].get() == before[i];
  if (!same) remake_encoding();
  spool_config_.commit_interval = config.spool.commit_interval;
  if (!started_ && !outputs_.empty()) {
    begin();  // The first output: the spool was never opened.
    return;
  }
  if (report_.open) housekeeping();
  if (!unspooled_.empty()) schedule_commit();
}

void Pipeline::publish(std::span<const metrics::Point> host,
                       std::span<const metrics::Point> system_metrics) {
  if (outputs_.empty()) return;
  for (auto& o : outputs_)
    o->add(host, system_metrics);
  schedule_commit();
}

void Pipeline::ingest(std::span<const metrics::Point> points, Encoded&& encoded, Durable done) {
  if (outputs_.empty()) {
    done("");
    return;
  }
  // While the spool is being opened (just after start) points wait for it;
  // once opening has failed they are refused, so the client keeps them.
  if (stopping_ || (!report_.open && !report_.error.empty())) {
    done(stopping_ ? "shutting down" : "spool unavailable: " + report_.error);
    return;
  }
  bool current = encoded.by == encoding_ && encoded.outputs.size() == outputs_.size();
  for (size_t i = 0; i < outputs_.size(); ++i) {
    if (current) {
      outputs_[i]->add_encoded(std::move(encoded.outputs[i]));
    } else {
      outputs_[i]->add_received(points);
    }
  }
  waiting_.push_back(std::move(done));
  commit();  // A commit in progress starts the next one when it ends.
}

bus::PointConsumer::Preparer Pipeline::ingest_preparer() const {
  return [encoding = encoding_](std::span<const metrics::Point> points) -> bus::Prepared {
    return std::make_shared<Encoded>(Encoded{encoding, encoding->encode(points)});
  };
}

void Pipeline::take_ingested(std::span<const metrics::Point> points, bus::Prepared&& prepared,
                             const Durable& durable) {
  Encoded encoded;
  if (auto* made = std::any_cast<std::shared_ptr<Encoded>>(&prepared)) encoded = std::move(**made);
  ingest(points, std::move(encoded), durable);
}

std::string Pipeline::health_problem() const {
  if (outputs_.empty() || report_.error.empty()) return "";
  return "spool cannot be written: " + report_.error;
}

int64_t Pipeline::uncommitted_points() const {
  int64_t points = committing_points_;
  for (const auto& o : outputs_)
    points += o->pending_points();
  for (const auto& b : unspooled_)
    points += b.points;
  return points;
}

void Pipeline::settle_waiters(std::vector<Durable>& waiters, const std::string& error) {
  std::vector<Durable> ready;
  ready.swap(waiters);
  for (auto& w : ready)
    w(error);
}

void Pipeline::schedule_commit() {
  int64_t wait = last_commit_ms_ + spool_config_.commit_interval.count() - unix_now_ms();
  if (wait <= 0) {
    commit();
  } else if (!commit_timer_.active()) {
    commit_timer_.start(static_cast<uint64_t>(wait), 0, [this] { commit(); });
  }
}

void Pipeline::keep_unspooled(std::vector<store::NewBatch>&& batches) {
  // Older batches first, so that the ones dropped at the bound are the oldest.
  for (auto& b : batches)
    unspooled_.push_back(std::move(b));
  size_t total = 0;
  for (const auto& b : unspooled_)
    total += b.body.size();
  size_t drop = 0;
  while (total > kMaxUnspooledBytes && drop < unspooled_.size()) {
    const auto& b = unspooled_[drop++];
    total -= b.body.size();
    if (SpooledOutput* o = find(b.output)) o->count_spool_error(b.points);
    log::error("points_dropped",
               {{"output", b.output}, {"points", b.points}, {"reason", "spool unavailable"}});
  }
  unspooled_.erase(unspooled_.begin(), unspooled_.begin() + static_cast<std::ptrdiff_t>(drop));
  report_.unspooled_bytes = total;
}

void Pipeline::commit() {
  if (committing_) return;  // The running commit re-schedules when it ends.
  if (started_ && !report_.open && report_.error.empty()) return;  // Opening commits.
  int64_t now = unix_now_ms();
  std::vector<store::NewBatch> batches = std::move(unspooled_);
  unspooled_.clear();
  for (auto& o : outputs_)
    o->take_pending(now, &batches);
  if (batches.empty()) {
    settle_waiters(waiting_, "");  // Nothing of theirs could be encoded.
    return;
  }
  if (!report_.open) {
    keep_unspooled(std::move(batches));
    settle_waiters(waiting_, "spool unavailable: " + report_.error);
    return;
  }
  committing_ = true;
  committing_points_ = 0;
  for (const auto& b : batches)
    committing_points_ += b.points;
  committing_waiters_ = std::move(waiting_);
  waiting_.clear();
  last_commit_ms_ = now;
  struct Cap {
    std::string output;
    int64_t max_bytes;
    int64_t max_age_ms;
  };
  struct Work {
    std::vector<store::NewBatch> batches;
    std::vector<Cap> caps;
    std::string error;
    std::vector<std::pair<store::Removed, store::Removed>> removed;  // by bytes, by age
    std::vector<store::QueueStats> queues;
    int64_t file_bytes = 0;
  };
  auto work = std::make_shared<Work>();
  work->batches = std::move(batches);
  for (const auto& o : outputs_) {
    const auto& c = o->delivery();
    work->caps.push_back({o->name(), static_cast<int64_t>(c.max_bytes.bytes), c.max_age.count()});
  }
  std::weak_ptr<bool> alive = alive_;
  spool_.call<std::shared_ptr<Work>>(
      [work, now](store::Spool* spool) {
        if (spool == nullptr) {
          work->error = "spool not open";
          return work;
        }
        work->error = spool->append(work->batches);
        if (!work->error.empty()) return work;
        work->batches.clear();
        for (const auto& cap : work->caps) {
          store::Removed by_bytes, by_age;
          spool->enforce_caps(cap.output, 0, cap.max_age_ms, now, &by_age);
          spool->enforce_caps(cap.output, cap.max_bytes, 0, now, &by_bytes);
          work->removed.emplace_back(by_bytes, by_age);
        }
        spool->stats(&work->queues);
        work->file_bytes = spool->file_bytes();
        return work;
      },
      [this, alive](std::shared_ptr<Work>&& done) {
        if (alive.expired()) return;
        committing_ = false;
        committing_points_ = 0;
        if (!done->error.empty()) {
          ++report_.commit_failures;
          if (report_.error != done->error) {
            log::error("spool_write_failed", {{"path", report_.path}, {"error", done->error}});
          }
          report_.error = done->error;
          keep_unspooled(std::move(done->batches));
          // Their points may still reach the spool from memory, and the
          // client resends: a duplicate is an identical point, which
          // InfluxDB stores once.
          settle_waiters(committing_waiters_, "spool write failed: " + done->error);
          settle_waiters(waiting_, "spool write failed: " + done->error);
          commit_timer_.start(1000, 0, [this] { commit(); });
          return;
        }
        settle_waiters(committing_waiters_, "");
        ++report_.commits;
        report_.error.clear();
        report_.unspooled_bytes = 0;
        report_.file_bytes = done->file_bytes;
        for (size_t i = 0; i < done->caps.size(); ++i) {
          const auto& [by_bytes, by_age] = done->removed[i];
          if (by_bytes.batches == 0 && by_age.batches == 0) continue;
          if (SpooledOutput* o = find(done->caps[i].output)) o->count_dropped(by_bytes, by_age);
          log::warn("spool_cap_dropped", {{"output", done->caps[i].output},
                                          {"max_bytes_points", by_bytes.points},
                                          {"max_bytes_batches", by_bytes.batches},
                                          {"max_age_points", by_age.points},
                                          {"max_age_batches", by_age.batches}});
        }
        distribute(std::move(done->queues));
        if (!waiting_.empty()) {
          commit();
          return;
        }
        bool more = false;
        for (const auto& o : outputs_)
          more = more || o->pending_bytes() > 0;
        if (more) schedule_commit();
      });
}

void Pipeline::housekeeping() {
  if (!report_.open) return;
  struct Work {
    std::vector<std::pair<std::string, int64_t>> ages;
    std::vector<store::Removed> removed;
    std::vector<store::QueueStats> queues;
    int64_t file_bytes = 0;
  };
  auto work = std::make_shared<Work>();
  for (const auto& o : outputs_)
    work->ages.emplace_back(o->name(), o->delivery().max_age.count());
  int64_t now = unix_now_ms();
  std::weak_ptr<bool> alive = alive_;
  spool_.call<std::shared_ptr<Work>>(
      [work, now](store::Spool* spool) {
        if (spool == nullptr) return work;
        for (const auto& [output, max_age] : work->ages) {
          store::Removed removed;
          spool->enforce_caps(output, 0, max_age, now, &removed);
          work->removed.push_back(removed);
        }
        if (std::string err = spool->reclaim_space(); !err.empty()) {
          log::warn("spool_reclaim_failed", {{"error", err}});
        }
        spool->stats(&work->queues);
        work->file_bytes = spool->file_bytes();
        return work;
      },
      [this, alive](std::shared_ptr<Work>&& done) {
        if (alive.expired()) return;
        report_.file_bytes = done->file_bytes;
        for (size_t i = 0; i < done->removed.size(); ++i) {
          const auto& r = done->removed[i];
          if (r.batches == 0) continue;
          if (SpooledOutput* o = find(done->ages[i].first)) o->count_dropped({}, r);
          log::warn("spool_cap_dropped", {{"output", done->ages[i].first},
                                          {"max_age_points", r.points},
                                          {"max_age_batches", r.batches}});
        }
        distribute(std::move(done->queues));
      });
}

void Pipeline::distribute(std::vector<store::QueueStats>&& queues) {
  for (auto& o : outputs_) {
    auto it = std::find_if(queues.begin(), queues.end(),
                           [&](const store::QueueStats& q) { return q.output == o->name(); });
    o->queue_changed(it != queues.end() ? *it : store::QueueStats{o->name()});
  }
}

SpooledOutput* Pipeline::find(const std::string& name) {
  for (auto& o : outputs_) {
    if (o->name() == name) return o.get();
  }
  return nullptr;
}

void Pipeline::stop(std::chrono::milliseconds timeout, std::function<void()> done) {
  stopped_ = std::move(done);
  stopping_ = true;
  housekeeping_timer_.stop();
  commit_timer_.stop();
  if (outputs_.empty()) {
    std::exchange(stopped_, nullptr)();
    return;
  }
  commit();
  for (auto& o : outputs_)
    o->begin_stop();
  stop_deadline_.start(static_cast<uint64_t>(std::max<int64_t>(timeout.count(), 0)), 0, [this] {
    log::warn("stop_flush_deadline", {{"note", "unsent batches stay in the spool"}});
    stop_timer_.stop();
    for (auto& o : outputs_)
      o->abandon();
    if (stopped_) std::exchange(stopped_, nullptr)();
  });
  stop_timer_.start(kStopPollMs, kStopPollMs, [this] { check_stopped(); });
}

void Pipeline::check_stopped() {
  if (!stopped_) return;
  if (committing_ || spool_.pending() > 0) return;
  if (report_.open && !unspooled_.empty()) return;
  for (const auto& o : outputs_) {
    if (!o->idle()) return;
  }
  stop_timer_.stop();
  stop_deadline_.stop();
  uint64_t queued = 0;
  for (const auto& o : outputs_) {
    queued += static_cast<uint64_t>(o->stats().queue.points);
    o->abandon();  // Its flush timer must not keep the loop running.
  }
  log::info("outputs_stopped", {{"points_left_in_spool", queued}});
  std::exchange(stopped_, nullptr)();
}

}  // namespace edgemon::outputs
