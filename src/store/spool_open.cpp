// Opening the spool: pragmas, schema, and what to do with a file that is not
// a usable spool. The daemon must always start, so a corrupt file is moved
// aside (kept for inspection, never deleted) and a new one begun.
#include <set>
#include <utility>

#include "store/spool_internal.hpp"
#include "store/sqlite_file.hpp"

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

struct Connection {
  sqlite3* db = nullptr;
  ~Connection() { sqlite3_close_v2(db); }
  sqlite3* release() { return std::exchange(db, nullptr); }
};

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
  return check_schema_version(db, kSchemaVersion, "not a spool schema");
}

Attempt setup_writer(sqlite3* db, const SpoolOptions& options, bool exists, bool* created) {
  std::string message;
  std::string mode;
  // auto_vacuum only takes effect before the first table is created.
  if (!exists) {
    int rc = exec(db, "PRAGMA auto_vacuum = INCREMENTAL", &message);
    if (rc != SQLITE_OK) return fail(rc, message);
  }
  if (Attempt a = use_wal(db); !a.ok()) return a;
  int rc = exec(db, options.sync_full ? "PRAGMA synchronous = FULL" : "PRAGMA synchronous = NORMAL",
                &message);
  if (rc == SQLITE_OK) rc = exec(db, kJournalSizeLimit, &message);
  if (rc != SQLITE_OK) return fail(rc, message);
  if (exists && options.repair) {
    if (Attempt a = quick_check(db); a.outcome != Outcome::kOk) return a;
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
  Attempt opened = open_file(options.path, options.read_only, options.busy_timeout_ms, &conn->db);
  if (!opened.ok()) return opened;
  std::string message;
  int rc = exec(conn->db, kConnectionPragmas, &message);
  if (rc != SQLITE_OK) return fail(rc, message);
  bool exists = false;
  if (Attempt a = check_schema(conn->db, &exists); a.outcome != Outcome::kOk) return a;
  if (options.read_only) {
    if (!exists) return {Outcome::kFailed, "not a spool: the database is empty"};
    return {};
  }
  return setup_writer(conn->db, options, exists, created);
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
  std::unique_ptr<Spool> spool;
  bool repair = options.repair && !options.read_only;
  *error = open_or_repair(options.path, "spool", repair, &report->corrupt_reason, &report->moved_to,
                          [&]() -> Attempt {
                            Connection conn;
                            bool created = false;
                            Attempt a = attempt_open(options, &conn, &created);
                            if (!a.ok()) return a;
                            auto statements = std::make_unique<Statements>();
                            if (std::string e = statements->prepare_all(conn.db); !e.empty()) {
                              return {Outcome::kCorrupt, "not a spool schema: " + e};
                            }
                            spool.reset(new Spool());
                            spool->path_ = options.path;
                            spool->db_ = conn.release();
                            spool->statements_ = std::move(statements);
                            report->created = created;
                            return {};
                          });
  return spool;
}

Spool::~Spool() {
  // Statements first: a connection with unfinalized statements cannot close.
  statements_.reset();
  sqlite3_close_v2(db_);
}

}  // namespace edgemon::store
