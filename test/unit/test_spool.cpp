// The spool's queue as the daemon uses it: append, fetch within limits and
// one precision, remove, split, dead-letter, caps with exact counts, space
// reclaimed after a drain, and a 1M-point backlog drained in bounded steps.
#include <chrono>

#include "spool_fixture.hpp"

using namespace spool_test;

namespace {

std::vector<int64_t> ids_of(const std::vector<Batch>& batches) {
  std::vector<int64_t> ids;
  for (const auto& b : batches)
    ids.push_back(b.id);
  return ids;
}

void append_then_fetch_in_order_within_limits(void**) {
  TempDir dir;
  OpenReport report;
  auto spool = open_spool(dir.file("spool.db"), &report);
  assert_true(report.created);
  assert_true(report.corrupt_reason.empty());
  std::vector<NewBatch> in;
  for (int i = 0; i < 5; ++i)
    in.push_back(batch("a", "a" + std::to_string(i), 10, 1000 + i));
  auto ids = append(*spool, in);
  append(*spool, {batch("b", "b0", 3)});
  for (size_t i = 1; i < ids.size(); ++i)
    assert_true(ids[i] > ids[i - 1]);

  auto got = fetch(*spool, "a", 25, 0);
  assert_int_equal(got.size(), 2);
  assert_int_equal(got[0].id, ids[0]);
  assert_int_equal(got[1].id, ids[1]);
  assert_string_equal(got[0].body.c_str(), in[0].body.c_str());
  assert_string_equal(got[0].output.c_str(), "a");
  assert_int_equal(got[0].points, 10);
  assert_int_equal(got[0].bytes, in[0].body.size());
  assert_int_equal(got[0].created_ms, 1000);
  assert_string_equal(got[0].precision.c_str(), "ms");
  assert_int_equal(got[0].attempts, 1);

  // Not removed: the same head again, one more attempt.
  got = fetch(*spool, "a", 30, 0);
  assert_int_equal(got.size(), 3);
  assert_int_equal(got[0].attempts, 2);
  assert_int_equal(got[2].attempts, 1);

  // The first batch comes even when it alone passes the limits.
  got = fetch(*spool, "a", 5, 1);
  assert_int_equal(got.size(), 1);
  assert_int_equal(got[0].id, ids[0]);

  // Byte limit: two bodies fit, three do not.
  int64_t two = static_cast<int64_t>(in[0].body.size() + in[1].body.size());
  assert_int_equal(fetch(*spool, "a", 0, two).size(), 2);
  assert_int_equal(fetch(*spool, "a", 0, two - 1).size(), 1);
  assert_int_equal(fetch(*spool, "a", 0, 0).size(), 5);

  got = fetch(*spool, "b", 100, 0);
  assert_int_equal(got.size(), 1);
  assert_string_equal(got[0].output.c_str(), "b");
  assert_int_equal(fetch(*spool, "nobody", 100, 0).size(), 0);
}

void fetch_stops_at_a_precision_change(void**) {
  TempDir dir;
  auto spool = open_spool(dir.file("spool.db"));
  auto ids = append(*spool, {batch("a", "1", 2, 1, "s"), batch("a", "2", 2, 2, "s"),
                             batch("a", "3", 2, 3, "ms"), batch("a", "4", 2, 4, "s")});
  auto got = fetch(*spool, "a", 100, 0);
  assert_int_equal(got.size(), 2);
  assert_string_equal(got[1].precision.c_str(), "s");
  ok(spool->remove(ids_of(got)));
  got = fetch(*spool, "a", 100, 0);
  assert_int_equal(got.size(), 1);
  assert_int_equal(got[0].id, ids[2]);
  assert_string_equal(got[0].precision.c_str(), "ms");
  ok(spool->remove(ids_of(got)));
  got = fetch(*spool, "a", 100, 0);
  assert_int_equal(got.size(), 1);
  assert_int_equal(got[0].id, ids[3]);
}

void append_rejects_a_bad_precision_and_adds_nothing(void**) {
  TempDir dir;
  auto spool = open_spool(dir.file("spool.db"));
  std::vector<NewBatch> in = {batch("a", "1", 1), batch("a", "2", 1, 1, "m")};
  std::string e = spool->append(in);
  assert_contains(e, "precision");
  assert_int_equal(fetch(*spool, "a", 0, 0).size(), 0);
}

void remove_and_replace_body(void**) {
  TempDir dir;
  auto spool = open_spool(dir.file("spool.db"));
  auto ids = append(*spool, {batch("a", "1", 10), batch("a", "2", 10)});
  // A 413 split: the first half went out, the rest keeps its place.
  std::string rest = body_of("1", 4, 6);
  ok(spool->replace_body(ids[0], rest, 4));
  auto got = fetch(*spool, "a", 0, 0);
  assert_int_equal(got.size(), 2);
  assert_int_equal(got[0].id, ids[0]);
  assert_int_equal(got[0].points, 4);
  assert_int_equal(got[0].bytes, rest.size());
  assert_string_equal(got[0].body.c_str(), rest.c_str());
  ok(spool->replace_body(999, rest, 4));  // dropped by a cap meanwhile: nothing to keep

  ok(spool->remove(std::vector<int64_t>{ids[0], 12345}));  // 12345: already gone, no error
  got = fetch(*spool, "a", 0, 0);
  assert_int_equal(got.size(), 1);
  assert_int_equal(got[0].id, ids[1]);
}

void dead_letter_moves_batches_out_of_the_queue(void**) {
  TempDir dir;
  auto spool = open_spool(dir.file("spool.db"));
  auto ids = append(*spool, {batch("a", "1", 3), batch("a", "2", 4), batch("a", "3", 5)});
  ok(spool->dead_letter(std::vector<int64_t>{ids[1]}, 400, "partial write: field type conflict"));
  auto got = fetch(*spool, "a", 0, 0);
  assert_int_equal(got.size(), 2);
  assert_int_equal(got[0].id, ids[0]);
  assert_int_equal(got[1].id, ids[2]);
  std::vector<DeadLetter> dead;
  ok(spool->list_dead_letters("a", 0, 0, true, &dead));
  assert_int_equal(dead.size(), 1);
  assert_int_equal(dead[0].batch_id, ids[1]);
  assert_int_equal(dead[0].status, 400);
  assert_int_equal(dead[0].points, 4);
  assert_string_equal(dead[0].error.c_str(), "partial write: field type conflict");
  assert_string_equal(dead[0].body.c_str(), body_of("2", 4).c_str());
  assert_true(dead[0].dead_ms > 1000);
  std::vector<QueueStats> stats;
  ok(spool->stats(&stats));
  assert_int_equal(stats.size(), 1);
  assert_int_equal(stats[0].batches, 2);
  assert_int_equal(stats[0].points, 8);
  assert_int_equal(stats[0].dead_letters, 1);
  assert_int_equal(stats[0].dead_points, 4);
}

void bytes_cap_drops_exactly_the_oldest(void**) {
  TempDir dir;
  auto spool = open_spool(dir.file("spool.db"));
  std::vector<NewBatch> in;
  int64_t total = 0;
  for (int i = 0; i < 10; ++i) {
    in.push_back(batch("a", std::to_string(i), 5 + i, 1000 + i));
    total += static_cast<int64_t>(in.back().body.size());
  }
  auto ids = append(*spool, in);
  append(*spool, {batch("b", "x", 50)});
  // The cap falls inside batch 3: batches 0..3 must go, 4..9 stay.
  int64_t first_four = 0;
  int64_t first_four_points = 0;
  for (int i = 0; i < 4; ++i) {
    first_four += static_cast<int64_t>(in[i].body.size());
    first_four_points += in[i].points;
  }
  int64_t cap = total - first_four + 1;
  Removed removed;
  ok(spool->enforce_caps("a", cap, 0, 0, &removed));
  assert_int_equal(removed.batches, 4);
  assert_int_equal(removed.points, first_four_points);
  assert_int_equal(removed.bytes, first_four);
  auto left = fetch(*spool, "a", 0, 0);
  assert_int_equal(left.size(), 6);
  assert_int_equal(left[0].id, ids[4]);
  // Exactly at the cap: nothing more to drop.
  ok(spool->enforce_caps("a", total - first_four, 0, 0, &removed));
  assert_int_equal(removed.batches, 0);
  assert_int_equal(removed.bytes, 0);
  // Other outputs are not touched.
  assert_int_equal(fetch(*spool, "b", 0, 0).size(), 1);
}

void age_cap_drops_exactly_the_old(void**) {
  TempDir dir;
  auto spool = open_spool(dir.file("spool.db"));
  std::vector<NewBatch> in;
  for (int i = 1; i <= 10; ++i)
    in.push_back(batch("a", std::to_string(i), i, i * 1000));
  append(*spool, in);
  append(*spool, {batch("b", "x", 1, 1000)});
  Removed removed;
  // now 10000, max age 4500: created before 5500 goes (1000..5000).
  ok(spool->enforce_caps("a", 0, 4500, 10000, &removed));
  assert_int_equal(removed.batches, 5);
  assert_int_equal(removed.points, 1 + 2 + 3 + 4 + 5);
  int64_t bytes = 0;
  for (int i = 0; i < 5; ++i)
    bytes += static_cast<int64_t>(in[i].body.size());
  assert_int_equal(removed.bytes, bytes);
  auto left = fetch(*spool, "a", 0, 0);
  assert_int_equal(left.size(), 5);
  assert_int_equal(left[0].created_ms, 6000);
  // Both caps at once add up; then nothing is left to drop.
  ok(spool->enforce_caps("a", static_cast<int64_t>(in[9].body.size()), 3500, 10000, &removed));
  assert_int_equal(removed.batches, 4);  // 6000 by age; 7000, 8000 and 9000 by bytes
  assert_int_equal(fetch(*spool, "a", 0, 0).size(), 1);
  ok(spool->enforce_caps("a", 0, 0, 10000, &removed));
  assert_int_equal(removed.batches, 0);
  assert_int_equal(fetch(*spool, "b", 0, 0).size(), 1);
}

void reopen_keeps_everything_and_never_reuses_ids(void**) {
  TempDir dir;
  std::string path = dir.file("spool.db");
  std::vector<int64_t> ids;
  {
    auto spool = open_spool(path);
    ids = append(*spool, {batch("a", "1", 3), batch("a", "2", 3)});
    ok(spool->remove(std::vector<int64_t>{ids[1]}));
  }
  OpenReport report;
  auto spool = open_spool(path, &report);
  assert_false(report.created);
  auto got = fetch(*spool, "a", 0, 0);
  assert_int_equal(got.size(), 1);
  assert_string_equal(got[0].body.c_str(), body_of("1", 3).c_str());
  ok(spool->remove(std::vector<int64_t>{ids[0]}));
  auto more = append(*spool, {batch("a", "3", 1)});
  assert_true(more[0] > ids[1]);
}

void reclaim_space_shrinks_the_file_after_a_drain(void**) {
  TempDir dir;
  auto spool = open_spool(dir.file("spool.db"));
  std::vector<int64_t> ids;
  for (int i = 0; i < 20; ++i) {
    std::vector<NewBatch> in;
    for (int j = 0; j < 10; ++j)
      in.push_back(batch("a", std::to_string(i * 10 + j), 1500));
    auto got = append(*spool, in);
    ids.insert(ids.end(), got.begin(), got.end());
  }
  int64_t full = spool->file_bytes();
  assert_true(full > 8 * 1024 * 1024);
  ok(spool->remove(ids));
  for (int i = 0; i < 20; ++i)
    ok(spool->reclaim_space());
  int64_t after = spool->file_bytes();
  if (after > 5 * 1024 * 1024) {
    fail_msg("file_bytes %lld after reclaim, %lld before", static_cast<long long>(after),
             static_cast<long long>(full));
  }
  assert_true(file_size(spool->path()) < 1024 * 1024);
  // Nothing to reclaim: a no-op that leaves the spool usable.
  ok(spool->reclaim_space());
  append(*spool, {batch("a", "again", 2)});
  assert_int_equal(fetch(*spool, "a", 0, 0).size(), 1);
}

// 1M points as 200 batches of 5000: the backlog drains oldest first, and no
// fetch ever returns more than it was asked for.
void million_points_drain_in_bounded_fetches(void**) {
  TempDir dir;
  auto spool = open_spool(dir.file("spool.db"));
  constexpr int kBatches = 200;
  constexpr int64_t kPoints = 5000;
  auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < kBatches; ++i) {
    NewBatch b{"a", 1000 + i, kPoints, "ms", body_of(std::to_string(i), kPoints, i * kPoints)};
    append(*spool, {std::move(b)});
  }
  std::vector<QueueStats> stats;
  ok(spool->stats(&stats));
  assert_int_equal(stats.size(), 1);
  assert_int_equal(stats[0].points, kBatches * kPoints);
  assert_int_equal(stats[0].batches, kBatches);
  assert_int_equal(stats[0].oldest_created_ms, 1000);

