#include "sources/host/parse/loadavg.hpp"

#include "sources/host/parse/scan.hpp"

namespace edgemon::collect {

std::string parse_loadavg(std::string_view text, Loadavg* out) {
  std::string_view line;
  if (!scan::next_line(&text, &line)) return "empty";
  std::string_view f1, f5, f15, tasks, last;
  if (!scan::next_field(&line, &f1) || !scan::next_field(&line, &f5) ||
      !scan::next_field(&line, &f15) || !scan::next_field(&line, &tasks) ||
      !scan::next_field(&line, &last))
    return "expected 5 fields";
  if (!scan::to_double(f1, &out->load1) || !scan::to_double(f5, &out->load5) ||
      !scan::to_double(f15, &out->load15))
    return "malformed load average";
  size_t slash = tasks.find('/');
  if (slash == std::string_view::npos || !scan::to_u64(tasks.substr(0, slash), &out->runnable) ||
      !scan::to_u64(tasks.substr(slash + 1), &out->threads))
    return "malformed runnable/total field";
  if (!scan::to_u64(last, &out->last_pid)) return "malformed last pid";
  return "";
}

}  // namespace edgemon::collect
