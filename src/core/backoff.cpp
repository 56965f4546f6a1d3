#include "core/backoff.hpp"

#include <uv.h>

#include <algorithm>

namespace edgemon {

Backoff::Backoff(std::chrono::milliseconds initial, std::chrono::milliseconds max)
    : initial_(std::max(initial, std::chrono::milliseconds(1))),
      max_(std::max(max, initial_)),
      // Seeded per process and output; it only has to differ between boards.
      random_(static_cast<std::minstd_rand::result_type>(uv_hrtime() ^ uv_os_getpid())) {}

std::chrono::milliseconds Backoff::next() {
  int64_t ceiling = initial_.count();
  for (uint32_t i = 0; i < attempts_ && ceiling < max_.count(); ++i)
    ceiling *= 2;
  ceiling = std::min<int64_t>(ceiling, max_.count());
  ++attempts_;
  std::uniform_int_distribution<int64_t> pick(ceiling / 2, ceiling);
  return std::chrono::milliseconds(pick(random_));
}

}  // namespace edgemon
