#include "app/config_server_agent.hpp"

#include <utility>

#include "app/identity.hpp"
#include "build_info.hpp"
#include "core/json_document.hpp"
#include "core/log.hpp"

namespace edgemon::app {
namespace {

// Discovery comes in bursts at start; one report to the config server
// covers a burst.
constexpr uint64_t kReportDelayMs = 2000;

using State = ConfigServerClient::State;

std::vector<std::string> error_texts(const config::Errors& errors) {
  std::vector<std::string> out;
  for (const auto& e : errors)
    out.push_back(e.to_string());
  return out;
}

}  // namespace

StartServed fetch_at_start(const ConfigSource& source, std::shared_ptr<config::Config>& config) {
  StartServed start;
  if (config->config_server.url.empty()) return start;
  ConfigServerTarget target = config_server_target(*config, resolve_device_id(*config));
  ConfigFetch fetch = fetch_config_blocking(target);
  if (fetch.outcome == ConfigFetch::kFailed) {
    start.state = State::kUnreachable;
    log::warn("config_server_unreachable", {{"url", target.settings.url},
                                            {"error", fetch.error},
                                            {"detail", "falling back to the local file"}});
    return start;
  }
  if (fetch.outcome != ConfigFetch::kChanged) {
    log::info("config_server_has_none",
              {{"url", target.settings.url},
               {"device_id", target.device_id},
               {"detail", "nothing stored for this device or its device_type; the local file"}});
    return start;
  }
  auto layered = std::make_shared<config::Config>();
  config::Errors errors =
      source.load(layered.get(), fetch.served.text, "config server " + target.settings.url);
  start.served = std::move(fetch.served);
  if (!errors.empty()) {
    for (const auto& e : errors) {
      log::error("config_server_document_rejected",
                 {{"error", e.to_string()}, {"detail", "running the local file"}});
    }
    start.state = State::kRejected;
    start.errors = error_texts(errors);
    return start;
  }
  log::info("config_server_applied", {{"url", target.settings.url}, {"etag", start.served.etag}});
  start.state = State::kApplied;
  config = std::move(layered);
  return start;
}

ConfigServerAgent::ConfigServerAgent(uv_loop_t* loop, http::HttpClient& http,
                                     const bus::FamilySelection& selection,
                                     api::MetricSelectionEndpoints& selection_endpoints,
                                     const api::DaemonInfo& info)
    : selection_(selection),
      selection_endpoints_(selection_endpoints),
      info_(info),
      client_(loop, http),
      report_timer_(loop) {}

void ConfigServerAgent::start(const StartServed& start, const config::Config& config, Apply apply) {
  apply_ = std::move(apply);
  if (start.state == State::kApplied) served_ = start.served;
  client_.set_state(start.state, start.served, start.errors);
  selection_endpoints_.set_source(served_.text.empty() ? "local" : "server");
  selection_endpoints_.set_on_change([this] { report_soon(); });
  configure(config);
  report_soon();
}

void ConfigServerAgent::configure(const config::Config& config) {
  client_.configure(config_server_target(config, info_.device_id),
                    [this](ConfigFetch&& fetch) { on_poll(std::move(fetch)); });
}

void ConfigServerAgent::reload(const char* trigger, ApplyDone done) {
  if (!client_.active()) {
    apply_(trigger, served_, std::move(done));
    return;
  }
  client_.fetch(false, [this, trigger, done = std::move(done)](ConfigFetch&& fetch) {
    if (stopped_) return;
    ServedConfig next = served_;
    if (fetch.outcome == ConfigFetch::kChanged) next = std::move(fetch.served);
    if (fetch.outcome == ConfigFetch::kNone) next = {};
    apply_(trigger, std::move(next), done);
  });
}

// A poll's answer: a new document (or none any more) is applied like a
// reload; an unreachable server changes nothing.
void ConfigServerAgent::on_poll(ConfigFetch&& fetch) {
  if (stopped_) return;
  if (fetch.outcome == ConfigFetch::kChanged) {
    log::info("config_server_changed", {{"etag", fetch.served.etag}});
    apply_("config_server", std::move(fetch.served), nullptr);
  } else if (fetch.outcome == ConfigFetch::kNone && client_.state() != State::kLocal) {
    log::info("config_server_has_none",
              {{"detail", "the server no longer serves this device; the local file alone"}});
    apply_("config_server", {}, nullptr);
  }
}

void ConfigServerAgent::applied(const ServedConfig& served, const config::Errors& errors) {
  if (errors.empty()) {
    served_ = served;
    client_.set_state(served.text.empty() ? State::kLocal : State::kApplied, served);
  } else if (!(served == served_)) {
    log::error("config_server_document_rejected",
               {{"etag", served.etag}, {"errors", static_cast<uint64_t>(errors.size())}});
    client_.set_state(State::kRejected, served, error_texts(errors));
  }
  selection_endpoints_.set_source(served_.text.empty() ? "local" : "server");
  send_report();
}

void ConfigServerAgent::selection_changed() {
  if (selection_.version() != reported_selection_) report_soon();
}

void ConfigServerAgent::stop() {
  stopped_ = true;
  report_timer_.stop();
  client_.stop();
}

void ConfigServerAgent::write_status(cJSON* root) const {
  if (client_.active()) client_.describe(cJSON_AddObjectToObject(root, "config_server"));
}

void ConfigServerAgent::report_soon() {
  if (!client_.active() || report_armed_ || stopped_) return;
  report_armed_ = true;
  report_timer_.start(kReportDelayMs, 0, [this] {
    report_armed_ = false;
    send_report();
  });
}

// This device as the config server sees it: what it runs, and its metric
// families with their switches (discovered ones and API changes included).
void ConfigServerAgent::send_report() {
  if (!client_.active() || stopped_) return;
  reported_selection_ = selection_.version();
  JsonPtr root = json_object();
  cJSON_AddStringToObject(root.get(), "device_id", info_.device_id.c_str());
  cJSON_AddStringToObject(root.get(), "hostname", info_.hostname.c_str());
  cJSON_AddStringToObject(root.get(), "version", build::kVersion);
  client_.describe(cJSON_AddObjectToObject(root.get(), "config"));
  selection_endpoints_.add_listing(root.get());
  client_.report(json_text(root.get()));
}

}  // namespace edgemon::app
