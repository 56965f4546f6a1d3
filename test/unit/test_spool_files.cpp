// The spool file: what open() does with garbage, a truncated file, a damaged
// page, a newer schema or another application's database; corrupt rows
// skipped and dead-lettered; read-only opens beside a writer.
#include <fcntl.h>

#include <cstdio>
#include <cstring>
#include <fstream>

#include "spool_fixture.hpp"

using namespace spool_test;

namespace {

std::string read_all(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

void write_at(const std::string& path, int64_t offset, const std::string& bytes) {
  int fd = ::open(path.c_str(), O_WRONLY);
  assert_true(fd >= 0);
  assert_int_equal(::pwrite(fd, bytes.data(), bytes.size(), offset), bytes.size());
  ::close(fd);
}

// A closed spool with `n` batches of 200 points in output "a".
void make_spool(const std::string& path, int n) {
  auto spool = open_spool(path);
  std::vector<NewBatch> in;
  for (int i = 0; i < n; ++i)
    in.push_back(batch("a", std::to_string(i), 200, 1000 + i));
  append(*spool, in);
}

// Opens a damaged file: it must be moved aside, intact, and a working empty
// spool started in its place.
void expect_moved_aside(const std::string& path, const std::string& reason_part) {
  std::string before = read_all(path);
  OpenReport report;
  auto spool = open_spool(path, &report);
  assert_contains(report.corrupt_reason, reason_part);
  assert_true(report.created);
  std::string prefix = path + ".corrupt-";
  assert_contains(report.moved_to, prefix);
  print_message("moved aside: %s\n", report.corrupt_reason.c_str());
  assert_true(read_all(report.moved_to) == before);
  std::vector<QueueStats> stats;
  ok(spool->stats(&stats));
  assert_int_equal(stats.size(), 0);
  append(*spool, {batch("a", "fresh", 2)});
  assert_int_equal(fetch(*spool, "a", 0, 0).size(), 1);
}

void garbage_file_is_moved_aside(void**) {
  TempDir dir;
  std::string path = dir.file("spool.db");
  std::string garbage;
  for (int i = 0; i < 65536; ++i)
    garbage.push_back(static_cast<char>((i * 7919 + 13) & 0xff));
  std::ofstream(path, std::ios::binary) << garbage;
  expect_moved_aside(path, "not a database");
}

void truncated_file_is_moved_aside(void**) {
  TempDir dir;
  std::string path = dir.file("spool.db");
  make_spool(path, 60);
  int64_t size = file_size(path);
  assert_true(size > 200 * 1024);
  assert_int_equal(::truncate(path.c_str(), size / 2), 0);
  expect_moved_aside(path, "");
}

void damaged_page_is_moved_aside(void**) {
  TempDir dir;
  std::string path = dir.file("spool.db");
  make_spool(path, 60);
  int64_t root = 0;
  int64_t page_size = 0;
  {
    RawDb raw(path);
    root = raw.scalar("SELECT rootpage FROM sqlite_master WHERE name = 'batches'");
    page_size = raw.scalar("PRAGMA page_size");
  }
  // 60 batches need interior pages: the root is one, and garbage in its
  // header leaves every leaf below it unreachable.
  write_at(path, (root - 1) * page_size, std::string(64, '\xa5'));
  expect_moved_aside(path, "");
}

void another_applications_database_is_moved_aside(void**) {
  TempDir dir;
  std::string path = dir.file("spool.db");
  {
    RawDb raw(path);
    raw.exec("CREATE TABLE photos (id INTEGER PRIMARY KEY, name TEXT)");
  }
  expect_moved_aside(path, "no table");
}

void newer_schema_is_refused_and_left_alone(void**) {
  TempDir dir;
  std::string path = dir.file("spool.db");
  make_spool(path, 2);
  {
    RawDb raw(path);
    raw.exec("UPDATE meta SET value = '2' WHERE key = 'schema_version'");
  }
  std::string before = read_all(path);
  SpoolOptions options;
  options.path = path;
  std::string error;
  OpenReport report;
  assert_true(Spool::open(options, &report, &error) == nullptr);
  assert_contains(error, "newer");
  assert_true(report.moved_to.empty());
  assert_true(read_all(path) == before);
}

void read_only_never_creates_or_repairs(void**) {
  TempDir dir;
  std::string path = dir.file("spool.db");
  SpoolOptions options;
  options.path = path;
  options.read_only = true;
  std::string error;
  assert_true(Spool::open(options, nullptr, &error) == nullptr);
  std::string expected = "no spool at " + path;
  assert_contains(error, expected);
  assert_false(exists(path));

  std::ofstream(path, std::ios::binary) << std::string(8192, 'x');
  error.clear();
  OpenReport report;
  assert_true(Spool::open(options, &report, &error) == nullptr);
  assert_false(error.empty());
  assert_true(report.moved_to.empty());
  assert_int_equal(file_size(path), 8192);

  // repair=false (the CLI's writers) reports instead of moving.
  options.read_only = false;
  options.repair = false;
  error.clear();
  assert_true(Spool::open(options, &report, &error) == nullptr);
  assert_false(error.empty());
  assert_int_equal(file_size(path), 8192);
}

void read_only_reads_beside_an_open_write_transaction(void**) {
  TempDir dir;
  std::string path = dir.file("spool.db");
  auto writer = open_spool(path);
  append(*writer, {batch("a", "1", 5), batch("a", "2", 5)});
  RawDb raw(path);
  raw.exec("BEGIN IMMEDIATE");
  raw.exec("DELETE FROM batches");
  auto reader = open_spool(path, nullptr, true);
  std::vector<QueueStats> stats;
  ok(reader->stats(&stats));
  assert_int_equal(stats.size(), 1);
  assert_int_equal(stats[0].batches, 2);
  std::vector<Batch> listed;
  ok(reader->list("", 0, 0, &listed));
  assert_int_equal(listed.size(), 2);
  // A reader cannot change anything.
  Removed removed;
  assert_false(reader->purge("", 0, &removed).empty());
  raw.exec("ROLLBACK");
}

void corrupt_rows_are_dead_lettered_and_skipped(void**) {
  TempDir dir;
  std::string path = dir.file("spool.db");
  auto spool = open_spool(path);
  auto ids = append(
      *spool, {batch("a", "1", 3), batch("a", "2", 4), batch("a", "3", 5), batch("a", "4", 6)});
  {
    // An operator "fixing" rows by hand: same length, and longer.
    RawDb raw(path);
    raw.exec("UPDATE batches SET body = replace(body, 'v=', 'w=') WHERE id = " +
             std::to_string(ids[1]));
    raw.exec("UPDATE batches SET body = body || 'x' WHERE id = " + std::to_string(ids[2]));
  }
  Removed corrupt;
  auto got = fetch(*spool, "a", 8, 0, &corrupt);
  // Points limit 8: batch 1 (3), 2 and 3 skipped, batch 4 (6) would pass 8.
  assert_int_equal(got.size(), 1);
  assert_int_equal(got[0].id, ids[0]);
  assert_int_equal(corrupt.batches, 2);
  assert_int_equal(corrupt.points, 9);
  got = fetch(*spool, "a", 0, 0, &corrupt);
  assert_int_equal(got.size(), 2);
  assert_int_equal(got[1].id, ids[3]);
  assert_int_equal(corrupt.batches, 0);
  std::vector<DeadLetter> dead;
  ok(spool->list_dead_letters("a", 0, 0, true, &dead));
  assert_int_equal(dead.size(), 2);
  assert_int_equal(dead[0].batch_id, ids[1]);
  assert_int_equal(dead[0].status, 0);
  assert_contains(dead[0].error, "corrupt: checksum");
  assert_contains(dead[0].body, "w=");
  assert_contains(dead[1].error, "corrupt: body length");
}

// A damaged overflow page inside one body: SQLite itself fails to read that
// row. The row is skipped and dead-lettered with what the index knew.
void unreadable_row_is_skipped(void**) {
  TempDir dir;
  std::string path = dir.file("spool.db");
  std::vector<int64_t> ids;
  std::string marker = "MARKER-in-the-middle-of-batch-2";
  {
    auto spool = open_spool(path);
    NewBatch two = batch("a", "2", 400);
    two.body.insert(two.body.size() / 2, "m " + marker + "=1i 1\n");
    ids = append(*spool, {batch("a", "1", 10), two, batch("a", "3", 10)});
  }
  std::string bytes = read_all(path);
  size_t at = bytes.find(marker);
  assert_true(at != std::string::npos);
  int64_t page_size = 4096;
  // The first 4 bytes of an overflow page point to the next one.
  write_at(path, static_cast<int64_t>(at / page_size) * page_size, "\xff\xff\xff\x7f");
  SpoolOptions options;
  options.path = path;
  options.repair = false;  // skip quick_check, so the damage is met by fetch
  std::string error;
  auto spool = Spool::open(options, nullptr, &error);
  if (!spool) fail_msg("open: %s", error.c_str());
  Removed corrupt;
  auto got = fetch(*spool, "a", 0, 0, &corrupt);
  assert_int_equal(got.size(), 2);
  assert_int_equal(got[0].id, ids[0]);
  assert_int_equal(got[1].id, ids[2]);
  assert_int_equal(corrupt.batches, 1);
  assert_int_equal(corrupt.points, 400);
  ok(spool->remove(std::vector<int64_t>{ids[0], ids[2]}));
  assert_int_equal(fetch(*spool, "a", 0, 0, &corrupt).size(), 0);
  assert_int_equal(corrupt.batches, 0);  // counted once
  std::vector<DeadLetter> dead;
  ok(spool->list_dead_letters("a", 0, 0, false, &dead));
  assert_int_equal(dead.size(), 1);
  assert_int_equal(dead[0].batch_id, ids[1]);
  assert_contains(dead[0].error, "corrupt");
}

void pragmas_are_set_for_a_new_file(void**) {
  TempDir dir;
  std::string path = dir.file("spool.db");
  auto spool = open_spool(path);
  RawDb raw(path);
  assert_int_equal(raw.scalar("PRAGMA auto_vacuum"), 2);  // incremental
  assert_int_equal(raw.scalar("SELECT value FROM meta WHERE key = 'schema_version'"), 1);
  assert_int_equal(raw.scalar("SELECT count(*) FROM sqlite_master WHERE type = 'index' AND name "
                              "IN ('batches_queue', 'dead_letters_output')"),
                   2);
  sqlite3_stmt* stmt = nullptr;
  assert_int_equal(sqlite3_prepare_v2(raw.db, "PRAGMA journal_mode", -1, &stmt, nullptr),
                   SQLITE_OK);
  assert_int_equal(sqlite3_step(stmt), SQLITE_ROW);
  assert_string_equal(reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0)), "wal");
  sqlite3_finalize(stmt);
}

}  // namespace

int main() {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(garbage_file_is_moved_aside),
      cmocka_unit_test(truncated_file_is_moved_aside),
      cmocka_unit_test(damaged_page_is_moved_aside),
      cmocka_unit_test(another_applications_database_is_moved_aside),
      cmocka_unit_test(newer_schema_is_refused_and_left_alone),
      cmocka_unit_test(read_only_never_creates_or_repairs),
      cmocka_unit_test(read_only_reads_beside_an_open_write_transaction),
      cmocka_unit_test(corrupt_rows_are_dead_lettered_and_skipped),
      cmocka_unit_test(unreadable_row_is_skipped),
      cmocka_unit_test(pragmas_are_set_for_a_new_file),
  };
  return cmocka_run_group_tests(tests, nullptr, nullptr);
}
