#include "api/alert_endpoints.hpp"

#include <strings.h>

#include <algorithm>
#include <charconv>

#include "core/clock.hpp"
#include "core/json_document.hpp"
#include "core/log.hpp"
#include "http/query_string.hpp"
#include "ingest/alert_webhook.hpp"

namespace edgemon::api {
namespace {

using metrics::FamilyDesc;
using metrics::Type;

// Notifications and listings queued for the worker: beyond either bound the
// receiver answers 503 (Alertmanager retries) instead of queueing bodies.
constexpr size_t kMaxPending = 64;
constexpr size_t kMaxPendingBytes = 16 * 1024 * 1024;
constexpr int64_t kDefaultLimit = 100;
constexpr int64_t kMaxLimit = 10000;
// Bounds alerts.db on a 1 GiB board whatever the alerts carry.
constexpr int64_t kMaxStoreBytes = 64 * 1024 * 1024;
constexpr uint64_t kRetentionIntervalMs = 60 * 1000;

constexpr const char* kResultNames[] = {"stored", "invalid", "unauthorized", "unavailable",
                                        "failed"};
constexpr store::AlertChange kChanges[] = {
    store::AlertChange::kNew, store::AlertChange::kUpdated, store::AlertChange::kResolved,
    store::AlertChange::kReopened, store::AlertChange::kStale};

constexpr FamilyDesc kNotifications{
    "edgemon_alert_notifications_total",
    "Alertmanager webhook notifications on POST /alert, by result: stored (answered 200), "
    "invalid (400), unauthorized (401), unavailable (503: store closed or busy), failed (503: "
    "the write failed).",
    Type::kCounter};
constexpr FamilyDesc kReceived{
    "edgemon_alerts_received_total",
    "Alerts in stored notifications, by alertname and status. Alertnames beyond the first 1000 "
    "are counted as alertname=\"other\".",
    Type::kCounter};
constexpr FamilyDesc kChangesDesc{
    "edgemon_alert_changes_total",
    "What stored notifications did to the alerts: new, updated, resolved (closed a firing one), "
    "reopened (a resolved one fired again), stale (older than what is stored; ignored).",
    Type::kCounter};
constexpr FamilyDesc kFiring{"edgemon_alerts_firing", "Stored alerts whose status is firing.",
                             Type::kGauge};
constexpr FamilyDesc kStoredGauge{"edgemon_alerts_stored", "Alerts in the alert store.",
                                  Type::kGauge};
constexpr FamilyDesc kDeleted{
    "edgemon_alerts_deleted_total",
    "Alerts deleted from the store, by reason: retention (resolved longer ago than "
    "alerts.resolved_retention), limit_resolved and limit_firing (beyond alerts.max_alerts or "
    "the file's size limit).",
    Type::kCounter};
constexpr FamilyDesc kStoreOpen{"edgemon_alert_store_open",
                                "Whether the alert store file is open (1) or not (0).",
                                Type::kGauge};
constexpr FamilyDesc kStoreBytes{"edgemon_alert_store_file_bytes",
                                 "Size of alerts.db plus its write-ahead log.", Type::kGauge};
constexpr FamilyDesc kStoreCorrupt{"edgemon_alert_store_corrupt_files_total",
                                   "Alert store files found corrupt and moved aside since start.",
                                   Type::kCounter};

std::string pairs_json(const ingest::LabelPairs& pairs) {
  JsonPtr object = json_object();
  for (const auto& [name, value] : pairs)
    cJSON_AddItemToObject(object.get(), name.c_str(), cJSON_CreateString(value.c_str()));
  return json_text(object.get());
}

std::vector<store::AlertRecord> to_records(const ingest::WebhookMessage& message) {
  std::vector<store::AlertRecord> records;
  records.reserve(message.alerts.size());
  for (const auto& a : message.alerts) {
    store::AlertRecord r;
    r.fingerprint = a.fingerprint;
    r.alertname = a.label("alertname");
    r.status = a.status;
    r.labels_json = pairs_json(a.labels);
    r.annotations_json = pairs_json(a.annotations);
    r.starts_at_ms = a.starts_at_ms;
    r.ends_at_ms = a.ends_at_ms;
    r.receiver = message.receiver;
    r.generator_url = a.generator_url;
    records.push_back(std::move(r));
  }
  return records;
}

void add_time(cJSON* object, const char* key, std::optional<int64_t> unix_ms) {
  if (unix_ms) {
    cJSON_AddStringToObject(object, key, ingest::format_rfc3339_ms(*unix_ms).c_str());
  } else {
    cJSON_AddNullToObject(object, key);
  }
}

// A stored JSON object; {} if the row no longer holds one (hand-edited file).
cJSON* stored_object(const std::string& text) {
  cJSON* parsed = cJSON_ParseWithLength(text.data(), text.size());
  if (parsed != nullptr && cJSON_IsObject(parsed)) return parsed;
  cJSON_Delete(parsed);
  return cJSON_CreateObject();
}

std::string render_alerts(const std::vector<store::StoredAlert>& alerts, bool more) {
  JsonPtr root = json_object();
  cJSON* list = cJSON_AddArrayToObject(root.get(), "alerts");
  for (const auto& a : alerts) {
    cJSON* j = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "fingerprint", a.fingerprint.c_str());
    cJSON_AddStringToObject(j, "alertname", a.alertname.c_str());
    cJSON_AddStringToObject(j, "status", a.status.c_str());
    cJSON_AddItemToObject(j, "labels", stored_object(a.labels_json));
    cJSON_AddItemToObject(j, "annotations", stored_object(a.annotations_json));
    add_time(j, "starts_at", a.starts_at_ms);
    add_time(j, "ends_at", a.ends_at_ms);
    add_time(j, "first_received", a.first_received_ms);
    add_time(j, "last_received", a.last_received_ms);
    cJSON_AddNumberToObject(j, "notifications", static_cast<double>(a.notifications));
    cJSON_AddStringToObject(j, "receiver", a.receiver.c_str());
    cJSON_AddStringToObject(j, "generator_url", a.generator_url.c_str());
    cJSON_AddItemToArray(list, j);
  }
  cJSON_AddNumberToObject(root.get(), "count", static_cast<double>(alerts.size()));
  cJSON_AddBoolToObject(root.get(), "more", more);
  return json_text(root.get()) + "\n";
}

struct ListQuery {
  std::string status;  // "" = all
  int64_t limit = kDefaultLimit;
};

// status=firing|resolved, limit=N (capped); "" or the parameter and why.
std::string parse_list_query(std::string_view query, ListQuery* out) {
  std::optional<http::QueryParams> params = http::parse_query(query);
  if (!params) return "bad %-escape in the query string";
  bool seen_status = false;
  bool seen_limit = false;
  for (const auto& [name, value] : *params) {
    if (name == "status") {
      if (seen_status) return "status: given more than once";
      seen_status = true;
      if (value != "firing" && value != "resolved") {
        return "status: expected firing or resolved, got '" + value.substr(0, 64) + "'";
      }
      out->status = value;
    } else if (name == "limit") {
      if (seen_limit) return "limit: given more than once";
      seen_limit = true;
      int64_t n = 0;
      auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), n);
      if (ec == std::errc::result_out_of_range && !value.empty() && value[0] != '-') {
        n = kMaxLimit;
      } else if (ec != std::errc() || end != value.data() + value.size() || n < 1) {
        return "limit: expected a positive integer, got '" + value.substr(0, 64) + "'";
      }
      out->limit = std::min(n, kMaxLimit);
    } else {
      return "unknown parameter '" + name.substr(0, 64) + "' (expected status, limit)";
    }
  }
  return "";
}

