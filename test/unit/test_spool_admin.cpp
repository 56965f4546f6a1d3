// The operator's spool commands at the API level: stats, list, get, purge,
// and dead letters listed, retried and purged.
#include "spool_fixture.hpp"

using namespace spool_test;

namespace {

void stats_per_output_sorted_by_name(void**) {
  TempDir dir;
  auto spool = open_spool(dir.file("spool.db"));
  std::vector<QueueStats> stats;
  ok(spool->stats(&stats));
  assert_int_equal(stats.size(), 0);
  auto ids = append(*spool, {batch("zeta", "1", 2, 5000), batch("alpha", "2", 3, 7000),
                             batch("alpha", "3", 4, 6000), batch("dead-only", "4", 5, 100)});
  ok(spool->dead_letter(std::vector<int64_t>{ids[3]}, 400, "bad"));
  ok(spool->stats(&stats));
  assert_int_equal(stats.size(), 3);
  assert_string_equal(stats[0].output.c_str(), "alpha");
  assert_int_equal(stats[0].batches, 2);
  assert_int_equal(stats[0].points, 7);
  assert_int_equal(stats[0].bytes, body_of("2", 3).size() + body_of("3", 4).size());
  assert_int_equal(stats[0].oldest_created_ms, 6000);
  assert_int_equal(stats[0].dead_letters, 0);
  assert_string_equal(stats[1].output.c_str(), "dead-only");
  assert_int_equal(stats[1].batches, 0);
  assert_int_equal(stats[1].oldest_created_ms, 0);
  assert_int_equal(stats[1].dead_letters, 1);
  assert_int_equal(stats[1].dead_points, 5);
  assert_string_equal(stats[2].output.c_str(), "zeta");
  assert_int_equal(stats[2].points, 2);
}

void list_pages_by_id_and_filters_by_output(void**) {
  TempDir dir;
  auto spool = open_spool(dir.file("spool.db"));
  auto ids = append(*spool, {batch("a", "1", 1), batch("b", "2", 2), batch("a", "3", 3),
                             batch("a", "4", 4), batch("b", "5", 5)});
  std::vector<Batch> out;
  ok(spool->list("", 0, 0, &out));
  assert_int_equal(out.size(), 5);
  assert_true(out[0].body.empty());  // listing never loads bodies
  assert_int_equal(out[4].id, ids[4]);
  ok(spool->list("a", 0, 2, &out));
  assert_int_equal(out.size(), 2);
  assert_int_equal(out[0].id, ids[0]);
  assert_int_equal(out[1].id, ids[2]);
  ok(spool->list("a", out[1].id, 2, &out));
  assert_int_equal(out.size(), 1);
  assert_int_equal(out[0].id, ids[3]);
  assert_int_equal(out[0].points, 4);
  assert_string_equal(out[0].output.c_str(), "a");
  ok(spool->list("b", ids[4], 0, &out));
  assert_int_equal(out.size(), 0);
}

void get_returns_one_batch_with_its_body(void**) {
  TempDir dir;
  auto spool = open_spool(dir.file("spool.db"));
  auto ids = append(*spool, {batch("a", "1", 3, 1234, "us")});
  Batch b;
  bool found = false;
  ok(spool->get(ids[0], &b, &found));
  assert_true(found);
  assert_int_equal(b.id, ids[0]);
  assert_int_equal(b.created_ms, 1234);
  assert_string_equal(b.precision.c_str(), "us");
  assert_string_equal(b.body.c_str(), body_of("1", 3).c_str());
  ok(spool->get(ids[0] + 100, &b, &found));
  assert_false(found);
}

void purge_by_output_and_time_counts_exactly(void**) {
  TempDir dir;
  auto spool = open_spool(dir.file("spool.db"));
  append(*spool, {batch("a", "1", 1, 1000), batch("a", "2", 2, 2000), batch("a", "3", 3, 3000),
                  batch("b", "4", 4, 1000), batch("b", "5", 5, 5000)});
  Removed removed;
  ok(spool->purge("a", 2500, &removed));
  assert_int_equal(removed.batches, 2);
  assert_int_equal(removed.points, 3);
  assert_int_equal(removed.bytes, body_of("1", 1).size() + body_of("2", 2).size());
  ok(spool->purge("", 2000, &removed));
  assert_int_equal(removed.batches, 1);  // b's 1000
  assert_int_equal(removed.points, 4);
  ok(spool->purge("", 0, &removed));
  assert_int_equal(removed.batches, 2);
  assert_int_equal(removed.points, 8);
  std::vector<Batch> out;
  ok(spool->list("", 0, 0, &out));
  assert_int_equal(out.size(), 0);
}

void dead_letters_retry_and_purge(void**) {
  TempDir dir;
  auto spool = open_spool(dir.file("spool.db"));
  auto ids = append(*spool, {batch("a", "1", 1), batch("a", "2", 2), batch("b", "3", 3),
                             batch("a", "4", 4), batch("a", "keep", 5)});
  ok(spool->dead_letter(std::vector<int64_t>{ids[0], ids[1], ids[2], ids[3]}, 400, "bad"));
  std::vector<DeadLetter> dead;
  ok(spool->list_dead_letters("", 0, 0, false, &dead));
  assert_int_equal(dead.size(), 4);
  assert_true(dead[0].body.empty());
  ok(spool->list_dead_letters("a", dead[0].id, 1, true, &dead));
  assert_int_equal(dead.size(), 1);
  assert_int_equal(dead[0].batch_id, ids[1]);
  assert_string_equal(dead[0].body.c_str(), body_of("2", 2).c_str());
  int64_t second = dead[0].id;

  // Retry one: back at the end of its queue, with a valid checksum.
  Removed moved;
  ok(spool->retry_dead_letters("", std::vector<int64_t>{second}, &moved));
  assert_int_equal(moved.batches, 1);
  assert_int_equal(moved.points, 2);
  Removed corrupt;
  auto got = fetch(*spool, "a", 0, 0, &corrupt);
  assert_int_equal(corrupt.batches, 0);
  assert_int_equal(got.size(), 2);
  assert_int_equal(got[0].id, ids[4]);
  assert_true(got[1].id > ids[4]);
  assert_string_equal(got[1].body.c_str(), body_of("2", 2).c_str());
  assert_int_equal(got[1].attempts, 1);

  // An id of another output is not touched when --output is given.
  ok(spool->list_dead_letters("b", 0, 0, false, &dead));
  int64_t b_dead = dead[0].id;
  ok(spool->retry_dead_letters("a", std::vector<int64_t>{b_dead}, &moved));
  assert_int_equal(moved.batches, 0);

  // Purge one by id, then every dead letter of "a"; "b"'s stays.
  ok(spool->list_dead_letters("a", 0, 0, false, &dead));
  assert_int_equal(dead.size(), 2);
  Removed removed;
  ok(spool->purge_dead_letters("", std::vector<int64_t>{dead[0].id, 99999}, &removed));
  assert_int_equal(removed.batches, 1);
  assert_int_equal(removed.points, 1);
  ok(spool->purge_dead_letters("a", {}, &removed));
  assert_int_equal(removed.batches, 1);
  assert_int_equal(removed.points, 4);
  ok(spool->list_dead_letters("", 0, 0, false, &dead));
  assert_int_equal(dead.size(), 1);
  assert_string_equal(dead[0].output.c_str(), "b");

  // Retry all: every remaining dead letter is queued again.
  ok(spool->retry_dead_letters("", {}, &moved));
  assert_int_equal(moved.batches, 1);
  assert_int_equal(moved.points, 3);
  assert_int_equal(fetch(*spool, "b", 0, 0).size(), 1);
}

}  // namespace

int main() {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(stats_per_output_sorted_by_name),
      cmocka_unit_test(list_pages_by_id_and_filters_by_output),
      cmocka_unit_test(get_returns_one_batch_with_its_body),
      cmocka_unit_test(purge_by_output_and_time_counts_exactly),
      cmocka_unit_test(dead_letters_retry_and_purge),
  };
  return cmocka_run_group_tests(tests, nullptr, nullptr);
}
