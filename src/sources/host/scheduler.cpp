#include "sources/host/scheduler.hpp"

#include <algorithm>
#include <map>
#include <optional>

#include "core/clock.hpp"
#include "core/log.hpp"
#include "metrics/prometheus_text.hpp"

namespace edgemon::collect {
namespace {

constexpr metrics::FamilyDesc kSuccess{
    "edgemon_collector_success", "Whether the collector's last run succeeded (1) or failed (0).",
    metrics::Type::kGauge};
constexpr metrics::FamilyDesc kDuration{"edgemon_collector_duration_seconds",
                                        "Duration of the collector's last run.",
                                        metrics::Type::kGauge};
constexpr metrics::FamilyDesc kRuns{"edgemon_collector_runs_total",
                                    "Runs of the collector since the daemon started.",
                                    metrics::Type::kCounter};
constexpr metrics::FamilyDesc kFailures{"edgemon_collector_failures_total",
                                        "Failed runs of the collector since the daemon started.",
                                        metrics::Type::kCounter};
constexpr metrics::FamilyDesc kSkipped{
    "edgemon_collector_skipped_total",
    "Ticks skipped because the collector's previous run had not finished.",
    metrics::Type::kCounter};

// Passes a family on, its header only for the first collector that writes
// it: the power collectors share edge_power_watts and its kin, and the text
// format wants each family as one block.
class ContinuedFamily final : public metrics::MetricSink {
 public:
  ContinuedFamily(metrics::MetricSink& to, bool first) : to_(to), first_(first) {}
  void begin(const metrics::FamilyDesc& family) override {
    if (first_) to_.begin(family);
  }
  void sample(metrics::Labels labels, double value) override { to_.sample(labels, value); }
  void histogram(metrics::Labels labels, std::span<const double> bounds,
                 std::span<const uint64_t> cumulative, double sum, uint64_t count) override {
    to_.histogram(labels, bounds, cumulative, sum, count);
  }
  using MetricSink::sample;

