// StateStore: values in memory at once and in the file after a flush, a
// reopen that finds them, erase and erase_scope, the limits, files that are
// not ours moved aside, several changes written in one transaction, and a
// failed write counted and retried.
#include <sqlite3.h>
#include <sys/stat.h>

#include <cstdlib>
#include <fstream>

#include "cmocka_all.hpp"
#include "loop_helpers.hpp"
#include "store/state_store.hpp"

using edgemon::store::ScopedState;
using edgemon::store::StateLimits;
using edgemon::store::StateOpenReport;
using edgemon::store::StateStore;
using namespace std::chrono_literals;

namespace {

struct Loop : edgemon::test::TestLoop {};

struct Dir : edgemon::test::TempDir {
  Dir() : TempDir("edgemon-state") {}
};

void open_ok(StateStore& store, const std::string& path, StateOpenReport* report = nullptr) {
  std::string e = store.open(path, report);
  if (!e.empty()) fail_msg("open %s: %s", path.c_str(), e.c_str());
}

void put_ok(StateStore& store, std::string_view scope, std::string_view key,
            std::string_view value) {
  std::string e = store.put(scope, key, value);
  if (!e.empty()) fail_msg("put: %s", e.c_str());
}

bool file_exists(const std::string& path) {
  struct stat st;
  return stat(path.c_str(), &st) == 0;
}

// Flushes and runs the loop until the write is done.
void flush_now(uv_loop_t* loop, StateStore& store) {
  bool done = false;
  store.flush([&] { done = true; });
  while (!done)
    uv_run(loop, UV_RUN_ONCE);
}

std::string value_of(const StateStore& store, std::string_view scope, std::string_view key) {
  auto v = store.get(scope, key);
  return v ? *v : "<none>";
}

void put_get_and_scoped_views(void**) {
  Loop l;
  Dir dir;
  StateStore store(&l.loop);
  StateOpenReport report;
  open_ok(store, dir.file("state.db"), &report);
  assert_true(report.created);
  assert_false(store.get("tail/syslog", "offset").has_value());
  put_ok(store, "tail/syslog", "offset", "1234");
  assert_string_equal(value_of(store, "tail/syslog", "offset").c_str(), "1234");
  put_ok(store, "tail/syslog", "offset", "5678");
  assert_string_equal(value_of(store, "tail/syslog", "offset").c_str(), "5678");

  ScopedState board = store.scoped("tegrastats/board");
  assert_string_equal(board.scope().c_str(), "tegrastats/board");
  assert_int_equal(board.put("rails", std::string("VDD_IN\0VDD_CPU", 14)).size(), 0);
  assert_int_equal(board.get("rails")->size(), 14);  // values are bytes
  assert_false(board.get("offset").has_value());
  board.erase("rails");
  assert_false(board.get("rails").has_value());
  assert_int_equal(store.stats().entries, 1);
  assert_int_equal(store.stats().bytes, std::string_view("tail/syslogoffset5678").size());
}

void survives_reopen(void**) {
  Loop l;
  Dir dir;
  std::string path = dir.file("state.db");
  {
    StateStore store(&l.loop);
    open_ok(store, path);
    put_ok(store, "tail/syslog", "offset", "1234");
    put_ok(store, "tail/syslog", "inode", "99");
    put_ok(store, "discovery", "gpu", "present");
    flush_now(&l.loop, store);
    store.erase("tail/syslog", "inode");
    // Written by the destructor: no flush after this.
    put_ok(store, "discovery", "last_seen_ms", "1700000000000");
  }
  StateStore store(&l.loop);
  StateOpenReport report;
  open_ok(store, path, &report);
  assert_false(report.created);
  assert_string_equal(value_of(store, "tail/syslog", "offset").c_str(), "1234");
  assert_false(store.get("tail/syslog", "inode").has_value());
  assert_string_equal(value_of(store, "discovery", "gpu").c_str(), "present");
  assert_string_equal(value_of(store, "discovery", "last_seen_ms").c_str(), "1700000000000");
  assert_int_equal(store.stats().entries, 3);
}

void erase_scope_forgets_every_key(void**) {
  Loop l;
  Dir dir;
  std::string path = dir.file("state.db");
  {
    StateStore store(&l.loop);
    open_ok(store, path);
    for (const char* key : {"a", "b", "c"}) {
      put_ok(store, "tegrastats/board", key, "1");
      put_ok(store, "tail/syslog", key, "2");
    }
    flush_now(&l.loop, store);
    put_ok(store, "tegrastats/board", "d", "not yet written");
    store.erase_scope("tegrastats/board");
    assert_false(store.get("tegrastats/board", "a").has_value());
    assert_int_equal(store.stats().entries, 3);
    // A put after the erase is kept.
    put_ok(store, "tegrastats/board", "e", "after");
    flush_now(&l.loop, store);
  }
  StateStore store(&l.loop);
  open_ok(store, path);
  for (const char* key : {"a", "b", "c", "d"}) {
    assert_false(store.get("tegrastats/board", key).has_value());
    assert_true(store.get("tail/syslog", key).has_value() == (key[0] != 'd'));
  }
  assert_string_equal(value_of(store, "tegrastats/board", "e").c_str(), "after");
  assert_int_equal(store.stats().entries, 4);
}

void limits_refuse_and_count(void**) {
  Loop l;
  Dir dir;
  StateLimits limits;
  limits.max_value_bytes = 20;
  limits.max_total_bytes = 60;
  StateStore store(&l.loop, limits);
  open_ok(store, dir.file("state.db"));
  std::string e = store.put("s", "k", std::string(21, 'x'));
  assert_contains(e, "exceeds the limit of 20");
  assert_int_equal(store.stats().refused, 1);
  assert_false(store.get("s", "k").has_value());
  put_ok(store, "s", "k1", std::string(20, 'x'));  // 23 bytes
  put_ok(store, "s", "k2", std::string(20, 'x'));  // 46
  e = store.put("s", "k3", std::string(20, 'x'));  // 69 > 60
  assert_contains(e, "beyond the limit of 60");
  assert_int_equal(store.stats().refused, 2);
  assert_int_equal(store.stats().entries, 2);
  assert_int_equal(store.stats().bytes, 46);
  // Replacing a value counts only the difference.
  put_ok(store, "s", "k2", std::string(5, 'y'));
  assert_int_equal(store.stats().bytes, 31);
  put_ok(store, "s", "k3", std::string(20, 'x'));
  assert_int_equal(store.stats().bytes, 54);

  // Rows beyond lowered limits are left out at open, and counted.
  flush_now(&l.loop, store);
  StateLimits lower;
  lower.max_value_bytes = 10;
  StateStore reopened(&l.loop, lower);
  open_ok(reopened, dir.file("state.db"));
  assert_int_equal(reopened.stats().entries, 1);
  assert_int_equal(reopened.stats().refused, 2);
}

void corrupt_file_moved_aside(void**) {
  Loop l;
  Dir dir;
  std::string path = dir.file("state.db");
  std::ofstream(path) << std::string(8192, 'G');
  StateStore store(&l.loop);
  StateOpenReport report;
  open_ok(store, path, &report);
  assert_true(report.created);
  assert_false(report.corrupt_reason.empty());
  std::string moved_prefix = path + ".corrupt-";
  assert_contains(report.moved_to, moved_prefix);
  assert_true(file_exists(report.moved_to));
  assert_int_equal(store.stats().entries, 0);
  put_ok(store, "s", "k", "v");
  flush_now(&l.loop, store);
  assert_int_equal(store.stats().writes, 1);

  // A valid SQLite file that is someone else's is not ours either.
  std::string foreign = dir.file("foreign.db");
  sqlite3* db = nullptr;
  sqlite3_open(foreign.c_str(), &db);
  sqlite3_exec(db, "CREATE TABLE t (x)", nullptr, nullptr, nullptr);
  sqlite3_close(db);
  StateStore other(&l.loop);
  open_ok(other, foreign, &report);
  assert_contains(report.corrupt_reason, "not a state store");
  assert_true(file_exists(report.moved_to));
}

void changes_written_in_one_transaction(void**) {
  Loop l;
  Dir dir;
  StateStore store(&l.loop, {}, 1h);  // no timer flush within the test
  open_ok(store, dir.file("state.db"));
  for (int i = 0; i < 10; ++i)
    put_ok(store, "s", "k" + std::to_string(i), std::to_string(i));
  store.erase("s", "k3");
  store.erase_scope("other");
  flush_now(&l.loop, store);
  assert_int_equal(store.stats().writes, 1);
  // Nothing changed: no transaction.
  flush_now(&l.loop, store);
  put_ok(store, "s", "k1", "1");  // unchanged
  flush_now(&l.loop, store);
  assert_int_equal(store.stats().writes, 1);
  assert_int_equal(store.stats().write_failures, 0);
}

void timer_flushes_within_the_interval(void**) {
  Loop l;
  Dir dir;
  StateStore store(&l.loop, {}, 20ms);
  open_ok(store, dir.file("state.db"));
  put_ok(store, "s", "a", "1");
  put_ok(store, "s", "b", "2");
  // The timer keeps the loop alive until the write is done.
  uv_run(&l.loop, UV_RUN_DEFAULT);
  assert_int_equal(store.stats().writes, 1);
}

void failed_write_counted_and_retried(void**) {
  Loop l;
  Dir dir;
  std::string path = dir.file("state.db");
  StateStore store(&l.loop, {}, 1h);
  open_ok(store, path);
  // Another connection holds the write lock past the busy timeout.
  sqlite3* other = nullptr;
  sqlite3_open(path.c_str(), &other);
  assert_int_equal(sqlite3_exec(other, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr), SQLITE_OK);
  put_ok(store, "s", "k", "v1");
  flush_now(&l.loop, store);
  assert_int_equal(store.stats().write_failures, 1);
  assert_int_equal(store.stats().writes, 0);
  assert_contains(store.stats().last_error, "locked");
  sqlite3_exec(other, "ROLLBACK", nullptr, nullptr, nullptr);
  sqlite3_close(other);
  flush_now(&l.loop, store);
  assert_int_equal(store.stats().writes, 1);

  StateStore reopened(&l.loop);
  open_ok(reopened, path);
  assert_string_equal(value_of(reopened, "s", "k").c_str(), "v1");
}

}  // namespace

int main() {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(put_get_and_scoped_views),
      cmocka_unit_test(survives_reopen),
      cmocka_unit_test(erase_scope_forgets_every_key),
      cmocka_unit_test(limits_refuse_and_count),
      cmocka_unit_test(corrupt_file_moved_aside),
      cmocka_unit_test(changes_written_in_one_transaction),
      cmocka_unit_test(timer_flushes_within_the_interval),
      cmocka_unit_test(failed_write_counted_and_retried),
  };
  return cmocka_run_group_tests(tests, nullptr, nullptr);
}
