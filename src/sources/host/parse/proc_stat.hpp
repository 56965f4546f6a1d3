#pragma once
// /proc/stat: per-CPU tick counters and the system-wide counters below them.
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace edgemon::collect {

// Column order of a `cpu` line. guest and guest_nice are already included in
// user and nice.
enum CpuMode : size_t {
  kCpuUser,
  kCpuNice,
  kCpuSystem,
  kCpuIdle,
  kCpuIowait,
  kCpuIrq,
  kCpuSoftirq,
  kCpuSteal,
  kCpuGuest,
  kCpuGuestNice,
  kCpuModeCount
};

// Cumulative USER_HZ ticks; columns an older kernel does not write are 0.
using CpuTicks = std::array<uint64_t, kCpuModeCount>;

struct CpuLine {
  uint32_t cpu = 0;  // N of "cpuN"; offline CPUs have no line, so N is not a position
  CpuTicks ticks{};
};

struct ProcStat {
  std::optional<CpuTicks> total;  // the aggregate "cpu" line
  std::vector<CpuLine> cpus;      // "cpuN" lines in file order
  std::optional<uint64_t> intr;   // first number of "intr": all interrupts
  std::optional<uint64_t> ctxt;
  std::optional<uint64_t> btime;
  std::optional<uint64_t> processes;  // forks since boot
  std::optional<uint64_t> procs_running;
  std::optional<uint64_t> procs_blocked;
};

// Fills *out (reusing its vector's capacity). Returns "" or "line N: reason"
// for the first malformed line of a key it knows; unknown keys are ignored.
std::string parse_proc_stat(std::string_view text, ProcStat* out);

}  // namespace edgemon::collect
