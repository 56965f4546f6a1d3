#include "store/sqlite_file.hpp"

#include <sys/stat.h>

#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <utility>

#include "core/clock.hpp"

namespace edgemon::store {

bool is_corruption(int rc) {
  rc &= 0xff;
  return rc == SQLITE_CORRUPT || rc == SQLITE_NOTADB;
}

Attempt fail(int rc, std::string message) {
  return {is_corruption(rc) ? Outcome::kCorrupt : Outcome::kFailed, std::move(message)};
}

int exec(sqlite3* db, const char* sql, std::string* message, std::string* first) {
  auto on_row = [](void* arg, int columns, char** values, char**) {
    auto* out = static_cast<std::string*>(arg);
    if (out != nullptr && out->empty() && columns > 0 && values[0] != nullptr) *out = values[0];
    return 0;
  };
  char* error = nullptr;
  int rc = sqlite3_exec(db, sql, on_row, first, &error);
  if (rc != SQLITE_OK) *message = error != nullptr ? error : sqlite3_errstr(rc);
  sqlite3_free(error);
  return rc;
}

Attempt quick_check(sqlite3* db) {
  std::string message;
  std::string result;
  int rc = exec(db, "PRAGMA quick_check(1)", &message, &result);
  if (rc != SQLITE_OK) return fail(rc, message);
  if (result == "ok") return {};
  // "*** in database main ***\nPage 5: ..." on one line, without the banner.
  constexpr std::string_view kBanner = "*** in database main ***\n";
  if (result.starts_with(kBanner)) result.erase(0, kBanner.size());
  for (char& c : result) {
    if (c == '\n') c = ' ';
  }
  return {Outcome::kCorrupt, "quick_check: " + result};
}

Attempt check_schema_version(sqlite3* db, int our_version, std::string_view not_ours) {
  std::string message;
  std::string text;
  int rc = exec(db, "SELECT value FROM meta WHERE key = 'schema_version'", &message, &text);
  if (rc != SQLITE_OK) return fail(rc, message);
  int version = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), version);
  if (ec != std::errc() || end != text.data() + text.size() || version < 1) {
    return {Outcome::kCorrupt, std::string(not_ours) + ": schema_version '" + text + "'"};
  }
  if (version > our_version) {
    // Written by a newer edgemon: moving it aside would lose its data on a
    // downgrade, so refuse and leave the file as it is.
    return {Outcome::kFailed, "schema version " + text + " is newer than this edgemon's (" +
                                  std::to_string(our_version) + "); not touching it"};
  }
  return {};
}

Attempt open_file(const std::string& path, bool read_only, int busy_timeout_ms, sqlite3** db) {
  int flags = read_only ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
  flags |= SQLITE_OPEN_NOMUTEX;
  int rc = sqlite3_open_v2(path.c_str(), db, flags, nullptr);
  if (rc != SQLITE_OK) return fail(rc, *db != nullptr ? sqlite3_errmsg(*db) : sqlite3_errstr(rc));
  if (!read_only && sqlite3_db_readonly(*db, "main") == 1) {
    return {Outcome::kFailed, "the file is not writable"};
  }
  sqlite3_busy_timeout(*db, busy_timeout_ms);
  return {};
}

Attempt use_wal(sqlite3* db) {
  std::string message;
  std::string mode;
  int rc = exec(db, "PRAGMA journal_mode = WAL", &message, &mode);
  if (rc != SQLITE_OK) return fail(rc, message);
  if (mode != "wal") return {Outcome::kFailed, "journal_mode is '" + mode + "', not wal"};
  return {};
}

bool file_exists(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0;
}

std::string move_aside(const std::string& path, std::string_view what, std::string* moved_to) {
  // Kept for inspection, never deleted: the counter keeps two corrupt files
  // within one second from overwriting each other.
  std::string base = path + ".corrupt-" + std::to_string(unix_now_ms() / 1000);
  std::string target = base;
  for (int n = 2; file_exists(target); ++n) {
    target = base + "-" + std::to_string(n);
  }
  if (std::rename(path.c_str(), target.c_str()) != 0) {
    return "cannot move corrupt " + std::string(what) + " " + path +
           " aside: " + std::strerror(errno);
  }
  // The WAL may hold the only copy of recent commits: keep it next to its
  // database, under the name SQLite looks for, so the copy opens as it was.
  for (const char* suffix : {"-wal", "-shm"}) {
    std::string from = path + suffix;
    if (file_exists(from)) std::rename(from.c_str(), (target + suffix).c_str());
  }
  *moved_to = target;
  return "";
}

std::string open_or_repair(const std::string& path, std::string_view what, bool repair,
                           std::string* corrupt_reason, std::string* moved_to,
                           const std::function<Attempt()>& attempt) {
  std::string prefix = std::string(what) + " " + path + ": ";
  Attempt a = attempt();
  if (a.ok()) return "";
  if (a.outcome != Outcome::kCorrupt || !repair) return prefix + a.message;
  *corrupt_reason = a.message;
  if (std::string e = move_aside(path, what, moved_to); !e.empty()) {
    return e + " (" + a.message + ")";
  }
  // A second failure is not repaired again: a file we just created that is
  // still unusable points at something no number of new files would fix.
  a = attempt();
  return a.ok() ? "" : prefix + a.message;
}

}  // namespace edgemon::store
