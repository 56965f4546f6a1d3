#pragma once
// Private to src/store/spool*.cpp: the SQL the spool runs, its prepared
// statement cache, and small RAII helpers over the sqlite3 C API.
#include <sqlite3.h>

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "store/spool.hpp"

namespace edgemon::store {

inline constexpr int kSchemaVersion = 1;

// Every statement the spool runs more than once. Kept together so that a
// schema change is reviewed against all of them at once.
enum class Sql {
  kBegin,
  kCommit,
  kInsertBatch,
  kQueueHead,
  kBatchBody,
  kBumpAttempts,
  kDeleteBatch,
  kReplaceBody,
  kBatchToDead,
  kUnreadableToDead,
  kAgedBatches,
  kDeleteAged,
  kQueueBytes,
  kQueueSizes,
  kDeleteThrough,
  kStatsBatches,
  kStatsDead,
  kFreelistCount,
  kPageCount,
  kListAll,
  kListOutput,
  kGet,
  kPurgeTotals,
  kPurge,
  kDeadList,
  kDeadIds,
  kDeadGet,
  kDeadSize,
  kDeadDelete,
  kCount,
};

const char* sql_text(Sql which);

struct StatementDeleter {
  void operator()(sqlite3_stmt* s) const { sqlite3_finalize(s); }
};
using StatementPtr = std::unique_ptr<sqlite3_stmt, StatementDeleter>;

// Statements are prepared once at open and finalized with the Spool, so the
// steady state (one append and one fetch per flush) parses no SQL.
struct StatementCache {
  std::array<StatementPtr, static_cast<size_t>(Sql::kCount)> cache;
  // Prepares every statement: a schema that lost a column is found at open,
  // not on the first fetch hours later.
  std::string prepare_all(sqlite3* db);
  sqlite3_stmt* get(Sql which) { return cache[static_cast<size_t>(which)].get(); }
};

struct Spool::Statements : StatementCache {};

std::string sql_error(sqlite3* db, std::string_view what);

// One use of a cached statement: binds, steps, and resets it on scope exit
// so that it holds no read lock and no bound buffer past its use.
class Query {
 public:
  Query(StatementCache& statements, Sql which) : stmt_(statements.get(which)) {}
  ~Query() {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
  }
  Query(const Query&) = delete;
  Query& operator=(const Query&) = delete;

  Query& bind(int index, int64_t value) {
    sqlite3_bind_int64(stmt_, index, value);
    return *this;
  }
  // The text must outlive the Query: bodies are not copied.
  Query& bind(int index, std::string_view text) {
    // A null pointer would bind SQL NULL, and NULL = '' is not true.
    const char* data = text.data() == nullptr ? "" : text.data();
    sqlite3_bind_text64(stmt_, index, data, text.size(), SQLITE_STATIC, SQLITE_UTF8);
    return *this;
  }
  // SQLITE_ROW, SQLITE_DONE or an error code.
  int step() { return sqlite3_step(stmt_); }
  // Runs a statement that returns no rows; "" or the error.
  [[nodiscard]] std::string run(sqlite3* db, std::string_view what) {
    int rc = step();
    return rc == SQLITE_DONE || rc == SQLITE_ROW ? "" : sql_error(db, what);
  }

  int64_t int64(int column) const { return sqlite3_column_int64(stmt_, column); }
  std::string_view text(int column) const {
    const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(stmt_, column));
    int n = sqlite3_column_bytes(stmt_, column);
    return p == nullptr ? std::string_view() : std::string_view(p, static_cast<size_t>(n));
  }

 private:
  sqlite3_stmt* stmt_;
};

// BEGIN IMMEDIATE takes the write lock up front, so a transaction never
// fails half-way for want of it; anything not committed is rolled back.
class Transaction {
 public:
  Transaction(sqlite3* db, StatementCache& statements) : db_(db), statements_(statements) {}
  ~Transaction();
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;

  std::string begin();
  std::string commit();

 private:
  sqlite3* db_;
  StatementCache& statements_;
  bool open_ = false;
};

uint32_t body_crc(std::string_view body);
int64_t now_unix_ms();

}  // namespace edgemon::store
