#pragma once
// /proc/<pid>/status and /proc/<pid>/stat, for the daemon's own metrics.
#include <cstdint>
#include <string>
#include <string_view>

namespace edgemon::collect {

// The "Key:   N kB" line of a status file, in bytes. Returns "" or why not.
std::string parse_status_bytes(std::string_view text, std::string_view key, uint64_t* out);

// Field 22 of a stat file: start time in clock ticks after boot. The command
// name (field 2) may contain blanks and parentheses, so fields are counted
// from the last ')'.
std::string parse_pid_stat_starttime(std::string_view text, uint64_t* out);

}  // namespace edgemon::collect
