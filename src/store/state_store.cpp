#include "store/state_store.hpp"

#include <sqlite3.h>

#include <utility>
#include <vector>

#include "core/clock.hpp"
#include "core/log.hpp"
#include "store/sqlite_file.hpp"

namespace edgemon::store {
namespace {

constexpr int kSchemaVersion = 1;

constexpr const char* kCreateSchema = R"sql(
CREATE TABLE meta (
  key   TEXT PRIMARY KEY NOT NULL,
  value TEXT NOT NULL
);
CREATE TABLE state (
  scope      TEXT NOT NULL,
  key        TEXT NOT NULL,
  value      BLOB NOT NULL,
  updated_ms INTEGER NOT NULL,
  PRIMARY KEY (scope, key)
);
INSERT INTO meta (key, value) VALUES ('schema_version', '1');
)sql";

struct StatementDeleter {
  void operator()(sqlite3_stmt* s) const { sqlite3_finalize(s); }
};
using Statement = std::unique_ptr<sqlite3_stmt, StatementDeleter>;

Statement prepare(sqlite3* db, const char* sql) {
  sqlite3_stmt* stmt = nullptr;
  sqlite3_prepare_v2(db, sql, -1, &stmt, nullptr);
  return Statement(stmt);
}

void bind_text(sqlite3_stmt* stmt, int index, std::string_view text) {
  sqlite3_bind_text64(stmt, index, text.data() == nullptr ? "" : text.data(), text.size(),
                      SQLITE_STATIC, SQLITE_UTF8);
}

std::string column(sqlite3_stmt* stmt, int index) {
  const void* p = sqlite3_column_blob(stmt, index);
  int n = sqlite3_column_bytes(stmt, index);
  return p == nullptr ? std::string() : std::string(static_cast<const char*>(p), n);
}

size_t entry_bytes(std::string_view scope, std::string_view key, std::string_view value) {
  return scope.size() + key.size() + value.size();
}

// Our tables with a schema_version this edgemon knows, or none at all.
Attempt check_schema(sqlite3* db, bool* exists) {
  std::string message;
  std::string tables;
  int rc = exec(db, "SELECT group_concat(name, ',') FROM sqlite_master WHERE type = 'table'",
                &message, &tables);
  if (rc != SQLITE_OK) return fail(rc, "read schema: " + message);
  *exists = !tables.empty();
  if (!*exists) return {};
  std::string listed = "," + tables + ",";
  if (listed.find(",meta,") == std::string::npos || listed.find(",state,") == std::string::npos) {
    return {Outcome::kCorrupt, "not a state store (tables: " + tables + ")"};
  }
  return check_schema_version(db, kSchemaVersion, "not a state store");
}

Attempt prepare_file(sqlite3* db, bool* created) {
  bool exists = false;
  if (Attempt p = check_schema(db, &exists); !p.ok()) return p;
  if (Attempt p = use_wal(db); !p.ok()) return p;
  // NORMAL: in WAL a power cut may take the last commit back, never the
  // file; what is lost is a second of offsets, against an fsync per write
  // on an SD card.
  std::string message;
  int rc = exec(db, "PRAGMA synchronous = NORMAL; PRAGMA journal_size_limit = 262144", &message);
  if (rc != SQLITE_OK) return fail(rc, message);
  if (exists) return quick_check(db);
  std::string sql = std::string("BEGIN IMMEDIATE;") + kCreateSchema + "COMMIT;";
  rc = exec(db, sql.c_str(), &message);
  if (rc != SQLITE_OK) {
    std::string ignored;
    exec(db, "ROLLBACK", &ignored);
    return fail(rc, message);
  }
  *created = true;
  return {};
}

// Rows beyond the limits (lowered since they were written) are left out and
// counted; they stay in the file until their scope is erased.
Attempt load(sqlite3* db, const StateLimits& limits,
             std::map<std::string, StateStore::Keys, std::less<>>* scopes, StateStats* stats) {
  Statement q = prepare(db, "SELECT scope, key, value, updated_ms FROM state ORDER BY scope, key");
  if (q == nullptr) {
    return {Outcome::kCorrupt, std::string("not a state store: ") + sqlite3_errmsg(db)};
  }
  int rc;
  while ((rc = sqlite3_step(q.get())) == SQLITE_ROW) {
    std::string scope = column(q.get(), 0);
    std::string key = column(q.get(), 1);
    std::string value = column(q.get(), 2);
    size_t bytes = entry_bytes(scope, key, value);
    if (value.size() > limits.max_value_bytes || stats->bytes + bytes > limits.max_total_bytes) {
      ++stats->refused;
      continue;
    }
    stats->bytes += bytes;
    ++stats->entries;
    (*scopes)[scope][key] = {std::move(value), sqlite3_column_int64(q.get(), 3)};
  }
  if (rc != SQLITE_DONE) return fail(rc, std::string("load state: ") + sqlite3_errmsg(db));
  return {};
}

// One change as the writer applies it: the value, or none to delete.
struct Change {
  std::string scope;
  std::string key;
  std::optional<std::string> value;
  int64_t updated_ms = 0;
};

struct Batch {
  std::vector<std::string> erased_scopes;
  std::vector<Change> changes;
};

// The whole batch in one transaction, erased scopes first (a put after an
// erase_scope is among the changes). Returns "" or the error.
std::string write_batch(sqlite3* db, const Batch& batch) {
  std::string message;
  if (exec(db, "BEGIN IMMEDIATE", &message) != SQLITE_OK) return "begin: " + message;
  Statement erase_scope = prepare(db, "DELETE FROM state WHERE scope = ?1");
  Statement erase = prepare(db, "DELETE FROM state WHERE scope = ?1 AND key = ?2");
  Statement upsert = prepare(
      db, "INSERT OR REPLACE INTO state (scope, key, value, updated_ms) VALUES (?1, ?2, ?3, ?4)");
  std::string error;
  if (erase_scope == nullptr || erase == nullptr || upsert == nullptr) {
    error = std::string("prepare: ") + sqlite3_errmsg(db);
  }
  for (size_t i = 0; error.empty() && i < batch.erased_scopes.size(); ++i) {
    sqlite3_stmt* s = erase_scope.get();
    bind_text(s, 1, batch.erased_scopes[i]);
    if (sqlite3_step(s) != SQLITE_DONE) error = std::string("erase scope: ") + sqlite3_errmsg(db);
    sqlite3_reset(s);
  }
  for (size_t i = 0; error.empty() && i < batch.changes.size(); ++i) {
    const Change& c = batch.changes[i];
    sqlite3_stmt* s = c.value ? upsert.get() : erase.get();
    bind_text(s, 1, c.scope);
    bind_text(s, 2, c.key);
    if (c.value) {
      sqlite3_bind_blob64(s, 3, c.value->data(), c.value->size(), SQLITE_STATIC);
      sqlite3_bind_int64(s, 4, c.updated_ms);
    }
    if (sqlite3_step(s) != SQLITE_DONE) error = std::string("write: ") + sqlite3_errmsg(db);
    sqlite3_reset(s);
  }
  if (error.empty() && exec(db, "COMMIT", &message) != SQLITE_OK) error = "commit: " + message;
  if (!error.empty()) {
    std::string ignored;
    exec(db, "ROLLBACK", &ignored);
  }
  return error;
}

}  // namespace

