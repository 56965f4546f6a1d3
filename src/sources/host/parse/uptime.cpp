#include "sources/host/parse/uptime.hpp"

#include "sources/host/parse/scan.hpp"

namespace edgemon::collect {

std::string parse_uptime(std::string_view text, Uptime* out) {
  std::string_view line, up, idle;
  if (!scan::next_line(&text, &line) || !scan::next_field(&line, &up) ||
      !scan::next_field(&line, &idle))
    return "expected 2 fields";
  if (!scan::to_double(up, &out->uptime_seconds) || !scan::to_double(idle, &out->idle_seconds))
    return "malformed number";
  return "";
}

}  // namespace edgemon::collect
