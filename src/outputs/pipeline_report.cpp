// The outputs and the spool as an operator sees them: /status and /metrics.
#include <uv.h>

#include "core/clock.hpp"
#include "outputs/pipeline.hpp"

namespace edgemon::outputs {
namespace {

using metrics::FamilyDesc;
using metrics::Type;

double oldest_age_seconds(const store::QueueStats& q, int64_t now_ms) {
  if (q.batches == 0 || q.oldest_created_ms == 0) return 0;
  return static_cast<double>(std::max<int64_t>(now_ms - q.oldest_created_ms, 0)) / 1000.0;
}

void add_number(cJSON* object, const char* key, double value) {
  cJSON_AddNumberToObject(object, key, value);
}

void add_time(cJSON* object, const char* key, int64_t unix_ms) {
  if (unix_ms == 0) {
    cJSON_AddNullToObject(object, key);
    return;
  }
  add_number(object, key, static_cast<double>(unix_ms) / 1000.0);
}

constexpr FamilyDesc kState{"edgemon_output_state",
                            "1 for the output's current state: ok, retrying (transient errors, "
                            "backing off) or failing (refused: fix the configuration).",
                            Type::kGauge};
constexpr FamilyDesc kQueuedBatches{"edgemon_output_queued_batches",
                                    "Batches waiting in the spool for this output.", Type::kGauge};
constexpr FamilyDesc kQueuedPoints{"edgemon_output_queued_points",
                                   "Points waiting in the spool for this output.", Type::kGauge};
constexpr FamilyDesc kQueuedBytes{"edgemon_output_queued_bytes",
                                  "Line-protocol bytes waiting in the spool for this output.",
                                  Type::kGauge};
constexpr FamilyDesc kOldest{"edgemon_output_oldest_queued_age_seconds",
                             "Age of the oldest batch waiting for this output (0 when none).",
                             Type::kGauge};
constexpr FamilyDesc kSentPoints{"edgemon_output_sent_points_total",
                                 "Points the output's server acknowledged with a 2xx.",
                                 Type::kCounter};
constexpr FamilyDesc kSentRequests{"edgemon_output_sent_requests_total",
                                   "Write requests answered with a 2xx.", Type::kCounter};
constexpr FamilyDesc kSentBytes{"edgemon_output_sent_bytes_total",
                                "Request body bytes delivered (after compression).",
                                Type::kCounter};
constexpr FamilyDesc kFailed{
    "edgemon_output_failed_requests_total",
    "Write requests that did not get a 2xx (errors and timeouts included).", Type::kCounter};
constexpr FamilyDesc kRetries{"edgemon_output_retries_total",
                              "Write requests retried after a transient failure.", Type::kCounter};
constexpr FamilyDesc kDropped{
    "edgemon_output_dropped_points_total",
    "Points that will never be delivered, by reason: max_bytes, max_age (spool caps), corrupt "
    "(unreadable spool row), unrepresentable (not expressible in the output's format), "
    "spool_error (the spool could not store them), unavailable (the output's library is "
    "missing).",
    Type::kCounter};
constexpr FamilyDesc kDeadLettered{
    "edgemon_output_dead_lettered_points_total",
    "Points the server rejected (400/422) or that could never be sent, kept in dead_letters.",
    Type::kCounter};
constexpr FamilyDesc kDeadLetters{"edgemon_output_dead_letter_points",
                                  "Points currently kept in the spool's dead_letters table.",
                                  Type::kGauge};
constexpr FamilyDesc kSendSeconds{"edgemon_output_send_duration_seconds",
                                  "Time from sending a write request to its answer.",
                                  Type::kHistogram};
constexpr FamilyDesc kSpoolBytes{"edgemon_spool_file_bytes",
                                 "Size of the spool file plus its write-ahead log.", Type::kGauge};
constexpr FamilyDesc kSpoolCommits{"edgemon_spool_commits_total",
                                   "Transactions that wrote new batches to the spool.",
                                   Type::kCounter};
constexpr FamilyDesc kSpoolFailures{"edgemon_spool_commit_failures_total",
                                    "Spool writes that failed (batches kept in memory, bounded).",
                                    Type::kCounter};
constexpr FamilyDesc kSpoolCorrupt{"edgemon_spool_corrupt_files_total",
                                   "Spool files found corrupt and moved aside since start.",
                                   Type::kCounter};
constexpr FamilyDesc kSpoolUncommitted{
    "edgemon_spool_uncommitted_points",
    "Points produced for the outputs and not yet committed to the spool: what a SIGKILL or a "
    "power cut would lose now.",
    Type::kGauge};
constexpr FamilyDesc kSpoolUp{"edgemon_spool_open",
                              "Whether the spool file is open (1) or not (0).", Type::kGauge};

}  // namespace

void Pipeline::write_metrics(metrics::MetricSink& sink) const {
  if (outputs_.empty()) return;
  int64_t now = unix_now_ms();
  auto each = [&](const FamilyDesc& desc, auto value_of) {
    sink.begin(desc);
    for (const auto& o : outputs_)
      sink.sample({{"output", o->name()}}, static_cast<double>(value_of(*o)));
  };
  sink.begin(kState);
  for (const auto& o : outputs_) {
    for (auto s : {OutputState::kOk, OutputState::kRetrying, OutputState::kFailing}) {
      sink.sample({{"output", o->name()}, {"state", state_name(s)}},
                  o->stats().state == s ? 1.0 : 0.0);
    }
  }
  each(kQueuedBatches, [](const SpooledOutput& o) { return o.stats().queue.batches; });
  each(kQueuedPoints, [](const SpooledOutput& o) { return o.stats().queue.points; });
  each(kQueuedBytes, [](const SpooledOutput& o) { return o.stats().queue.bytes; });
  each(kOldest, [&](const SpooledOutput& o) { return oldest_age_seconds(o.stats().queue, now); });
  each(kSentPoints, [](const SpooledOutput& o) { return o.stats().sent_points; });
  each(kSentRequests, [](const SpooledOutput& o) { return o.stats().sent_batches; });
  each(kSentBytes, [](const SpooledOutput& o) { return o.stats().sent_bytes; });
  each(kFailed, [](const SpooledOutput& o) { return o.stats().failed_requests; });
  each(kRetries, [](const SpooledOutput& o) { return o.stats().retries; });
  sink.begin(kDropped);
  for (const auto& o : outputs_) {
    const DroppedPoints& d = o->stats().dropped;
    std::pair<const char*, uint64_t> reasons[] = {
        {"max_bytes", d.max_bytes},     {"max_age", d.max_age},
        {"corrupt", d.corrupt},         {"unrepresentable", d.unrepresentable},
        {"spool_error", d.spool_error}, {"unavailable", d.unavailable}};
    for (const auto& [reason, points] : reasons) {
      sink.sample({{"output", o->name()}, {"reason", reason}}, static_cast<double>(points));
    }
  }
  each(kDeadLettered, [](const SpooledOutput& o) { return o.stats().dead_lettered_points; });
  each(kDeadLetters, [](const SpooledOutput& o) { return o.stats().queue.dead_points; });
  sink.begin(kSendSeconds);
  for (const auto& o : outputs_) {
    metrics::Label label{"output", o->name()};
    o->send_seconds().write(sink, metrics::Labels(&label, 1));
  }
  sink.begin(kSpoolUp);
  sink.sample(report_.open ? 1.0 : 0.0);
  sink.begin(kSpoolBytes);
  sink.sample(static_cast<double>(report_.file_bytes));
  sink.begin(kSpoolCommits);
  sink.sample(static_cast<double>(report_.commits));
  sink.begin(kSpoolUncommitted);
  sink.sample(static_cast<double>(uncommitted_points()));
  sink.begin(kSpoolFailures);
  sink.sample(static_cast<double>(report_.commit_failures));
  sink.begin(kSpoolCorrupt);
  sink.sample(static_cast<double>(report_.corrupt_files));
}

void Pipeline::write_status(cJSON* root) const {
  int64_t now = unix_now_ms();
  cJSON* outputs = cJSON_AddArrayToObject(root, "outputs");
  for (const auto& o : outputs_) {
    const OutputStats& s = o->stats();
    cJSON* j = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "name", o->name().c_str());
    cJSON_AddStringToObject(j, "type", std::string(o->spec().kind->type()).c_str());
    cJSON_AddStringToObject(j, "url", o->display_url().c_str());
    cJSON_AddStringToObject(j, "state", state_name(s.state));
    if (s.last_error.empty()) {
      cJSON_AddNullToObject(j, "last_error");
    } else {
      cJSON_AddStringToObject(j, "last_error", s.last_error.c_str());
    }
    add_time(j, "last_error_time", s.last_error_unix_ms);
    add_time(j, "last_success_time", s.last_success_unix_ms);
    cJSON* q = cJSON_AddObjectToObject(j, "queued");
    add_number(q, "batches", static_cast<double>(s.queue.batches));
    add_number(q, "points", static_cast<double>(s.queue.points));
    add_number(q, "bytes", static_cast<double>(s.queue.bytes));
    add_number(q, "oldest_age_seconds", oldest_age_seconds(s.queue, now));
    add_number(j, "sent_points", static_cast<double>(s.sent_points));
    add_number(j, "sent_requests", static_cast<double>(s.sent_batches));
    add_number(j, "sent_bytes", static_cast<double>(s.sent_bytes));
    add_number(j, "failed_requests", static_cast<double>(s.failed_requests));
    add_number(j, "retries", static_cast<double>(s.retries));
    add_number(j, "splits", static_cast<double>(s.splits));
    cJSON* d = cJSON_AddObjectToObject(j, "dropped_points");
    add_number(d, "max_bytes", static_cast<double>(s.dropped.max_bytes));
    add_number(d, "max_age", static_cast<double>(s.dropped.max_age));
    add_number(d, "corrupt", static_cast<double>(s.dropped.corrupt));
    add_number(d, "unrepresentable", static_cast<double>(s.dropped.unrepresentable));
    add_number(d, "spool_error", static_cast<double>(s.dropped.spool_error));
    add_number(d, "unavailable", static_cast<double>(s.dropped.unavailable));
    add_number(j, "dead_lettered_points", static_cast<double>(s.dead_lettered_points));
    add_number(j, "dead_letter_points_stored", static_cast<double>(s.queue.dead_points));
    cJSON_AddItemToArray(outputs, j);
  }
  cJSON* spool = cJSON_AddObjectToObject(root, "spool");
  cJSON_AddStringToObject(spool, "path", report_.path.c_str());
  cJSON_AddBoolToObject(spool, "open", report_.open);
  if (report_.error.empty()) {
    cJSON_AddNullToObject(spool, "error");
  } else {
    cJSON_AddStringToObject(spool, "error", report_.error.c_str());
  }
  add_number(spool, "file_bytes", static_cast<double>(report_.file_bytes));
  add_number(spool, "commits", static_cast<double>(report_.commits));
  add_number(spool, "commit_failures", static_cast<double>(report_.commit_failures));
  add_number(spool, "corrupt_files", static_cast<double>(report_.corrupt_files));
  if (!report_.moved_to.empty()) {
    cJSON_AddStringToObject(spool, "corrupt_file_moved_to", report_.moved_to.c_str());
  }
  add_number(spool, "unspooled_bytes", static_cast<double>(report_.unspooled_bytes));
  add_number(spool, "uncommitted_points", static_cast<double>(uncommitted_points()));
}

}  // namespace edgemon::outputs
