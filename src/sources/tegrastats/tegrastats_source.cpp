// The `tegrastats` source: NVIDIA's tegrastats runs as a child
// (`tegrastats --interval MS`) for as long as the instance does, and every
// line it prints is parsed and published at once -- power rails, CPU cores,
// EMC, GPU, engines, temperatures.
//
// Event-driven, not polled: tegrastats keeps its own clock, so a poll timer
// would only add up to one interval of delay and sample a line twice or
// skip one. Parsing a line and recording a few dozen series is
// microseconds of loop time, once per interval.
//
// Health: a child that exits or cannot be started (no tegrastats on this
// machine), or prints no usable line for stale_after_intervals intervals,
// makes the instance fail -- its readings are withdrawn and only
// edge_power_source_up 0 and the edgemon_tegrastats_* counters stay, so a
// dead meter never reads as 0 W. child_process.hpp restarts the child with
// backoff and makes it die with edgemon.
#include <uv.h>

#include <optional>
#include <string>
#include <vector>

#include "core/child_process.hpp"
#include "core/log.hpp"
#include "core/timer.hpp"
#include "sources/source.hpp"
#include "sources/tegrastats/tegrastats_metrics.hpp"
#include "sources/tegrastats/tegrastats_parse.hpp"

namespace edgemon::sources {
namespace {

using namespace std::chrono_literals;

std::string check_path(std::string_view text) {
  return text.empty() ? "must not be empty: the tegrastats program to run" : "";
}

std::string check_argument(std::string_view text) {
  return text.empty() ? "must not be empty" : "";
}

struct TegrastatsOptions {
  std::string path = "/usr/bin/tegrastats";
  config::Duration interval = 1s;
  std::vector<std::string> args;
  int64_t stale_after_intervals = 3;
  bool exporter_names = false;
  std::string device_type = "jetson";
  std::string hostname;
  config::Duration restart_initial = 1s;
  config::Duration restart_max = 60s;

  template <class V>
  void visit(V& v) {
    v.field("path", path,
            "The tegrastats program: a path, or a name looked up in PATH. It runs for as long "
            "as the instance does; run edgemon as root on the Jetson or some groups (EMC and "
            "GPU clocks) are missing from its lines.",
            check_path);
    v.field("interval", interval,
            "tegrastats' own sampling period (its --interval, whole milliseconds); every line "
            "it prints is published at once.",
            config::IntRange{100, 60000});
    v.field("args", args,
            "More arguments for tegrastats, e.g. [--readall] for every rail on newer JetPacks.",
            check_argument);
    v.field("stale_after_intervals", stale_after_intervals,
            "The instance fails, and its readings are withdrawn, when tegrastats has printed no "
            "usable line for this many intervals.",
            config::IntRange{2, 1000});
    v.field("exporter_names", exporter_names,
            "Also publish the names of the Python power exporter edgemon replaces "
            "(jetson_power_<rail>_watts, jetson_temp_<zone>_celsius, jetson_gpu_usage_percent, "
            "jetson_cpu_core<N>_usage_percent, jetson_ram_used_mb, jetson_emc_freq_mhz, "
            "power_total_watts...) labelled device_type and hostname, so its dashboards keep "
            "working.",
            nullptr);
    v.field("device_type", device_type,
            "The device_type label of the exporter_names families, e.g. jetson_orin.", nullptr);
    v.field("hostname", hostname,
            "The hostname label of the exporter_names families; empty: this machine's hostname.",
            nullptr);
    v.field("restart_initial", restart_initial,
            "Wait before restarting a tegrastats that exited or could not start; doubles up to "
            "restart_max.",
            config::IntRange{100, 3600000});
    v.field("restart_max", restart_max, "Longest wait between restarts.",
            config::IntRange{100, 86400000});
  }

  void validate(const std::string& path_prefix, config::Errors& errors) const {
    if (restart_initial > restart_max) {
      errors.push_back({"", 0, 0, path_prefix + ".restart_initial", "is longer than restart_max"});
    }
  }
};

std::string this_hostname() {
  char name[UV_MAXHOSTNAMESIZE];
  size_t size = sizeof name;
  return uv_os_gethostname(name, &size) == 0 ? std::string(name, size) : std::string();
}

class TegrastatsSource final : public Source {
 public:
  explicit TegrastatsSource(SourceContext& context)
      : context_(context),
        options_(context.instance.as<TegrastatsOptions>()),
        hostname_(options_.hostname.empty() ? this_hostname() : options_.hostname),
        stale_timer_(context.loop),
        child_(context.loop, child_options(), callbacks()) {}

