#pragma once
// Structured logging: one JSON object per line with `ts` (RFC 3339, µs, UTC),
// `level`, `event` and the caller's fields. Goes to stderr (journald) unless a
// file is configured, in which case the file is rotated by size.
//
// Writes are synchronous: log volume is a few lines a minute in steady state,
// and a log line that is lost because it was queued in memory when the board
// lost power is worth more than the microseconds saved.
#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <variant>

namespace edgemon::log {

enum class Level { kDebug = 0, kInfo = 1, kWarn = 2, kError = 3 };

bool parse_level(std::string_view text, Level* out);
const char* level_name(Level level);

struct Field {
  using Value = std::variant<std::string_view, int64_t, uint64_t, double, bool>;
  Field(std::string_view k, std::string_view v) : key(k), value(v) {}
  Field(std::string_view k, const char* v) : key(k), value(std::string_view(v)) {}
  Field(std::string_view k, const std::string& v) : key(k), value(std::string_view(v)) {}
  Field(std::string_view k, int v) : key(k), value(int64_t{v}) {}
  Field(std::string_view k, long v) : key(k), value(int64_t{v}) {}
  Field(std::string_view k, long long v) : key(k), value(int64_t{v}) {}
  Field(std::string_view k, unsigned v) : key(k), value(uint64_t{v}) {}
  Field(std::string_view k, unsigned long v) : key(k), value(uint64_t{v}) {}
  Field(std::string_view k, unsigned long long v) : key(k), value(uint64_t{v}) {}
  Field(std::string_view k, double v) : key(k), value(v) {}
  Field(std::string_view k, bool v) : key(k), value(v) {}
  std::string_view key;
  Value value;
};

struct Options {
  Level level = Level::kInfo;
  std::string file;  // empty: stderr
  uint64_t max_file_bytes = 10 * 1024 * 1024;
  int max_files = 3;  // rotated files kept besides the live one
};

// Applies new options; on failure (file cannot be opened) keeps the previous
// destination and returns false with the reason in `error`.
bool configure(const Options& options, std::string* error);
// Reopens the log file (SIGHUP), for external rotation tools.
void reopen();
bool enabled(Level level);

void write(Level level, std::string_view event, std::initializer_list<Field> fields = {});
inline void debug(std::string_view event, std::initializer_list<Field> fields = {}) {
  if (enabled(Level::kDebug)) write(Level::kDebug, event, fields);
}
inline void info(std::string_view event, std::initializer_list<Field> fields = {}) {
  write(Level::kInfo, event, fields);
}
inline void warn(std::string_view event, std::initializer_list<Field> fields = {}) {
  write(Level::kWarn, event, fields);
}
inline void error(std::string_view event, std::initializer_list<Field> fields = {}) {
  write(Level::kError, event, fields);
}

// Formats one log line (without the trailing newline); exposed for tests.
std::string format_line(Level level, std::string_view event, std::initializer_list<Field> fields,
                        int64_t unix_micros);

}  // namespace edgemon::log