StateStore::StateStore(uv_loop_t* loop, StateLimits limits,
                       std::chrono::milliseconds flush_interval)
    : limits_(limits), flush_interval_(flush_interval), flush_timer_(loop), worker_(loop) {}

StateStore::~StateStore() {
  // The worker's destructor runs this write before it joins.
  if (!dirty_keys_.empty() || !dirty_scopes_.empty()) post_write(nullptr);
}

std::string StateStore::open(const std::string& path, StateOpenReport* report) {
  StateOpenReport ignored;
  if (report == nullptr) report = &ignored;
  *report = StateOpenReport{};
  std::map<std::string, Keys, std::less<>> loaded;
  StateStats counts;
  std::shared_ptr<sqlite3> opened;
  std::string error = open_or_repair(
      path, "state store", true, &report->corrupt_reason, &report->moved_to, [&]() -> Attempt {
        sqlite3* raw = nullptr;
        Attempt a = open_file(path, false, 1000, &raw);
        std::shared_ptr<sqlite3> db(raw, sqlite3_close_v2);  // closed whatever happens next
        loaded.clear();
        counts = StateStats{};
        if (a.ok()) a = prepare_file(raw, &report->created);
        if (a.ok()) a = load(raw, limits_, &loaded, &counts);
        if (a.ok()) opened = std::move(db);
        return a;
      });
  if (!report->moved_to.empty()) {
    log::warn("state_store_moved_aside",
              {{"path", path}, {"reason", report->corrupt_reason}, {"moved_to", report->moved_to}});
  }
  if (!error.empty()) return error;
  db_ = std::move(opened);
  // What was put before the file was open stays, and is written.
  for (auto& [scope, keys] : loaded) {
    for (auto& [key, entry] : keys) {
      if (get(scope, key)) continue;
      scopes_[scope][key] = std::move(entry);
      stats_.bytes += entry_bytes(scope, key, scopes_[scope][key].value);
      ++stats_.entries;
    }
  }
  stats_.refused += counts.refused;
  if (!dirty_keys_.empty() || !dirty_scopes_.empty()) schedule_flush();
  return "";
}

std::optional<std::string> StateStore::get(std::string_view scope, std::string_view key) const {
  auto s = scopes_.find(scope);
  if (s == scopes_.end()) return std::nullopt;
  auto k = s->second.find(key);
  if (k == s->second.end()) return std::nullopt;
  return k->second.value;
}