  void start() override {
    child_.start();
    auto every = static_cast<uint64_t>(options_.interval.count());
    stale_timer_.start(every, every, [this] { check_stale(); });
  }

  void stop(std::function<void()> done) override {
    stale_timer_.stop();
    child_.stop(std::move(done));
  }

 private:
  ChildOptions child_options() const {
    ChildOptions o;
    o.name = options_.path;
    o.argv = {options_.path, "--interval", std::to_string(options_.interval.count())};
    o.argv.insert(o.argv.end(), options_.args.begin(), options_.args.end());
    o.restart_initial = options_.restart_initial;
    o.restart_max = options_.restart_max;
    return o;
  }

  ChildCallbacks callbacks() {
    ChildCallbacks c;
    c.on_line = [this](std::string_view line) { on_line(line); };
    c.on_stderr_line = [this](std::string_view line) {
      log::info("tegrastats_stderr",
                {{"source", context_.instance.name}, {"line", std::string(line)}});
    };
    c.on_state = [this](ChildEvent event, const ChildStatus& status) {
      if (event == ChildEvent::kStarted) {
        // A new child gets stale_after_intervals to print, and is checked
        // even when its predecessor's exit already failed the instance.
        last_good_ms_ = uv_now(context_.loop);
        last_output_ms_ = last_good_ms_;
        last_line_ms_.reset();
        failed_since_good_ = false;
        return;
      }
      fail(status.last_error);
    };
    return c;
  }

  void on_line(std::string_view text) {
    last_output_ms_ = uv_now(context_.loop);
    tegrastats::TegrastatsLine line;
    std::string why = tegrastats::parse_tegrastats_line(text, &line);
    malformed_groups_ += line.malformed_groups;
    unknown_tokens_ += line.unknown_tokens + line.dropped_entries;
    if (!why.empty()) {
      ++bad_lines_;
      if (why != last_bad_line_) {
        log::warn("tegrastats_bad_line", {{"source", context_.instance.name}, {"error", why}});
        last_bad_line_ = std::move(why);
      }
      return;
    }
    if (line.malformed_groups > 0 && line.first_malformed != last_malformed_) {
      log::warn("tegrastats_malformed_group",
                {{"source", context_.instance.name}, {"error", line.first_malformed}});
      last_malformed_ = line.first_malformed;
    }
    // A new JetPack's new field: worth a word in the log, once.
    if (line.unknown_tokens > 0 && line.first_unknown != last_unknown_) {
      last_unknown_.assign(line.first_unknown.substr(0, 64));
      log::info("tegrastats_unknown_field",
                {{"source", context_.instance.name}, {"token", last_unknown_}});
    }
    uint64_t now = uv_now(context_.loop);
    // tegrastats prints once an interval; a child that floods would turn
    // every line into a publication for /metrics, the history and the
    // outputs' spools.
    if (last_line_ms_ && now - *last_line_ms_ < half_interval_ms()) {
      ++flood_lines_;
      return;
    }
    energy_.add(line, held_seconds(now));
    last_line_ms_ = now;
    last_good_ms_ = now;
    failed_since_good_ = false;
    metrics::SnapshotRecorder out;
    tegrastats::write_line(line, context_.instance.name,
                           {options_.exporter_names, options_.device_type, hostname_}, out);
    energy_.write(context_.instance.name, out);
    write_counters(out);
    context_.publish(out.take());
    if (!up_) {
      up_ = true;
      context_.report(Status::fine());
    }
  }

  uint64_t half_interval_ms() const { return static_cast<uint64_t>(options_.interval.count()) / 2; }

  // How long the previous usable line's successor held, for the energy: 0
  // after a gap of more than two intervals (the first line, a restart, a
  // stall), whose power is unknown.
  double held_seconds(uint64_t now) const {
    if (!last_line_ms_) return 0;
    uint64_t held_ms = now - *last_line_ms_;
    if (held_ms > 2 * static_cast<uint64_t>(options_.interval.count())) return 0;
    return static_cast<double>(held_ms) / 1000.0;
  }

