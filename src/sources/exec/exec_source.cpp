// The `exec` source: a long-running program of the operator's that prints
// InfluxDB line protocol on stdout (as Telegraf's execd input reads), kept
// running by edgemon and restarted with backoff when it exits. Each
// collection publishes the latest value of every series the program printed
// within series_ttl. A line that does not parse is counted and logged once
// per error, never fatal: the program is outside input.
//
// A field becomes a family named as metrics/prometheus_names.hpp says, with
// the point's tags as labels.
#include <algorithm>
#include <map>
#include <string>
#include <vector>

#include "core/child_process.hpp"
#include "core/clock.hpp"
#include "core/log.hpp"
#include "ingest/line_protocol_parser.hpp"
#include "metrics/prometheus_names.hpp"
#include "sources/source.hpp"

namespace edgemon::sources {
namespace {

using namespace std::chrono_literals;

std::string check_not_empty(std::string_view text) {
  return text.empty() ? "must not be empty" : "";
}

std::string check_env_entry(std::string_view text) {
  size_t eq = text.find('=');
  if (eq == std::string_view::npos || eq == 0) {
    return "expected KEY=VALUE (got '" + std::string(text) + "')";
  }
  return "";
}

struct ExecOptions {
  std::vector<std::string> command;
  std::vector<std::string> env;
  config::Duration series_ttl = 5min;
  int64_t max_series = 10000;
  config::Duration restart_initial = 1s;
  config::Duration restart_max = 60s;

  template <class V>
  void visit(V& v) {
    v.field("command", command,
            "The program and its arguments, e.g. [/usr/local/bin/probe, --every, 5s]. It runs "
            "for as long as the instance does and prints InfluxDB line protocol lines on "
            "stdout; its stderr goes to the log. Required.",
            check_not_empty);
    v.field("env", env, "KEY=VALUE entries added to the program's environment.", check_env_entry);
    v.field("series_ttl", series_ttl,
            "A series the program has not printed for this long is withdrawn (no longer in "
            "/metrics or outputs); 0 keeps every series until the instance stops.",
            config::IntRange{0, 86400000});
    v.field("max_series", max_series,
            "Most series kept; lines of further series are dropped and counted.",
            config::IntRange{1, 1000000});
    v.field("restart_initial", restart_initial,
            "Wait before restarting a program that exited; doubles up to restart_max.",
            config::IntRange{100, 3600000});
    v.field("restart_max", restart_max, "Longest wait between restarts.",
            config::IntRange{100, 86400000});
  }

  void validate(const std::string& path, config::Errors& errors) const {
    if (command.empty()) {
      errors.push_back({"", 0, 0, path + ".command", "is required: the program to run"});
    }
    if (restart_initial > restart_max) {
      errors.push_back({"", 0, 0, path + ".restart_initial", "is longer than restart_max"});
    }
  }
};

std::optional<double> numeric(const metrics::FieldValue& value) {
  if (auto* d = std::get_if<double>(&value)) return *d;
  if (auto* i = std::get_if<int64_t>(&value)) return static_cast<double>(*i);
  if (auto* u = std::get_if<uint64_t>(&value)) return static_cast<double>(*u);
  if (auto* b = std::get_if<bool>(&value)) return *b ? 1.0 : 0.0;
  return std::nullopt;
}

class ExecSource final : public Source {
 public:
  explicit ExecSource(SourceContext& context)
      : context_(context),
        options_(context.instance.as<ExecOptions>()),
        child_(context.loop, child_options(), callbacks()) {}

  void start() override { child_.start(); }

  void collect(std::function<void(Status)> done) override {
    expire(uv_now(context_.loop));
    const ChildStatus& child = child_.status();
    if (!child.running && series_.empty()) {
      done(Status::failed(child.last_error.empty() ? "the program is not running"
                                                   : child.last_error));
      return;
    }
    context_.publish(snapshot());
    done(Status::fine());
  }

  void stop(std::function<void()> done) override { child_.stop(std::move(done)); }

 private:
  struct Series {
    double value = 0;
    uint64_t seen_ms = 0;  // loop time
  };
  // Family name, then the label pairs flattened; sorted, so a snapshot
  // writes each family's series together.
  using SeriesKey = std::vector<std::string>;

  ChildOptions child_options() const {
    ChildOptions o;
    o.name = context_.instance.kind + "/" + context_.instance.name;
    o.argv = options_.command;
    o.env = options_.env;
    o.restart_initial = options_.restart_initial;
    o.restart_max = options_.restart_max;
    return o;
  }

