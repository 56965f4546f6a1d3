#include "sources/host/parse/proc_pid.hpp"

#include "sources/host/parse/scan.hpp"

namespace edgemon::collect {

std::string parse_status_bytes(std::string_view text, std::string_view key, uint64_t* out) {
  std::string_view line;
  while (scan::next_line(&text, &line)) {
    size_t colon = line.find(':');
    if (colon == std::string_view::npos || line.substr(0, colon) != key) continue;
    std::string_view rest = line.substr(colon + 1);
    std::string_view number, unit;
    uint64_t v = 0;
    if (!scan::next_field(&rest, &number) || !scan::to_u64(number, &v) ||
        !scan::next_field(&rest, &unit) || unit != "kB" || v > UINT64_MAX / 1024)
      return std::string(key) + ": expected \"N kB\"";
    *out = v * 1024;
    return "";
  }
  return std::string(key) + ": not found";
}

std::string parse_pid_stat_starttime(std::string_view text, uint64_t* out) {
  size_t paren = text.rfind(')');
  if (paren == std::string_view::npos) return "no command name";
  std::string_view rest = text.substr(paren + 1);
  std::string_view field;
  // After the command come fields 3 (state) ... 22 (starttime).
  for (int n = 3; n <= 22; ++n) {
    if (!scan::next_field(&rest, &field)) return "fewer than 22 fields";
  }
  if (!scan::to_u64(scan::trim(field), out)) return "malformed starttime";
  return "";
}

}  // namespace edgemon::collect
