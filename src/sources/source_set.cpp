#include "sources/source_set.hpp"

#include <algorithm>
#include <map>

#include "core/clock.hpp"
#include "core/log.hpp"
#include "core/timer.hpp"
#include "sources/source.hpp"

namespace edgemon::sources {
namespace {

std::map<std::string, SourceFactory, std::less<>>& factories() {
  static std::map<std::string, SourceFactory, std::less<>> by_kind;
  return by_kind;
}

}  // namespace

SourceRegistration::SourceRegistration(config::KindDecl decl, SourceFactory factory)
    : config_([&] {
        factories().emplace(decl.kind, std::move(factory));
        return std::move(decl);
      }()) {}

const SourceFactory* find_source_factory(std::string_view kind) {
  auto it = factories().find(kind);
  return it == factories().end() ? nullptr : &it->second;
}

// One instance: its source, its timer and its status.
class SourceSet::Running {
 public:
  Running(SourceSet& set, const config::Instance& instance, const SourceFactory& factory)
      : set_(set),
        instance_(instance),
        fingerprint_(instance_.canonical_text()),
        timer_(set.loop_),
        context_{set.loop_,
                 set.http_,
                 set.state_.scoped(instance_.kind + "/" + instance_.name),
                 instance_,
                 [this](std::shared_ptr<const metrics::Snapshot> s) { publish(std::move(s)); },
                 [this](const Status& s) { record(s); }} {
    status_.kind = instance_.kind;
    status_.name = instance_.name;
    source_ = factory(context_);
  }

  const std::string& fingerprint() const { return fingerprint_; }
  const InstanceStatus& status() const { return status_; }
  bool stopped() const { return stopped_; }

  void start() {
    status_.started_unix_ms = unix_now_ms();
    source_->start();
    auto every = static_cast<uint64_t>(instance_.interval.count());
    if (every > 0) timer_.start(0, every, [this] { tick(); });
  }

  void stop(bool forget_state) {
    timer_.stop();
    *alive_ = false;  // a collection still running reports to nobody
    // Withdrawn now, not when the source has finished stopping: a changed
    // instance's successor publishes under the same name in the meantime.
    withdraw();
    stopping_ = true;
    source_->stop([this, forget_state] {
      if (forget_state) context_.state.clear();
      stopped_ = true;
      set_.check_stopped();
    });
  }

 private:
  void tick() {
    if (collecting_) {
      ++status_.skipped;
      ++set_.version_;
      return;
    }
    collecting_ = true;
    published_in_collection_ = false;
    uint64_t started_ns = uv_hrtime();
    int64_t started_ms = unix_now_ms();
    source_->collect([this, alive = alive_, started_ns, started_ms](Status result) {
      if (!*alive) return;
      collecting_ = false;
      status_.last_unix_ms = started_ms;
      status_.last_duration_seconds = static_cast<double>(uv_hrtime() - started_ns) / 1e9;
      ++status_.collections;
      record(result, published_in_collection_);
    });
  }

  // `fresh_publication`: the source published while failing (a meter's "up
  // 0"): that publication says what is true now and stands.
  void record(const Status& result, bool fresh_publication = false) {
    if (stopping_) return;
    bool was_up = status_.up;
    std::string was_error = status_.error;
    status_.up = result.ok();
    status_.error = result.error;
    if (!result.ok()) {
      ++status_.failures;
      if (!fresh_publication) withdraw();  // stale values would look healthy
      if (was_up || was_error != result.error) {
        log::warn("source_failed",
                  {{"kind", instance_.kind}, {"source", instance_.name}, {"error", result.error}});
      }
    }
    ++set_.version_;
  }

  void publish(std::shared_ptr<const metrics::Snapshot> families) {
    if (stopping_) return;
    ++status_.publications;
    published_ = true;
    published_in_collection_ = true;
    set_.bus_.publish({instance_.kind, instance_.name, unix_now_ms(), std::move(families), true});
  }

  void withdraw() {
    if (!published_) return;
    published_ = false;
    set_.bus_.publish({instance_.kind, instance_.name, unix_now_ms(), nullptr, true});
  }

