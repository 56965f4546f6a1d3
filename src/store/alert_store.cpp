#include "store/alert_store.hpp"

#include <sqlite3.h>
#include <sys/stat.h>

#include <algorithm>
#include <array>
#include <cstdlib>
#include <utility>

#include "store/sqlite_file.hpp"
#include "store/sqlite_statement.hpp"

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

std::string sql_error(sqlite3* db, std::string_view what) {
  return std::string(what) + ": " + sqlite3_errmsg(db);
}

}  // namespace

struct AlertStore::Statements {
  std::array<StatementPtr, kSqlCount> cache;
  sqlite3_stmt* get(Sql which) { return cache[which].get(); }
};

namespace {

class Use : public StatementUse {
 public:
  Use(AlertStore::Statements& statements, Sql which) : StatementUse(statements.get(which)) {}
};

// `exists`: the file has tables at all. Ours must all be there, with a
// schema_version this edgemon knows.
Attempt check_schema(sqlite3* db, bool* exists) {
  std::string message;
  std::string tables;
  int rc = exec(db, "SELECT group_concat(name, ',') FROM sqlite_master WHERE type = 'table'",
                &message, &tables);
  if (rc != SQLITE_OK) return fail(rc, "read schema: " + message);
  *exists = !tables.empty();
  if (!*exists) return {};
  // Without a meta table there is no version to read: someone else's file.
  if (("," + tables + ",").find(",meta,") == std::string::npos) {
    return {Outcome::kCorrupt, "not an alert store (tables: " + tables + ")"};
  }
  return check_schema_version(db, kSchemaVersion, "not an alert store");
}

// Pragmas, integrity, schema. `created` is set for a new file.
Attempt prepare_file(sqlite3* db, bool* created) {
  std::string message;
  int rc = exec(db, kConnectionPragmas, &message);
  if (rc != SQLITE_OK) return fail(rc, message);
  bool exists = false;
  if (Attempt p = check_schema(db, &exists); !p.ok()) return p;
  if (Attempt p = use_wal(db); !p.ok()) return p;
  // FULL: 200 to Alertmanager means the alert survives a power cut too.
  // Notifications are few, so the fsync per commit costs nothing that counts.
  rc = exec(db, "PRAGMA synchronous = FULL; PRAGMA journal_size_limit = 1048576", &message);
  if (rc != SQLITE_OK) return fail(rc, message);
  if (exists) {
    if (Attempt p = quick_check(db); !p.ok()) return p;
  } else {
    std::string sql = std::string("BEGIN IMMEDIATE;") + kCreateSchema + "COMMIT;";
    rc = exec(db, sql.c_str(), &message);
    if (rc != SQLITE_OK) {
      std::string ignored;
      exec(db, "ROLLBACK", &ignored);
      return fail(rc, message);
    }
    *created = true;
  }
  rc = exec(db, kCreateIndexes, &message);
  // On a file of ours every column they name exists.
  if (rc != SQLITE_OK && exists && !is_corruption(rc)) {
    return {Outcome::kCorrupt, "not an alert store: " + message};
  }
  if (rc != SQLITE_OK) return fail(rc, message);
  return {};
}

// Every statement, prepared at open: a column missing from an otherwise
// valid file is found here, and then it is not our schema.
Attempt prepare_statements(sqlite3* db, AlertStore::Statements* statements) {
  for (int i = 0; i < kSqlCount; ++i) {
    sqlite3_stmt* stmt = nullptr;
    int rc = sqlite3_prepare_v3(db, kSql[i], -1, SQLITE_PREPARE_PERSISTENT, &stmt, nullptr);
    statements->cache[i].reset(stmt);
    if (rc != SQLITE_OK) return {Outcome::kCorrupt, sql_error(db, "not an alert store")};
  }
  return {};
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
  std::unique_ptr<AlertStore> opened;
  *error = open_or_repair(path, "alert store", true, &report->corrupt_reason, &report->moved_to,
                          [&]() -> Attempt {
                            sqlite3* db = nullptr;
                            Attempt p = open_file(path, false, 1000, &db);
                            std::unique_ptr<AlertStore> store(new AlertStore());
                            store->db_ = db;  // closed by ~AlertStore whatever happens next
                            store->path_ = path;
                            store->statements_ = std::make_unique<Statements>();
                            if (p.ok()) p = prepare_file(db, &report->created);
                            if (p.ok()) p = prepare_statements(db, store->statements_.get());
                            if (p.ok()) {
                              if (std::string e = store->recount(); !e.empty()) {
                                p = {Outcome::kCorrupt, e};
                              }
                            }
                            if (!p.ok()) return p;
                            opened = std::move(store);
                            return {};
                          });
  return opened;
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

// Ends the transaction that upsert or enforce began: commits when `error`
// is "", else rolls back and recounts, so that counts_ matches the file
// again. Returns `error`, or the commit's own.
std::string AlertStore::commit_or_rollback(std::string error) {
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
  }
  return error;
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
  if (std::string e = commit_or_rollback(std::move(error)); !e.empty()) return e;
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
  if (std::string e = commit_or_rollback(std::move(error)); !e.empty()) return e;
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