http::Response json_response(int status, std::string body) {
  http::Response r;
  r.status = status;
  r.set_body(std::move(body));
  return r;
}

}  // namespace

// One notification on its way through the worker.
struct AlertEndpoints::Posted {
  std::string body;
  store::AlertLimits limits;
  int64_t now_ms = 0;
  std::string client;
  // Filled on the worker.
  int status = 200;
  Result result = kStored;
  std::string error;
  ingest::WebhookMessage message;
  std::vector<store::AlertChange> changes;
  store::AlertsDeleted deleted;
  StoreReport report;
};

struct AlertEndpoints::Listed {
  ListQuery query;
  int status = 200;
  std::string body;
};

AlertEndpoints::AlertEndpoints(uv_loop_t* loop) : loop_(loop), worker_(loop) {}

AlertEndpoints::~AlertEndpoints() = default;

void AlertEndpoints::configure(const config::Config& config, const std::string& path) {
  enabled_ = config.ingest.enabled && config.ingest.alerts;
  tokens_.configure(config.ingest.tokens);
  limits_.max_alerts = config.alerts.max_alerts;
  limits_.max_bytes = kMaxStoreBytes;
  limits_.resolved_retention_ms = config.alerts.resolved_retention.count();
  max_body_bytes_ = config.ingest.limits.max_body_bytes.bytes;
  if (!enabled_ || stopping_) return;
  if (path != path_) {
    path_ = path;
    open_store(path);
  }
  if (!retention_timer_) {
    retention_timer_ = std::make_unique<Timer>(loop_);
    retention_timer_->unref();
    retention_timer_->start(kRetentionIntervalMs, kRetentionIntervalMs,
                            [this] { run_retention(); });
  }
}

