#pragma once
// What every SQLite file of ours (spool, history, alerts) does the same way
// when it is opened: tell a damaged or foreign file, which is moved aside so
// the daemon still starts, from a failure that must not cost the file.
#include <sqlite3.h>

#include <functional>
#include <string>
#include <string_view>

namespace edgemon::store {

// kCorrupt: not usable as ours, safe to move aside and begin anew.
// kFailed: the file may be fine (or a newer edgemon's); leave it alone.
enum class Outcome { kOk, kCorrupt, kFailed };

struct Attempt {
  Outcome outcome = Outcome::kOk;
  std::string message;
  bool ok() const { return outcome == Outcome::kOk; }
};

bool is_corruption(int rc);

// Only corruption codes make a file worth moving aside; busy, I/O or
// permission errors say nothing about the file's content.
Attempt fail(int rc, std::string message);

// Runs `sql` (one or more statements); `first` gets the first column of the
// first row, if any. Returns the SQLite result code, the error in *message.
int exec(sqlite3* db, const char* sql, std::string* message, std::string* first = nullptr);

// PRAGMA quick_check(1), its finding as a one-line reason.
Attempt quick_check(sqlite3* db);

// The meta table's schema_version against `our_version`. `not_ours` begins
// the message for a file that is not ours, e.g. "not a spool schema".
Attempt check_schema_version(sqlite3* db, int our_version, std::string_view not_ours);

// Opens `path` (creating it unless read_only) for one thread at a time:
// SQLite's own mutexes would only cost time. *db must be closed even when
// this fails.
Attempt open_file(const std::string& path, bool read_only, int busy_timeout_ms, sqlite3** db);

// Readers never block the writer, and a crash leaves committed data intact.
Attempt use_wal(sqlite3* db);

bool file_exists(const std::string& path);

// Renames the file and its -wal/-shm to `<path>.corrupt-<unix seconds>[-n]`.
// `what` names the store in the error. Returns "" or the error.
[[nodiscard]] std::string move_aside(const std::string& path, std::string_view what,
                                     std::string* moved_to);

// Runs `attempt`; when it finds the file corrupt and `repair` allows, moves
// the file aside and runs it once more on a new one, so the daemon starts
// even on a damaged file. "" or the error, naming `what` and the path.
[[nodiscard]] std::string open_or_repair(const std::string& path, std::string_view what,
                                         bool repair, std::string* corrupt_reason,
                                         std::string* moved_to,
                                         const std::function<Attempt()>& attempt);

}  // namespace edgemon::store
