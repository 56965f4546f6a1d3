#include "store/alert_store.hpp"

#include <sqlite3.h>
#include <sys/stat.h>
#include <uv.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <utility>

namespace edgemon::store {
namespace {

constexpr int kSchemaVersion = 1;

// The README documents this schema for operators; keep them in step.
constexpr const char* kCreateSchema = R"sql(
CREATE TABLE meta (
  key   TEXT PRIMARY KEY NOT NULL,
  value TEXT NOT NULL
);
CREATE TABLE alerts (
  fingerprint       TEXT PRIMARY KEY NOT NULL,
  alertname         TEXT NOT NULL,
  status            TEXT NOT NULL,
  labels            TEXT NOT NULL,
  annotations       TEXT NOT NULL,
  starts_at_ms      INTEGER,
  ends_at_ms        INTEGER,
  first_received_ms INTEGER NOT NULL,
  last_received_ms  INTEGER NOT NULL,
  notifications     INTEGER NOT NULL,
  receiver          TEXT NOT NULL,
  generator_url     TEXT NOT NULL
);
INSERT INTO meta (key, value) VALUES ('schema_version', '1');
)sql";

// Listing by status newest first, retention and the caps all walk this
// index; listing everything walks the second.
constexpr const char* kCreateIndexes = R"sql(
CREATE INDEX IF NOT EXISTS alerts_status_received ON alerts (status, last_received_ms);
CREATE INDEX IF NOT EXISTS alerts_received ON alerts (last_received_ms);
)sql";

// A small table read a few times a minute: a small cache is plenty.
constexpr const char* kConnectionPragmas =
    "PRAGMA cache_size = -512; PRAGMA mmap_size = 0; PRAGMA temp_store = MEMORY;";

#define EDGEMON_ALERT_COLUMNS                                                       \
  "fingerprint, alertname, status, labels, annotations, starts_at_ms, ends_at_ms, " \
  "first_received_ms, last_received_ms, notifications, receiver, generator_url"

enum Sql {
  kBegin,
  kCommit,
  kRollback,
  kFind,
  kInsert,
  kUpdate,
  kCount,
  kDeleteRetention,
  kDeleteOldest,
  kListAll,
  kListStatus,
  kPageCount,
  kFreelistCount,
  kSqlCount,
};

constexpr const char* kSql[kSqlCount] = {
    "BEGIN IMMEDIATE",
    "COMMIT",
    "ROLLBACK",
    "SELECT status, starts_at_ms FROM alerts WHERE fingerprint = ?1",
    "INSERT INTO alerts (" EDGEMON_ALERT_COLUMNS
    ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?8, 1, ?9, ?10)",
    "UPDATE alerts SET alertname = ?2, status = ?3, labels = ?4, annotations = ?5, "
    "starts_at_ms = ?6, ends_at_ms = ?7, last_received_ms = ?8, "
    "notifications = notifications + 1, receiver = ?9, generator_url = ?10 "
    "WHERE fingerprint = ?1",
    "SELECT count(*), coalesce(sum(status = 'firing'), 0) FROM alerts",
    "DELETE FROM alerts WHERE status = 'resolved' AND last_received_ms < ?1",
    "DELETE FROM alerts WHERE fingerprint IN (SELECT fingerprint FROM alerts WHERE status = ?1 "
    "ORDER BY last_received_ms, fingerprint LIMIT ?2)",
    "SELECT " EDGEMON_ALERT_COLUMNS
    " FROM alerts ORDER BY last_received_ms DESC, fingerprint "
    "LIMIT ?1",
    "SELECT " EDGEMON_ALERT_COLUMNS
    " FROM alerts WHERE status = ?1 "
    "ORDER BY last_received_ms DESC, fingerprint LIMIT ?2",
    "PRAGMA page_count",
    "PRAGMA freelist_count",
};

bool is_corruption(int rc) {
  rc &= 0xff;
  return rc == SQLITE_CORRUPT || rc == SQLITE_NOTADB;
}

std::string sql_error(sqlite3* db, std::string_view what) {
  return std::string(what) + ": " + sqlite3_errmsg(db);
}

struct StatementDeleter {
  void operator()(sqlite3_stmt* s) const { sqlite3_finalize(s); }
};
using StatementPtr = std::unique_ptr<sqlite3_stmt, StatementDeleter>;

