// The spool's SQL, its statement cache and transaction helper.
#include <zlib.h>

#include <chrono>

#include "store/spool_internal.hpp"

namespace edgemon::store {
namespace {

// Columns that several statements select in the same order.
#define EDGEMON_BATCH_LIST_COLUMNS "id, output, created_ms, points, bytes, precision, attempts"
#define EDGEMON_DEAD_FILTER "(?1 = '' OR output = ?1)"

constexpr const char* kSql[] = {
    // kBegin, kCommit
    "BEGIN IMMEDIATE",
    "COMMIT",
    // kInsertBatch
    "INSERT INTO batches (output, created_ms, points, bytes, precision, attempts, crc, body) "
    "VALUES (?1, ?2, ?3, ?4, ?5, 0, ?6, ?7)",
    // kQueueHead: answered from the batches_queue index alone; bodies are
    // read one at a time by id (kBatchBody) and only while they fit.
    "SELECT id, points, bytes, precision, created_ms FROM batches WHERE output = ?1 AND id > ?2 "
    "ORDER BY id",
    // kBatchBody
    "SELECT attempts, crc, body FROM batches WHERE id = ?1",
    // kBumpAttempts
    "UPDATE batches SET attempts = attempts + 1 WHERE id = ?1",
    // kDeleteBatch
    "DELETE FROM batches WHERE id = ?1",
    // kReplaceBody
    "UPDATE batches SET body = ?2, bytes = ?3, points = ?4, crc = ?5 WHERE id = ?1",
    // kBatchToDead
    "INSERT INTO dead_letters "
    "(batch_id, output, created_ms, dead_ms, points, bytes, precision, status, error, body) "
    "SELECT id, output, created_ms, ?2, points, bytes, precision, ?3, ?4, body "
    "FROM batches WHERE id = ?1",
    // kUnreadableToDead: what the index still knows of a row whose body
    // cannot be read.
    "INSERT INTO dead_letters "
    "(batch_id, output, created_ms, dead_ms, points, bytes, precision, status, error, body) "
    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 0, ?8, '')",
    // kAgedBatches, kDeleteAged
    "SELECT id, points, bytes FROM batches WHERE output = ?1 AND created_ms < ?2",
    "DELETE FROM batches WHERE output = ?1 AND created_ms < ?2",
    // kQueueBytes, kQueueSizes, kDeleteThrough
    "SELECT coalesce(sum(bytes), 0) FROM batches WHERE output = ?1",
    "SELECT id, points, bytes FROM batches WHERE output = ?1 ORDER BY id",
    "DELETE FROM batches WHERE output = ?1 AND id <= ?2",
    // kStatsBatches, kStatsDead
    "SELECT output, count(*), sum(points), sum(bytes), min(created_ms) FROM batches "
    "GROUP BY output ORDER BY output",
    "SELECT output, count(*), sum(points) FROM dead_letters GROUP BY output ORDER BY output",
    // kFreelistCount, kPageCount
    "PRAGMA freelist_count",
    "PRAGMA page_count",
    // kListAll, kListOutput
    "SELECT " EDGEMON_BATCH_LIST_COLUMNS " FROM batches WHERE id > ?2 ORDER BY id LIMIT ?3",
    "SELECT " EDGEMON_BATCH_LIST_COLUMNS
    " FROM batches WHERE output = ?1 AND id > ?2 ORDER BY id LIMIT ?3",
    // kGet
    "SELECT " EDGEMON_BATCH_LIST_COLUMNS ", crc, body FROM batches WHERE id = ?1",
    // kPurgeTotals, kPurge
    "SELECT count(*), coalesce(sum(points), 0), coalesce(sum(bytes), 0) FROM batches "
    "WHERE (?1 = '' OR output = ?1) AND (?2 = 0 OR created_ms < ?2)",
    "DELETE FROM batches WHERE (?1 = '' OR output = ?1) AND (?2 = 0 OR created_ms < ?2)",
    // kDeadList
    "SELECT id, batch_id, output, created_ms, dead_ms, points, bytes, precision, status, error, "
    "CASE WHEN ?4 THEN body ELSE '' END FROM dead_letters "
    "WHERE " EDGEMON_DEAD_FILTER " AND id > ?2 ORDER BY id LIMIT ?3",
    // kDeadIds
    "SELECT id FROM dead_letters WHERE " EDGEMON_DEAD_FILTER " ORDER BY id",
    // kDeadGet
    "SELECT output, created_ms, points, precision, body FROM dead_letters "
    "WHERE id = ?2 AND " EDGEMON_DEAD_FILTER,
    // kDeadSize, kDeadDelete
    "SELECT points, bytes FROM dead_letters WHERE id = ?2 AND " EDGEMON_DEAD_FILTER,
    "DELETE FROM dead_letters WHERE id = ?1",
};
static_assert(sizeof kSql / sizeof kSql[0] == static_cast<size_t>(Sql::kCount));

#undef EDGEMON_BATCH_LIST_COLUMNS
#undef EDGEMON_DEAD_FILTER

}  // namespace

const char* sql_text(Sql which) {
  return kSql[static_cast<size_t>(which)];
}

std::string StatementCache::prepare_all(sqlite3* db) {
  for (size_t i = 0; i < cache.size(); ++i) {
    sqlite3_stmt* stmt = nullptr;
    // PERSISTENT: these live as long as the connection.
    int rc = sqlite3_prepare_v3(db, kSql[i], -1, SQLITE_PREPARE_PERSISTENT, &stmt, nullptr);
    if (rc != SQLITE_OK) {
      sqlite3_finalize(stmt);
      return sql_error(db, kSql[i]);
    }
    cache[i].reset(stmt);
  }
  return "";
}

std::string sql_error(sqlite3* db, std::string_view what) {
  std::string out(what);
  out += ": ";
  out += sqlite3_errmsg(db);
  return out;
}

Transaction::~Transaction() {
  // After some errors (SQLITE_FULL, SQLITE_IOERR...) SQLite has already
  // rolled back on its own; a second ROLLBACK would only report that.
  if (open_ && sqlite3_get_autocommit(db_) == 0) {
    sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
  }
}

std::string Transaction::begin() {
  std::string error = Query(statements_, Sql::kBegin).run(db_, "begin transaction");
  open_ = error.empty();
  return error;
}

std::string Transaction::commit() {
  std::string error = Query(statements_, Sql::kCommit).run(db_, "commit");
  if (error.empty()) open_ = false;
  return error;
}

uint32_t body_crc(std::string_view body) {
  // zlib's crc32 takes a uInt length: feed it in pieces that fit.
  uLong crc = crc32(0L, Z_NULL, 0);
  const auto* p = reinterpret_cast<const Bytef*>(body.data());
  size_t left = body.size();
  while (left > 0) {
    auto n = static_cast<uInt>(left > (1u << 30) ? (1u << 30) : left);
    crc = crc32(crc, p, n);
    p += n;
    left -= n;
  }
  return static_cast<uint32_t>(crc);
}

int64_t now_unix_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

}  // namespace edgemon::store
