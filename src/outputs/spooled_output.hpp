#pragma once
// One output of any kind: encodes the points it is given into its pending
// batch, and sends what the spool holds for it, oldest first, one request at
// a time, deleting a batch from the spool only after a 2xx. The Pipeline
// decides when pending batches are committed to the spool; this class never
// sends anything that is not in the spool. What differs between kinds
// (InfluxDB, hub, remote_write) -- the row format, joining and cutting rows,
// compression, the request and how its answer reads -- is the OutputKind of
// its OutputSpec (output_kind.hpp).
#include <uv.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/backoff.hpp"
#include "core/timer.hpp"
#include "http/http_client.hpp"
#include "metrics/histogram.hpp"
#include "outputs/output_kind.hpp"
#include "outputs/point_encoding.hpp"
#include "outputs/write_outcome.hpp"
#include "store/spool_worker.hpp"

namespace edgemon::outputs {

enum class OutputState { kOk, kRetrying, kFailing };
const char* state_name(OutputState state);

// Points that left without being delivered, by reason.
struct DroppedPoints {
  uint64_t max_bytes = 0;        // spool cap reached: oldest batches dropped
  uint64_t max_age = 0;          // older than the age cap
  uint64_t corrupt = 0;          // unreadable spool rows
  uint64_t unrepresentable = 0;  // points (samples) the output's format cannot carry
  uint64_t spool_error = 0;      // the spool could not take them
  uint64_t unavailable = 0;      // the output's library is missing (OutputKind::unavailable)
  uint64_t total() const {
    return max_bytes + max_age + corrupt + unrepresentable + spool_error + unavailable;
  }
  void add(const DroppedPoints& other);
};

struct OutputStats {
  OutputState state = OutputState::kOk;
  std::string last_error;
  int64_t last_error_unix_ms = 0;
  int64_t last_success_unix_ms = 0;
  store::QueueStats queue;
  uint64_t sent_points = 0;
  uint64_t sent_batches = 0;  // requests that got a 2xx
  uint64_t sent_bytes = 0;    // request bodies as sent (compressed)
  uint64_t failed_requests = 0;
  uint64_t retries = 0;
  uint64_t splits = 0;  // 413 answers that made us send smaller requests
  DroppedPoints dropped;
  uint64_t dead_lettered_points = 0;
  uint64_t dead_lettered_batches = 0;
};

class SpooledOutput {
 public:
  using StatsListener = std::function<void(std::vector<store::QueueStats>&&)>;

  SpooledOutput(uv_loop_t* loop, http::HttpClient& client, store::SpoolWorker& spool,
                OutputSpec spec, StatsListener on_stats);
  ~SpooledOutput();
  SpooledOutput(const SpooledOutput&) = delete;
  SpooledOutput& operator=(const SpooledOutput&) = delete;

  const std::string& name() const { return spec_.name; }
  const OutputSpec& spec() const { return spec_; }
  const config::DeliverySettings& delivery() const { return spec_.delivery; }

  // Encodes the points of one collection (in the schemas this output wants)
  // into the pending batch.
  void add(std::span<const metrics::Point> host, std::span<const metrics::Point> system_metrics);
  // Encodes points received by the hub (whatever their measurement).
  void add_received(std::span<const metrics::Point> points);
  // The same, encoded off the loop with this output's PointEncoding.
  void add_encoded(EncodedPoints&& encoded);
  // Moves the pending batches out for the spool (at most batch_size points
  // each, so a burst of received points never makes a request too large);
  // false when there are none.
  bool take_pending(int64_t now_unix_ms, std::vector<store::NewBatch>* out);
  size_t pending_bytes() const { return pending_.size() + full_bytes_; }
  int64_t pending_points() const { return pending_points_ + full_points_; }

  // The spool's view of this output's queue changed (after a commit, a
  // delivery, a cap): sends if there is something due.
  void queue_changed(const store::QueueStats& queue);
  // A cap removed these batches. Those of the request in flight are counted
  // when it is answered: delivered after all, or dropped.
  void count_dropped(const store::Removed& by_max_bytes, const store::Removed& by_max_age);
  void count_spool_error(int64_t points);
  void set_spool_ready(bool ready);