int64_t now_unix_ms() {
  uv_timeval64_t tv{};
  uv_gettimeofday(&tv);
  return tv.tv_sec * 1000 + tv.tv_usec / 1000;
}

}  // namespace

struct AlertStore::Statements {
  std::array<StatementPtr, kSqlCount> cache;
  sqlite3_stmt* get(Sql which) { return cache[which].get(); }
};

namespace {

// One use of a cached statement: reset and unbound on scope exit, so that it
// holds no read lock and no pointer to the caller's text afterwards.
class Use {
 public:
  Use(AlertStore::Statements& statements, Sql which) : stmt_(statements.get(which)) {}
  ~Use() {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
  }
  Use(const Use&) = delete;
  Use& operator=(const Use&) = delete;

  Use& bind(int index, int64_t value) {
    sqlite3_bind_int64(stmt_, index, value);
    return *this;
  }
  Use& bind(int index, const std::optional<int64_t>& value) {
    if (value) return bind(index, *value);
    sqlite3_bind_null(stmt_, index);
    return *this;
  }
  // The text must outlive the Use.
  Use& bind(int index, std::string_view text) {
    sqlite3_bind_text64(stmt_, index, text.data() == nullptr ? "" : text.data(), text.size(),
                        SQLITE_STATIC, SQLITE_UTF8);
    return *this;
  }
  int step() { return sqlite3_step(stmt_); }
  int64_t int64(int column) const { return sqlite3_column_int64(stmt_, column); }
  std::optional<int64_t> maybe(int column) const {
    if (sqlite3_column_type(stmt_, column) == SQLITE_NULL) return std::nullopt;
    return int64(column);
  }
  std::string text(int column) const {
    const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(stmt_, column));
    int n = sqlite3_column_bytes(stmt_, column);
    return p == nullptr ? std::string() : std::string(p, static_cast<size_t>(n));
  }

 private:
  sqlite3_stmt* stmt_;
};

enum class Verdict { kOk, kCorrupt, kFailed };

struct Problem {
  Verdict verdict = Verdict::kOk;
  std::string message;
  bool ok() const { return verdict == Verdict::kOk; }
};

Problem problem(int rc, std::string message) {
  return {is_corruption(rc) ? Verdict::kCorrupt : Verdict::kFailed, std::move(message)};
}

