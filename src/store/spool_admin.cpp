// The operator's side of the spool (`edgemon spool ...`): listing, showing,
// purging, and dead letters. None of it runs on the daemon's hot path.
#include <vector>

#include "store/spool.hpp"
#include "store/spool_internal.hpp"

namespace edgemon::store {
namespace {

// SQLite reads a negative LIMIT as "no limit".
int64_t sql_limit(int64_t limit) {
  return limit > 0 ? limit : -1;
}

void add(Removed* r, int64_t batches, int64_t points, int64_t bytes) {
  r->batches += batches;
  r->points += points;
  r->bytes += bytes;
}

void read_list_row(const Query& q, Batch* b) {
  b->id = q.int64(0);
  b->output.assign(q.text(1));
  b->created_ms = q.int64(2);
  b->points = q.int64(3);
  b->bytes = q.int64(4);
  b->precision.assign(q.text(5));
  b->attempts = q.int64(6);
}

// The ids of the dead letters a retry or purge applies to: `ids` as given
// (still filtered by output), or every one of `output`.
std::string select_dead(sqlite3* db, StatementCache& statements, std::string_view output,
                        std::span<const int64_t> ids, std::vector<int64_t>* out) {
  if (!ids.empty()) {
    out->assign(ids.begin(), ids.end());
    return "";
  }
  Query q(statements, Sql::kDeadIds);
  q.bind(1, output);
  int rc;
  while ((rc = q.step()) == SQLITE_ROW)
    out->push_back(q.int64(0));
  return rc == SQLITE_DONE ? "" : sql_error(db, "dead letters");
}

// Requeues one dead letter at the end of its output's queue with a fresh
// checksum; an id that is not a dead letter (of `output`) is left uncounted.
std::string requeue(sqlite3* db, StatementCache& statements, std::string_view output, int64_t id,
                    Removed* moved) {
  Query get(statements, Sql::kDeadGet);
  get.bind(1, output).bind(2, id);
  int rc = get.step();
  if (rc == SQLITE_DONE) return "";
  if (rc != SQLITE_ROW) return sql_error(db, "read dead letter");
  std::string_view body = get.text(4);
  Query put(statements, Sql::kInsertBatch);
  put.bind(1, get.text(0)).bind(2, get.int64(1)).bind(3, get.int64(2));
  put.bind(4, static_cast<int64_t>(body.size())).bind(5, get.text(3));
  put.bind(6, static_cast<int64_t>(body_crc(body))).bind(7, body);
  if (std::string e = put.run(db, "requeue dead letter"); !e.empty()) return e;
  add(moved, 1, get.int64(2), static_cast<int64_t>(body.size()));
  Query del(statements, Sql::kDeadDelete);
  del.bind(1, id);
  return del.run(db, "requeue dead letter");
}

std::string delete_dead(sqlite3* db, StatementCache& statements, std::string_view output,
                        int64_t id, Removed* removed) {
  {
    Query size(statements, Sql::kDeadSize);
    size.bind(1, output).bind(2, id);
    int rc = size.step();
    if (rc == SQLITE_DONE) return "";
    if (rc != SQLITE_ROW) return sql_error(db, "read dead letter");
    add(removed, 1, size.int64(0), size.int64(1));
  }
  Query del(statements, Sql::kDeadDelete);
  del.bind(1, id);
  return del.run(db, "purge dead letter");
}

}  // namespace

std::string Spool::list(std::string_view output, int64_t after_id, int64_t limit,
                        std::vector<Batch>* out) {
  out->clear();
  Query q(*statements_, output.empty() ? Sql::kListAll : Sql::kListOutput);
  q.bind(1, output).bind(2, after_id).bind(3, sql_limit(limit));
  int rc;
  while ((rc = q.step()) == SQLITE_ROW) {
    Batch b;
    read_list_row(q, &b);
    out->push_back(std::move(b));
  }
  return rc == SQLITE_DONE ? "" : sql_error(db_, "list");
}

std::string Spool::get(int64_t id, Batch* out, bool* found) {
  *found = false;
  Query q(*statements_, Sql::kGet);
  q.bind(1, id);
  int rc = q.step();
  if (rc == SQLITE_DONE) return "";
  if (rc != SQLITE_ROW) return sql_error(db_, "batch " + std::to_string(id));
  std::string_view body = q.text(8);
  if (body_crc(body) != static_cast<uint32_t>(q.int64(7))) {
    return "batch " + std::to_string(id) + " is corrupt: checksum mismatch";
  }
  read_list_row(q, out);
  out->body.assign(body);
  *found = true;
  return "";
}

std::string Spool::purge(std::string_view output, int64_t before_ms, Removed* removed) {
  *removed = Removed{};
  Transaction tx(db_, *statements_);
  if (std::string e = tx.begin(); !e.empty()) return e;
  Removed counted;
  {
    Query q(*statements_, Sql::kPurgeTotals);
    q.bind(1, output).bind(2, before_ms);
    if (q.step() != SQLITE_ROW) return sql_error(db_, "purge");
    counted = {q.int64(0), q.int64(1), q.int64(2), {}};
  }
  Query q(*statements_, Sql::kPurge);
  q.bind(1, output).bind(2, before_ms);
  if (std::string e = q.run(db_, "purge"); !e.empty()) return e;
  if (std::string e = tx.commit(); !e.empty()) return e;
  *removed = counted;
  return "";
}

std::string Spool::list_dead_letters(std::string_view output, int64_t after_id, int64_t limit,
                                     bool with_bodies, std::vector<DeadLetter>* out) {
  out->clear();
  Query q(*statements_, Sql::kDeadList);
  q.bind(1, output).bind(2, after_id).bind(3, sql_limit(limit));
  q.bind(4, int64_t{with_bodies ? 1 : 0});
  int rc;
  while ((rc = q.step()) == SQLITE_ROW) {
    DeadLetter d;
    d.id = q.int64(0);
    d.batch_id = q.int64(1);
    d.output.assign(q.text(2));
    d.created_ms = q.int64(3);
    d.dead_ms = q.int64(4);
    d.points = q.int64(5);
    d.bytes = q.int64(6);
    d.precision.assign(q.text(7));
    d.status = static_cast<int>(q.int64(8));
    d.error.assign(q.text(9));
    d.body.assign(q.text(10));
    out->push_back(std::move(d));
  }
  return rc == SQLITE_DONE ? "" : sql_error(db_, "dead letters");
}

// Applies `step` to the chosen dead letters (ids, or all of `output`) in one
// transaction; *done gets their totals only if it committed.
static std::string each_dead_letter(sqlite3* db, StatementCache& statements,
                                    std::string_view output, std::span<const int64_t> ids,
                                    Removed* done,
                                    std::string (*step)(sqlite3*, StatementCache&, std::string_view,
                                                        int64_t, Removed*)) {
  *done = Removed{};
  Transaction tx(db, statements);
  if (std::string e = tx.begin(); !e.empty()) return e;
  std::vector<int64_t> chosen;
  if (std::string e = select_dead(db, statements, output, ids, &chosen); !e.empty()) return e;
  Removed counted;
  for (int64_t id : chosen) {
    if (std::string e = step(db, statements, output, id, &counted); !e.empty()) return e;
  }
  if (std::string e = tx.commit(); !e.empty()) return e;
  *done = std::move(counted);
  return "";
}

std::string Spool::retry_dead_letters(std::string_view output, std::span<const int64_t> ids,
                                      Removed* moved) {
  return each_dead_letter(db_, *statements_, output, ids, moved, requeue);
}

std::string Spool::purge_dead_letters(std::string_view output, std::span<const int64_t> ids,
                                      Removed* removed) {
  return each_dead_letter(db_, *statements_, output, ids, removed, delete_dead);
}

}  // namespace edgemon::store