void AlertEndpoints::stop() {
  stopping_ = true;
  if (retention_timer_) retention_timer_->stop();
}

void AlertEndpoints::add_routes(http::Router& router) {
  http::Route& post =
      router.add("POST", "/alert", http::Group::kIngest,
                 [this](const http::Request& q, http::Response& r) { post_alert(q, r); });
  post.max_body_bytes = max_body_bytes_;
  router.add("GET", "/alerts", http::Group::kRead,
             [this](const http::Request& q, http::Response& r) { get_alerts(q, r); });
}

std::string AlertEndpoints::unauthorized(const http::Request& request) const {
  ingest::Identity id = tokens_.identify(request, {});
  if (id.status != 0) return id.message;
  if (id.device == ingest::kAnyDevice || id.device == ingest::kAlertmanagerEntry) return "";
  return "the token of " + id.device +
         " may not post alerts (ingest.tokens entry alertmanager "
         "or * needed)";
}

void AlertEndpoints::post_alert(const http::Request& request, http::Response& response) {
  if (!enabled_) {
    response = http::json_error(404,
                                "the alert receiver is off: set ingest.enabled and "
                                "ingest.alerts");
    return;
  }
  if (std::string why = unauthorized(request); !why.empty()) {
    ++results_[kUnauthorized];
    response = http::json_error(401, why);
    response.headers.emplace_back("WWW-Authenticate", "Bearer realm=\"edgemon\"");
    return;
  }
  if (const std::string* coding = request.header("content-encoding");
      coding != nullptr && strcasecmp(coding->c_str(), "identity") != 0) {
    ++results_[kInvalid];
    response = http::json_error(
        415, "Content-Encoding " + coding->substr(0, 32) + " is not supported on /alert");
    return;
  }
  if (stopping_ || pending_ >= kMaxPending ||
      pending_bytes_ + request.body.size() > kMaxPendingBytes) {
    ++results_[kUnavailable];
    response = http::json_error(503, stopping_ ? "shutting down" : "alert store busy");
    return;
  }
  auto posted = std::make_shared<Posted>();
  posted->body = request.body;
  posted->limits = limits_;
  posted->now_ms = unix_now_ms();
  posted->client = request.client.to_string();
  size_t bytes = posted->body.size();
  ++pending_;
  pending_bytes_ += bytes;
  worker_.post([this, posted] { store_notification(*posted); },
               [this, posted, bytes, responder = response.defer()]() mutable {
                 --pending_;
                 pending_bytes_ -= bytes;
                 finish_post(*posted, responder);
               });
}

void AlertEndpoints::store_notification(Posted& posted) {
  std::string body = std::move(posted.body);
  if (!store_) {
    posted.status = 503;
    posted.result = kUnavailable;
    posted.error = "alert store unavailable: " + worker_state_.error;
    posted.report = worker_report();
    return;
  }
  posted.error = ingest::parse_alert_webhook(body, &posted.message);
  if (!posted.error.empty()) {
    posted.status = 400;
    posted.result = kInvalid;
    posted.report = worker_report();
    return;
  }
  std::vector<store::AlertRecord> records = to_records(posted.message);
  std::string error =
      store_->upsert(records, posted.now_ms, posted.limits, &posted.changes, &posted.deleted);
  if (!error.empty()) {
    posted.status = 503;
    posted.result = kFailed;
    posted.error = "alert store: " + error;
    // A damaged file is moved aside now, so Alertmanager's retry lands.
    if (store_->corrupt()) reopen(store_path_);
  }
  posted.report = worker_report();
}

