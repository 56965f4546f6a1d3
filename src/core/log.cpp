#include "core/log.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <ctime>

#include "core/json_text.hpp"
#include "core/number_text.hpp"

namespace edgemon::log {
namespace {

struct Sink {
  Options options;
  int fd = STDERR_FILENO;
  uint64_t file_bytes = 0;
};

Sink& sink() {
  static Sink s;
  return s;
}

int open_log_file(const std::string& path, uint64_t* size, std::string* error) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
  if (fd < 0) {
    if (error) *error = "cannot open log file " + path + ": " + std::strerror(errno);
    return -1;
  }
  struct stat st {};
  *size = (::fstat(fd, &st) == 0) ? static_cast<uint64_t>(st.st_size) : 0;
  return fd;
}

// file.(n-1) -> file.n ... file -> file.1, then a fresh file. Rotation happens
// in-line because it is three renames once per max_file_bytes of logs.
void rotate(Sink& s) {
  const std::string& base = s.options.file;
  if (s.options.max_files <= 0) {
    if (::ftruncate(s.fd, 0) == 0) s.file_bytes = 0;
    return;
  }
  for (int i = s.options.max_files - 1; i >= 1; --i) {
    std::string from = base + "." + std::to_string(i);
    std::string to = base + "." + std::to_string(i + 1);
    ::rename(from.c_str(), to.c_str());
  }
  ::rename(base.c_str(), (base + ".1").c_str());
  uint64_t size = 0;
  int fd = open_log_file(base, &size, nullptr);
  if (fd >= 0) {
    ::close(s.fd);
    s.fd = fd;
    s.file_bytes = size;
  }
}

void write_all(int fd, const std::string& line) {
  const char* p = line.data();
  size_t left = line.size();
  while (left > 0) {
    ssize_t n = ::write(fd, p, left);
    if (n < 0) {
      if (errno == EINTR) continue;
      return;  // Nowhere left to report a logging failure.
    }
    p += n;
    left -= static_cast<size_t>(n);
  }
}

void append_timestamp(std::string& out, int64_t unix_micros) {
  time_t secs = static_cast<time_t>(unix_micros / 1000000);
  struct tm tm {};
  gmtime_r(&secs, &tm);
  char buf[40];
  int n = std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%06lldZ", tm.tm_year + 1900,
                        tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                        static_cast<long long>(unix_micros % 1000000));
  out.append(buf, static_cast<size_t>(n));
}

}  // namespace

bool parse_level(std::string_view text, Level* out) {
  static constexpr std::pair<std::string_view, Level> kLevels[] = {{"debug", Level::kDebug},
                                                                   {"info", Level::kInfo},
                                                                   {"warn", Level::kWarn},
                                                                   {"error", Level::kError}};
  for (const auto& [name, value] : kLevels) {
    if (name == text) {
      *out = value;
      return true;
    }
  }
  return false;
}

const char* level_name(Level level) {
  switch (level) {
    case Level::kDebug:
      return "debug";
    case Level::kInfo:
      return "info";
    case Level::kWarn:
      return "warn";
    case Level::kError:
      return "error";
  }
  return "info";
}

bool configure(const Options& options, std::string* error) {
  Sink& s = sink();
  if (options.file.empty()) {
    if (s.fd != STDERR_FILENO) ::close(s.fd);
    s.fd = STDERR_FILENO;
    s.options = options;
    return true;
  }
  uint64_t size = 0;
  int fd = open_log_file(options.file, &size, error);
  if (fd < 0) return false;
  if (s.fd != STDERR_FILENO) ::close(s.fd);
  s.fd = fd;
  s.file_bytes = size;
  s.options = options;
  return true;
}

void reopen() {
  Sink& s = sink();
  if (s.options.file.empty()) return;
  std::string error;
  uint64_t size = 0;
  int fd = open_log_file(s.options.file, &size, &error);
  if (fd < 0) {
    write(Level::kError, "log_reopen_failed", {{"error", error}});
    return;
  }
  ::close(s.fd);
  s.fd = fd;
  s.file_bytes = size;
}

bool enabled(Level l) {
  return static_cast<int>(l) >= static_cast<int>(sink().options.level);
}

std::string format_line(Level lvl, std::string_view event, std::initializer_list<Field> fields,
                        int64_t unix_micros) {
  std::string line;
  line.reserve(128);
  line += "{\"ts\":\"";
  append_timestamp(line, unix_micros);
  line += "\",\"level\":\"";
  line += level_name(lvl);
  line += "\",\"event\":";
  append_json_string(line, event);
  for (const Field& f : fields) {
    line.push_back(',');
    append_json_string(line, f.key);
    line.push_back(':');
    std::visit(
        [&line](const auto& v) {
          using V = std::decay_t<decltype(v)>;
          if constexpr (std::is_same_v<V, std::string_view>) {
            append_json_string(line, v);
          } else if constexpr (std::is_same_v<V, bool>) {
            line += v ? "true" : "false";
          } else if constexpr (std::is_same_v<V, double>) {
            if (std::isfinite(v)) {
              append_double(line, v);
            } else {
              line += "null";  // JSON has no NaN/Inf.
            }
          } else {
            append_integer(line, v);
          }
        },
        f.value);
  }
  line.push_back('}');
  return line;
}

void write(Level lvl, std::string_view event, std::initializer_list<Field> fields) {
  Sink& s = sink();
  if (!enabled(lvl)) return;
  struct timespec ts {};
  clock_gettime(CLOCK_REALTIME, &ts);
  int64_t micros = static_cast<int64_t>(ts.tv_sec) * 1000000 + ts.tv_nsec / 1000;
  std::string line = format_line(lvl, event, fields, micros);
  line.push_back('\n');
  if (s.fd != STDERR_FILENO && s.options.max_file_bytes > 0 &&
      s.file_bytes + line.size() > s.options.max_file_bytes) {
    rotate(s);
  }
  write_all(s.fd, line);
  s.file_bytes += line.size();
}

}  // namespace edgemon::log