  int64_t seen = 0;
  int64_t last_id = 0;
  int rounds = 0;
  for (;;) {
    auto got = fetch(*spool, "a", 12000, 4 * 1024 * 1024);
    if (got.empty()) break;
    ++rounds;
    int64_t points = 0;
    for (const auto& b : got) {
      assert_true(b.id > last_id);
      last_id = b.id;
      points += b.points;
    }
    assert_true(points <= 12000);
    assert_int_equal(got.size(), 2);
    seen += points;
    ok(spool->remove(ids_of(got)));
  }
  assert_int_equal(seen, kBatches * kPoints);
  assert_int_equal(rounds, kBatches / 2);
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() -
                                                                  start)
                .count();
  print_message("1M points appended and drained in %lld ms\n", static_cast<long long>(ms));
}

}  // namespace

int main() {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(append_then_fetch_in_order_within_limits),
      cmocka_unit_test(fetch_stops_at_a_precision_change),
      cmocka_unit_test(append_rejects_a_bad_precision_and_adds_nothing),
      cmocka_unit_test(remove_and_replace_body),
      cmocka_unit_test(dead_letter_moves_batches_out_of_the_queue),
      cmocka_unit_test(bytes_cap_drops_exactly_the_oldest),
      cmocka_unit_test(age_cap_drops_exactly_the_old),
      cmocka_unit_test(reopen_keeps_everything_and_never_reuses_ids),
      cmocka_unit_test(reclaim_space_shrinks_the_file_after_a_drain),
      cmocka_unit_test(million_points_drain_in_bounded_fetches),
  };
  return cmocka_run_group_tests(tests, nullptr, nullptr);
}