  // From now on send whatever is queued regardless of flush_interval, but
  // start no new backoff; the Pipeline stops waiting when idle() or at its
  // deadline, then calls abandon().
  void begin_stop();
  // Ends a wait between retries (after a reload an operator expects a
  // failing output to be tried at once with what they fixed).
  void retry_now();
  bool idle() const { return phase_ == Phase::kIdle || phase_ == Phase::kWaiting; }
  bool drained() const { return queue_.batches == 0 && pending_.empty() && full_.empty(); }
  // Drops the request in flight; its batches stay in the spool.
  void abandon();

  const OutputStats& stats() const { return stats_; }
  const metrics::Histogram& send_seconds() const { return send_seconds_; }
  // The URL without credentials, for /status.
  std::string display_url() const;

 private:
  enum class Phase { kIdle, kFetching, kSending, kSettling, kWaiting };
  struct InFlight;
  struct Fetched {
    std::string error;
    std::shared_ptr<InFlight> flight;  // null when nothing was queued
    store::Removed corrupt;
  };

  bool due(int64_t now_ms) const;
  void maybe_send();
  // Runs on the spool thread: one request body from the fetched batches.
  static std::shared_ptr<InFlight> assemble(const OutputKind& kind,
                                            std::vector<store::Batch>&& batches,
                                            int64_t split_items);
  int64_t fetch_points() const;
  void fetched(Fetched&& f);
  void count_corrupt(const store::Removed& corrupt);
  void send(std::shared_ptr<InFlight> flight);
  void prefetch(const InFlight& current);
  void answered(std::shared_ptr<InFlight> flight, http::ClientResponse&& response);
  void settle(std::shared_ptr<InFlight> flight, WriteOutcome outcome,
              const http::ClientResponse& response);
  void settled(std::string error, std::vector<store::QueueStats>&& queues);
  void end_flight(const InFlight& flight, bool delivered);
  void count_dead_letter(const InFlight& flight, int status, const std::string& why);
  void retry_later(std::chrono::milliseconds delay);
  // `action`, for the log: what happens now, when not the usual for `state`.
  void fail(OutputState state, const std::string& error, std::string_view action = {});
  void recovered();
  void wake_in(int64_t ms);
  http::ClientRequest build_request(InFlight& flight) const;

  http::HttpClient& client_;
  store::SpoolWorker& spool_;
  OutputSpec spec_;
  StatsListener on_stats_;
  PointEncoding encoding_;
  void close_batch(int64_t now_unix_ms);

  std::string pending_;
  int64_t pending_points_ = 0;
  int64_t pending_since_ms_ = 0;
  std::vector<store::NewBatch> full_;  // closed at batch_size, not committed yet
  size_t full_bytes_ = 0;
  int64_t full_points_ = 0;

  store::QueueStats queue_;
  OutputStats stats_;
  metrics::Histogram send_seconds_;
  Backoff backoff_;
  Timer wake_;
  Phase phase_ = Phase::kIdle;
  // The kind cannot run in this process (OutputKind::unavailable()): never
  // sends, not even what an earlier run spooled.
  bool unavailable_ = false;
  bool spool_ready_ = false;
  bool stopping_ = false;
  int64_t not_before_ms_ = 0;  // replay_rate and backoff
  // Learned from 413s: the most points one request may carry, and for a
  // single batch too large by itself, the items (lines, samples) of it sent
  // at once.
  int64_t max_request_points_;
  int64_t split_lines_ = 0;
  // For a kind whose receiver refuses a whole request for one bad sample:
  // after a rejected request of several batches, the batches up to this id
  // are sent one at a time, so that only the bad one is dead-lettered.
  int64_t isolate_through_id_ = 0;
  uint64_t request_id_ = 0;
  // From send() until its outcome is recorded in the spool.
  std::shared_ptr<InFlight> flight_;
  // During a backlog, the next request is read from the spool while the
  // current one is on the wire; used only if the current one is delivered.
  std::shared_ptr<InFlight> next_;
  // Callbacks from the spool thread or curl hold this weakly, so that an
  // output removed by a reload is not called after it is gone.
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace edgemon::outputs
