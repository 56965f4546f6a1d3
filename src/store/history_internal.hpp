#pragma once
// Private to src/store/history*.cpp: RAII over the sqlite3 C API and the
// statement cache the history's connections keep.
#include <sqlite3.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>

#include "store/sqlite_file.hpp"

namespace edgemon::store::history_sql {

inline constexpr int kSchemaVersion = 2;
inline constexpr int64_t kMinuteMs = 60000;
inline constexpr int64_t kFiveMinutesMs = 300000;
inline constexpr int64_t kHourMs = 3600000;

struct StatementDeleter {
  void operator()(sqlite3_stmt* s) const { sqlite3_finalize(s); }
};
using StatementPtr = std::unique_ptr<sqlite3_stmt, StatementDeleter>;

std::string sql_error(sqlite3* db, std::string_view what);

// Statements prepared on first use and kept for the connection's life, keyed
// by the address of their (static) text: the steady state parses no SQL.
class StatementCache {
 public:
  explicit StatementCache(sqlite3* db) : db_(db) {}
  // Null (and *error set) when the SQL does not prepare.
  sqlite3_stmt* get(const char* sql, std::string* error);
  void clear() { cache_.clear(); }

 private:
  sqlite3* db_;
  std::unordered_map<const char*, StatementPtr> cache_;
};

// One use of a cached statement; resets it on scope exit so it holds no
// read snapshot past its use.
class Stmt {
 public:
  Stmt(StatementCache& cache, const char* sql) : stmt_(cache.get(sql, &error_)) {}
  ~Stmt() {
    if (stmt_ != nullptr) {
      sqlite3_reset(stmt_);
      sqlite3_clear_bindings(stmt_);
    }
  }
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;

  bool ok() const { return stmt_ != nullptr; }
  const std::string& prepare_error() const { return error_; }
  Stmt& bind(int index, int64_t value) {
    sqlite3_bind_int64(stmt_, index, value);
    return *this;
  }
  Stmt& bind(int index, double value) {
    sqlite3_bind_double(stmt_, index, value);
    return *this;
  }
  // The text must outlive the statement's use.
  Stmt& bind(int index, std::string_view text) {
    const char* data = text.data() == nullptr ? "" : text.data();
    sqlite3_bind_text64(stmt_, index, data, text.size(), SQLITE_STATIC, SQLITE_UTF8);
    return *this;
  }
  int step() { return stmt_ == nullptr ? SQLITE_MISUSE : sqlite3_step(stmt_); }
  // Runs a statement that returns no rows; "" or the error.
  [[nodiscard]] std::string run(sqlite3* db, std::string_view what) {
    if (stmt_ == nullptr) return error_;
    int rc = step();
    return rc == SQLITE_DONE || rc == SQLITE_ROW ? "" : sql_error(db, what);
  }
  int64_t int64(int column) const { return sqlite3_column_int64(stmt_, column); }
  double real(int column) const { return sqlite3_column_double(stmt_, column); }
  bool is_null(int column) const { return sqlite3_column_type(stmt_, column) == SQLITE_NULL; }
  std::string_view text(int column) const {
    const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(stmt_, column));
    int n = sqlite3_column_bytes(stmt_, column);
    return p == nullptr ? std::string_view() : std::string_view(p, static_cast<size_t>(n));
  }

 private:
  std::string error_;
  sqlite3_stmt* stmt_;
};

// BEGIN IMMEDIATE takes the write lock up front; anything not committed is
// rolled back when the object goes.
class Transaction {
 public:
  explicit Transaction(sqlite3* db) : db_(db) {}
  ~Transaction();
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;
  std::string begin();
  std::string commit();

 private:
  sqlite3* db_;
  bool open_ = false;
};

// Shared with the other stores; named here so history_sql:: callers keep it.
using store::exec;

}  // namespace edgemon::store::history_sql