 private:
  metrics::MetricSink& to_;
  bool first_;
};

}  // namespace

struct Scheduler::Slot {
  std::unique_ptr<Collector> collector;
  bool in_flight = false;
  uint64_t round = 0;      // the round its current/last gather belongs to
  uint64_t completed = 0;  // Scheduler::completions_ when its last gather ended
  // The families of the last gather; null after a failed one (stale
  // values would look healthy).
  std::shared_ptr<const metrics::Snapshot> snapshot;
  std::string fingerprint;          // what it was built from (Scheduler::fingerprint)
  std::optional<size_t> kept_from;  // during configure(): the running slot it continues
};

Scheduler::Scheduler(uv_loop_t* loop)
    : loop_(loop), timer_(loop), epoch_(std::make_shared<uint64_t>(0)) {}

Scheduler::~Scheduler() {
  ++*epoch_;
}

std::chrono::milliseconds Scheduler::interval() const {
  return config_ ? config_->collect.interval : std::chrono::milliseconds(0);
}

// Everything a collector is built from: the mount points and its own
// section of collect.<name>. Collectors read nothing else of the
// configuration.
std::string Scheduler::fingerprint(const config::Config& config, const std::string& name) {
  const config::CollectSection& c = config.collect;
  std::string text = c.procfs + "\n" + c.sysfs + "\n" + c.rootfs + "\n";
  std::string all = c.collectors.canonical_text();
  std::string prefix = name + ".";
  for (size_t at = 0; at < all.size();) {
    size_t end = all.find('\n', at);
    if (end == std::string::npos) end = all.size();
    std::string_view line(all.data() + at, end - at);
    if (line.starts_with(prefix)) text.append(line).push_back('\n');
    at = end + 1;
  }
  return text;
}

std::string Scheduler::configure(std::shared_ptr<const config::Config> config) {
  std::vector<std::unique_ptr<Slot>> slots;
  std::vector<CollectorStatus> statuses;
  for (const std::string& name : registered_collector_names()) {
    const auto& disabled = config->collect.disable;
    if (std::find(disabled.begin(), disabled.end(), name) != disabled.end()) continue;
    std::string print = fingerprint(*config, name);
    // A collector built from the same settings is kept with its state (CPU
    // deltas, RAPL's unwrapped energy counters), so a reload is no counter
    // reset; one in the middle of an asynchronous gather is rebuilt, as
    // that gather's result is dropped. Nothing is taken from the running
    // set until every new collector is built: on error nothing changes.
    CollectorStatus status;
    status.name = name;
    auto slot = std::make_unique<Slot>();
    slot->fingerprint = print;
    for (size_t i = 0; i < slots_.size(); ++i) {
      if (statuses_[i].name == name && slots_[i]->fingerprint == print && !slots_[i]->in_flight) {
        slot->kept_from = i;
        status = statuses_[i];
        break;
      }
    }
    if (!slot->kept_from) {
      std::string error;
      slot->collector = create_collector(name, *config, &error);
      if (slot->collector == nullptr) return "collector " + name + ": " + error;
    }
    slots.push_back(std::move(slot));
    statuses.push_back(std::move(status));
  }
  for (auto& slot : slots) {
    if (!slot->kept_from) continue;
    Slot& kept = *slots_[*slot->kept_from];
    slot->collector = std::move(kept.collector);
    slot->snapshot = std::move(kept.snapshot);
    slot->completed = kept.completed;
    slot->kept_from.reset();
  }
  ++*epoch_;  // Results of gathers started before this point are dropped.
  // Collectors switched off take their families out of /metrics now; the
  // others keep theirs until their next gather replaces them.
  for (const auto& old : statuses_) {
    bool kept = std::any_of(statuses.begin(), statuses.end(),
                            [&](const CollectorStatus& s) { return s.name == old.name; });
    if (!kept && bus_ != nullptr)
      bus_->publish({std::string(kHostKind), old.name, unix_now_ms(), nullptr, false});
  }
  slots_ = std::move(slots);
  statuses_ = std::move(statuses);
  config_ = std::move(config);
  pending_in_round_ = 0;
  ++generation_;
  if (timer_.active()) start();  // Picks up a changed interval.
  return "";
}

void Scheduler::start() {
  auto every = static_cast<uint64_t>(interval().count());
  timer_.start(0, every, [this] { tick(); });
}

void Scheduler::stop() {
  timer_.stop();
}

void Scheduler::run_once(std::function<void()> done) {
  round_done_ = std::move(done);
  tick();
}

void Scheduler::set_round_listener(std::function<void()> listener) {
  round_listener_ = std::move(listener);
}

void Scheduler::round_complete() {
  if (round_listener_) round_listener_();
  if (round_done_) std::exchange(round_done_, nullptr)();
}

std::vector<CompletedCollector> Scheduler::completed_since(uint64_t after) const {
  std::vector<CompletedCollector> out;
  for (size_t i = 0; i < slots_.size(); ++i) {
    if (slots_[i]->completed > after) out.push_back({&statuses_[i], slots_[i]->snapshot.get()});
  }
  return out;
}

void Scheduler::tick() {
  // A round is every collector that is free to start now; round_done_ and
  // last_round_unix_ms_ follow it. A straggler from an earlier round still
  // reports its result but does not count towards the current round.
  ++round_;
  pending_in_round_ = 0;
  for (size_t i = 0; i < slots_.size(); ++i) {
    if (slots_[i]->in_flight) {
      ++statuses_[i].skipped;
      continue;
    }
    ++pending_in_round_;
  }
  if (pending_in_round_ == 0) {
    round_complete();
    return;
  }
  for (size_t i = 0; i < slots_.size(); ++i) {
    if (!slots_[i]->in_flight) gather(i);
  }
}

void Scheduler::gather(size_t index) {
  Slot& slot = *slots_[index];
  slot.in_flight = true;
  slot.round = round_;
  uint64_t started_ns = uv_hrtime();
  int64_t started_unix_ms = unix_now_ms();
  CollectContext ctx{*config_, loop_, started_unix_ms};
  std::weak_ptr<uint64_t> epoch = epoch_;
  uint64_t my_epoch = *epoch_;
  slot.collector->gather(
      ctx, [this, epoch, my_epoch, index, started_ns, started_unix_ms](std::string error) {
        auto alive = epoch.lock();
        if (!alive || *alive != my_epoch) return;  // Scheduler gone or reconfigured.
        finish(index, started_ns, started_unix_ms, error);
      });
}

void Scheduler::finish(size_t index, uint64_t started_ns, int64_t started_unix_ms,
                       const std::string& error) {
  Slot& slot = *slots_[index];
  CollectorStatus& status = statuses_[index];
  slot.in_flight = false;
  status.last_run_unix_ms = started_unix_ms;
  status.last_duration_seconds = static_cast<double>(uv_hrtime() - started_ns) / 1e9;
  ++status.runs;
  slot.snapshot.reset();
  if (error.empty()) {
    metrics::SnapshotRecorder recorder;
    slot.collector->write(recorder);
    slot.snapshot = recorder.take();
    if (!status.success && status.failures > 0) {
      log::info("collector_recovered", {{"collector", status.name}});
    }
    status.success = true;
    status.error.clear();
  } else {
    // Log a failure when it starts or changes, not on every tick.
    if (status.success || status.error != error) {
      log::warn("collector_failed", {{"collector", status.name}, {"error", error}});
    }
    status.success = false;
    status.error = error;
    ++status.failures;
  }
  ++generation_;
  slot.completed = ++completions_;
  publish(index);
  if (slot.round == round_ && pending_in_round_ > 0 && --pending_in_round_ == 0) {
    last_round_unix_ms_ = unix_now_ms();
    round_complete();
  }
}

void Scheduler::publish(size_t index) {
  if (bus_ == nullptr) return;
  bus_->publish({std::string(kHostKind), statuses_[index].name, statuses_[index].last_run_unix_ms,
                 slots_[index]->snapshot, false});
}

void Scheduler::write_exposition(std::string& out) const {
  metrics::PrometheusTextWriter writer(out);
  // Families in the order they first appear; a family that several
  // collectors write gathers their samples there.
  struct Ref {
    const metrics::Snapshot* snapshot;
    size_t family;
  };
  std::vector<std::vector<Ref>> groups;
  std::map<std::string_view, size_t> group_of;
  for (const auto& slot : slots_) {
    if (!slot->snapshot) continue;
    for (size_t f = 0; f < slot->snapshot->families(); ++f) {
      auto [it, fresh] = group_of.try_emplace(slot->snapshot->family_name(f), groups.size());
      if (fresh) groups.emplace_back();
      groups[it->second].push_back({slot->snapshot.get(), f});
    }
  }
  for (const auto& group : groups) {
    for (size_t i = 0; i < group.size(); ++i) {
      ContinuedFamily sink(writer, i == 0);
      group[i].snapshot->replay_family(group[i].family, sink);
    }
  }
  write_health(writer, statuses_);
}

void Scheduler::write_health(metrics::MetricSink& sink, std::span<const CollectorStatus> statuses) {
  auto each = [&](const metrics::FamilyDesc& desc, auto value_of) {
    sink.begin(desc);
    for (const auto& s : statuses) {
      if (s.runs == 0) continue;
      sink.sample({{"collector", s.name}}, value_of(s));
    }
  };
  each(kSuccess, [](const CollectorStatus& s) { return s.success ? 1.0 : 0.0; });
  each(kDuration, [](const CollectorStatus& s) { return s.last_duration_seconds; });
  each(kRuns, [](const CollectorStatus& s) { return static_cast<double>(s.runs); });
  each(kFailures, [](const CollectorStatus& s) { return static_cast<double>(s.failures); });
  each(kSkipped, [](const CollectorStatus& s) { return static_cast<double>(s.skipped); });
}

}  // namespace edgemon::collect
