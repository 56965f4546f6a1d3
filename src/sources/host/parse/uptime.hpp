#pragma once
// /proc/uptime: "350735.47 1234388.90" (seconds since boot, idle seconds
// summed over all CPUs).
#include <string>
#include <string_view>

namespace edgemon::collect {

struct Uptime {
  double uptime_seconds = 0;
  double idle_seconds = 0;
};

std::string parse_uptime(std::string_view text, Uptime* out);

}  // namespace edgemon::collect
