// Opening the history: pragmas, schema, and what to do with a file that is
// not a usable history. The daemon must always start, and history is a
// convenience, so a damaged file is moved aside (kept for inspection) and a
// new one begun rather than refusing to run.
#include <sys/stat.h>

#include <algorithm>
#include <set>
#include <utility>

#include "store/history_db.hpp"
#include "store/history_internal.hpp"
#include "store/sqlite_file.hpp"

namespace edgemon::store {

using namespace history_sql;

namespace {

// One bucket table per width (minute, five_minute, hour), all alike.
#define EDGEMON_AGGREGATE_TABLE(name)                                                     \
  "CREATE TABLE " name                                                                    \
  " (\n  series INTEGER NOT NULL, t_ms INTEGER NOT NULL,\n  min REAL NOT NULL, max REAL " \
  "NOT NULL, sum REAL NOT NULL, count INTEGER NOT NULL,\n  last REAL NOT NULL, last_t "   \
  "INTEGER NOT NULL,\n  PRIMARY KEY (series, t_ms)\n) WITHOUT ROWID;\n"

// The README documents this schema for operators; keep them in step.
// WITHOUT ROWID keys rows by (series, t_ms): a series' range is one
// contiguous stretch of the B-tree, and the row carries no rowid besides.
constexpr const char* kCreateSchema = R"sql(
CREATE TABLE meta (key TEXT PRIMARY KEY NOT NULL, value TEXT NOT NULL);
CREATE TABLE series (
  id          INTEGER PRIMARY KEY,
  device      TEXT NOT NULL,
  measurement TEXT NOT NULL,
  field       TEXT NOT NULL,
  tags        TEXT NOT NULL,
  UNIQUE (device, measurement, field, tags)
);
CREATE INDEX series_by_name ON series (measurement, field, device);
CREATE TABLE raw (
  series INTEGER NOT NULL,
  t_ms   INTEGER NOT NULL,
  value  REAL    NOT NULL,
  PRIMARY KEY (series, t_ms)
) WITHOUT ROWID;
)sql" EDGEMON_AGGREGATE_TABLE("minute") EDGEMON_AGGREGATE_TABLE("five_minute")
    EDGEMON_AGGREGATE_TABLE("hour") R"sql(
CREATE TABLE devices (
  device        TEXT PRIMARY KEY NOT NULL,
  tags          TEXT NOT NULL,
  first_seen_ms INTEGER NOT NULL,
  last_seen_ms  INTEGER NOT NULL,
  points        INTEGER NOT NULL
);
INSERT INTO meta (key, value) VALUES ('schema_version', '2');
)sql";

// Tables every version has; later ones are added by migrate().
constexpr const char* kTables[] = {"meta", "series", "raw", "minute", "hour", "devices"};

// Version 1 had no five_minute table: it is built from the minutes, so
// queries at 5-minute steps over what an older edgemon stored see it all.
// `last` is the value of the bucket's latest minute.
constexpr const char* kMigrateTo2 = EDGEMON_AGGREGATE_TABLE("five_minute") R"sql(
INSERT INTO five_minute (series, t_ms, min, max, sum, count, last, last_t)
  SELECT series, t_ms - ((t_ms % 300000) + 300000) % 300000 AS start,
         min(min), max(max), sum(sum), sum(count), 0, max(last_t)
  FROM minute GROUP BY series, start;
UPDATE five_minute SET last = (
  SELECT m.last FROM minute AS m
  WHERE m.series = five_minute.series AND m.t_ms >= five_minute.t_ms
    AND m.t_ms < five_minute.t_ms + 300000
  ORDER BY m.last_t DESC LIMIT 1);
UPDATE meta SET value = '2' WHERE key = 'schema_version';
)sql";

// The WAL is truncated back to this after a checkpoint that a large
// retention pass grew it beyond.
constexpr const char* kJournalSizeLimit = "PRAGMA journal_size_limit = 4194304";

struct Connection {
  sqlite3* db = nullptr;
  ~Connection() { sqlite3_close_v2(db); }
  sqlite3* release() { return std::exchange(db, nullptr); }
};