// Runs `sql`; `first` (if given) gets the first column of the first row.
int exec(sqlite3* db, const char* sql, std::string* message, std::string* first = nullptr) {
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

// `exists`: the file has tables at all. Ours must all be there, with a
// schema_version this edgemon knows.
Problem check_schema(sqlite3* db, bool* exists) {
  std::string message;
  std::string tables;
  int rc = exec(db, "SELECT group_concat(name, ',') FROM sqlite_master WHERE type = 'table'",
                &message, &tables);
  if (rc != SQLITE_OK) return problem(rc, "read schema: " + message);
  *exists = !tables.empty();
  if (!*exists) return {};
  std::string version;
  rc = exec(db, "SELECT value FROM meta WHERE key = 'schema_version'", &message, &version);
  if (rc != SQLITE_OK) {
    if (is_corruption(rc)) return problem(rc, message);
    return {Verdict::kCorrupt, "not an alert store (tables: " + tables + ")"};
  }
  if (version == std::to_string(kSchemaVersion)) return {};
  char* end = nullptr;
  long number = std::strtol(version.c_str(), &end, 10);
  if (!version.empty() && *end == '\0' && number > kSchemaVersion) {
    // Written by a newer edgemon: moving it aside would lose its alerts on a
    // downgrade, so leave it as it is.
    return {Verdict::kFailed, "schema version " + version + " is newer than this edgemon's (" +
                                  std::to_string(kSchemaVersion) + "); not touching it"};
  }
  return {Verdict::kCorrupt, "not an alert store: schema_version '" + version + "'"};
}

Problem quick_check(sqlite3* db) {
  std::string message;
  std::string result;
  int rc = exec(db, "PRAGMA quick_check(1)", &message, &result);
  if (rc != SQLITE_OK) return problem(rc, message);
  if (result == "ok") return {};
  for (char& c : result) {
    if (c == '\n') c = ' ';
  }
  return {Verdict::kCorrupt, "quick_check: " + result};
}

// Pragmas, integrity, schema. `created` is set for a new file.
Problem prepare_file(sqlite3* db, bool* created) {
  std::string message;
  int rc = exec(db, kConnectionPragmas, &message);
  if (rc != SQLITE_OK) return problem(rc, message);
  bool exists = false;
  if (Problem p = check_schema(db, &exists); !p.ok()) return p;
  std::string mode;
  rc = exec(db, "PRAGMA journal_mode = WAL", &message, &mode);
  if (rc != SQLITE_OK) return problem(rc, message);
  if (mode != "wal") return {Verdict::kFailed, "journal_mode is '" + mode + "', not wal"};
  // FULL: 200 to Alertmanager means the alert survives a power cut too.
  // Notifications are few, so the fsync per commit costs nothing that counts.
  rc = exec(db, "PRAGMA synchronous = FULL; PRAGMA journal_size_limit = 1048576", &message);
  if (rc != SQLITE_OK) return problem(rc, message);
  if (exists) {
    if (Problem p = quick_check(db); !p.ok()) return p;
  } else {
    std::string sql = std::string("BEGIN IMMEDIATE;") + kCreateSchema + "COMMIT;";
    rc = exec(db, sql.c_str(), &message);
    if (rc != SQLITE_OK) {
      std::string ignored;
      exec(db, "ROLLBACK", &ignored);
      return problem(rc, message);
    }
    *created = true;
  }
  rc = exec(db, kCreateIndexes, &message);
  // On a file of ours every column they name exists.
  if (rc != SQLITE_OK && exists && !is_corruption(rc)) {
    return {Verdict::kCorrupt, "not an alert store: " + message};
  }
  if (rc != SQLITE_OK) return problem(rc, message);
  return {};
}

bool file_exists(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0;
}

// Renames the file (and its WAL, which may hold the last commits) to
// `<path>.corrupt-<unix seconds>[-n]`: kept for inspection, never deleted.
std::string move_aside(const std::string& path, std::string* moved_to) {
  std::string base = path + ".corrupt-" + std::to_string(now_unix_ms() / 1000);
  std::string target = base;
  for (int n = 2; file_exists(target); ++n)
    target = base + "-" + std::to_string(n);
  if (std::rename(path.c_str(), target.c_str()) != 0) {
    return "cannot move " + path + " aside: " + std::strerror(errno);
  }
  for (const char* suffix : {"-wal", "-shm"}) {
    std::string from = path + suffix;
    if (file_exists(from)) std::rename(from.c_str(), (target + suffix).c_str());
  }
  *moved_to = target;
  return "";
}

}  // namespace

const char* change_name(AlertChange change) {
  switch (change) {
    case AlertChange::kNew:
      return "new";
    case AlertChange::kUpdated:
      return "updated";
    case AlertChange::kResolved:
      return "resolved";
    case AlertChange::kReopened:
      return "reopened";
    case AlertChange::kStale:
      return "stale";
  }
  return "unknown";
}

