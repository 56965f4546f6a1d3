// cpu: node_cpu_seconds_total / node_cpu_guest_seconds_total from /proc/stat,
// plus usage ratios between consecutive collections.
#include <unistd.h>

#include <charconv>

#include "sources/host/collector.hpp"
#include "sources/host/parse/cpu_usage.hpp"
#include "sources/host/parse/proc_stat.hpp"
#include "sources/host/proc_file.hpp"

namespace edgemon::collect {
namespace {

using metrics::Type;

constexpr std::string_view kModeNames[] = {"user",   "nice", "system",  "idle",
                                           "iowait", "irq",  "softirq", "steal"};

struct Core {
  uint32_t id = 0;
  std::string label;    // "N", kept so writing allocates nothing
  CpuTicks exported{};  // never decreasing, as node_exporter exports them
  CpuTicks raw{};       // as last read, for the usage ratio
  double usage = 0;
  bool has_usage = false;
  bool moved = false;  // already carried over to this collection's list
};

class CpuCollector final : public SyncCollector {
 public:
  explicit CpuCollector(const config::Config& config)
      : file_(config.collect.procfs + "/stat"), hz_(sysconf(_SC_CLK_TCK)) {
    if (hz_ <= 0) hz_ = 100;
  }

  std::string gather_now(const CollectContext&) override {
    ok_ = false;
    std::string err = file_.read(&buf_);
    if (!err.empty()) return err;
    err = parse_proc_stat(buf_, &stat_);
    if (!err.empty()) return file_.path() + ": " + err;
    update_total();
    update_cores();
    ok_ = true;
    return "";
  }

  void write(metrics::MetricSink& sink) const override {
    if (!ok_) return;
    write_seconds(sink);
    sink.begin({"edgemon_host_cpu_usage_ratio",
                "Share of CPU time spent busy (not idle or iowait) since the previous collection, "
                "over all CPUs, 0 to 1.",
                Type::kGauge});
    if (has_total_usage_) sink.sample(total_usage_);
    sink.begin({"edgemon_host_cpu_core_usage_ratio",
                "Share of CPU time spent busy (not idle or iowait) since the previous collection, "
                "per CPU, 0 to 1.",
                Type::kGauge});
    for (const Core& c : cores_)
      if (c.has_usage) sink.sample({{"cpu", c.label}}, c.usage);
  }

 private:
  void update_total() {
    has_total_usage_ = stat_.total && prev_total_;
    if (has_total_usage_) total_usage_ = cpu_usage_ratio(*prev_total_, *stat_.total);
    prev_total_ = stat_.total;
  }

  // Matches lines to known CPUs by number (CPUs go offline and come back),
  // keeping the file's order and dropping CPUs that disappeared.
  void update_cores() {
    next_.clear();
    for (size_t i = 0; i < stat_.cpus.size(); ++i) {
      const CpuLine& line = stat_.cpus[i];
      Core* known = find_core(line.cpu, i);
      if (known != nullptr) {
        next_.push_back(std::move(*known));
        known->moved = true;
        next_.back().moved = false;
        advance(next_.back(), line.ticks);
      } else {
        next_.push_back(new_core(line));
      }
    }
    cores_.swap(next_);
  }

  Core* find_core(uint32_t id, size_t hint) {
    if (hint < cores_.size() && cores_[hint].id == id && !cores_[hint].moved) return &cores_[hint];
    for (Core& c : cores_)
      if (c.id == id && !c.moved) return &c;
    return nullptr;
  }

  static Core new_core(const CpuLine& line) {
    Core c;
    c.id = line.cpu;
    char buf[16];
    auto [end, ec] = std::to_chars(buf, buf + sizeof buf, line.cpu);
    c.label.assign(buf, end);
    c.exported = c.raw = line.ticks;
    return c;
  }

  // node_exporter's rule: a counter never goes backwards (iowait can in the
  // kernel), except that idle dropping by 3 s or more means the CPU was
  // hot-unplugged and replugged, and everything restarts from the new values.
  void advance(Core& c, const CpuTicks& now) const {
    c.usage = cpu_usage_ratio(c.raw, now);
    c.has_usage = true;
    c.raw = now;
    uint64_t jump_back = 3 * static_cast<uint64_t>(hz_);
    if (c.exported[kCpuIdle] >= now[kCpuIdle] + jump_back) {
      c.exported = now;
      return;
    }
    for (size_t m = 0; m < kCpuModeCount; ++m)
      if (now[m] > c.exported[m]) c.exported[m] = now[m];
  }

  void write_seconds(metrics::MetricSink& sink) const {
    double hz = static_cast<double>(hz_);
    sink.begin({"node_cpu_seconds_total", "Seconds the CPUs spent in each mode.", Type::kCounter});
    for (const Core& c : cores_)
      for (size_t m = 0; m < std::size(kModeNames); ++m)
        sink.sample({{"cpu", c.label}, {"mode", kModeNames[m]}},
                    static_cast<double>(c.exported[m]) / hz);
    sink.begin({"node_cpu_guest_seconds_total",
                "Seconds the CPUs spent in guests (VMs) for each mode.", Type::kCounter});
    for (const Core& c : cores_) {
      sink.sample({{"cpu", c.label}, {"mode", "user"}},
                  static_cast<double>(c.exported[kCpuGuest]) / hz);
      sink.sample({{"cpu", c.label}, {"mode", "nice"}},
                  static_cast<double>(c.exported[kCpuGuestNice]) / hz);
    }
  }

  ProcFile file_;
  long hz_;
  std::string buf_;
  ProcStat stat_;
  std::vector<Core> cores_;
  std::vector<Core> next_;
  std::optional<CpuTicks> prev_total_;
  double total_usage_ = 0;
  bool has_total_usage_ = false;
  bool ok_ = false;
};

const Registration kReg{"cpu", [](const config::Config& config, std::string*) {
                          return std::unique_ptr<Collector>(new CpuCollector(config));
                        }};

}  // namespace
}  // namespace edgemon::collect
