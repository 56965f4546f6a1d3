// self: the daemon's own resource use, always from the real /proc/self (the
// configured procfs may be a host's /proc mounted into a container).
#include <dirent.h>
#include <malloc.h>
#include <sqlite3.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>

#include "core/read_file.hpp"
#include "sources/host/collector.hpp"
#include "sources/host/parse/proc_pid.hpp"
#include "sources/host/parse/proc_stat.hpp"
#include "sources/host/proc_file.hpp"

namespace edgemon::collect {
namespace {

using metrics::Type;

double seconds(const timeval& tv) {
  return static_cast<double>(tv.tv_sec) + static_cast<double>(tv.tv_usec) / 1e6;
}

// The process start as the kernel recorded it: /proc/self/stat starttime
// (ticks after boot) / CLK_TCK + btime of /proc/stat. That is what
// client_golang's process_start_time_seconds reports, and it stays right
// across config reloads, which rebuild this collector. If either file cannot
// be read, the wall clock at the first call stands in.
double process_start_time() {
  std::string buf;
  uint64_t start_ticks = 0;
  ProcStat stat;
  long hz = sysconf(_SC_CLK_TCK);
  if (hz > 0 && read_file("/proc/self/stat", &buf).empty() &&
      parse_pid_stat_starttime(buf, &start_ticks).empty() &&
      read_file("/proc/stat", &buf).empty() && parse_proc_stat(buf, &stat).empty() && stat.btime) {
    return static_cast<double>(*stat.btime) +
           static_cast<double>(start_ticks) / static_cast<double>(hz);
  }
  auto now = std::chrono::system_clock::now().time_since_epoch();
  return std::chrono::duration<double>(now).count();
}

class SelfCollector final : public SyncCollector {
 public:
  SelfCollector() : start_time_(process_start_time()) {}

  std::string gather_now(const CollectContext&) override {
    ok_ = false;
    std::string err = status_.read(&buf_);
    if (!err.empty()) return err;
    err = parse_status_bytes(buf_, "VmRSS", &rss_);
    if (err.empty()) err = parse_status_bytes(buf_, "VmHWM", &hwm_);
    if (!err.empty()) return status_.path() + ": " + err;
    rusage ru{};
    if (getrusage(RUSAGE_SELF, &ru) != 0) return std::string("getrusage: ") + std::strerror(errno);
    user_seconds_ = seconds(ru.ru_utime);
    system_seconds_ = seconds(ru.ru_stime);
    rlimit nofile{};
    if (getrlimit(RLIMIT_NOFILE, &nofile) != 0)
      return std::string("getrlimit: ") + std::strerror(errno);
    max_fds_ = nofile.rlim_cur;
    err = count_fds();
    if (!err.empty()) return err;
    // smaps_rollup walks every page table of the process: at a 1 s interval
    // it was a tenth of the daemon's CPU, for figures that move slowly.
    auto now = std::chrono::steady_clock::now();
    if (!shares_ || now - shares_read_ >= kSharesRefresh) {
      read_memory_shares();
      shares_read_ = now;
    }
    // Where the anonymous memory is: blocks in use, what the allocator
    // holds free (whole free pages go back to the kernel every 10 s), and
    // SQLite's share of what is in use (page caches, schemas, statements).
    struct mallinfo2 heap = mallinfo2();
    heap_in_use_ = heap.uordblks + heap.hblkhd;
    heap_free_ = heap.fordblks;
    sqlite_bytes_ = static_cast<uint64_t>(sqlite3_memory_used());
    ok_ = true;
    return "";
  }