void AlertEndpoints::finish_post(Posted& posted, http::Responder& responder) {
  take_report(posted.report);
  deleted_.retention += posted.deleted.retention;
  deleted_.resolved += posted.deleted.resolved;
  deleted_.firing += posted.deleted.firing;
  ++results_[posted.result];
  if (posted.status != 200) {
    auto level = posted.status == 400 ? log::Level::kWarn : log::Level::kError;
    log::write(level, "alert_notification_rejected",
               {{"status", posted.status}, {"client", posted.client}, {"error", posted.error}});
    http::Response response = http::json_error(posted.status, posted.error);
    if (posted.status == 503) response.headers.emplace_back("Retry-After", "5");
    responder.send(std::move(response));
    return;
  }
  const ingest::WebhookMessage& m = posted.message;
  for (size_t i = 0; i < m.alerts.size(); ++i) {
    const ingest::WebhookAlert& a = m.alerts[i];
    store::AlertChange change = posted.changes[i];
    ++changes_[static_cast<size_t>(change)];
    count_received(std::string(a.label("alertname")), a.status == "firing");
    std::string starts = a.starts_at_ms ? ingest::format_rfc3339_ms(*a.starts_at_ms) : "";
    log::info("alert_received", {{"alertname", a.label("alertname")},
                                 {"status", a.status},
                                 {"fingerprint", a.fingerprint},
                                 {"severity", a.label("severity")},
                                 {"starts_at", starts},
                                 {"summary", a.annotation("summary")},
                                 {"receiver", m.receiver},
                                 {"change", store::change_name(change)}});
  }
  if (m.truncated_alerts > 0) {
    log::warn("alert_notification_truncated",
              {{"receiver", m.receiver}, {"truncated_alerts", m.truncated_alerts}});
  }
  responder.send(json_response(200, "{\"received\":" + std::to_string(m.alerts.size()) + "}\n"));
}

void AlertEndpoints::count_received(const std::string& alertname, bool firing) {
  auto it = received_.find(alertname);
  if (it == received_.end()) {
    bool room = received_.size() < kMaxAlertnames;
    it = received_.try_emplace(room ? alertname : std::string("other")).first;
  }
  ++it->second[firing ? 0 : 1];
}

void AlertEndpoints::get_alerts(const http::Request& request, http::Response& response) {
  if (!enabled_) {
    response = http::json_error(404,
                                "the alert receiver is off: set ingest.enabled and "
                                "ingest.alerts");
    return;
  }
  auto listed = std::make_shared<Listed>();
  if (std::string e = parse_list_query(request.query, &listed->query); !e.empty()) {
    response = http::json_error(400, e);
    return;
  }
  if (pending_ >= kMaxPending) {
    response = http::json_error(503, "alert store busy");
    return;
  }
  ++pending_;
  worker_.post([this, listed] { list_alerts(*listed); },
               [this, listed, responder = response.defer()]() mutable {
                 --pending_;
                 responder.send(json_response(listed->status, std::move(listed->body)));
               });
}

void AlertEndpoints::list_alerts(Listed& listed) {
  if (!store_) {
    listed.status = 503;
    http::Response r = http::json_error(503, "alert store unavailable: " + worker_state_.error);
    listed.body = *r.body.front();
    return;
  }
  std::vector<store::StoredAlert> alerts;
  bool more = false;
  std::string error = store_->list(listed.query.status, listed.query.limit, &alerts, &more);
  if (!error.empty()) {
    listed.status = 503;
    http::Response r = http::json_error(503, "alert store: " + error);
    listed.body = *r.body.front();
    return;
  }
  listed.body = render_alerts(alerts, more);
}

void AlertEndpoints::open_store(const std::string& path) {
  auto report = std::make_shared<StoreReport>();
  worker_.post(
      [this, path, report] {
        reopen(path);
        *report = worker_report();
      },
      [this, report] { take_report(*report); });
}

void AlertEndpoints::reopen(const std::string& path) {
  store_.reset();
  store_path_ = path;
  store::AlertStoreOpenReport opened;
  std::string error;
  store_ = store::AlertStore::open(path, &opened, &error);
  worker_state_.open = store_ != nullptr;
  worker_state_.error = error;
  if (!opened.moved_to.empty()) {
    ++worker_state_.corrupt_files;
    worker_state_.moved_to = opened.moved_to;
    worker_state_.corrupt_reason = opened.corrupt_reason;
  }
}

AlertEndpoints::StoreReport AlertEndpoints::worker_report() const {
  StoreReport r = worker_state_;
  if (store_) {
    r.counts = store_->counts();
    r.file_bytes = store_->file_bytes();
  }
  return r;
}

void AlertEndpoints::take_report(const StoreReport& report) {
  if (report.corrupt_files > report_.corrupt_files) {
    log::warn("alert_store_corrupt",
              {{"path", path_}, {"reason", report.corrupt_reason}, {"moved_to", report.moved_to}});
  }
  if (report.open && !report_.open) {
    log::info(
        "alert_store_open",
        {{"path", path_}, {"alerts", report.counts.stored}, {"firing", report.counts.firing}});
  }
  if (!report.open && !report.error.empty() && report.error != report_.error) {
    log::error("alert_store_unavailable", {{"path", path_}, {"error", report.error}});
  }
  report_ = report;
}

