#pragma once
// CPU usage between two /proc/stat samples, computed the way psutil's
// cpu_percent does, but as a 0..1 ratio and unrounded:
//   d_i   = max(0, t1_i - t0_i)          (iowait may go backwards)
//   total = sum(d_i) - d_guest - d_guest_nice   (guest is inside user/nice)
//   busy  = total - d_idle - d_iowait    (waiting on I/O counts as idle)
//   ratio = total == 0 ? 0 : busy / total
#include "sources/host/parse/proc_stat.hpp"

namespace edgemon::collect {

double cpu_usage_ratio(const CpuTicks& before, const CpuTicks& after);

}  // namespace edgemon::collect