std::string StateStore::put(std::string_view scope, std::string_view key, std::string_view value) {
  auto s = scopes_.find(scope);
  const Entry* old = nullptr;
  if (s != scopes_.end()) {
    auto k = s->second.find(key);
    if (k != s->second.end()) old = &k->second;
  }
  if (old != nullptr && old->value == value) return "";
  if (value.size() > limits_.max_value_bytes) {
    ++stats_.refused;
    return "state " + std::string(scope) + "/" + std::string(key) + ": value of " +
           std::to_string(value.size()) + " bytes exceeds the limit of " +
           std::to_string(limits_.max_value_bytes);
  }
  size_t old_bytes = old != nullptr ? entry_bytes(scope, key, old->value) : 0;
  size_t new_total = stats_.bytes - old_bytes + entry_bytes(scope, key, value);
  if (new_total > limits_.max_total_bytes) {
    ++stats_.refused;
    return "state " + std::string(scope) + "/" + std::string(key) + ": the store would hold " +
           std::to_string(new_total) + " bytes, beyond the limit of " +
           std::to_string(limits_.max_total_bytes);
  }
  if (s == scopes_.end()) s = scopes_.emplace(std::string(scope), Keys{}).first;
  if (old == nullptr) ++stats_.entries;
  stats_.bytes = new_total;
  Entry& entry = s->second[std::string(key)];
  entry.value.assign(value);
  entry.updated_ms = unix_now_ms();
  mark_dirty(scope, key);
  return "";
}

void StateStore::erase(std::string_view scope, std::string_view key) {
  auto s = scopes_.find(scope);
  if (s == scopes_.end()) return;
  auto k = s->second.find(key);
  if (k == s->second.end()) return;
  stats_.bytes -= entry_bytes(scope, key, k->second.value);
  --stats_.entries;
  s->second.erase(k);
  if (s->second.empty()) scopes_.erase(s);
  mark_dirty(scope, key);
}

void StateStore::erase_scope(std::string_view scope) {
  if (auto s = scopes_.find(scope); s != scopes_.end()) {
    for (const auto& [key, entry] : s->second) {
      stats_.bytes -= entry_bytes(scope, key, entry.value);
      --stats_.entries;
    }
    scopes_.erase(s);
  }
  // The scope's rows in the file go, including any not loaded at open; the
  // keys changed before go with them.
  std::string owned(scope);
  auto first = dirty_keys_.lower_bound({owned, std::string()});
  auto last = first;
  while (last != dirty_keys_.end() && last->first == owned)
    ++last;
  dirty_keys_.erase(first, last);
  dirty_scopes_.insert(std::move(owned));
  schedule_flush();
}

void StateStore::mark_dirty(std::string_view scope, std::string_view key) {
  dirty_keys_.emplace(scope, key);
  schedule_flush();
}

void StateStore::schedule_flush() {
  if (db_ != nullptr && !flush_timer_.active()) {
    flush_timer_.start(static_cast<uint64_t>(flush_interval_.count()), 0,
                       [this] { post_write(nullptr); });
  }
}

void StateStore::flush(std::function<void()> done) {
  flush_timer_.stop();
  post_write(std::move(done));
}

void StateStore::post_write(std::function<void()> done) {
  if (db_ == nullptr || (dirty_keys_.empty() && dirty_scopes_.empty())) {
    // Still in order behind writes in flight, so that `done` means written.
    worker_.post(nullptr, std::move(done));
    return;
  }
  // Values are taken from memory now: memory is the truth, and a key
  // changed twice since the last write is written once.
  auto batch = std::make_shared<Batch>();
  batch->erased_scopes.assign(dirty_scopes_.begin(), dirty_scopes_.end());
  for (const auto& [scope, key] : dirty_keys_) {
    Change c{scope, key, std::nullopt, 0};
    auto s = scopes_.find(scope);
    if (s != scopes_.end()) {
      if (auto k = s->second.find(key); k != s->second.end()) {
        c.value = k->second.value;
        c.updated_ms = k->second.updated_ms;
      }
    }
    batch->changes.push_back(std::move(c));
  }
  dirty_keys_.clear();
  dirty_scopes_.clear();
  auto error = std::make_shared<std::string>();
  worker_.post([db = db_, batch, error] { *error = write_batch(db.get(), *batch); },
               [this, batch, error, done = std::move(done)] {
                 if (error->empty()) {
                   ++stats_.writes;
                 } else {
                   ++stats_.write_failures;
                   stats_.last_error = *error;
                   log::warn("state_write_failed", {{"error", *error}});
                   // Written again with the next batch, from memory as it
                   // will be then.
                   for (const Change& c : batch->changes)
                     dirty_keys_.emplace(c.scope, c.key);
                   for (const std::string& scope : batch->erased_scopes) {
                     // Erasing the scope again would take with it rows a
                     // later batch wrote: those are written again too.
                     dirty_scopes_.insert(scope);
                     if (auto s = scopes_.find(scope); s != scopes_.end()) {
                       for (const auto& [key, entry] : s->second)
                         dirty_keys_.emplace(scope, key);
                     }
                   }
                   schedule_flush();
                 }
                 if (done) done();
               });
}

ScopedState StateStore::scoped(std::string scope) {
  return ScopedState(this, std::move(scope));
}

}  // namespace edgemon::store