Attempt check_schema(sqlite3* db, bool* exists) {
  std::set<std::string> names;
  std::string message;
  sqlite3_stmt* raw = nullptr;
  int rc = sqlite3_prepare_v2(db, "SELECT name FROM sqlite_master WHERE type = 'table'", -1, &raw,
                              nullptr);
  StatementPtr stmt(raw);
  if (rc != SQLITE_OK) return fail(rc, sql_error(db, "read schema"));
  while ((rc = sqlite3_step(raw)) == SQLITE_ROW) {
    names.insert(reinterpret_cast<const char*>(sqlite3_column_text(raw, 0)));
  }
  if (rc != SQLITE_DONE) return fail(rc, sql_error(db, "read schema"));
  *exists = !names.empty();
  if (names.empty()) return {};
  for (const char* table : kTables) {
    if (names.count(table) == 0) {
      return {Outcome::kCorrupt, std::string("not a history schema: no table ") + table};
    }
  }
  return check_schema_version(db, kSchemaVersion, "not a history schema");
}

Attempt migrate(sqlite3* db, int* upgraded_from) {
  std::string message;
  std::string version;
  int rc = exec(db, "SELECT value FROM meta WHERE key = 'schema_version'", &message, &version);
  if (rc != SQLITE_OK) return fail(rc, message);
  if (version != "1") return {};
  std::string sql = std::string("BEGIN IMMEDIATE;") + kMigrateTo2 + "COMMIT;";
  rc = exec(db, sql.c_str(), &message);
  if (rc != SQLITE_OK) {
    std::string ignored;
    exec(db, "ROLLBACK", &ignored);
    return fail(rc, "migrate to schema 2: " + message);
  }
  *upgraded_from = 1;
  return {};
}

Attempt setup_writer(sqlite3* db, bool exists, HistoryOpenReport* setup) {
  std::string message;
  std::string mode;
  // auto_vacuum only takes effect before the first table exists.
  if (!exists) {
    int rc = exec(db, "PRAGMA auto_vacuum = INCREMENTAL", &message);
    if (rc != SQLITE_OK) return fail(rc, message);
  }
  if (Attempt a = use_wal(db); !a.ok()) return a;
  int rc = SQLITE_OK;
  // A crash of the daemon loses nothing committed; a power cut may lose the
  // last commits, which is acceptable for a history (the outputs' spool is
  // what must be durable).
  rc = exec(db, "PRAGMA synchronous = NORMAL", &message);
  if (rc == SQLITE_OK) rc = exec(db, kJournalSizeLimit, &message);
  if (rc != SQLITE_OK) return fail(rc, message);
  if (exists) {
    if (Attempt a = quick_check(db); !a.ok()) return a;
    return migrate(db, &setup->upgraded_from);
  }
  std::string sql = std::string("BEGIN IMMEDIATE;") + kCreateSchema + "COMMIT;";
  rc = exec(db, sql.c_str(), &message);
  if (rc != SQLITE_OK) {
    exec(db, "ROLLBACK", &mode);
    return fail(rc, message);
  }
  setup->created = true;
  return {};
}

Attempt attempt_open(const HistoryOptions& options, Connection* conn, HistoryOpenReport* setup) {
  Attempt opened = open_file(options.path, options.read_only, options.busy_timeout_ms, &conn->db);
  if (!opened.ok()) return opened;
  // Memory stays flat however large the file grows: the cache is bounded
  // and nothing is memory-mapped.
  std::string pragmas = "PRAGMA cache_size = -" + std::to_string(options.cache_kib) +
                        "; PRAGMA mmap_size = 0; PRAGMA temp_store = MEMORY;";
  std::string message;
  int rc = exec(conn->db, pragmas.c_str(), &message);
  if (rc != SQLITE_OK) return fail(rc, message);
  bool exists = false;
  if (Attempt a = check_schema(conn->db, &exists); a.outcome != Outcome::kOk) return a;
  if (options.read_only) {
    if (!exists) return {Outcome::kFailed, "not a history: the database is empty"};
    return {};
  }
  return setup_writer(conn->db, exists, setup);
}

int64_t stat_size(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 ? static_cast<int64_t>(st.st_size) : 0;
}

}  // namespace

namespace history_sql {

std::string sql_error(sqlite3* db, std::string_view what) {
  std::string out(what);
  out += ": ";
  out += sqlite3_errmsg(db);
  return out;
}

sqlite3_stmt* StatementCache::get(const char* sql, std::string* error) {
  auto it = cache_.find(sql);
  if (it != cache_.end()) return it->second.get();
  sqlite3_stmt* stmt = nullptr;
  if (sqlite3_prepare_v3(db_, sql, -1, SQLITE_PREPARE_PERSISTENT, &stmt, nullptr) != SQLITE_OK) {
    *error = sql_error(db_, sql);
    sqlite3_finalize(stmt);
    return nullptr;
  }
  cache_.emplace(sql, StatementPtr(stmt));
  return stmt;
}

Transaction::~Transaction() {
  // After some errors SQLite has rolled back on its own already.
  if (open_ && sqlite3_get_autocommit(db_) == 0) {
    sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
  }
}

std::string Transaction::begin() {
  std::string message;
  if (exec(db_, "BEGIN IMMEDIATE", &message) != SQLITE_OK) return "begin: " + message;
  open_ = true;
  return "";
}

std::string Transaction::commit() {
  std::string message;
  if (exec(db_, "COMMIT", &message) != SQLITE_OK) return "commit: " + message;
  open_ = false;
  return "";
}

}  // namespace history_sql

