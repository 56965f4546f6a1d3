// stat: the system-wide /proc/stat counters (boot time, context switches,
// forks, interrupts, running/blocked), plus process and thread counts.
#include <dirent.h>

#include "sources/host/collector.hpp"
#include "sources/host/parse/loadavg.hpp"
#include "sources/host/parse/proc_stat.hpp"
#include "sources/host/proc_file.hpp"

namespace edgemon::collect {
namespace {

using metrics::Type;

bool all_digits(const char* name) {
  if (*name == '\0') return false;
  for (; *name != '\0'; ++name)
    if (*name < '0' || *name > '9') return false;
  return true;
}

class StatCollector final : public SyncCollector {
 public:
  explicit StatCollector(const config::Config& config)
      : proc_dir_(config.collect.procfs),
        stat_file_(config.collect.procfs + "/stat"),
        loadavg_file_(config.collect.procfs + "/loadavg") {}

  std::string gather_now(const CollectContext&) override {
    ok_ = false;
    std::string err = stat_file_.read(&buf_);
    if (!err.empty()) return err;
    err = parse_proc_stat(buf_, &stat_);
    if (!err.empty()) return stat_file_.path() + ": " + err;
    err = loadavg_file_.read(&buf_);
    if (!err.empty()) return err;
    err = parse_loadavg(buf_, &load_);
    if (!err.empty()) return loadavg_file_.path() + ": " + err;
    err = count_pids();
    if (!err.empty()) return err;
    ok_ = true;
    return "";
  }

  void write(metrics::MetricSink& sink) const override {
    if (!ok_) return;
    write_optional(sink, {"node_boot_time_seconds", "Node boot time, in unixtime.", Type::kGauge},
                   stat_.btime);
    write_optional(
        sink, {"node_context_switches_total", "Total number of context switches.", Type::kCounter},
        stat_.ctxt);
    write_optional(sink, {"node_forks_total", "Total number of forks.", Type::kCounter},
                   stat_.processes);
    write_optional(sink,
                   {"node_intr_total", "Total number of interrupts serviced.", Type::kCounter},
                   stat_.intr);
    write_optional(sink,
                   {"node_procs_running", "Number of processes in runnable state.", Type::kGauge},
                   stat_.procs_running);
    write_optional(sink,
                   {"node_procs_blocked",
                    "Number of processes blocked waiting for I/O to complete.", Type::kGauge},
                   stat_.procs_blocked);
    sink.begin({"node_processes_pids", "Number of PIDs", Type::kGauge});
    sink.sample(static_cast<double>(pids_));
    sink.begin({"node_processes_threads", "Allocated threads in system", Type::kGauge});
    sink.sample(static_cast<double>(load_.threads));
  }

 private:
  static void write_optional(metrics::MetricSink& sink, const metrics::FamilyDesc& family,
                             const std::optional<uint64_t>& value) {
    sink.begin(family);
    if (value) sink.sample(static_cast<double>(*value));
  }

  // What psutil.pids() counts: the numeric directories of procfs.
  std::string count_pids() {
    uint64_t n = 0;
    std::string err = proc_dir_.for_each([&n](const dirent& e) {
      if ((e.d_type == DT_DIR || e.d_type == DT_UNKNOWN) && all_digits(e.d_name)) ++n;
    });
    pids_ = n;
    return err;
  }

  ProcDir proc_dir_;
  ProcFile stat_file_;
  ProcFile loadavg_file_;
  std::string buf_;
  ProcStat stat_;
  Loadavg load_;
  uint64_t pids_ = 0;
  bool ok_ = false;
};

const Registration kReg{"stat", [](const config::Config& config, std::string*) {
                          return std::unique_ptr<Collector>(new StatCollector(config));
                        }};

}  // namespace
}  // namespace edgemon::collect
