// Opening the spool: pragmas, schema, and what to do with a file that is not
// a usable spool. The daemon must always start, so a corrupt file is moved
// aside (kept for inspection, never deleted) and a new one begun.
#include <sys/stat.h>

#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <set>
#include <utility>

#include "store/spool_internal.hpp"

namespace edgemon::store {
namespace {

// The README documents this schema for operators; keep them in step.
constexpr const char* kCreateSchema = R"sql(
CREATE TABLE meta (
  key   TEXT PRIMARY KEY NOT NULL,
  value TEXT NOT NULL
);
CREATE TABLE batches (
  id         INTEGER PRIMARY KEY AUTOINCREMENT,
  output     TEXT    NOT NULL,
  created_ms INTEGER NOT NULL,
  points     INTEGER NOT NULL,
  bytes      INTEGER NOT NULL,
  precision  TEXT    NOT NULL,
  attempts   INTEGER NOT NULL DEFAULT 0,
  crc        INTEGER NOT NULL,
  body       TEXT    NOT NULL
);
CREATE TABLE dead_letters (
  id         INTEGER PRIMARY KEY AUTOINCREMENT,
  batch_id   INTEGER NOT NULL,
  output     TEXT    NOT NULL,
  created_ms INTEGER NOT NULL,
  dead_ms    INTEGER NOT NULL,
  points     INTEGER NOT NULL,
  bytes      INTEGER NOT NULL,
  precision  TEXT    NOT NULL,
  status     INTEGER NOT NULL,
  error      TEXT    NOT NULL,
  body       TEXT    NOT NULL
);
INSERT INTO meta (key, value) VALUES ('schema_version', '1');
)sql";

// Every queue question (the head of a queue, its size, the caps, stats) is
// answered from this index without touching the pages that hold bodies.
constexpr const char* kCreateIndexes = R"sql(
CREATE INDEX IF NOT EXISTS batches_queue
  ON batches (output, id, created_ms, points, bytes, precision);
CREATE INDEX IF NOT EXISTS dead_letters_output ON dead_letters (output, id, points);
)sql";

constexpr const char* kTables[] = {"meta", "batches", "dead_letters"};

// Page cache per connection, in KiB when negative: memory stays flat however
// long the backlog grows. 1 MiB, not more, because the cache only fills up
// with a large file, so its size is the RSS an idle backlog costs over an
// empty spool; appends and drains touch few pages more than once, so a larger
// cache measured no faster.
constexpr const char* kConnectionPragmas =
    "PRAGMA cache_size = -1024; PRAGMA mmap_size = 0; PRAGMA temp_store = MEMORY;";
// The WAL is reset after each checkpoint; this also truncates it back once a
// large transaction has grown it.
constexpr const char* kJournalSizeLimit = "PRAGMA journal_size_limit = 4194304";

enum class Outcome { kOk, kCorrupt, kFailed };

struct Attempt {
  Outcome outcome = Outcome::kOk;
  std::string message;
};

bool is_corruption(int rc) {
  rc &= 0xff;
  return rc == SQLITE_CORRUPT || rc == SQLITE_NOTADB;
}

struct Connection {
  sqlite3* db = nullptr;
  ~Connection() { sqlite3_close_v2(db); }
  sqlite3* release() { return std::exchange(db, nullptr); }
};

// Runs `sql` (one or more statements); `first` gets the first column of the
// first row, if any. Returns the SQLite result code.
int exec(sqlite3* db, const char* sql, std::string* message, std::string* first = nullptr) {
  auto on_row = [](void* arg, int columns, char** values, char**) {
    auto* out = static_cast<std::string*>(arg);
    if (out != nullptr && out->empty() && columns > 0 && values[0] != nullptr) *out = values[0];
    return 0;
  };
  char* error = nullptr;
  int rc = sqlite3_exec(db, sql, on_row, first, &error);
  if (rc != SQLITE_OK) {
    *message = error != nullptr ? error : sqlite3_errstr(rc);
  }
  sqlite3_free(error);
  return rc;
}

Attempt fail(int rc, std::string message) {
  return {is_corruption(rc) ? Outcome::kCorrupt : Outcome::kFailed, std::move(message)};
}

// Which of our tables exist; any at all in the file.
Attempt read_tables(sqlite3* db, std::set<std::string>* ours, bool* any) {
  std::string message;
  sqlite3_stmt* raw = nullptr;
  int rc = sqlite3_prepare_v2(db, "SELECT name FROM sqlite_master WHERE type = 'table'", -1, &raw,
                              nullptr);
  StatementPtr stmt(raw);
  if (rc != SQLITE_OK) return fail(rc, sql_error(db, "read schema"));
  *any = false;
  while ((rc = sqlite3_step(raw)) == SQLITE_ROW) {
    *any = true;
    std::string name = reinterpret_cast<const char*>(sqlite3_column_text(raw, 0));
    for (const char* table : kTables) {
      if (name == table) ours->insert(name);
    }
  }
  if (rc != SQLITE_DONE) return fail(rc, sql_error(db, "read schema"));
  return {};
}

// The file's schema version against ours. `exists` false: a new database.
Attempt check_schema(sqlite3* db, bool* exists) {
  std::set<std::string> ours;
  bool any = false;
  if (Attempt a = read_tables(db, &ours, &any); a.outcome != Outcome::kOk) return a;
  *exists = any;
  if (!any) return {};
  for (const char* table : kTables) {
    if (ours.count(table) == 0) {
      return {Outcome::kCorrupt, std::string("not a spool schema: no table ") + table};
    }
  }
  std::string message;
  std::string text;
  int rc = exec(db, "SELECT value FROM meta WHERE key = 'schema_version'", &message, &text);
  if (rc != SQLITE_OK) return fail(rc, message);
  int version = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), version);
  if (ec != std::errc() || end != text.data() + text.size() || version < 1) {
    return {Outcome::kCorrupt, "not a spool schema: schema_version '" + text + "'"};
  }
  if (version > kSchemaVersion) {
    // Written by a newer edgemon: moving it aside would lose its data on a
    // downgrade, so refuse and leave the file as it is.
    return {Outcome::kFailed, "schema version " + text + " is newer than this edgemon's (" +
                                  std::to_string(kSchemaVersion) + "); not touching it"};
  }
  return {};
}

