#include "sources/host/parse/cpu_usage.hpp"

namespace edgemon::collect {

double cpu_usage_ratio(const CpuTicks& before, const CpuTicks& after) {
  CpuTicks d{};
  uint64_t sum = 0;
  for (size_t i = 0; i < kCpuModeCount; ++i) {
    d[i] = after[i] > before[i] ? after[i] - before[i] : 0;
    sum += d[i];
  }
  // Guest ticks are also in user/nice, so clamping could in theory leave the
  // subtraction bigger than the sum; treat that like no elapsed time.
  uint64_t guest = d[kCpuGuest] + d[kCpuGuestNice];
  if (sum <= guest) return 0.0;
  uint64_t total = sum - guest;
  uint64_t idle = d[kCpuIdle] + d[kCpuIowait];
  uint64_t busy = total > idle ? total - idle : 0;
  return static_cast<double>(busy) / static_cast<double>(total);
}

}  // namespace edgemon::collect
