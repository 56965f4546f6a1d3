#pragma once
// Wall-clock time as the daemon records it (timestamps of points, spool rows,
// /status). uv_gettimeofday rather than std::chrono so that every file agrees
// on one source and one unit.
#include <uv.h>

#include <cstdint>

namespace edgemon {

inline int64_t unix_now_ms() {
  uv_timeval64_t tv{};
  uv_gettimeofday(&tv);
  return tv.tv_sec * 1000 + tv.tv_usec / 1000;
}

}  // namespace edgemon