void AlertEndpoints::run_retention() {
  if (pending_ >= kMaxPending) return;
  struct Outcome {
    std::string error;
    store::AlertsDeleted deleted;
    StoreReport report;
  };
  auto outcome = std::make_shared<Outcome>();
  ++pending_;
  worker_.post(
      [this, outcome, limits = limits_, now = unix_now_ms()] {
        // A store that could not be opened is tried again on each round.
        if (!store_) reopen(store_path_);
        if (store_) {
          outcome->error = store_->enforce(limits, now, &outcome->deleted);
          if (store_->corrupt()) reopen(store_path_);
        }
        outcome->report = worker_report();
      },
      [this, outcome] {
        --pending_;
        take_report(outcome->report);
        const store::AlertsDeleted& d = outcome->deleted;
        deleted_.retention += d.retention;
        deleted_.resolved += d.resolved;
        deleted_.firing += d.firing;
        if (!outcome->error.empty()) {
          log::error("alert_retention_failed", {{"path", path_}, {"error", outcome->error}});
        } else if (d.retention + d.resolved + d.firing > 0) {
          log::info("alert_retention", {{"deleted_retention", d.retention},
                                        {"deleted_resolved", d.resolved},
                                        {"deleted_firing", d.firing}});
        }
      });
}

void AlertEndpoints::write_metrics(metrics::MetricSink& sink) const {
  if (path_.empty()) return;
  sink.begin(kNotifications);
  for (size_t i = 0; i < kResultCount; ++i)
    sink.sample({{"result", kResultNames[i]}}, static_cast<double>(results_[i]));
  sink.begin(kReceived);
  for (const auto& [alertname, counts] : received_) {
    sink.sample({{"alertname", alertname}, {"status", "firing"}}, static_cast<double>(counts[0]));
    sink.sample({{"alertname", alertname}, {"status", "resolved"}}, static_cast<double>(counts[1]));
  }
  sink.begin(kChangesDesc);
  for (store::AlertChange c : kChanges) {
    sink.sample({{"change", store::change_name(c)}},
                static_cast<double>(changes_[static_cast<size_t>(c)]));
  }
  sink.begin(kFiring);
  sink.sample(static_cast<double>(report_.counts.firing));
  sink.begin(kStoredGauge);
  sink.sample(static_cast<double>(report_.counts.stored));
  sink.begin(kDeleted);
  sink.sample({{"reason", "retention"}}, static_cast<double>(deleted_.retention));
  sink.sample({{"reason", "limit_resolved"}}, static_cast<double>(deleted_.resolved));
  sink.sample({{"reason", "limit_firing"}}, static_cast<double>(deleted_.firing));
  sink.begin(kStoreOpen);
  sink.sample(report_.open ? 1.0 : 0.0);
  sink.begin(kStoreBytes);
  sink.sample(static_cast<double>(report_.file_bytes));
  sink.begin(kStoreCorrupt);
  sink.sample(static_cast<double>(report_.corrupt_files));
}

void AlertEndpoints::write_status(cJSON* root) const {
  if (path_.empty()) return;
  cJSON* j = cJSON_AddObjectToObject(root, "alerts");
  cJSON_AddBoolToObject(j, "enabled", enabled_);
  cJSON_AddStringToObject(j, "path", path_.c_str());
  cJSON_AddBoolToObject(j, "open", report_.open);
  if (report_.error.empty()) {
    cJSON_AddNullToObject(j, "error");
  } else {
    cJSON_AddStringToObject(j, "error", report_.error.c_str());
  }
  cJSON_AddNumberToObject(j, "stored", static_cast<double>(report_.counts.stored));
  cJSON_AddNumberToObject(j, "firing", static_cast<double>(report_.counts.firing));
  cJSON_AddNumberToObject(j, "file_bytes", static_cast<double>(report_.file_bytes));
  cJSON_AddNumberToObject(j, "corrupt_files", static_cast<double>(report_.corrupt_files));
  if (!report_.moved_to.empty()) {
    cJSON_AddStringToObject(j, "corrupt_file_moved_to", report_.moved_to.c_str());
  }
  cJSON* n = cJSON_AddObjectToObject(j, "notifications");
  for (size_t i = 0; i < kResultCount; ++i)
    cJSON_AddNumberToObject(n, kResultNames[i], static_cast<double>(results_[i]));
  cJSON* d = cJSON_AddObjectToObject(j, "deleted");
  cJSON_AddNumberToObject(d, "retention", static_cast<double>(deleted_.retention));
  cJSON_AddNumberToObject(d, "limit_resolved", static_cast<double>(deleted_.resolved));
  cJSON_AddNumberToObject(d, "limit_firing", static_cast<double>(deleted_.firing));
}

}  // namespace edgemon::api