  ChildCallbacks callbacks() {
    ChildCallbacks c;
    c.on_line = [this](std::string_view line) { on_line(line); };
    c.on_stderr_line = [this](std::string_view line) {
      log::info("exec_stderr", {{"source", context_.instance.name}, {"line", std::string(line)}});
    };
    c.on_state = [this](ChildEvent event, const ChildStatus& status) {
      if (event != ChildEvent::kStarted) {
        log::warn("exec_stopped",
                  {{"source", context_.instance.name}, {"error", status.last_error}});
      }
    };
    return c;
  }

  void on_line(std::string_view line) {
    ingest::LineProtocolResult parsed =
        ingest::parse_line_protocol(line, 1, unix_now_ms() * 1000000, limits_);
    if (parsed.first_error) {
      ++bad_lines_;
      std::string why = ingest::describe(*parsed.first_error);
      if (why != last_error_) {
        log::warn("exec_bad_line", {{"source", context_.instance.name}, {"error", why}});
        last_error_ = std::move(why);
      }
    }
    uint64_t now = uv_now(context_.loop);
    for (const metrics::Point& p : parsed.points) {
      for (const metrics::Field& f : p.fields) {
        std::optional<double> v = numeric(f.value);
        if (!v) {
          ++unrepresentable_;
          continue;
        }
        SeriesKey key(1);
        metrics::point_metric_name(p.measurement, f.key, &key[0]);
        std::vector<const metrics::Tag*> tags;
        for (const auto& t : p.tags)
          tags.push_back(&t);
        std::sort(tags.begin(), tags.end(),
                  [](const auto* a, const auto* b) { return a->key < b->key; });
        for (const auto* t : tags) {
          metrics::point_label_name(t->key, &key.emplace_back());
          key.push_back(t->value);
        }
        auto it = series_.find(key);
        if (it == series_.end()) {
          if (series_.size() >= static_cast<size_t>(options_.max_series)) {
            ++over_max_series_;
            continue;
          }
          it = series_.emplace(std::move(key), Series{}).first;
        }
        it->second = {*v, now};
      }
    }
  }

  void expire(uint64_t now) {
    auto ttl = static_cast<uint64_t>(options_.series_ttl.count());
    if (ttl == 0) return;
    std::erase_if(series_, [&](const auto& s) { return now - s.second.seen_ms > ttl; });
  }

  std::shared_ptr<const metrics::Snapshot> snapshot() {
    metrics::SnapshotRecorder out;
    const std::string* family = nullptr;
    std::vector<metrics::Label> labels;
    for (const auto& [key, s] : series_) {
      if (family == nullptr || *family != key[0]) {
        family = &key[0];
        out.begin({*family, "Printed by an exec source's program.", metrics::Type::kUntyped});
      }
      labels.clear();
      for (size_t i = 1; i + 1 < key.size(); i += 2)
        labels.push_back({key[i], key[i + 1]});
      out.sample(metrics::Labels(labels), s.value);
    }
    const ChildStatus& c = child_.status();
    auto counter = [&](std::string_view name, std::string_view help, double value) {
      out.begin({name, help, metrics::Type::kCounter});
      out.sample(value);
    };
    counter("edgemon_exec_starts_total", "Times the program was started.",
            static_cast<double>(c.starts));
    counter("edgemon_exec_lines_total", "Lines the program printed on stdout.",
            static_cast<double>(c.lines));
    counter("edgemon_exec_bad_lines_total", "Lines that were not valid line protocol.",
            static_cast<double>(bad_lines_));
    counter("edgemon_exec_dropped_series_total",
            "Values of new series dropped because max_series was reached.",
            static_cast<double>(over_max_series_));
    counter("edgemon_exec_unrepresentable_fields_total",
            "String fields, which have no metric value.", static_cast<double>(unrepresentable_));
    return out.take();
  }

  SourceContext& context_;
  const ExecOptions& options_;
  config::IngestLimits limits_;
  std::map<SeriesKey, Series> series_;
  uint64_t bad_lines_ = 0;
  uint64_t over_max_series_ = 0;
  uint64_t unrepresentable_ = 0;
  std::string last_error_;
  ChildProcess child_;  // last: its callbacks use the members above
};

const SourceRegistration kExec{
    {"sources", "exec",
     "Programs that run alongside edgemon and print InfluxDB line protocol on stdout.",
     config::make_options<ExecOptions>, 15s},
    [](SourceContext& context) { return std::make_unique<ExecSource>(context); }};

}  // namespace
}  // namespace edgemon::sources
