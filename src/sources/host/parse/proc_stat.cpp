#include "sources/host/parse/proc_stat.hpp"

#include "sources/host/parse/scan.hpp"

namespace edgemon::collect {
namespace {

std::string line_error(size_t line_no, std::string_view what) {
  return "line " + std::to_string(line_no) + ": " + std::string(what);
}

// Reads the tick columns after the "cpu"/"cpuN" key. At least user, nice,
// system and idle are required (every kernel since 2.4 has them).
bool parse_ticks(std::string_view rest, CpuTicks* ticks) {
  ticks->fill(0);
  std::string_view field;
  size_t n = 0;
  while (scan::next_field(&rest, &field)) {
    uint64_t v = 0;
    if (!scan::to_u64(field, &v)) return false;
    if (n < ticks->size()) (*ticks)[n] = v;
    ++n;
  }
  return n >= 4;
}

bool parse_cpu_line(std::string_view key, std::string_view rest, ProcStat* out) {
  CpuTicks ticks;
  if (!parse_ticks(rest, &ticks)) return false;
  if (key.size() == 3) {
    out->total = ticks;
    return true;
  }
  uint64_t id = 0;
  if (!scan::to_u64(key.substr(3), &id) || id > UINT32_MAX) return false;
  out->cpus.push_back({static_cast<uint32_t>(id), ticks});
  return true;
}

// Keys whose value is the first number after the key.
std::optional<uint64_t>* counter_slot(std::string_view key, ProcStat* out) {
  if (key == "intr") return &out->intr;
  if (key == "ctxt") return &out->ctxt;
  if (key == "btime") return &out->btime;
  if (key == "processes") return &out->processes;
  if (key == "procs_running") return &out->procs_running;
  if (key == "procs_blocked") return &out->procs_blocked;
  return nullptr;
}

}  // namespace

std::string parse_proc_stat(std::string_view text, ProcStat* out) {
  out->total.reset();
  out->cpus.clear();
  out->intr.reset();
  out->ctxt.reset();
  out->btime.reset();
  out->processes.reset();
  out->procs_running.reset();
  out->procs_blocked.reset();

  std::string error;
  std::string_view line;
  size_t line_no = 0;
  while (scan::next_line(&text, &line)) {
    ++line_no;
    std::string_view key;
    if (!scan::next_field(&line, &key)) continue;
    if (key.substr(0, 3) == "cpu") {
      if (!parse_cpu_line(key, line, out) && error.empty())
        error = line_error(line_no, "malformed cpu line");
      continue;
    }
    std::optional<uint64_t>* slot = counter_slot(key, out);
    if (slot == nullptr) continue;
    std::string_view value;
    uint64_t v = 0;
    if (scan::next_field(&line, &value) && scan::to_u64(value, &v)) {
      *slot = v;
    } else if (error.empty()) {
      error = line_error(line_no, "malformed " + std::string(key) + " line");
    }
  }
  if (error.empty() && !out->total && out->cpus.empty()) error = "no cpu lines";
  return error;
}

}  // namespace edgemon::collect