std::unique_ptr<AlertStore> AlertStore::open(const std::string& path, AlertStoreOpenReport* report,
                                             std::string* error) {
  *report = AlertStoreOpenReport{};
  for (int round = 0; round < 2; ++round) {
    sqlite3* db = nullptr;
    // One connection, used by one thread at a time.
    int rc =
        sqlite3_open_v2(path.c_str(), &db,
                        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
    std::unique_ptr<AlertStore> store(new AlertStore());
    store->db_ = db;  // closed by ~AlertStore whatever happens next
    store->path_ = path;
    store->statements_ = std::make_unique<Statements>();
    Problem p;
    if (rc != SQLITE_OK) {
      p = problem(rc, db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
    } else if (sqlite3_db_readonly(db, "main") == 1) {
      p = {Verdict::kFailed, "the file is not writable"};
    } else {
      sqlite3_busy_timeout(db, 1000);
      p = prepare_file(db, &report->created);
    }
    for (int i = 0; p.ok() && i < kSqlCount; ++i) {
      sqlite3_stmt* stmt = nullptr;
      rc = sqlite3_prepare_v3(db, kSql[i], -1, SQLITE_PREPARE_PERSISTENT, &stmt, nullptr);
      store->statements_->cache[i].reset(stmt);
      // A column missing from an otherwise valid file: not our schema.
      if (rc != SQLITE_OK) p = {Verdict::kCorrupt, sql_error(db, "not an alert store")};
    }
    if (p.ok()) {
      if (std::string e = store->recount(); !e.empty()) p = {Verdict::kCorrupt, e};
    }
    if (p.ok()) return store;
    store.reset();
    if (p.verdict != Verdict::kCorrupt || round > 0) {
      *error = "alert store " + path + ": " + p.message;
      return nullptr;
    }
    report->corrupt_reason = p.message;
    if (std::string e = move_aside(path, &report->moved_to); !e.empty()) {
      *error = e + " (" + p.message + ")";
      return nullptr;
    }
  }
  *error = "alert store " + path + ": cannot open";
  return nullptr;
}

AlertStore::~AlertStore() {
  // Statements first: a connection with unfinalized statements cannot close.
  statements_.reset();
  sqlite3_close_v2(db_);
}

std::string AlertStore::failed(std::string_view what) {
  corrupt_ = corrupt_ || is_corruption(sqlite3_extended_errcode(db_));
  return sql_error(db_, what);
}

std::string AlertStore::recount() {
  Use q(*statements_, kCount);
  if (q.step() != SQLITE_ROW) return failed("count alerts");
  counts_.stored = q.int64(0);
  counts_.firing = q.int64(1);
  return "";
}

std::string AlertStore::apply(const AlertRecord& record, int64_t now_ms, AlertChange* change) {
  std::string stored_status;
  std::optional<int64_t> stored_start;
  bool found = false;
  {
    Use q(*statements_, kFind);
    q.bind(1, record.fingerprint);
    int rc = q.step();
    if (rc == SQLITE_ROW) {
      found = true;
      stored_status = q.text(0);
      stored_start = q.maybe(1);
    } else if (rc != SQLITE_DONE) {
      return failed("find alert");
    }
  }
  bool firing = record.status == "firing";
  if (found) {
    // A retry that arrives after a newer notification of the same alert
    // must not undo it: an older startsAt is an earlier life of the alert,
    // and the same life cannot fire again once resolved.
    bool older = record.starts_at_ms && stored_start && *record.starts_at_ms < *stored_start;
    bool same_life = record.starts_at_ms == stored_start;
    if (older || (same_life && stored_status == "resolved" && firing)) {
      *change = AlertChange::kStale;
      return "";
    }
  }
  std::optional<int64_t> ends_at = record.ends_at_ms;
  if (!firing && !ends_at) ends_at = now_ms;
  Use q(*statements_, found ? kUpdate : kInsert);
  q.bind(1, record.fingerprint)
      .bind(2, record.alertname)
      .bind(3, record.status)
      .bind(4, record.labels_json)
      .bind(5, record.annotations_json)
      .bind(6, record.starts_at_ms)
      .bind(7, ends_at)
      .bind(8, now_ms)
      .bind(9, record.receiver)
      .bind(10, record.generator_url);
  if (q.step() != SQLITE_DONE) return failed("store alert");
  bool was_firing = stored_status == "firing";
  if (!found) {
    *change = AlertChange::kNew;
    counts_.stored += 1;
    counts_.firing += firing ? 1 : 0;
  } else if (was_firing == firing) {
    *change = AlertChange::kUpdated;
  } else {
    *change = firing ? AlertChange::kReopened : AlertChange::kResolved;
    counts_.firing += firing ? 1 : -1;
  }
  return "";
}

std::string AlertStore::used_bytes(int64_t* bytes) {
  Use pages(*statements_, kPageCount);
  Use freelist(*statements_, kFreelistCount);
  if (pages.step() != SQLITE_ROW || freelist.step() != SQLITE_ROW) return failed("page count");
  // page_size is fixed at creation; ask the connection rather than assume.
  std::string message;
  std::string size;
  exec(db_, "PRAGMA page_size", &message, &size);
  *bytes = (pages.int64(0) - freelist.int64(0)) * std::max<int64_t>(std::atoll(size.c_str()), 512);
  return "";
}

std::string AlertStore::delete_oldest(std::string_view status, int64_t count, int64_t* deleted) {
  Use q(*statements_, kDeleteOldest);
  q.bind(1, status).bind(2, count);
  if (q.step() != SQLITE_DONE) return failed("delete oldest alerts");
  int64_t n = sqlite3_changes64(db_);
  *deleted += n;
  counts_.stored -= n;
  if (status == "firing") counts_.firing -= n;
  return "";
}

std::string AlertStore::trim(const AlertLimits& limits, AlertsDeleted* deleted) {
  for (const char* status : {"resolved", "firing"}) {
    int64_t* counter = status[0] == 'r' ? &deleted->resolved : &deleted->firing;
    int64_t excess = counts_.stored - limits.max_alerts;
    if (excess > 0) {
      if (std::string e = delete_oldest(status, excess, counter); !e.empty()) return e;
    }
    // Bytes are measured, not predicted: delete in small steps until the
    // pages in use fit (bounded, so a limit below one row cannot spin).
    for (int step = 0; step < 1000; ++step) {
      int64_t bytes = 0;
      if (std::string e = used_bytes(&bytes); !e.empty()) return e;
      if (bytes <= limits.max_bytes) break;
      int64_t before = *counter;
      if (std::string e = delete_oldest(status, 16, counter); !e.empty()) return e;
      if (*counter == before) break;
    }
  }
  return "";
}

std::string AlertStore::upsert(std::span<const AlertRecord> records, int64_t now_ms,
                               const AlertLimits& limits, std::vector<AlertChange>* changes,
                               AlertsDeleted* deleted) {
  changes->assign(records.size(), AlertChange::kStale);
  {
    Use begin(*statements_, kBegin);
    if (begin.step() != SQLITE_DONE) return failed("begin");
  }
  std::string error;
  for (size_t i = 0; i < records.size() && error.empty(); ++i)
    error = apply(records[i], now_ms, &(*changes)[i]);
  AlertsDeleted trimmed;
  if (error.empty()) error = trim(limits, &trimmed);
  if (error.empty()) {
    Use commit(*statements_, kCommit);
    if (commit.step() != SQLITE_DONE) error = failed("commit");
  }
  if (!error.empty()) {
    if (!sqlite3_get_autocommit(db_)) {
      Use rollback(*statements_, kRollback);
      rollback.step();
    }
    recount();
    return error;
  }
  deleted->resolved += trimmed.resolved;
  deleted->firing += trimmed.firing;
  return "";
}

std::string AlertStore::enforce(const AlertLimits& limits, int64_t now_ms, AlertsDeleted* deleted) {
  {
    Use begin(*statements_, kBegin);
    if (begin.step() != SQLITE_DONE) return failed("begin");
  }
  AlertsDeleted done;
  std::string error;
  {
    Use q(*statements_, kDeleteRetention);
    q.bind(1, now_ms - limits.resolved_retention_ms);
    if (q.step() != SQLITE_DONE) error = failed("delete old resolved alerts");
  }
  if (error.empty()) {
    done.retention = sqlite3_changes64(db_);
    counts_.stored -= done.retention;
    error = trim(limits, &done);
  }
  if (error.empty()) {
    Use commit(*statements_, kCommit);
    if (commit.step() != SQLITE_DONE) error = failed("commit");
  }
  if (!error.empty()) {
    if (!sqlite3_get_autocommit(db_)) {
      Use rollback(*statements_, kRollback);
      rollback.step();
    }
    recount();
    return error;
  }
  deleted->retention += done.retention;
  deleted->resolved += done.resolved;
  deleted->firing += done.firing;
  return "";
}

std::string AlertStore::list(std::string_view status, int64_t limit, std::vector<StoredAlert>* out,
                             bool* more) {
  out->clear();
  *more = false;
  Use q(*statements_, status.empty() ? kListAll : kListStatus);
  if (status.empty()) {
    q.bind(1, limit + 1);
  } else {
    q.bind(1, status).bind(2, limit + 1);
  }
  int rc;
  while ((rc = q.step()) == SQLITE_ROW) {
    if (static_cast<int64_t>(out->size()) == limit) {
      *more = true;
      break;
    }
    StoredAlert a;
    a.fingerprint = q.text(0);
    a.alertname = q.text(1);
    a.status = q.text(2);
    a.labels_json = q.text(3);
    a.annotations_json = q.text(4);
    a.starts_at_ms = q.maybe(5);
    a.ends_at_ms = q.maybe(6);
    a.first_received_ms = q.int64(7);
    a.last_received_ms = q.int64(8);
    a.notifications = q.int64(9);
    a.receiver = q.text(10);
    a.generator_url = q.text(11);
    out->push_back(std::move(a));
  }
  if (rc != SQLITE_ROW && rc != SQLITE_DONE) return failed("list alerts");
  return "";
}

int64_t AlertStore::file_bytes() const {
  int64_t total = 0;
  for (const char* suffix : {"", "-wal"}) {
    struct stat st;
    if (::stat((path_ + suffix).c_str(), &st) == 0) total += st.st_size;
  }
  return total;
}

}  // namespace edgemon::store
