// The daemon's side of the spool: append before the first send, fetch the
// head of a queue, remove after a 2xx, dead-letter, caps and space.
#include "store/spool.hpp"

#include <sys/stat.h>

#include <utility>

#include "store/spool_internal.hpp"

namespace edgemon::store {
namespace {

bool valid_precision(std::string_view p) {
  return p == "ns" || p == "us" || p == "ms" || p == "s";
}

// A queue entry as the index knows it, before its body is read.
struct Head {
  int64_t id = 0;
  int64_t points = 0;
  int64_t bytes = 0;
  std::string precision;
  int64_t created_ms = 0;
};

struct Unreadable {
  Head head;
  std::string error;
  bool sqlite_failed = false;  // else our checksum or length check failed
};

void count(Removed* r, int64_t points, int64_t bytes) {
  r->batches += 1;
  r->points += points;
  r->bytes += bytes;
}

bool is_corruption(int rc) {
  rc &= 0xff;
  return rc == SQLITE_CORRUPT || rc == SQLITE_NOTADB;
}

int64_t stat_size(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 ? static_cast<int64_t>(st.st_size) : 0;
}

}  // namespace

std::string Spool::append(std::span<const NewBatch> batches, std::vector<int64_t>* ids) {
  for (const NewBatch& b : batches) {
    if (!valid_precision(b.precision)) return "append: bad precision '" + b.precision + "'";
  }
  std::vector<int64_t> added;
  added.reserve(batches.size());
  Transaction tx(db_, *statements_);
  if (std::string e = tx.begin(); !e.empty()) return e;
  for (const NewBatch& b : batches) {
    Query q(*statements_, Sql::kInsertBatch);
    q.bind(1, b.output).bind(2, b.created_ms).bind(3, b.points);
    q.bind(4, static_cast<int64_t>(b.body.size())).bind(5, b.precision);
    q.bind(6, static_cast<int64_t>(body_crc(b.body))).bind(7, b.body);
    if (std::string e = q.run(db_, "append"); !e.empty()) return e;
    added.push_back(sqlite3_last_insert_rowid(db_));
  }
  if (std::string e = tx.commit(); !e.empty()) return e;
  if (ids != nullptr) *ids = std::move(added);
  return "";
}

// Reads the body of `head` into `out`; "" or why the row is unusable.
// *sqlite_failed: SQLite itself could not read the row (not our checksum).
static std::string read_body(sqlite3* db, StatementCache& statements, const Head& head, Batch* out,
                             bool* sqlite_failed) {
  Query q(statements, Sql::kBatchBody);
  q.bind(1, head.id);
  int rc = q.step();
  *sqlite_failed = rc != SQLITE_ROW;
  if (rc == SQLITE_DONE) return "corrupt: row in the index but not in the table";
  if (rc != SQLITE_ROW) return "corrupt: " + sql_error(db, "read body");
  std::string_view body = q.text(2);
  if (static_cast<int64_t>(body.size()) != head.bytes) return "corrupt: body length differs";
  if (body_crc(body) != static_cast<uint32_t>(q.int64(1))) return "corrupt: checksum mismatch";
  out->id = head.id;
  out->created_ms = head.created_ms;
  out->points = head.points;
  out->bytes = head.bytes;
  out->precision = head.precision;
  out->attempts = q.int64(0) + 1;
  out->body.assign(body);
  return "";
}

// Walks the head of the queue from the index, reading bodies one at a time
// and stopping as soon as the next batch would not fit.
static std::string read_head(sqlite3* db, StatementCache& statements, std::string_view output,
                             int64_t after_id, int64_t max_points, int64_t max_bytes,
                             const std::set<int64_t>& skip, std::vector<Batch>* out,
                             std::vector<Unreadable>* bad) {
  Query q(statements, Sql::kQueueHead);
  q.bind(1, output).bind(2, after_id);
  int64_t points = 0;
  int64_t bytes = 0;
  int rc;
  while ((rc = q.step()) == SQLITE_ROW) {
    Head h{q.int64(0), q.int64(1), q.int64(2), std::string(q.text(3)), q.int64(4)};
    if (skip.count(h.id) != 0) continue;
    if (!out->empty()) {
      // One request carries one precision: a change ends the batch set.
      if (h.precision != out->front().precision) break;
      if (max_points > 0 && points + h.points > max_points) break;
      if (max_bytes > 0 && bytes + h.bytes > max_bytes) break;
    }
    Batch b;
    bool sqlite_failed = false;
    if (std::string why = read_body(db, statements, h, &b, &sqlite_failed); !why.empty()) {
      bad->push_back({std::move(h), std::move(why), sqlite_failed});
      continue;
    }
    b.output.assign(output);
    points += b.points;
    bytes += b.bytes;
    out->push_back(std::move(b));
  }
  if (rc != SQLITE_ROW && rc != SQLITE_DONE) return sql_error(db, "read queue");
  return "";
}

// A row whose body fails its checksum: moved whole to dead_letters
// (status 0), body included, for the operator to look at.
static std::string bury_mismatch(sqlite3* db, StatementCache& statements, const Unreadable& u) {
  {
    Query q(statements, Sql::kBatchToDead);
    q.bind(1, u.head.id).bind(2, now_unix_ms()).bind(3, int64_t{0}).bind(4, u.error);
    if (std::string e = q.run(db, "dead-letter corrupt row"); !e.empty()) return e;
  }
  Query del(statements, Sql::kDeleteBatch);
  del.bind(1, u.head.id);
  return del.run(db, "delete corrupt row");
}

static std::string keep_what_the_index_knew(sqlite3* db, StatementCache& statements,
                                            std::string_view output, const Unreadable& u) {
  Query q(statements, Sql::kUnreadableToDead);
  q.bind(1, u.head.id).bind(2, output).bind(3, u.head.created_ms).bind(4, now_unix_ms());
  q.bind(5, u.head.points).bind(6, u.head.bytes).bind(7, u.head.precision).bind(8, u.error);
  return q.run(db, "dead-letter unreadable row");
}

// A row SQLite cannot read: its dead letter keeps what the index knew, with
// an empty body. Deleting it may fail too (a damaged overflow chain); then
// *stuck is set and the row stays, skipped, until the next open moves the
// damaged file aside.
static std::string bury_unreadable(sqlite3* db, StatementCache& statements, std::string_view output,
                                   const Unreadable& u, bool* stuck) {
  {
    Transaction tx(db, statements);
    if (std::string e = tx.begin(); !e.empty()) return e;
    if (std::string e = keep_what_the_index_knew(db, statements, output, u); !e.empty()) return e;
    Query del(statements, Sql::kDeleteBatch);
    del.bind(1, u.head.id);
    int rc = del.step();
    if (rc == SQLITE_DONE && sqlite3_changes(db) == 1) return tx.commit();
    if (rc != SQLITE_DONE && !is_corruption(rc)) return sql_error(db, "delete unreadable row");
  }
  *stuck = true;
  Transaction tx(db, statements);
  if (std::string e = tx.begin(); !e.empty()) return e;
  if (std::string e = keep_what_the_index_knew(db, statements, output, u); !e.empty()) return e;
  return tx.commit();
}

std::string Spool::fetch(std::string_view output, int64_t max_points, int64_t max_bytes,
                         std::vector<Batch>* out, Removed* corrupt, int64_t after_id) {
  out->clear();
  Removed local;
  if (corrupt == nullptr) corrupt = &local;
  *corrupt = Removed{};
  std::vector<Unreadable> bad;
  // Read before the write transaction: once a read inside a write
  // transaction meets a damaged page, SQLite fails the rest of it too.
  std::string error =
      read_head(db_, *statements_, output, after_id, max_points, max_bytes, unreadable_, out, &bad);
  if (error.empty()) {
    Transaction tx(db_, *statements_);
    error = tx.begin();
    for (size_t i = 0; error.empty() && i < out->size(); ++i) {
      Query q(*statements_, Sql::kBumpAttempts);
      q.bind(1, (*out)[i].id);
      error = q.run(db_, "count attempt");
    }
    for (size_t i = 0; error.empty() && i < bad.size(); ++i) {
      if (!bad[i].sqlite_failed) error = bury_mismatch(db_, *statements_, bad[i]);
    }
    if (error.empty()) error = tx.commit();
  }
  for (size_t i = 0; error.empty() && i < bad.size(); ++i) {
    bool stuck = false;
    if (bad[i].sqlite_failed) error = bury_unreadable(db_, *statements_, output, bad[i], &stuck);
    if (stuck) unreadable_.insert(bad[i].head.id);
  }
  if (!error.empty()) {
    out->clear();
    return error;
  }
  for (const Unreadable& u : bad)
    count(corrupt, u.head.points, u.head.bytes);
  return "";
}

std::string Spool::remove(std::span<const int64_t> ids) {
  Transaction tx(db_, *statements_);
  if (std::string e = tx.begin(); !e.empty()) return e;
  for (int64_t id : ids) {
    // An id already gone (dropped by a cap while in flight) is not an error.
    Query q(*statements_, Sql::kDeleteBatch);
    q.bind(1, id);
    if (std::string e = q.run(db_, "remove"); !e.empty()) return e;
  }
  return tx.commit();
}

std::string Spool::replace_body(int64_t id, std::string_view body, int64_t points) {
  Transaction tx(db_, *statements_);
  if (std::string e = tx.begin(); !e.empty()) return e;
  Query q(*statements_, Sql::kReplaceBody);
  q.bind(1, id).bind(2, body).bind(3, static_cast<int64_t>(body.size())).bind(4, points);
  q.bind(5, static_cast<int64_t>(body_crc(body)));
  if (std::string e = q.run(db_, "replace body"); !e.empty()) return e;
  // No row: a cap dropped the batch while its first part was on the wire,
  // which the output accounts for; nothing is left to keep.
  return tx.commit();
}

std::string Spool::dead_letter(std::span<const int64_t> ids, int status, std::string_view error) {
  Transaction tx(db_, *statements_);
  if (std::string e = tx.begin(); !e.empty()) return e;
  int64_t now = now_unix_ms();
  for (int64_t id : ids) {
    {
      Query q(*statements_, Sql::kBatchToDead);
      q.bind(1, id).bind(2, now).bind(3, int64_t{status}).bind(4, error);
      if (std::string e = q.run(db_, "dead-letter"); !e.empty()) return e;
    }
    Query del(*statements_, Sql::kDeleteBatch);
    del.bind(1, id);
    if (std::string e = del.run(db_, "dead-letter"); !e.empty()) return e;
  }
  return tx.commit();
}

static void add_removed(Removed* into, Removed&& dropped) {
  into->batches += dropped.batches;
  into->points += dropped.points;
  into->bytes += dropped.bytes;
  for (auto& id : dropped.ids)
    into->ids.push_back(id);
}

// Drops the oldest batches until the queue's bytes fit; counts come from the
// same walk over the index that picks the last id to drop.
static std::string drop_over_bytes(sqlite3* db, StatementCache& statements, std::string_view output,
                                   int64_t max_bytes, Removed* removed) {
  int64_t total = 0;
  {
    Query q(statements, Sql::kQueueBytes);
    q.bind(1, output);
    if (q.step() != SQLITE_ROW) return sql_error(db, "queue bytes");
    total = q.int64(0);
  }
  if (total <= max_bytes) return "";
  Removed dropped;
  int64_t last_id = 0;
  {
    Query q(statements, Sql::kQueueSizes);
    q.bind(1, output);
    while (total - dropped.bytes > max_bytes) {
      if (q.step() != SQLITE_ROW) return sql_error(db, "walk queue for max_bytes");
      last_id = q.int64(0);
      count(&dropped, q.int64(1), q.int64(2));
      dropped.ids.emplace_back(last_id, q.int64(1));
    }
  }
  Query del(statements, Sql::kDeleteThrough);
  del.bind(1, output).bind(2, last_id);
  if (std::string e = del.run(db, "drop over max_bytes"); !e.empty()) return e;
  if (sqlite3_changes(db) != dropped.batches) return "drop over max_bytes: count changed";
  add_removed(removed, std::move(dropped));
  return "";
}

static std::string drop_too_old(sqlite3* db, StatementCache& statements, std::string_view output,
                                int64_t cutoff_ms, Removed* removed) {
  Removed dropped;
  {
    Query q(statements, Sql::kAgedBatches);
    q.bind(1, output).bind(2, cutoff_ms);
    int rc;
    while ((rc = q.step()) == SQLITE_ROW) {
      count(&dropped, q.int64(1), q.int64(2));
      dropped.ids.emplace_back(q.int64(0), q.int64(1));
    }
    if (rc != SQLITE_DONE) return sql_error(db, "aged batches");
  }
  if (dropped.batches == 0) return "";
  Query del(statements, Sql::kDeleteAged);
  del.bind(1, output).bind(2, cutoff_ms);
  if (std::string e = del.run(db, "drop over max_age"); !e.empty()) return e;
  if (sqlite3_changes(db) != dropped.batches) return "drop over max_age: count changed";
  add_removed(removed, std::move(dropped));
  return "";
}

std::string Spool::enforce_caps(std::string_view output, int64_t max_bytes, int64_t max_age_ms,
                                int64_t now_ms, Removed* removed) {
  Removed local;
  if (removed == nullptr) removed = &local;
  *removed = Removed{};
  if (max_bytes <= 0 && max_age_ms <= 0) return "";
  Transaction tx(db_, *statements_);
  if (std::string e = tx.begin(); !e.empty()) return e;
  std::string error;
  if (max_age_ms > 0) error = drop_too_old(db_, *statements_, output, now_ms - max_age_ms, removed);
  if (error.empty() && max_bytes > 0) {
    error = drop_over_bytes(db_, *statements_, output, max_bytes, removed);
  }
  if (error.empty()) error = tx.commit();
  if (!error.empty()) *removed = Removed{};
  return error;
}

std::string Spool::stats(std::vector<QueueStats>* out) {
  out->clear();
  int rc;
  {
    Query q(*statements_, Sql::kStatsBatches);
    while ((rc = q.step()) == SQLITE_ROW) {
      QueueStats s;
      s.output.assign(q.text(0));
      s.batches = q.int64(1);
      s.points = q.int64(2);
      s.bytes = q.int64(3);
      s.oldest_created_ms = q.int64(4);
      out->push_back(std::move(s));
    }
    if (rc != SQLITE_DONE) return sql_error(db_, "stats");
  }
  // Both lists are sorted by output: merge the dead letters in.
  Query q(*statements_, Sql::kStatsDead);
  size_t i = 0;
  while ((rc = q.step()) == SQLITE_ROW) {
    std::string_view name = q.text(0);
    while (i < out->size() && (*out)[i].output < name)
      ++i;
    if (i == out->size() || (*out)[i].output != name) {
      QueueStats s;
      s.output.assign(name);
      out->insert(out->begin() + static_cast<std::ptrdiff_t>(i), std::move(s));
    }
    (*out)[i].dead_letters = q.int64(1);
    (*out)[i].dead_points = q.int64(2);
  }
  if (rc != SQLITE_DONE) return sql_error(db_, "stats");
  return "";
}

std::string Spool::reclaim_space() {
  // Worth a vacuum step once 1 MiB (at 4 KiB pages) or a tenth of the file is
  // free; each step moves at most kStepPages so one call stays short.
  constexpr int64_t kEnoughPages = 256;
  constexpr int kStepPages = 2048;
  int64_t free_pages = 0;
  int64_t pages = 0;
  {
    Query q(*statements_, Sql::kFreelistCount);
    if (q.step() != SQLITE_ROW) return sql_error(db_, "freelist_count");
    free_pages = q.int64(0);
  }
  {
    Query q(*statements_, Sql::kPageCount);
    if (q.step() != SQLITE_ROW) return sql_error(db_, "page_count");
    pages = q.int64(0);
  }
  if (free_pages == 0 || (free_pages < kEnoughPages && free_pages * 10 < pages)) return "";
  std::string sql = "PRAGMA incremental_vacuum(" + std::to_string(kStepPages) + ")";
  char* message = nullptr;
  int rc = sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &message);
  std::string error;
  if (rc != SQLITE_OK) error = "incremental_vacuum: " + std::string(message ? message : "");
  sqlite3_free(message);
  if (!error.empty()) return error;
  // The file only shrinks when the WAL is checkpointed into it. PASSIVE never
  // waits for readers (an operator's sqlite3 session); the next call retries.
  rc = sqlite3_wal_checkpoint_v2(db_, nullptr, SQLITE_CHECKPOINT_PASSIVE, nullptr, nullptr);
  if (rc != SQLITE_OK && rc != SQLITE_BUSY) return sql_error(db_, "wal_checkpoint");
  return "";
}

int64_t Spool::file_bytes() const {
  return stat_size(path_) + stat_size(path_ + "-wal");
}

}  // namespace edgemon::store