  void write(metrics::MetricSink& sink) const override {
    if (!ok_) return;
    sink.begin({"edgemon_process_resident_memory_bytes", "Resident memory size (VmRSS) in bytes.",
                Type::kGauge});
    sink.sample(static_cast<double>(rss_));
    sink.begin({"edgemon_process_resident_memory_max_bytes",
                "Peak resident memory size (VmHWM) in bytes.", Type::kGauge});
    sink.sample(static_cast<double>(hwm_));
    if (shares_) {
      sink.begin({"edgemon_process_proportional_memory_bytes",
                  "Proportional set size (PSS): resident memory with each shared page divided "
                  "among the processes mapping it.",
                  Type::kGauge});
      sink.sample(static_cast<double>(pss_));
      sink.begin({"edgemon_process_unique_memory_bytes",
                  "Unique set size (USS): resident memory no other process shares, what "
                  "stopping the daemon would free.",
                  Type::kGauge});
      sink.sample(static_cast<double>(uss_));
    }
    sink.begin({"edgemon_process_heap_bytes",
                "The C heap (every thread's arena): blocks in use, and free space the "
                "allocator holds.",
                Type::kGauge});
    sink.sample({{"state", "in_use"}}, static_cast<double>(heap_in_use_));
    sink.sample({{"state", "free"}}, static_cast<double>(heap_free_));
    sink.begin({"edgemon_process_sqlite_memory_bytes",
                "Heap memory SQLite holds for every file the daemon has open: page caches, "
                "schemas, prepared statements.",
                Type::kGauge});
    sink.sample(static_cast<double>(sqlite_bytes_));
    sink.begin({"edgemon_process_cpu_seconds_total",
                "CPU time the daemon used, by mode, in seconds.", Type::kCounter});
    sink.sample({{"mode", "user"}}, user_seconds_);
    sink.sample({{"mode", "system"}}, system_seconds_);
    sink.begin({"edgemon_process_open_fds", "Number of open file descriptors.", Type::kGauge});
    sink.sample(static_cast<double>(open_fds_));
    sink.begin({"edgemon_process_max_fds", "Maximum number of open file descriptors (soft limit).",
                Type::kGauge});
    sink.sample(static_cast<double>(max_fds_));
    sink.begin({"edgemon_process_start_time_seconds",
                "Start time of the process since unix epoch in seconds.", Type::kGauge});
    sink.sample(start_time_);
  }

 private:
  // RSS counts every shared library page in full; PSS and USS are the honest
  // figures on a board where memory is the budget. smaps_rollup exists since
  // Linux 4.14; without it these families are left out.
  void read_memory_shares() {
    uint64_t clean = 0;
    uint64_t dirty = 0;
    shares_ = smaps_.read(&buf_).empty() && parse_status_bytes(buf_, "Pss", &pss_).empty() &&
              parse_status_bytes(buf_, "Private_Clean", &clean).empty() &&
              parse_status_bytes(buf_, "Private_Dirty", &dirty).empty();
    uss_ = clean + dirty;
  }

  std::string count_fds() {
    uint64_t n = 0;
    std::string err = fd_dir_.for_each([&n](const dirent& e) {
      if (e.d_name[0] != '.') ++n;
    });
    // The descriptors this collector keeps open to read /proc/self are not
    // the daemon's to report.
    n -= std::min<uint64_t>(n, (fd_dir_.fd() >= 0) + (status_.fd() >= 0) + (smaps_.fd() >= 0));
    open_fds_ = n;
    return err;
  }

  static constexpr std::chrono::seconds kSharesRefresh{10};

  double start_time_;
  std::chrono::steady_clock::time_point shares_read_;
  ProcFile status_{"/proc/self/status"};
  ProcFile smaps_{"/proc/self/smaps_rollup"};
  ProcDir fd_dir_{"/proc/self/fd"};
  std::string buf_;
  uint64_t rss_ = 0;
  uint64_t hwm_ = 0;
  uint64_t pss_ = 0;
  uint64_t uss_ = 0;
  bool shares_ = false;
  uint64_t heap_in_use_ = 0;
  uint64_t heap_free_ = 0;
  uint64_t sqlite_bytes_ = 0;
  double user_seconds_ = 0;
  double system_seconds_ = 0;
  uint64_t open_fds_ = 0;
  uint64_t max_fds_ = 0;
  bool ok_ = false;
};

const Registration kReg{"self", [](const config::Config&, std::string*) {
                          return std::unique_ptr<Collector>(new SelfCollector());
                        }};

}  // namespace
}  // namespace edgemon::collect