  SourceSet& set_;
  const config::Instance instance_;  // a copy: the configuration may be replaced
  std::string fingerprint_;
  Timer timer_;
  SourceContext context_;
  std::unique_ptr<Source> source_;
  InstanceStatus status_;
  bool collecting_ = false;
  bool published_ = false;
  bool published_in_collection_ = false;
  bool stopping_ = false;
  bool stopped_ = false;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

SourceSet::SourceSet(uv_loop_t* loop, http::HttpClient& http, store::StateStore& state,
                     bus::Bus& bus)
    : loop_(loop), http_(http), state_(state), bus_(bus), reap_(loop) {}

SourceSet::~SourceSet() = default;

void SourceSet::configure(const config::KindLists& sources) {
  std::map<std::string, const config::Instance*> wanted;
  for (const auto& i : sources.instances)
    wanted.emplace(i.name, &i);
  for (auto it = instances_.begin(); it != instances_.end();) {
    auto w = wanted.find(it->first);
    bool removed = w == wanted.end();
    if (!removed && w->second->canonical_text() == it->second->fingerprint()) {
      wanted.erase(w);  // unchanged: keeps running
      ++it;
      continue;
    }
    log::info(removed ? "source_removed" : "source_changed",
              {{"kind", it->second->status().kind}, {"source", it->first}});
    // A changed instance keeps its durable state (a tail keeps its offset
    // when its pattern changes); a removed one has no further use for it.
    stop_instance(std::move(it->second), removed);
    it = instances_.erase(it);
  }
  for (const auto& [name, instance] : wanted)
    start_instance(*instance);
  ++version_;
}

void SourceSet::start_instance(const config::Instance& instance) {
  const SourceFactory* factory = find_source_factory(instance.kind);
  if (factory == nullptr) {
    log::error("source_kind_unknown", {{"kind", instance.kind}, {"source", instance.name}});
    return;
  }
  auto running = std::make_unique<Running>(*this, instance, *factory);
  Running& r = *running;
  instances_.emplace(instance.name, std::move(running));
  log::info("source_started", {{"kind", instance.kind},
                               {"source", instance.name},
                               {"interval_ms", static_cast<int64_t>(instance.interval.count())}});
  r.start();
}

void SourceSet::stop_instance(std::unique_ptr<Running> running, bool forget_state) {
  Running& r = *running;
  stopping_.push_back(std::move(running));
  r.stop(forget_state);
}

void SourceSet::stop(std::function<void()> done) {
  stopped_ = std::move(done);
  for (auto& [name, running] : instances_)
    stop_instance(std::move(running), false);
  instances_.clear();
  check_stopped();
}

void SourceSet::check_stopped() {
  // A source may report from inside its stop(): destroy stopped instances
  // on the next loop turn, outside their own callbacks.
  reap_.start(0, 0, [this] {
    std::erase_if(stopping_, [](const auto& r) { return r->stopped(); });
    if (stopping_.empty() && instances_.empty() && stopped_) std::exchange(stopped_, nullptr)();
  });
}

std::vector<InstanceStatus> SourceSet::statuses() const {
  std::vector<InstanceStatus> out;
  for (const auto& [name, running] : instances_)
    out.push_back(running->status());
  return out;
}

void SourceSet::write_status(cJSON* root) const {
  cJSON* list = cJSON_AddArrayToObject(root, "sources");
  for (const auto& [name, running] : instances_) {
    const InstanceStatus& s = running->status();
    cJSON* item = cJSON_CreateObject();
    cJSON_AddStringToObject(item, "kind", s.kind.c_str());
    cJSON_AddStringToObject(item, "name", s.name.c_str());
    cJSON_AddBoolToObject(item, "up", s.up);
    if (!s.error.empty()) cJSON_AddStringToObject(item, "error", s.error.c_str());
    cJSON_AddNumberToObject(item, "collections", static_cast<double>(s.collections));
    cJSON_AddNumberToObject(item, "failures", static_cast<double>(s.failures));
    cJSON_AddNumberToObject(item, "started_unix_ms", static_cast<double>(s.started_unix_ms));
    cJSON_AddNumberToObject(item, "last_unix_ms", static_cast<double>(s.last_unix_ms));
    cJSON_AddItemToArray(list, item);
  }
}

void SourceSet::write_metrics(metrics::MetricSink& sink) const {
  if (instances_.empty()) return;
  auto family = [&](metrics::FamilyDesc desc, auto value) {
    sink.begin(desc);
    for (const auto& [name, running] : instances_) {
      const InstanceStatus& s = running->status();
      sink.sample({{"kind", s.kind}, {"source", s.name}}, value(s));
    }
  };
  family({"edgemon_source_up", "Whether the source's last collection or report succeeded.",
          metrics::Type::kGauge},
         [](const InstanceStatus& s) { return s.up ? 1.0 : 0.0; });
  family({"edgemon_source_collections_total", "Collections of polled sources.",
          metrics::Type::kCounter},
         [](const InstanceStatus& s) { return static_cast<double>(s.collections); });
  family({"edgemon_source_failures_total", "Failed collections and failure reports.",
          metrics::Type::kCounter},
         [](const InstanceStatus& s) { return static_cast<double>(s.failures); });
  family(
      {"edgemon_source_skipped_total",
       "Collections skipped because the previous one was still running.", metrics::Type::kCounter},
      [](const InstanceStatus& s) { return static_cast<double>(s.skipped); });
  family({"edgemon_source_publications_total", "Snapshots the source published.",
          metrics::Type::kCounter},
         [](const InstanceStatus& s) { return static_cast<double>(s.publications); });
  family({"edgemon_source_last_duration_seconds", "How long the last collection took.",
          metrics::Type::kGauge},
         [](const InstanceStatus& s) { return s.last_duration_seconds; });
  family({"edgemon_source_started_timestamp_seconds",
          "When the instance was (re)started, in seconds since the epoch.", metrics::Type::kGauge},
         [](const InstanceStatus& s) { return static_cast<double>(s.started_unix_ms) / 1000.0; });
}

}  // namespace edgemon::sources
