// The alert store: one row per fingerprint that a resolved notification
// closes and a later firing reopens, late retries ignored, retention and the
// caps, counts that survive a reopen, and files that are not ours.
#include <sqlite3.h>
#include <sys/stat.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>

#include "cmocka_all.hpp"
#include "store/alert_store.hpp"

using namespace edgemon::store;

namespace {

struct Dir {
  std::string path;
  Dir() {
    char tmpl[] = "/tmp/edgemon-alert-store-XXXXXX";
    path = mkdtemp(tmpl);
  }
  ~Dir() { std::system(("rm -rf '" + path + "'").c_str()); }
  std::string file(const char* name) const { return path + "/" + name; }
};

std::unique_ptr<AlertStore> open_ok(const std::string& path, AlertStoreOpenReport* report) {
  std::string error;
  auto store = AlertStore::open(path, report, &error);
  if (!store) fail_msg("open %s: %s", path.c_str(), error.c_str());
  return store;
}

AlertRecord record(const std::string& fp, const char* status, int64_t starts,
                   std::optional<int64_t> ends = std::nullopt) {
  AlertRecord r;
  r.fingerprint = fp;
  r.alertname = "Disk" + fp;
  r.status = status;
  r.labels_json = R"({"alertname":"Disk)" + fp + R"("})";
  r.annotations_json = R"({"summary":"s"})";
  r.starts_at_ms = starts;
  r.ends_at_ms = ends;
  r.receiver = "hook";
  r.generator_url = "http://g";
  return r;
}

AlertChange upsert_one(AlertStore& store, const AlertRecord& r, int64_t now,
                       AlertLimits limits = {}) {
  std::vector<AlertChange> changes;
  AlertsDeleted deleted;
  std::string e = store.upsert(std::span(&r, 1), now, limits, &changes, &deleted);
  if (!e.empty()) fail_msg("upsert: %s", e.c_str());
  assert_int_equal(changes.size(), 1);
  return changes[0];
}

std::vector<StoredAlert> list(AlertStore& store, const char* status, int64_t limit = 100,
                              bool* more_out = nullptr) {
  std::vector<StoredAlert> out;
  bool more = false;
  std::string e = store.list(status, limit, &out, &more);
  if (!e.empty()) fail_msg("list: %s", e.c_str());
  if (more_out != nullptr) *more_out = more;
  return out;
}

void firing_resolved_refire(void**) {
  Dir dir;
  AlertStoreOpenReport report;
  auto store = open_ok(dir.file("alerts.db"), &report);
  assert_true(report.created);
  assert_int_equal(upsert_one(*store, record("fp1", "firing", 1000), 5000), AlertChange::kNew);
  assert_int_equal(store->counts().firing, 1);
  auto firing = list(*store, "firing");
  assert_int_equal(firing.size(), 1);
  assert_false(firing[0].ends_at_ms.has_value());
  assert_int_equal(firing[0].first_received_ms, 5000);
  // A repeat of the same firing alert updates it.
  assert_int_equal(upsert_one(*store, record("fp1", "firing", 1000), 6000), AlertChange::kUpdated);
  // The resolved notification closes it.
  assert_int_equal(upsert_one(*store, record("fp1", "resolved", 1000, 7000), 8000),
                   AlertChange::kResolved);
  assert_int_equal(store->counts().firing, 0);
  assert_int_equal(list(*store, "firing").size(), 0);
  auto resolved = list(*store, "resolved");
  assert_int_equal(resolved.size(), 1);
  assert_int_equal(*resolved[0].ends_at_ms, 7000);
  assert_int_equal(resolved[0].notifications, 3);
  assert_int_equal(resolved[0].last_received_ms, 8000);
  // A late retry of the firing notification does not reopen it...
  assert_int_equal(upsert_one(*store, record("fp1", "firing", 1000), 9000), AlertChange::kStale);
  assert_int_equal(list(*store, "resolved").size(), 1);
  // ...but the alert firing again (a new startsAt) does.
  assert_int_equal(upsert_one(*store, record("fp1", "firing", 20000), 21000),
                   AlertChange::kReopened);
  firing = list(*store, "firing");
  assert_int_equal(firing.size(), 1);
  assert_false(firing[0].ends_at_ms.has_value());
  assert_int_equal(*firing[0].starts_at_ms, 20000);
  assert_int_equal(firing[0].first_received_ms, 5000);
  assert_int_equal(firing[0].notifications, 4);
  // The earlier life's resolved notification, retried late, is stale too.
  assert_int_equal(upsert_one(*store, record("fp1", "resolved", 1000, 7000), 22000),
                   AlertChange::kStale);
  assert_int_equal(store->counts().firing, 1);
  assert_int_equal(store->counts().stored, 1);
}

void resolved_without_end_gets_receive_time(void**) {
  Dir dir;
  AlertStoreOpenReport report;
  auto store = open_ok(dir.file("alerts.db"), &report);
  assert_int_equal(upsert_one(*store, record("fp2", "resolved", 1000), 4242), AlertChange::kNew);
  auto resolved = list(*store, "resolved");
  assert_int_equal(*resolved[0].ends_at_ms, 4242);
  assert_int_equal(store->counts().firing, 0);
  assert_string_equal(resolved[0].labels_json.c_str(), R"({"alertname":"Diskfp2"})");
  assert_string_equal(resolved[0].receiver.c_str(), "hook");
}

void newest_first_with_limit(void**) {
  Dir dir;
  AlertStoreOpenReport report;
  auto store = open_ok(dir.file("alerts.db"), &report);
  for (int i = 0; i < 5; ++i)
    upsert_one(*store, record("fp" + std::to_string(i), i % 2 ? "resolved" : "firing", 1), 100 + i);
  bool more = false;
  auto all = list(*store, "", 3, &more);
  assert_int_equal(all.size(), 3);
  assert_true(more);
  assert_string_equal(all[0].fingerprint.c_str(), "fp4");
  assert_string_equal(all[2].fingerprint.c_str(), "fp2");
  auto firing = list(*store, "firing", 100, &more);
  assert_int_equal(firing.size(), 3);
  assert_false(more);
  assert_string_equal(firing[0].fingerprint.c_str(), "fp4");
  assert_string_equal(firing[2].fingerprint.c_str(), "fp0");
}

void retention_deletes_old_resolved_only(void**) {
  Dir dir;
  AlertStoreOpenReport report;
  auto store = open_ok(dir.file("alerts.db"), &report);
  upsert_one(*store, record("old", "resolved", 1, 2), 1000);
  upsert_one(*store, record("fire", "firing", 1), 1000);
  upsert_one(*store, record("recent", "resolved", 1, 2), 50000);
  AlertLimits limits;
  limits.resolved_retention_ms = 60000;
  AlertsDeleted deleted;
  assert_string_equal(store->enforce(limits, 61001, &deleted).c_str(), "");
  assert_int_equal(deleted.retention, 1);
  assert_int_equal(store->counts().stored, 2);
  auto all = list(*store, "");
  assert_int_equal(all.size(), 2);
  assert_string_equal(all[0].fingerprint.c_str(), "recent");
  assert_string_equal(all[1].fingerprint.c_str(), "fire");
  // The firing alert stays however old its last notification.
  assert_string_equal(store->enforce(limits, 10000000, &deleted).c_str(), "");
  assert_int_equal(deleted.retention, 2);
  assert_int_equal(list(*store, "").size(), 1);
  assert_int_equal(store->counts().firing, 1);
}

void max_alerts_deletes_oldest_resolved_then_firing(void**) {
  Dir dir;
  AlertStoreOpenReport report;
  auto store = open_ok(dir.file("alerts.db"), &report);
  AlertLimits limits;
  limits.max_alerts = 3;
  upsert_one(*store, record("r1", "resolved", 1, 2), 100, limits);
  upsert_one(*store, record("r2", "resolved", 1, 2), 200, limits);
  upsert_one(*store, record("f1", "firing", 1), 300, limits);
  std::vector<AlertRecord> two = {record("f2", "firing", 1), record("f3", "firing", 1)};
  std::vector<AlertChange> changes;
  AlertsDeleted deleted;
  assert_string_equal(store->upsert(two, 400, limits, &changes, &deleted).c_str(), "");
  assert_int_equal(deleted.resolved, 2);
  assert_int_equal(deleted.firing, 0);
  assert_int_equal(store->counts().stored, 3);
  assert_int_equal(list(*store, "resolved").size(), 0);
  // Only firing alerts left: the least recently notified goes.
  limits.max_alerts = 2;
  assert_string_equal(store->enforce(limits, 500, &deleted).c_str(), "");
  assert_int_equal(deleted.firing, 1);
  auto firing = list(*store, "firing");
  assert_int_equal(firing.size(), 2);
  assert_string_equal(firing[1].fingerprint.c_str(), "f3");
  assert_int_equal(store->counts().firing, 2);
}

// Pages in use, as another reader of the file (WAL included) sees them.
int64_t live_bytes(const std::string& path) {
  sqlite3* db = nullptr;
  assert_int_equal(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  int64_t values[3] = {0, 0, 0};
  const char* pragmas[] = {"PRAGMA page_count", "PRAGMA freelist_count", "PRAGMA page_size"};
  for (int i = 0; i < 3; ++i) {
    sqlite3_stmt* stmt = nullptr;
    assert_int_equal(sqlite3_prepare_v2(db, pragmas[i], -1, &stmt, nullptr), SQLITE_OK);
    assert_int_equal(sqlite3_step(stmt), SQLITE_ROW);
    values[i] = sqlite3_column_int64(stmt, 0);
    sqlite3_finalize(stmt);
  }
  sqlite3_close(db);
  return (values[0] - values[1]) * values[2];
}

void max_bytes_bounds_the_file(void**) {
  Dir dir;
  AlertStoreOpenReport report;
  auto store = open_ok(dir.file("alerts.db"), &report);
  AlertLimits limits;
  limits.max_bytes = 256 * 1024;
  AlertsDeleted deleted;
  for (int i = 0; i < 40; ++i) {
    AlertRecord r = record("b" + std::to_string(i), "resolved", 1, 2);
    r.annotations_json = R"({"d":")" + std::string(20000, 'x') + "\"}";
    std::vector<AlertChange> changes;
    assert_string_equal(
        store->upsert(std::span(&r, 1), 100 + i, limits, &changes, &deleted).c_str(), "");
  }
  // 40 rows of 20 KB do not fit in 256 KiB: the oldest went, the newest stayed.
  assert_true(deleted.resolved > 20);
  assert_int_equal(store->counts().stored, 40 - deleted.resolved);
  auto all = list(*store, "");
  assert_string_equal(all[0].fingerprint.c_str(), "b39");
  assert_true(live_bytes(dir.file("alerts.db")) <= limits.max_bytes);
}

void counts_survive_reopen(void**) {
  Dir dir;
  AlertStoreOpenReport report;
  {
    auto store = open_ok(dir.file("alerts.db"), &report);
    upsert_one(*store, record("a", "firing", 1), 1);
    upsert_one(*store, record("b", "resolved", 1, 2), 1);
    upsert_one(*store, record("c", "firing", 1), 1);
  }
  auto store = open_ok(dir.file("alerts.db"), &report);
  assert_false(report.created);
  assert_int_equal(store->counts().stored, 3);
  assert_int_equal(store->counts().firing, 2);
}

void garbage_file_is_moved_aside(void**) {
  Dir dir;
  std::string path = dir.file("alerts.db");
  std::ofstream(path) << std::string(8192, 'G');
  AlertStoreOpenReport report;
  auto store = open_ok(path, &report);
  assert_true(report.created);
  std::string prefix = path + ".corrupt-";
  assert_contains(report.moved_to, prefix);
  assert_false(report.corrupt_reason.empty());
  struct stat st;
  assert_int_equal(::stat(report.moved_to.c_str(), &st), 0);
  assert_int_equal(st.st_size, 8192);
  assert_int_equal(upsert_one(*store, record("x", "firing", 1), 1), AlertChange::kNew);
}

void exec_sql(const std::string& path, const char* sql) {
  sqlite3* db = nullptr;
  assert_int_equal(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  assert_int_equal(sqlite3_exec(db, sql, nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(db);
}

void foreign_database_is_moved_aside(void**) {
  Dir dir;
  std::string path = dir.file("alerts.db");
  exec_sql(path, "CREATE TABLE something (x); INSERT INTO something VALUES (1);");
  AlertStoreOpenReport report;
  auto store = open_ok(path, &report);
  assert_contains(report.corrupt_reason, "not an alert store");
  assert_false(report.moved_to.empty());
}

void missing_column_is_moved_aside(void**) {
  Dir dir;
  std::string path = dir.file("alerts.db");
  exec_sql(path,
           "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT);"
           "INSERT INTO meta VALUES ('schema_version', '1');"
           "CREATE TABLE alerts (fingerprint TEXT PRIMARY KEY, status TEXT);");
  AlertStoreOpenReport report;
  auto store = open_ok(path, &report);
  assert_contains(report.corrupt_reason, "not an alert store");
  assert_contains(report.corrupt_reason, "no such column");
}

void newer_schema_is_left_alone(void**) {
  Dir dir;
  std::string path = dir.file("alerts.db");
  exec_sql(path,
           "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT);"
           "INSERT INTO meta VALUES ('schema_version', '2');");
  AlertStoreOpenReport report;
  std::string error;
  auto store = AlertStore::open(path, &report, &error);
  assert_null(store.get());
  assert_contains(error, "schema version 2 is newer than this edgemon's (1); not touching it");
  assert_true(report.moved_to.empty());
  struct stat st;
  assert_int_equal(::stat(path.c_str(), &st), 0);
}

void missing_directory_is_an_error(void**) {
  AlertStoreOpenReport report;
  std::string error;
  auto store = AlertStore::open("/nonexistent-edgemon-dir/alerts.db", &report, &error);
  assert_null(store.get());
  assert_contains(error, "alert store /nonexistent-edgemon-dir/alerts.db: ");
}

}  // namespace

int main() {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(firing_resolved_refire),
      cmocka_unit_test(resolved_without_end_gets_receive_time),
      cmocka_unit_test(newest_first_with_limit),
      cmocka_unit_test(retention_deletes_old_resolved_only),
      cmocka_unit_test(max_alerts_deletes_oldest_resolved_then_firing),
      cmocka_unit_test(max_bytes_bounds_the_file),
      cmocka_unit_test(counts_survive_reopen),
      cmocka_unit_test(garbage_file_is_moved_aside),
      cmocka_unit_test(foreign_database_is_moved_aside),
      cmocka_unit_test(missing_column_is_moved_aside),
      cmocka_unit_test(newer_schema_is_left_alone),
      cmocka_unit_test(missing_directory_is_an_error),
  };
  return cmocka_run_group_tests(tests, nullptr, nullptr);
}
