#include "outputs/spooled_output.hpp"

#include <algorithm>

#include "core/clock.hpp"
#include "core/log.hpp"

namespace edgemon::outputs {
namespace {

// Requests are also bounded in bytes: InfluxDB 1.x refuses bodies over 25 MB
// by default, and one request must not hold a board's memory.
constexpr int64_t kMaxRequestBytes = 8 * 1024 * 1024;
// Bound on how long a server may make us wait with Retry-After.
constexpr int64_t kMaxRetryAfterMs = 3600 * 1000;

}  // namespace

const char* state_name(OutputState state) {
  switch (state) {
    case OutputState::kOk:
      return "ok";
    case OutputState::kRetrying:
      return "retrying";
    case OutputState::kFailing:
      return "failing";
  }
  return "unknown";
}

void DroppedPoints::add(const DroppedPoints& other) {
  max_bytes += other.max_bytes;
  max_age += other.max_age;
  corrupt += other.corrupt;
  unrepresentable += other.unrepresentable;
  unavailable += other.unavailable;
  spool_error += other.spool_error;
}

struct SpooledOutput::InFlight {
  std::vector<int64_t> ids;
  // Points of those batches a cap deleted while they were on the wire.
  DroppedPoints capped;
  int64_t points = 0;
  std::string precision;
  std::string body;  // emptied once compressed into `wire`
  size_t body_bytes = 0;
  std::string wire;
  ContentCoding coding = ContentCoding::kIdentity;
  size_t sent_bytes = 0;  // the body as sent (the request takes the text)
  // A first part of one batch too large to send whole (after a 413).
  bool partial = false;
  // One batch, too large, that the kind could not cut (a 413 for it
  // dead-letters it).
  bool uncuttable = false;
  std::string rest;
  int64_t rest_points = 0;
  uint64_t started_ns = 0;
  int64_t started_ms = 0;
};

SpooledOutput::SpooledOutput(uv_loop_t* loop, http::HttpClient& client, store::SpoolWorker& spool,
                             OutputSpec spec, StatsListener on_stats)
    : client_(client),
      spool_(spool),
      spec_(std::move(spec)),
      on_stats_(std::move(on_stats)),
      encoding_(spec_.kind),
      send_seconds_(metrics::latency_buckets()),
      backoff_(spec_.delivery.retry_initial, spec_.delivery.retry_max),
      wake_(loop),
      max_request_points_(spec_.delivery.batch_size) {
  queue_.output = spec_.name;
  stats_.queue.output = spec_.name;
  if (std::string why = spec_.kind->unavailable(); !why.empty()) {
    // As for a server that refuses us, the output stays in /status and the
    // metrics as failing, with why, and the rest of the daemon runs on.
    unavailable_ = true;
    fail(OutputState::kFailing, why,
         "this output sends nothing and its points are dropped (counted, reason "
         "unavailable) until edgemon is restarted with the library installed; batches "
         "spooled for it before stay in the spool");
  }
}

SpooledOutput::~SpooledOutput() {
  abandon();
}

void SpooledOutput::add(std::span<const metrics::Point> host,
                        std::span<const metrics::Point> system_metrics) {
  std::span<const metrics::Point> none;
  add_received(spec_.schema != PointSchema::kSystemMetrics ? host : none);
  add_received(spec_.schema != PointSchema::kHost ? system_metrics : none);
}

void SpooledOutput::add_received(std::span<const metrics::Point> points) {
  EncodedPoints encoded;
  encoding_.encode_into(points, encoded);
  add_encoded(std::move(encoded));
}

void SpooledOutput::add_encoded(EncodedPoints&& encoded) {
  stats_.dropped.unrepresentable += encoded.unrepresentable;
  stats_.dropped.unavailable += encoded.unavailable;
  const size_t count = encoded.ends.size();
  size_t done = 0;   // points taken
  size_t start = 0;  // where their text ends
  while (done < count) {
    auto room =
        static_cast<size_t>(std::max<int64_t>(spec_.delivery.batch_size - pending_points_, 1));
    size_t take = std::min(room, count - done);
    size_t end = encoded.ends[done + take - 1];
    if (pending_.empty() && start == 0 && end == encoded.text.size()) {
      pending_ = std::move(encoded.text);  // the usual case: no copy
    } else {
      pending_.append(encoded.text, start, end - start);
    }
    if (pending_since_ms_ == 0) pending_since_ms_ = unix_now_ms();
    pending_points_ += static_cast<int64_t>(take);
    done += take;
    start = end;
    if (pending_points_ >= spec_.delivery.batch_size) close_batch(unix_now_ms());
  }
}

void SpooledOutput::close_batch(int64_t now_unix_ms) {
  store::NewBatch b;
  b.output = spec_.name;
  b.created_ms = pending_since_ms_ != 0 ? pending_since_ms_ : now_unix_ms;
  b.points = pending_points_;
  b.precision = std::string(metrics::precision_name(spec_.kind->precision()));
  b.body = std::move(pending_);
  full_bytes_ += b.body.size();
  full_points_ += b.points;
  full_.push_back(std::move(b));
  pending_.clear();
  pending_points_ = 0;
  pending_since_ms_ = 0;
}

bool SpooledOutput::take_pending(int64_t now_unix_ms, std::vector<store::NewBatch>* out) {
  if (pending_points_ > 0) close_batch(now_unix_ms);
  if (full_.empty()) return false;
  for (auto& b : full_)
    out->push_back(std::move(b));
  full_.clear();
  full_bytes_ = 0;
  full_points_ = 0;
  return true;
}

void SpooledOutput::queue_changed(const store::QueueStats& queue) {
  queue_ = queue;
  queue_.output = spec_.name;
  stats_.queue = queue_;
  maybe_send();
}

void SpooledOutput::count_dropped(const store::Removed& by_max_bytes,
                                  const store::Removed& by_max_age) {
  auto in_flight = [this](int64_t id) {
    if (next_ && std::find(next_->ids.begin(), next_->ids.end(), id) != next_->ids.end()) {
      next_.reset();  // Read ahead but not sent: it is simply dropped.
    }
    return flight_ && std::find(flight_->ids.begin(), flight_->ids.end(), id) != flight_->ids.end();
  };
  for (const auto& [id, points] : by_max_bytes.ids) {
    DroppedPoints& into = in_flight(id) ? flight_->capped : stats_.dropped;
    into.max_bytes += static_cast<uint64_t>(points);
  }
  for (const auto& [id, points] : by_max_age.ids) {
    DroppedPoints& into = in_flight(id) ? flight_->capped : stats_.dropped;
    into.max_age += static_cast<uint64_t>(points);
  }
}

void SpooledOutput::end_flight(const InFlight& flight, bool delivered) {
  // `flight` may be owned by flight_ alone (after a cancel): keep it alive.
  std::shared_ptr<InFlight> keep = flight_;
  if (flight_.get() == &flight) flight_.reset();
  if (flight.capped.total() == 0) return;
  if (!delivered) {
    stats_.dropped.add(flight.capped);
    return;
  }
  // Delivered, so not dropped -- except the part of a split batch that was
  // still to be sent when the cap deleted it.
  if (flight.partial) {
    auto rest = static_cast<uint64_t>(flight.rest_points);
    (flight.capped.max_bytes > 0 ? stats_.dropped.max_bytes : stats_.dropped.max_age) += rest;
  }
}

void SpooledOutput::count_spool_error(int64_t points) {
  stats_.dropped.spool_error += static_cast<uint64_t>(points);
}

void SpooledOutput::set_spool_ready(bool ready) {
  spool_ready_ = ready;
  if (ready) maybe_send();
}

void SpooledOutput::begin_stop() {
  stopping_ = true;
  if (phase_ == Phase::kWaiting) {
    wake_.stop();
    phase_ = Phase::kIdle;
  }
  maybe_send();
}

void SpooledOutput::retry_now() {
  if (phase_ != Phase::kWaiting) return;
  wake_.stop();
  phase_ = Phase::kIdle;
  maybe_send();
}

void SpooledOutput::abandon() {
  if (phase_ == Phase::kSending) client_.cancel(request_id_);
  if (flight_) end_flight(*flight_, false);
  next_.reset();
  wake_.stop();
  // A fetch or settle job still queued on the spool thread completes there;
  // its callback finds the output no longer waiting for it.
  *alive_ = false;
  alive_ = std::make_shared<bool>(true);
  phase_ = Phase::kIdle;
}

bool SpooledOutput::due(int64_t now_ms) const {
  if (queue_.batches == 0) return false;
  if (stopping_) return stats_.state == OutputState::kOk;
  return queue_.points >= spec_.delivery.batch_size ||
         now_ms - queue_.oldest_created_ms >= spec_.delivery.flush_interval.count();
}

void SpooledOutput::wake_in(int64_t ms) {
  wake_.start(static_cast<uint64_t>(std::max<int64_t>(ms, 1)), 0, [this] {
    if (phase_ == Phase::kWaiting) phase_ = Phase::kIdle;
    maybe_send();
  });
}

void SpooledOutput::maybe_send() {
  if (phase_ != Phase::kIdle || !spool_ready_ || unavailable_) return;
  int64_t now = unix_now_ms();
  if (now < not_before_ms_ && !stopping_) {
    wake_in(not_before_ms_ - now);
    return;
  }
  if (!due(now)) {
    if (queue_.batches > 0 && !stopping_) {
      wake_in(queue_.oldest_created_ms + spec_.delivery.flush_interval.count() - now);
    }
    return;
  }
  if (next_) {
    send(std::exchange(next_, nullptr));
    return;
  }
  phase_ = Phase::kFetching;
  std::weak_ptr<bool> alive = alive_;
  spool_.call<Fetched>(
      [output = spec_.name, points = fetch_points(), split = split_lines_,
       kind = spec_.kind](store::Spool* spool) {
        Fetched f;
        std::vector<store::Batch> batches;
        if (spool == nullptr) {
          f.error = "spool not open";
        } else {
          f.error = spool->fetch(output, points, kMaxRequestBytes, &batches, &f.corrupt);
        }
        // Assembling and compressing the body here keeps that work (a few
        // milliseconds for 5,000 points) off the loop.
        if (f.error.empty() && !batches.empty())
          f.flight = assemble(*kind, std::move(batches), split);
        return f;
      },
      [this, alive](Fetched&& f) {
        auto guard = alive.lock();
        if (!guard || !*guard) return;
        fetched(std::move(f));
      });
}

int64_t SpooledOutput::fetch_points() const {
  // The spool returns the first batch however large: a limit of one point
  // fetches one batch.
  return isolate_through_id_ > 0 ? 1 : max_request_points_;
}

std::shared_ptr<SpooledOutput::InFlight> SpooledOutput::assemble(
    const OutputKind& kind, std::vector<store::Batch>&& batches, int64_t split_items) {
  auto flight = std::make_shared<InFlight>();
  flight->precision = batches.front().precision;
  store::Batch& first = batches.front();
  std::optional<RowCut> cut;
  if (batches.size() == 1 && split_items > 0 && first.points > split_items) {
    cut = kind.cut_row(first.body, split_items);
    flight->uncuttable = !cut;
  }
  if (cut && cut->bytes < first.body.size()) {
    std::string_view body = first.body;
    flight->partial = true;
    flight->body = std::string(body.substr(0, cut->bytes));
    flight->rest = std::string(body.substr(cut->bytes));
    flight->points = cut->items;
    flight->rest_points = first.points - flight->points;
    flight->ids.push_back(first.id);
  } else {
    for (const auto& b : batches) {
      flight->ids.push_back(b.id);
      flight->points += b.points;
    }
    kind.join_rows(batches, &flight->body);
  }
  flight->body_bytes = flight->body.size();
  flight->coding = kind.compress(flight->body, &flight->wire);
  if (flight->coding != ContentCoding::kIdentity) {
    std::string().swap(flight->body);  // The compressed copy is what is sent.
  }
  return flight;
}

void SpooledOutput::prefetch(const InFlight& current) {
  // Only a healthy output reads ahead: while it retries, the request would
  // be thrown away, and during an outage memory stays at one request.
  if (stats_.state != OutputState::kOk) return;
  if (current.partial || split_lines_ > 0 || isolate_through_id_ > 0 || current.ids.empty()) {
    return;
  }
  if (queue_.points - current.points < spec_.delivery.batch_size) return;  // no backlog
  std::weak_ptr<bool> alive = alive_;
  spool_.call<Fetched>(
      [output = spec_.name, points = max_request_points_, kind = spec_.kind,
       after = current.ids.back()](store::Spool* spool) {
        Fetched f;
        std::vector<store::Batch> batches;
        if (spool != nullptr) {
          f.error = spool->fetch(output, points, kMaxRequestBytes, &batches, &f.corrupt, after);
        }
        if (f.error.empty() && !batches.empty()) {
          f.flight = assemble(*kind, std::move(batches), 0);
        }
        return f;
      },
      [this, alive](Fetched&& f) {
        auto guard = alive.lock();
        if (!guard || !*guard) return;
        count_corrupt(f.corrupt);
        // Kept only while the request it follows is still unanswered or was
        // delivered (see answered()); otherwise order would break.
        if (f.error.empty() && flight_) next_ = std::move(f.flight);
      });
}

void SpooledOutput::count_corrupt(const store::Removed& corrupt) {
  if (corrupt.batches == 0) return;
  stats_.dropped.corrupt += static_cast<uint64_t>(corrupt.points);
  log::error("spool_rows_corrupt", {{"output", spec_.name},
                                    {"batches", corrupt.batches},
                                    {"points", corrupt.points},
                                    {"moved_to", "dead_letters"}});
}

void SpooledOutput::fetched(Fetched&& f) {
  phase_ = Phase::kIdle;
  count_corrupt(f.corrupt);
  if (!f.error.empty()) {
    log::error("spool_read_failed", {{"output", spec_.name}, {"error", f.error}});
    phase_ = Phase::kWaiting;
    wake_in(1000);
    return;
  }
  if (!f.flight) {
    queue_.batches = 0;  // The spool says so; the next stats refresh agrees.
    return;
  }
  send(std::move(f.flight));
}

void SpooledOutput::send(std::shared_ptr<InFlight> flight) {
  phase_ = Phase::kSending;
  flight->started_ns = uv_hrtime();
  flight->started_ms = unix_now_ms();
  flight_ = flight;
  prefetch(*flight);
  std::weak_ptr<bool> alive = alive_;
  request_id_ =
      client_.send(build_request(*flight), [this, alive, flight](http::ClientResponse&& response) {
        auto guard = alive.lock();
        if (!guard || !*guard) return;
        answered(flight, std::move(response));
      });
}

http::ClientRequest SpooledOutput::build_request(InFlight& flight) const {
  http::ClientRequest r = spec_.kind->request(flight.precision);
  bool compressed = flight.coding != ContentCoding::kIdentity;
  if (compressed) {
    r.headers.emplace_back(std::string("Content-Encoding: ") + content_coding_name(flight.coding));
  }
  // A flight is sent once (a retry reads the spool again), so the request
  // takes the text rather than a second copy of it.
  r.body = std::move(compressed ? flight.wire : flight.body);
  flight.sent_bytes = r.body.size();
  return r;
}

void SpooledOutput::answered(std::shared_ptr<InFlight> flight, http::ClientResponse&& response) {
  phase_ = Phase::kIdle;
  send_seconds_.observe(static_cast<double>(uv_hrtime() - flight->started_ns) / 1e9);
  WriteOutcome outcome = spec_.kind->classify(response);
  if (outcome != WriteOutcome::kDelivered) ++stats_.failed_requests;
  // A receiver that refuses a whole request for one bad sample: resend its
  // batches one at a time rather than dead-letter the good with the bad.
  bool isolate = outcome == WriteOutcome::kRejected && spec_.kind->rejects_whole_request() &&
                 flight->ids.size() > 1;
  bool unsendable = flight->ids.size() == 1 && (flight->points <= 1 || flight->uncuttable);
  bool settles = outcome == WriteOutcome::kDelivered ||
                 (outcome == WriteOutcome::kRejected && !isolate) ||
                 (outcome == WriteOutcome::kTooLarge && unsendable);
  if (!settles) end_flight(*flight, false);
  if (outcome != WriteOutcome::kDelivered) next_.reset();
  if (isolate) {
    isolate_through_id_ = flight->ids.back();
    log::warn("output_isolating", {{"output", spec_.name},
                                   {"batches", static_cast<int64_t>(flight->ids.size())},
                                   {"error", spec_.kind->describe_failure(response)},
                                   {"action", "resending the batches one at a time"}});
    maybe_send();
    return;
  }
  switch (outcome) {
    case WriteOutcome::kDelivered:
    case WriteOutcome::kRejected:
      settle(flight, outcome, response);
      return;
    case WriteOutcome::kTooLarge:
      ++stats_.splits;
      if (flight->ids.size() > 1) {
        max_request_points_ = std::max<int64_t>(1, flight->points / 2);
      } else if (!unsendable) {
        split_lines_ = std::max<int64_t>(1, flight->points / 2);
      } else {
        // One line too large, or a row that cannot be cut: never sendable.
        settle(flight, WriteOutcome::kRejected, response);
        return;
      }
      log::warn("output_split", {{"output", spec_.name},
                                 {"points", flight->points},
                                 {"max_request_points", max_request_points_},
                                 {"split_lines", split_lines_}});
      maybe_send();
      return;
    case WriteOutcome::kRefused:
      fail(OutputState::kFailing, spec_.kind->describe_failure(response));
      retry_later(spec_.delivery.retry_max);
      return;
    case WriteOutcome::kRetry: {
      ++stats_.retries;
      fail(OutputState::kRetrying, spec_.kind->describe_failure(response));
      auto after = response.retry_after();
      retry_later(after ? std::min(std::max(*after, std::chrono::milliseconds(100)),
                                   std::chrono::milliseconds(kMaxRetryAfterMs))
                        : backoff_.next());
      return;
    }
  }
}

void SpooledOutput::settle(std::shared_ptr<InFlight> flight, WriteOutcome outcome,
                           const http::ClientResponse& response) {
  phase_ = Phase::kSettling;
  bool delivered = outcome == WriteOutcome::kDelivered;
  std::string why = delivered ? "" : spec_.kind->describe_failure(response);
  int status = response.status;
  if (delivered) {
    stats_.sent_points += static_cast<uint64_t>(flight->points);
    stats_.sent_bytes += flight->sent_bytes;
    ++stats_.sent_batches;
    stats_.last_success_unix_ms = unix_now_ms();
    recovered();
    if (spec_.delivery.replay_rate > 0) {
      not_before_ms_ = flight->started_ms + flight->points * 1000 / spec_.delivery.replay_rate;
    }
  } else {
    // Shown in /status, but the state stays: the output itself works.
    stats_.last_error = why;
    stats_.last_error_unix_ms = unix_now_ms();
  }
  struct Settled {
    std::string error;
    std::vector<store::QueueStats> queues;
  };
  std::weak_ptr<bool> alive = alive_;
  spool_.call<Settled>(
      [flight, delivered, status, why](store::Spool* spool) {
        Settled s;
        if (spool == nullptr) {
          s.error = "spool not open";
          return s;
        }
        if (!delivered) {
          s.error = spool->dead_letter(flight->ids, status, why);
        } else if (flight->partial) {
          s.error = spool->replace_body(flight->ids.front(), flight->rest, flight->rest_points);
        } else {
          s.error = spool->remove(flight->ids);
        }
        if (std::string err = spool->stats(&s.queues); s.error.empty()) s.error = err;
        return s;
      },
      [this, alive, flight, delivered, status, why](Settled&& s) {
        auto guard = alive.lock();
        if (!guard || !*guard) return;
        // A whole batch went through: the split (after a 413) is over.
        if (delivered && !flight->partial) split_lines_ = 0;
        // The batches of the refused request have each had their own answer.
        if (isolate_through_id_ > 0 && flight->ids.back() >= isolate_through_id_) {
          isolate_through_id_ = 0;
        }
        if (!delivered) count_dead_letter(*flight, status, why);
        end_flight(*flight, delivered);
        settled(std::move(s.error), std::move(s.queues));
      });
}

void SpooledOutput::count_dead_letter(const InFlight& flight, int status, const std::string& why) {
  // What a cap deleted meanwhile was not dead-lettered (end_flight counts it).
  int64_t points = flight.points + (flight.partial ? flight.rest_points : 0) -
                   static_cast<int64_t>(flight.capped.total());
  if (points <= 0) return;
  stats_.dead_lettered_points += static_cast<uint64_t>(points);
  stats_.dead_lettered_batches += flight.ids.size();
  log::warn("output_dead_letter",
            {{"output", spec_.name}, {"points", points}, {"status", status}, {"error", why}});
}

void SpooledOutput::settled(std::string error, std::vector<store::QueueStats>&& queues) {
  phase_ = Phase::kIdle;
  if (!error.empty()) {
    // The request was answered but the spool could not record it: the batch
    // will be sent again (InfluxDB overwrites identical points, so a resend
    // does not double anything).
    log::error("spool_update_failed", {{"output", spec_.name}, {"error", error}});
  }
  // Hands every output its fresh queue, this one included (which sends on).
  on_stats_(std::move(queues));
}

void SpooledOutput::retry_later(std::chrono::milliseconds delay) {
  if (stopping_) return;
  phase_ = Phase::kWaiting;
  wake_in(delay.count());
}

void SpooledOutput::fail(OutputState state, const std::string& error, std::string_view action) {
  bool changed = stats_.state != state || stats_.last_error != error;
  stats_.state = state;
  stats_.last_error = error;
  stats_.last_error_unix_ms = unix_now_ms();
  if (!changed) return;
  if (state == OutputState::kFailing) {
    log::error("output_failing",
               {{"output", spec_.name},
                {"error", error},
                {"action", !action.empty() ? action
                                           : "sending stopped, points kept in the spool; "
                                             "fix the configuration or the server, retried "
                                             "every retry_max"}});
  } else {
    log::warn("output_retrying", {{"output", spec_.name}, {"error", error}});
  }
}

void SpooledOutput::recovered() {
  backoff_.reset();
  if (stats_.state == OutputState::kOk) return;
  log::info(
      "output_recovered",
      {{"output", spec_.name}, {"queued_points", queue_.points}, {"retries", stats_.retries}});
  stats_.state = OutputState::kOk;
}

std::string SpooledOutput::display_url() const {
  return spec_.kind->display_url();
}

}  // namespace edgemon::outputs