Attempt integrity(sqlite3* db) {
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

Attempt setup_writer(sqlite3* db, const SpoolOptions& options, bool exists, bool* created) {
  std::string message;
  std::string mode;
  // auto_vacuum only takes effect before the first table is created.
  if (!exists) {
    int rc = exec(db, "PRAGMA auto_vacuum = INCREMENTAL", &message);
    if (rc != SQLITE_OK) return fail(rc, message);
  }
  int rc = exec(db, "PRAGMA journal_mode = WAL", &message, &mode);
  if (rc != SQLITE_OK) return fail(rc, message);
  if (mode != "wal") return {Outcome::kFailed, "journal_mode is '" + mode + "', not wal"};
  rc = exec(db, options.sync_full ? "PRAGMA synchronous = FULL" : "PRAGMA synchronous = NORMAL",
            &message);
  if (rc == SQLITE_OK) rc = exec(db, kJournalSizeLimit, &message);
  if (rc != SQLITE_OK) return fail(rc, message);
  if (exists && options.repair) {
    if (Attempt a = integrity(db); a.outcome != Outcome::kOk) return a;
  }
  if (!exists) {
    std::string sql = std::string("BEGIN IMMEDIATE;") + kCreateSchema + "COMMIT;";
    rc = exec(db, sql.c_str(), &message);
    if (rc != SQLITE_OK) {
      exec(db, "ROLLBACK", &mode);
      return fail(rc, message);
    }
    *created = true;
  }
  rc = exec(db, kCreateIndexes, &message);
  if (rc != SQLITE_OK) return fail(rc, message);
  return {};
}

Attempt attempt_open(const SpoolOptions& options, Connection* conn, bool* created) {
  int flags = options.read_only ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
  // One connection used by one thread at a time: SQLite's own mutexes would
  // only cost time.
  flags |= SQLITE_OPEN_NOMUTEX;
  int rc = sqlite3_open_v2(options.path.c_str(), &conn->db, flags, nullptr);
  if (rc != SQLITE_OK) {
    return fail(rc, conn->db != nullptr ? sqlite3_errmsg(conn->db) : sqlite3_errstr(rc));
  }
  if (!options.read_only && sqlite3_db_readonly(conn->db, "main") == 1) {
    return {Outcome::kFailed, "the file is not writable"};
  }
  sqlite3_busy_timeout(conn->db, options.busy_timeout_ms);
  std::string message;
  rc = exec(conn->db, kConnectionPragmas, &message);
  if (rc != SQLITE_OK) return fail(rc, message);
  bool exists = false;
  if (Attempt a = check_schema(conn->db, &exists); a.outcome != Outcome::kOk) return a;
  if (options.read_only) {
    if (!exists) return {Outcome::kFailed, "not a spool: the database is empty"};
    return {};
  }
  return setup_writer(conn->db, options, exists, created);
}

bool file_exists(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0;
}

// Renames the database and its WAL files to `<path>.corrupt-<unix seconds>`
// (with a counter if that is taken). Returns "" or the error.
std::string move_aside(const std::string& path, std::string* moved_to) {
  std::string base = path + ".corrupt-" + std::to_string(now_unix_ms() / 1000);
  std::string target = base;
  for (int n = 2; file_exists(target); ++n) {
    target = base + "-" + std::to_string(n);
  }
  if (std::rename(path.c_str(), target.c_str()) != 0) {
    return "cannot move corrupt spool " + path + " aside: " + std::strerror(errno);
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

}  // namespace

std::unique_ptr<Spool> Spool::open(const SpoolOptions& options, OpenReport* report,
                                   std::string* error) {
  OpenReport local_report;
  if (report == nullptr) report = &local_report;
  *report = OpenReport{};
  if (options.read_only && !file_exists(options.path)) {
    *error = "no spool at " + options.path;
    return nullptr;
  }
  for (int round = 0; round < 2; ++round) {
    Connection conn;
    bool created = false;
    Attempt a = attempt_open(options, &conn, &created);
    auto statements = std::make_unique<Statements>();
    if (a.outcome == Outcome::kOk) {
      if (std::string e = statements->prepare_all(conn.db); !e.empty()) {
        a = {Outcome::kCorrupt, "not a spool schema: " + e};
      }
    }
    if (a.outcome == Outcome::kOk) {
      std::unique_ptr<Spool> spool(new Spool());
      spool->path_ = options.path;
      spool->db_ = conn.release();
      spool->statements_ = std::move(statements);
      report->created = created;
      return spool;
    }
    statements.reset();
    sqlite3_close_v2(conn.release());
    bool repairable = a.outcome == Outcome::kCorrupt && !options.read_only && options.repair;
    if (!repairable || round > 0) {
      *error = "spool " + options.path + ": " + a.message;
      return nullptr;
    }
    report->corrupt_reason = a.message;
    if (std::string e = move_aside(options.path, &report->moved_to); !e.empty()) {
      *error = e + " (" + a.message + ")";
      return nullptr;
    }
  }
  *error = "spool " + options.path + ": cannot open";
  return nullptr;
}

Spool::~Spool() {
  // Statements first: a connection with unfinalized statements cannot close.
  statements_.reset();
  sqlite3_close_v2(db_);
}

}  // namespace edgemon::store