  // Also while the child runs: a tegrastats that prints nothing usable is as
  // good as none. One that prints nothing at all is hung (a stuck sysfs read
  // on a wedged board): it is killed and restarted with backoff. One that
  // prints lines that do not parse is left running -- a restart would print
  // the same -- and only reported.
  void check_stale() {
    uint64_t now = uv_now(context_.loop);
    auto limit = static_cast<uint64_t>(options_.interval.count() * options_.stale_after_intervals);
    if (!child_.status().running) return;
    if (now - last_output_ms_ > limit) {
      std::string why = "printed nothing for " + std::to_string((now - last_output_ms_) / 1000) +
                        "s (stale_after_intervals)";
      fail("tegrastats " + why);
      child_.kill_hung(why);
      last_output_ms_ = now;
      return;
    }
    uint64_t quiet_ms = now - last_good_ms_;
    if (failed_since_good_ || quiet_ms <= limit) return;
    fail("no usable line from tegrastats for " + std::to_string(quiet_ms / 1000) + "s" +
         (last_bad_line_.empty() ? "" : " (last bad line: " + last_bad_line_ + ")"));
  }

  // Withdraws the readings (the failed report), then publishes what stays
  // true: the meter is down, and the counters.
  void fail(const std::string& why) {
    last_line_ms_.reset();
    bool changed = up_ || why != last_failure_;
    up_ = false;
    failed_since_good_ = true;
    last_failure_ = why;
    context_.report(Status::failed(why));
    metrics::SnapshotRecorder out;
    tegrastats::write_down(context_.instance.name, out);
    write_counters(out);
    context_.publish(out.take());
    if (changed) log::warn("tegrastats_down", {{"source", context_.instance.name}, {"error", why}});
  }

  void write_counters(metrics::SnapshotRecorder& out) const {
    const ChildStatus& c = child_.status();
    auto counter = [&](std::string_view name, std::string_view help, uint64_t value) {
      out.begin({name, help, metrics::Type::kCounter});
      out.sample(static_cast<double>(value));
    };
    counter("edgemon_tegrastats_starts_total", "Times tegrastats was started.", c.starts);
    counter("edgemon_tegrastats_restarts_total",
            "Times tegrastats was started again after it exited or could not start.", c.restarts);
    counter("edgemon_tegrastats_killed_total",
            "Times tegrastats was killed for printing nothing for stale_after_intervals "
            "intervals (hung), then restarted.",
            c.killed_hung);
    counter("edgemon_tegrastats_lines_total", "Lines tegrastats printed.", c.lines);
    counter("edgemon_tegrastats_bad_lines_total",
            "Lines with nothing tegrastats prints (no RAM, CPU, rail, temperature...), skipped.",
            bad_lines_);
    counter("edgemon_tegrastats_malformed_groups_total",
            "Groups of a line (RAM, CPU, a rail...) whose values did not parse, skipped.",
            malformed_groups_);
    counter("edgemon_tegrastats_unknown_tokens_total",
            "Parts of lines that no known group explains (a new JetPack's fields), and entries "
            "beyond 256 of a kind in one line, skipped.",
            unknown_tokens_);
    counter("edgemon_tegrastats_flood_lines_total",
            "Usable lines dropped because they came less than half an interval after the last "
            "one published (tegrastats prints once an interval).",
            flood_lines_);
  }

  SourceContext& context_;
  const TegrastatsOptions& options_;
  std::string hostname_;
  bool up_ = false;
  bool failed_since_good_ = false;
  uint64_t last_good_ms_ = 0;  // loop time of the last usable line or start
  // Loop time of the last usable line of the running child.
  std::optional<uint64_t> last_line_ms_;
  tegrastats::RailEnergy energy_;
  uint64_t bad_lines_ = 0;
  uint64_t malformed_groups_ = 0;
  uint64_t unknown_tokens_ = 0;
  uint64_t flood_lines_ = 0;
  std::string last_bad_line_;
  std::string last_malformed_;
  std::string last_unknown_;
  std::string last_failure_;
  Timer stale_timer_;
  // The child's last line of any kind, to tell a silent (hung) child from
  // one printing lines that do not parse.
  uint64_t last_output_ms_ = 0;
  ChildProcess child_;  // last: its callbacks use the members above
};

const SourceRegistration kTegrastats{
    {"sources", "tegrastats",
     "NVIDIA Jetson power rails, temperatures, CPU, GPU, memory-controller and engine load, "
     "read from tegrastats.",
     config::make_options<TegrastatsOptions>},
    [](SourceContext& context) { return std::make_unique<TegrastatsSource>(context); }};

}  // namespace
}  // namespace edgemon::sources