std::unique_ptr<HistoryDb> HistoryDb::open(const HistoryOptions& options, HistoryOpenReport* report,
                                           std::string* error) {
  HistoryOpenReport local;
  if (report == nullptr) report = &local;
  *report = HistoryOpenReport{};
  if (options.read_only && !file_exists(options.path)) {
    *error = "no history at " + options.path;
    return nullptr;
  }
  std::unique_ptr<HistoryDb> db;
  *error = open_or_repair(options.path, "history", !options.read_only, &report->corrupt_reason,
                          &report->moved_to, [&]() -> Attempt {
                            Connection conn;
                            HistoryOpenReport setup;
                            Attempt a = attempt_open(options, &conn, &setup);
                            if (!a.ok()) return a;
                            std::unique_ptr<HistoryDb> opened(new HistoryDb());
                            opened->path_ = options.path;
                            opened->db_ = conn.release();
                            opened->statements_ = std::make_unique<StatementCache>(opened->db_);
                            opened->cache_cap_kib_ = options.cache_kib;
                            opened->cache_kib_per_series_ = options.cache_kib_per_series;
                            opened->cache_set_kib_ = options.cache_kib;
                            std::string e = options.read_only ? "" : opened->load_series();
                            if (!e.empty())
                              return {Outcome::kCorrupt, "not a history schema: " + e};
                            opened->fit_cache();
                            report->created = setup.created;
                            report->upgraded_from = setup.upgraded_from;
                            db = std::move(opened);
                            return {};
                          });
  return db;
}

HistoryDb::~HistoryDb() {
  // Statements first: a connection with unfinalized statements cannot close.
  statements_.reset();
  sqlite3_close_v2(db_);
}

std::string HistoryDb::load_series() {
  series_.clear();
  Stmt q(*statements_, "SELECT id, device, measurement, field, tags FROM series");
  if (!q.ok()) return q.prepare_error();
  int rc;
  while ((rc = q.step()) == SQLITE_ROW) {
    std::string key;
    for (int c = 1; c <= 4; ++c) {
      if (c > 1) key += '\0';
      key += q.text(c);
    }
    series_.emplace(std::move(key), q.int64(0));
  }
  return rc == SQLITE_DONE ? "" : sql_error(db_, "load series");
}

void HistoryDb::fit_cache() {
  // SQLite keeps every page it reads until the cache is full, and every new
  // page of the file passes through the writer: a fixed cache sized for a
  // hub's hundreds of series grew on an agent writing seven with its file,
  // for as long as the file grew (a week). The writer's working set
  // is the newest leaf of each series in each table, so that, over a floor
  // for the interior pages and the series table, is what it keeps.
  if (cache_kib_per_series_ <= 0) return;
  constexpr int64_t kFloorKib = 256;
  int64_t want = std::min(cache_cap_kib_,
                          kFloorKib + cache_kib_per_series_ * static_cast<int64_t>(series_.size()));
  if (want == cache_set_kib_) return;
  std::string pragma = "PRAGMA cache_size = -" + std::to_string(want);
  std::string message;
  // Lowering it frees the pages beyond the new size at once.
  if (exec(db_, pragma.c_str(), &message) == SQLITE_OK) cache_set_kib_ = want;
}

int64_t HistoryDb::cache_bytes() const {
  int current = 0;
  int highwater = 0;
  if (sqlite3_db_status(db_, SQLITE_DBSTATUS_CACHE_USED, &current, &highwater, 0) != SQLITE_OK) {
    return 0;
  }
  return current;
}

int64_t HistoryDb::file_bytes() const {
  return stat_size(path_) + stat_size(path_ + "-wal");
}

int64_t HistoryDb::used_bytes() {
  std::string message, pages, free_pages, page_size;
  exec(db_, "PRAGMA page_count", &message, &pages);
  exec(db_, "PRAGMA freelist_count", &message, &free_pages);
  exec(db_, "PRAGMA page_size", &message, &page_size);
  auto num = [](const std::string& s) { return s.empty() ? int64_t{0} : std::stoll(s); };
  return (num(pages) - num(free_pages)) * num(page_size);
}

}  // namespace edgemon::store
