#include "store/config_store.hpp"

#include <sqlite3.h>

#include "store/sqlite_file.hpp"

namespace edgemon::store {
namespace {

constexpr int kSchemaVersion = 1;

// The README documents this schema for operators; keep them in step.
constexpr const char* kCreateSchema = R"sql(
CREATE TABLE IF NOT EXISTS meta (
  key   TEXT PRIMARY KEY NOT NULL,
  value TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS documents (
  scope      TEXT NOT NULL,
  name       TEXT NOT NULL,
  version    INTEGER NOT NULL,
  body       TEXT,
  updated_ms INTEGER NOT NULL,
  updated_by TEXT NOT NULL,
  PRIMARY KEY (scope, name, version)
);
CREATE TABLE IF NOT EXISTS reports (
  device_id   TEXT PRIMARY KEY NOT NULL,
  body        TEXT NOT NULL,
  received_ms INTEGER NOT NULL
);
INSERT OR IGNORE INTO meta (key, value) VALUES ('schema_version', '1');
)sql";

constexpr const char* kVersionColumns =
    "version, body IS NULL, coalesce(length(CAST(body AS BLOB)), 0), updated_ms, updated_by";

ConfigVersion read_version(const StatementUse& q, bool with_body) {
  ConfigVersion v;
  v.version = q.int64(0);
  v.deleted = q.int64(1) != 0;
  v.bytes = q.int64(2);
  v.updated_ms = q.int64(3);
  v.updated_by = q.text(4);
  if (with_body && !v.deleted) v.body = q.text(5);
  return v;
}

}  // namespace

std::string_view scope_name(ConfigScope scope) {
  return scope == ConfigScope::kDevice ? "device" : "device_type";
}

std::unique_ptr<ConfigStore> ConfigStore::open(const std::string& path, std::string* error) {
  std::unique_ptr<ConfigStore> store(new ConfigStore());
  Attempt attempt = open_file(path, false, 1000, &store->db_);
  std::string message;
  if (attempt.ok()) attempt = use_wal(store->db_);
  if (attempt.ok()) {
    // FULL: a 200 to an operator's PUT means the document survives a power cut.
    int rc =
        exec(store->db_,
             "PRAGMA synchronous = FULL; PRAGMA cache_size = -256; PRAGMA mmap_size = 0", &message);
    if (rc != SQLITE_OK) attempt = fail(rc, message);
  }
  if (attempt.ok()) {
    std::string tables;
    int rc =
        exec(store->db_, "SELECT group_concat(name, ',') FROM sqlite_master WHERE type = 'table'",
             &message, &tables);
    if (rc != SQLITE_OK) {
      attempt = fail(rc, message);
    } else if (!tables.empty()) {
      attempt = check_schema_version(store->db_, kSchemaVersion, "not a config store");
    }
  }
  if (attempt.ok()) {
    int rc = exec(store->db_, kCreateSchema, &message);
    if (rc != SQLITE_OK) attempt = fail(rc, message);
  }
  if (!attempt.ok()) {
    *error = "config store " + path + ": " + attempt.message;
    return nullptr;
  }
  return store;
}

ConfigStore::~ConfigStore() {
  // Statements first: a connection with unfinalized statements cannot close.
  statements_.clear();
  sqlite3_close_v2(db_);
}

std::string ConfigStore::failed(std::string_view what) {
  return std::string(what) + ": " + sqlite3_errmsg(db_);
}

// Statements are prepared on first use and kept: the server sees a handful
// of requests a minute, and the set is small and fixed.
sqlite3_stmt* ConfigStore::statement(const char* sql, std::string* error) {
  for (auto& [text, stmt] : statements_) {
    if (text == sql) return stmt.get();
  }
  sqlite3_stmt* raw = nullptr;
  if (sqlite3_prepare_v2(db_, sql, -1, &raw, nullptr) != SQLITE_OK) {
    *error = failed("prepare");
    sqlite3_finalize(raw);
    return nullptr;
  }
  statements_.emplace_back(sql, StatementPtr(raw));
  return raw;
}

std::string ConfigStore::latest(ConfigScope scope, std::string_view name,
                                std::optional<ConfigVersion>* out) {
  static const std::string sql = std::string("SELECT ") + kVersionColumns +
                                 ", body FROM documents WHERE scope = ?1 AND name = ?2 "
                                 "ORDER BY version DESC LIMIT 1";
  std::string error;
  sqlite3_stmt* stmt = statement(sql.c_str(), &error);
  if (stmt == nullptr) return error;
  StatementUse q(stmt);
  q.bind(1, scope_name(scope)).bind(2, name);
  out->reset();
  int rc = q.step();
  if (rc == SQLITE_ROW) *out = read_version(q, true);
  if (rc != SQLITE_ROW && rc != SQLITE_DONE) return failed("read document");
  return "";
}

std::string ConfigStore::version(ConfigScope scope, std::string_view name, int64_t version,
                                 std::optional<ConfigVersion>* out) {
  static const std::string sql = std::string("SELECT ") + kVersionColumns +
                                 ", body FROM documents WHERE scope = ?1 AND name = ?2 "
                                 "AND version = ?3";
  std::string error;
  sqlite3_stmt* stmt = statement(sql.c_str(), &error);
  if (stmt == nullptr) return error;
  StatementUse q(stmt);
  q.bind(1, scope_name(scope)).bind(2, name).bind(3, version);
  out->reset();
  int rc = q.step();
  if (rc == SQLITE_ROW) *out = read_version(q, true);
  if (rc != SQLITE_ROW && rc != SQLITE_DONE) return failed("read version");
  return "";
}

std::string ConfigStore::versions(ConfigScope scope, std::string_view name,
                                  std::vector<ConfigVersion>* out) {
  static const std::string sql = std::string("SELECT ") + kVersionColumns +
                                 " FROM documents WHERE scope = ?1 AND name = ?2 "
                                 "ORDER BY version DESC";
  std::string error;
  sqlite3_stmt* stmt = statement(sql.c_str(), &error);
  if (stmt == nullptr) return error;
  StatementUse q(stmt);
  q.bind(1, scope_name(scope)).bind(2, name);
  out->clear();
  int rc;
  while ((rc = q.step()) == SQLITE_ROW)
    out->push_back(read_version(q, false));
  if (rc != SQLITE_DONE) return failed("list versions");
  return "";
}

std::string ConfigStore::list(std::vector<ConfigListed>* out) {
  static const std::string sql = std::string("SELECT ") + kVersionColumns +
                                 ", scope, name FROM documents d WHERE version = "
                                 "(SELECT max(version) FROM documents WHERE scope = d.scope AND "
                                 "name = d.name) AND body IS NOT NULL ORDER BY scope, name";
  std::string error;
  sqlite3_stmt* stmt = statement(sql.c_str(), &error);
  if (stmt == nullptr) return error;
  StatementUse q(stmt);
  out->clear();
  int rc;
  while ((rc = q.step()) == SQLITE_ROW) {
    ConfigListed& item = out->emplace_back();
    item.current = read_version(q, false);
    item.scope = q.text(5) == "device" ? ConfigScope::kDevice : ConfigScope::kDeviceType;
    item.name = q.text(6);
  }
  if (rc != SQLITE_DONE) return failed("list documents");
  return "";
}

std::string ConfigStore::put(ConfigScope scope, std::string_view name,
                             const std::optional<std::string>& body, std::string_view updated_by,
                             int64_t now_ms, std::optional<int64_t> expected, int64_t keep,
                             int64_t* new_version, std::optional<ConfigConflict>* conflict) {
  conflict->reset();
  std::string error;
  if (exec(db_, "BEGIN IMMEDIATE", &error) != SQLITE_OK) return "begin: " + error;
  auto rollback = [this](std::string why) {
    std::string ignored;
    exec(db_, "ROLLBACK", &ignored);
    return why;
  };
  std::optional<ConfigVersion> current;
  if (std::string err = latest(scope, name, &current); !err.empty()) return rollback(err);
  int64_t current_version = current ? current->version : 0;
  if (expected && *expected != current_version) {
    *conflict = ConfigConflict{current_version};
    return rollback("");
  }
  *new_version = current_version + 1;
  sqlite3_stmt* insert = statement(
      "INSERT INTO documents (scope, name, version, body, updated_ms, updated_by) "
      "VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
      &error);
  if (insert == nullptr) return rollback(error);
  {
    StatementUse q(insert);
    q.bind(1, scope_name(scope)).bind(2, name).bind(3, *new_version);
    if (body) q.bind(4, std::string_view(*body));
    q.bind(5, now_ms).bind(6, updated_by);
    if (q.step() != SQLITE_DONE) return rollback(failed("store document"));
  }
  sqlite3_stmt* prune =
      statement("DELETE FROM documents WHERE scope = ?1 AND name = ?2 AND version <= ?3", &error);
  if (prune == nullptr) return rollback(error);
  {
    StatementUse q(prune);
    q.bind(1, scope_name(scope)).bind(2, name).bind(3, *new_version - keep);
    if (q.step() != SQLITE_DONE) return rollback(failed("prune versions"));
  }
  if (exec(db_, "COMMIT", &error) != SQLITE_OK) return rollback("commit: " + error);
  return "";
}

std::string ConfigStore::put_report(std::string_view device, std::string_view body, int64_t now_ms,
                                    bool* refused_full) {
  *refused_full = false;
  std::string error;
  sqlite3_stmt* known = statement(
      "SELECT (SELECT count(*) FROM reports), "
      "EXISTS (SELECT 1 FROM reports WHERE device_id = ?1)",
      &error);
  if (known == nullptr) return error;
  {
    StatementUse q(known);
    q.bind(1, device);
    if (q.step() != SQLITE_ROW) return failed("count reports");
    if (q.int64(1) == 0 && q.int64(0) >= max_reports_) {
      *refused_full = true;
      return "";
    }
  }
  sqlite3_stmt* upsert = statement(
      "INSERT INTO reports (device_id, body, received_ms) VALUES (?1, ?2, ?3) "
      "ON CONFLICT (device_id) DO UPDATE SET body = excluded.body, "
      "received_ms = excluded.received_ms",
      &error);
  if (upsert == nullptr) return error;
  StatementUse q(upsert);
  q.bind(1, device).bind(2, body).bind(3, now_ms);
  if (q.step() != SQLITE_DONE) return failed("store report");
  return "";
}

std::string ConfigStore::report(std::string_view device, std::optional<DeviceReport>* out) {
  std::string error;
  sqlite3_stmt* stmt =
      statement("SELECT body, received_ms FROM reports WHERE device_id = ?1", &error);
  if (stmt == nullptr) return error;
  StatementUse q(stmt);
  q.bind(1, device);
  out->reset();
  int rc = q.step();
  if (rc == SQLITE_ROW) *out = DeviceReport{q.text(0), q.int64(1)};
  if (rc != SQLITE_ROW && rc != SQLITE_DONE) return failed("read report");
  return "";
}

}  // namespace edgemon::store
