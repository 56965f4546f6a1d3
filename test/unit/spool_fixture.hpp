#pragma once
// Shared by the spool unit tests: a temporary directory, batches with
// recognisable bodies, and a raw sqlite3 handle playing the operator.
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "cmocka_all.hpp"
#include "store/spool.hpp"

namespace spool_test {

using namespace edgemon::store;

// A fresh directory per test, removed with everything in it.
struct TempDir {
  std::string path;
  TempDir() {
    char tmpl[] = "/tmp/edgemon-spool-test-XXXXXX";
    assert_non_null(mkdtemp(tmpl));
    path = tmpl;
  }
  ~TempDir() { std::filesystem::remove_all(path); }
  std::string file(const std::string& name) const { return path + "/" + name; }
};

inline std::unique_ptr<Spool> open_spool(const std::string& path, OpenReport* report = nullptr,
                                         bool read_only = false) {
  SpoolOptions options;
  options.path = path;
  options.read_only = read_only;
  std::string error;
  auto spool = Spool::open(options, report, &error);
  if (!spool) fail_msg("open %s: %s", path.c_str(), error.c_str());
  return spool;
}

// `points` lines of about 30 bytes each, numbered from `first`, so a body
// shows which batch and which points it holds.
inline std::string body_of(const std::string& tag, int64_t points, int64_t first = 0) {
  std::string body;
  for (int64_t i = 0; i < points; ++i) {
    body += "m,b=" + tag + " v=" + std::to_string(first + i) + "i " +
            std::to_string(1700000000000 + first + i) + "\n";
  }
  return body;
}

inline NewBatch batch(const std::string& output, const std::string& tag, int64_t points,
                      int64_t created_ms = 1000, const std::string& precision = "ms") {
  return NewBatch{output, created_ms, points, precision, body_of(tag, points)};
}

inline std::vector<int64_t> append(Spool& spool, std::vector<NewBatch> batches) {
  std::vector<int64_t> ids;
  std::string e = spool.append(batches, &ids);
  if (!e.empty()) fail_msg("append: %s", e.c_str());
  assert_int_equal(ids.size(), batches.size());
  return ids;
}

inline std::vector<Batch> fetch(Spool& spool, const std::string& output, int64_t max_points,
                                int64_t max_bytes, Removed* corrupt = nullptr) {
  std::vector<Batch> out;
  std::string e = spool.fetch(output, max_points, max_bytes, &out, corrupt);
  if (!e.empty()) fail_msg("fetch: %s", e.c_str());
  return out;
}

inline void ok(const std::string& error) {
  if (!error.empty()) fail_msg("unexpected error: %s", error.c_str());
}

// A second connection, as an operator's sqlite3 session would be.
struct RawDb {
  sqlite3* db = nullptr;
  explicit RawDb(const std::string& path) {
    assert_int_equal(sqlite3_open(path.c_str(), &db), SQLITE_OK);
    sqlite3_busy_timeout(db, 5000);
  }
  ~RawDb() { sqlite3_close(db); }
  void exec(const std::string& sql) {
    char* message = nullptr;
    if (sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &message) != SQLITE_OK) {
      std::string m = message ? message : "?";
      sqlite3_free(message);
      fail_msg("%s: %s", sql.c_str(), m.c_str());
    }
  }
  int64_t scalar(const std::string& sql) {
    sqlite3_stmt* stmt = nullptr;
    assert_int_equal(sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt, nullptr), SQLITE_OK);
    assert_int_equal(sqlite3_step(stmt), SQLITE_ROW);
    int64_t v = sqlite3_column_int64(stmt, 0);
    sqlite3_finalize(stmt);
    return v;
  }
};

inline bool exists(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0;
}

inline int64_t file_size(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 ? static_cast<int64_t>(st.st_size) : -1;
}

}  // namespace spool_test
