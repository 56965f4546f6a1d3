#pragma once
// /proc/loadavg: "0.52 0.61 0.58 3/912 24567".
#include <cstdint>
#include <string>
#include <string_view>

namespace edgemon::collect {

struct Loadavg {
  double load1 = 0;
  double load5 = 0;
  double load15 = 0;
  uint64_t runnable = 0;
  uint64_t threads = 0;  // all scheduling entities, i.e. threads, not processes
  uint64_t last_pid = 0;
};

// Returns "" or what is malformed.
std::string parse_loadavg(std::string_view text, Loadavg* out);

}  // namespace edgemon::collect
