#include "app/config_server_client.hpp"

#include "core/clock.hpp"
#include "core/log.hpp"
#include "core/loop_close.hpp"
#include "core/rfc3339.hpp"
#include "http/query_string.hpp"

namespace edgemon::app {
namespace {

// A served configuration is at most what a hub stores, plus its comments.
constexpr size_t kMaxServedBytes = 2 << 20;

std::string base_url(const ConfigServerTarget& target) {
  std::string url = target.settings.url;
  while (!url.empty() && url.back() == '/')
    url.pop_back();
  return url + "/config/" + http::percent_encode(target.device_id);
}

http::ClientRequest request_for(const ConfigServerTarget& target, std::string method,
                                std::string url) {
  http::ClientRequest request;
  request.method = std::move(method);
  request.url = std::move(url);
  request.timeout = std::chrono::milliseconds(target.settings.timeout.count());
  request.connect_timeout = request.timeout;
  request.ca_file = target.settings.tls_ca_file;
  if (!target.settings.token.empty()) {
    request.headers.push_back("Authorization: Bearer " + target.settings.token);
  }
  return request;
}

http::ClientRequest fetch_request(const ConfigServerTarget& target, const std::string& etag) {
  std::string url = base_url(target);
  if (!target.device_type.empty()) {
    url += "?device_type=" + http::percent_encode(target.device_type);
  }
  http::ClientRequest request = request_for(target, "GET", std::move(url));
  request.max_response_bytes = kMaxServedBytes;
  if (!etag.empty()) request.headers.push_back("If-None-Match: " + etag);
  return request;
}

ConfigFetch interpret(const http::ClientResponse& response) {
  ConfigFetch fetch;
  if (!response.error.empty()) {
    fetch.error = response.error;
    return fetch;
  }
  switch (response.status) {
    case 200:
      if (response.truncated) {
        fetch.error =
            "the served configuration is larger than " + std::to_string(kMaxServedBytes) + " bytes";
        return fetch;
      }
      fetch.outcome = ConfigFetch::kChanged;
      fetch.served.text = response.body;
      if (const std::string* etag = response.header("etag")) fetch.served.etag = *etag;
      return fetch;
    case 304:
      fetch.outcome = ConfigFetch::kNotModified;
      return fetch;
    case 404:
      fetch.outcome = ConfigFetch::kNone;
      return fetch;
    default:
      fetch.error = "HTTP " + std::to_string(response.status) + ": " + response.body.substr(0, 200);
      while (!fetch.error.empty() && fetch.error.back() == '\n')
        fetch.error.pop_back();
      return fetch;
  }
}

const char* state_name(ConfigServerClient::State state) {
  switch (state) {
    case ConfigServerClient::State::kApplied:
      return "applied";
    case ConfigServerClient::State::kRejected:
      return "rejected";
    case ConfigServerClient::State::kUnreachable:
      return "unreachable";
    case ConfigServerClient::State::kLocal:
      break;
  }
  return "local";
}

}  // namespace

ConfigServerTarget config_server_target(const config::Config& config,
                                        const std::string& device_id) {
  ConfigServerTarget target;
  target.settings = config.config_server;
  target.device_id = device_id;
  auto type = config.tags.find("device_type");
  if (type != config.tags.end()) target.device_type = type->second;
  return target;
}

ConfigFetch fetch_config_blocking(const ConfigServerTarget& target) {
  auto* loop = new uv_loop_t;
  uv_loop_init(loop);
  ConfigFetch fetch;
  {
    http::HttpClient client(loop);
    // Stopped at the answer: a name lookup still running on libuv's pool
    // past the timeout must not hold the start.
    client.send(fetch_request(target, ""), [&fetch, loop](http::ClientResponse&& response) {
      fetch = interpret(response);
      uv_stop(loop);
    });
    uv_run(loop, UV_RUN_DEFAULT);
  }
  // A loop that cannot close (that lookup still running) is left to it:
  // freeing it would let the lookup's completion write into freed memory.
  bool closed = false;
  close_loop(loop, &closed);
  if (closed) delete loop;
  return fetch;
}

ConfigServerClient::ConfigServerClient(uv_loop_t* loop, http::HttpClient& client)
    : client_(client), poll_timer_(loop) {
  poll_timer_.unref();
}

void ConfigServerClient::configure(const ConfigServerTarget& target, PollDone on_poll) {
  on_poll_ = std::move(on_poll);
  bool same = target.settings == target_.settings && target.device_id == target_.device_id &&
              target.device_type == target_.device_type;
  target_ = target;
  if (same) return;
  poll_timer_.stop();
  if (!active()) return;
  uint64_t every = static_cast<uint64_t>(target_.settings.poll_interval.count());
  if (every > 0) poll_timer_.start(every, every, [this] { poll(); });
}

void ConfigServerClient::stop() {
  poll_timer_.stop();
  target_ = {};
  if (fetching_) client_.cancel(fetch_id_);
  if (reporting_) client_.cancel(report_id_);
  fetching_ = false;
  reporting_ = false;
}

void ConfigServerClient::poll() {
  if (!reporting_ && !report_.empty() && report_ != reported_) post_report();
  if (fetching_) return;
  fetch(true, [this](ConfigFetch&& fetch) {
    if (on_poll_) on_poll_(std::move(fetch));
  });
}

void ConfigServerClient::fetch(bool conditional, PollDone done) {
  fetching_ = true;
  fetch_id_ =
      client_.send(fetch_request(target_, conditional ? seen_etag_ : std::string()),
                   [this, done = std::move(done)](http::ClientResponse&& response) {
                     fetching_ = false;
                     last_fetch_ms_ = unix_now_ms();
                     ConfigFetch fetch = interpret(response);
                     ++fetches_[fetch.outcome];
                     if (fetch.outcome == ConfigFetch::kFailed) {
                       // Logged once per outage, not once per poll.
                       if (state_ != State::kUnreachable && last_error_.empty()) {
                         log::warn("config_server_unreachable",
                                   {{"url", target_.settings.url},
                                    {"error", fetch.error},
                                    {"detail", "running the configuration in use"}});
                       }
                       last_error_ = fetch.error;
                     } else {
                       if (!last_error_.empty()) {
                         log::info("config_server_reachable", {{"url", target_.settings.url}});
                       }
                       last_error_.clear();
                     }
                     done(std::move(fetch));
                   });
}

void ConfigServerClient::set_state(State state, const ServedConfig& seen,
                                   std::vector<std::string> errors) {
  state_ = state;
  seen_etag_ = seen.etag;
  errors_ = std::move(errors);
}

void ConfigServerClient::report(std::string report) {
  report_ = std::move(report);
  if (!active() || reporting_ || report_ == reported_) return;
  post_report();
}

void ConfigServerClient::post_report() {
  reporting_ = true;
  http::ClientRequest request = request_for(target_, "POST", base_url(target_) + "/report");
  request.headers.push_back("Content-Type: application/json");
  request.body = report_;
  client_.send(std::move(request), [this, sent = report_](http::ClientResponse&& response) {
    reporting_ = false;
    if (response.error.empty() && response.status / 100 == 2) {
      reported_ = sent;
    } else {
      ++report_failures_;
      log::debug("config_report_failed",
                 {{"error", response.error.empty() ? "HTTP " + std::to_string(response.status)
                                                   : response.error}});
    }
    // A newer report arrived while this one was on its way.
    if (reported_ == sent && report_ != sent) post_report();
  });
}

void ConfigServerClient::describe(cJSON* object) const {
  cJSON_AddStringToObject(object, "url", target_.settings.url.c_str());
  cJSON_AddStringToObject(object, "state", state_name(state_));
  if (!seen_etag_.empty()) cJSON_AddStringToObject(object, "etag", seen_etag_.c_str());
  if (last_fetch_ms_ > 0) {
    cJSON_AddStringToObject(object, "last_fetch", format_rfc3339_ms(last_fetch_ms_).c_str());
  }
  if (!last_error_.empty()) cJSON_AddStringToObject(object, "last_error", last_error_.c_str());
  if (!errors_.empty()) {
    cJSON* list = cJSON_AddArrayToObject(object, "errors");
    for (const auto& e : errors_)
      cJSON_AddItemToArray(list, cJSON_CreateString(e.c_str()));
  }
}

void ConfigServerClient::write_metrics(metrics::MetricSink& sink) const {
  if (!active()) return;
  static constexpr metrics::FamilyDesc kFetches{
      "edgemon_config_server_fetches_total",
      "Requests for this device's configuration to the config server, by result: changed (a "
      "new document), not_modified (304), none (404: nothing stored), failed (unreachable or "
      "an error).",
      metrics::Type::kCounter};
  static constexpr const char* kNames[] = {"changed", "not_modified", "none", "failed"};
  sink.begin(kFetches);
  for (int i = 0; i < 4; ++i)
    sink.sample({{"result", kNames[i]}}, static_cast<double>(fetches_[i]));
  static constexpr metrics::FamilyDesc kServed{
      "edgemon_config_server_applied",
      "1 while the newest document the config server served is applied; 0 when nothing is "
      "served, the server was unreachable at start, or the newest document was refused (the "
      "configuration in use stays).",
      metrics::Type::kGauge};
  sink.begin(kServed);
  sink.sample(state_ == State::kApplied ? 1.0 : 0.0);
  static constexpr metrics::FamilyDesc kReportFailures{
      "edgemon_config_server_report_failures_total",
      "Reports to the config server (POST /config/{device_id}/report) that failed; each is "
      "tried again at the next poll.",
      metrics::Type::kCounter};
  sink.begin(kReportFailures);
  sink.sample(static_cast<double>(report_failures_));
}

}  // namespace edgemon::app
