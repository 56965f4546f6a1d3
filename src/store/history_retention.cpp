// Retention: what is older than the configured windows goes, then, while the
// file is above its size cap, the oldest raw rows, then the oldest minutes,
// then the oldest 5-minute buckets, then the oldest hours. Deletes walk the (series, t_ms) keys one
// series at a time, so each is a range of one B-tree, never a scan of the table, and run in short
// transactions so queries and writes are not held up for long.
#include <algorithm>
#include <limits>

#include "store/history_db.hpp"
#include "store/history_internal.hpp"

namespace edgemon::store {

using namespace history_sql;

namespace {

constexpr size_t kSeriesPerTransaction = 256;

struct Table {
  const char* delete_before;
  const char* oldest;
  const char* newest;
  int64_t width_ms;  // of a bucket; 0 for raw rows
};

#define EDGEMON_TABLE(name, width)                                                      \
  Table {                                                                               \
    "DELETE FROM " name " WHERE series = ?1 AND t_ms < ?2",                             \
        "SELECT t_ms FROM " name " WHERE series = ?1 ORDER BY t_ms LIMIT 1",            \
        "SELECT t_ms FROM " name " WHERE series = ?1 ORDER BY t_ms DESC LIMIT 1", width \
  }
constexpr Table kRaw = EDGEMON_TABLE("raw", 0);
constexpr Table kMinute = EDGEMON_TABLE("minute", kMinuteMs);
constexpr Table kFiveMinutes = EDGEMON_TABLE("five_minute", kFiveMinutesMs);
constexpr Table kHour = EDGEMON_TABLE("hour", kHourMs);

constexpr const char* kHasRows =
    "SELECT EXISTS (SELECT 1 FROM raw WHERE series = ?1) OR "
    "EXISTS (SELECT 1 FROM minute WHERE series = ?1) OR "
    "EXISTS (SELECT 1 FROM five_minute WHERE series = ?1) OR "
    "EXISTS (SELECT 1 FROM hour WHERE series = ?1)";
constexpr const char* kDeleteSeries = "DELETE FROM series WHERE id = ?1";
constexpr const char* kDeleteDevices = "DELETE FROM devices WHERE last_seen_ms < ?1";

}  // namespace

namespace {

std::vector<int64_t> ids_of(const auto& series) {
  std::vector<int64_t> ids;
  ids.reserve(series.size());
  for (const auto& [key, id] : series)
    ids.push_back(id);
  std::sort(ids.begin(), ids.end());
  return ids;
}

// Runs `each(id)` over every series in transactions of a bounded size.
template <typename Each>
std::string in_chunks(sqlite3* db, const std::vector<int64_t>& ids, Each each) {
  for (size_t start = 0; start < ids.size(); start += kSeriesPerTransaction) {
    Transaction tx(db);
    if (std::string e = tx.begin(); !e.empty()) return e;
    size_t end = std::min(ids.size(), start + kSeriesPerTransaction);
    for (size_t i = start; i < end; ++i) {
      if (std::string e = each(ids[i]); !e.empty()) return e;
    }
    if (std::string e = tx.commit(); !e.empty()) return e;
  }
  return "";
}

std::string delete_older(sqlite3* db, StatementCache& statements, const std::vector<int64_t>& ids,
                         const Table& table, int64_t before_ms, int64_t* deleted) {
  return in_chunks(db, ids, [&](int64_t id) {
    Stmt q(statements, table.delete_before);
    q.bind(1, id).bind(2, before_ms);
    std::string e = q.run(db, "retention");
    if (e.empty()) *deleted += sqlite3_changes(db);
    return e;
  });
}

// Oldest and newest time of `table` over every series; false when empty.
bool time_span(StatementCache& statements, const std::vector<int64_t>& ids, const Table& table,
               int64_t* oldest, int64_t* newest) {
  *oldest = std::numeric_limits<int64_t>::max();
  *newest = std::numeric_limits<int64_t>::min();
  for (int64_t id : ids) {
    Stmt lo(statements, table.oldest);
    lo.bind(1, id);
    if (lo.step() == SQLITE_ROW) *oldest = std::min(*oldest, lo.int64(0));
    Stmt hi(statements, table.newest);
    hi.bind(1, id);
    if (hi.step() == SQLITE_ROW) *newest = std::max(*newest, hi.int64(0));
  }
  return *oldest <= *newest;
}

}  // namespace

std::string HistoryDb::trim_to_size(const RetentionLimits& limits, RetentionStats* stats) {
  std::vector<int64_t> ids = ids_of(series_);
  for (int slice = 0; slice < limits.max_slices; ++slice) {
    if (used_bytes() <= limits.max_bytes) return "";
    std::pair<const Table*, int64_t*> order[] = {{&kRaw, &stats->raw_size},
                                                 {&kMinute, &stats->minute_size},
                                                 {&kFiveMinutes, &stats->five_minute_size},
                                                 {&kHour, &stats->hour_size}};
    bool deleted_any = false;
    for (auto [table, counter] : order) {
      int64_t oldest = 0;
      int64_t newest = 0;
      if (!time_span(*statements_, ids, *table, &oldest, &newest)) continue;
      // An eighth of what the table spans (at least one bucket) per slice:
      // a few slices reach the cap without deleting much more than needed.
      int64_t width =
          std::max<int64_t>(std::max<int64_t>(table->width_ms, kMinuteMs), (newest - oldest) / 8);
      int64_t before = oldest + width;
      int64_t n = 0;
      if (std::string e = delete_older(db_, *statements_, ids, *table, before, &n); !e.empty()) {
        return e;
      }
      *counter += n;
      deleted_any = n > 0;
      break;
    }
    if (!deleted_any) break;
  }
  stats->over_size = used_bytes() > limits.max_bytes;
  return "";
}

std::string HistoryDb::forget_empty_series(int64_t* forgotten) {
  std::vector<int64_t> ids = ids_of(series_);
  std::vector<int64_t> gone;
  std::string error = in_chunks(db_, ids, [&](int64_t id) {
    Stmt has(*statements_, kHasRows);
    has.bind(1, id);
    if (has.step() != SQLITE_ROW) return sql_error(db_, "check series");
    if (has.int64(0) != 0) return std::string();
    Stmt del(*statements_, kDeleteSeries);
    del.bind(1, id);
    std::string e = del.run(db_, "forget series");
    if (e.empty()) gone.push_back(id);
    return e;
  });
  if (!error.empty()) {
    // Some chunks may have committed: reload what the file says.
    load_series();
    return error;
  }
  std::sort(gone.begin(), gone.end());
  std::erase_if(series_, [&](const auto& entry) {
    return std::binary_search(gone.begin(), gone.end(), entry.second);
  });
  *forgotten += static_cast<int64_t>(gone.size());
  if (!gone.empty()) fit_cache();
  return "";
}

std::string HistoryDb::enforce_retention(const RetentionLimits& limits, RetentionStats* stats) {
  *stats = RetentionStats{};
  std::vector<int64_t> ids = ids_of(series_);
  // A bucket goes once it ended before the cutoff: its start is at least
  // one width earlier.
  struct Step {
    const Table& table;
    int64_t before;
    int64_t* counter;
  };
  Step steps[] = {
      {kRaw, limits.raw_before_ms, &stats->raw_age},
      {kMinute, limits.aggregate_before_ms - kMinuteMs + 1, &stats->minute_age},
      {kFiveMinutes, limits.aggregate_before_ms - kFiveMinutesMs + 1, &stats->five_minute_age},
      {kHour, limits.aggregate_before_ms - kHourMs + 1, &stats->hour_age}};
  for (const Step& s : steps) {
    if (std::string e = delete_older(db_, *statements_, ids, s.table, s.before, s.counter);
        !e.empty()) {
      return e;
    }
  }
  if (limits.max_bytes > 0) {
    if (std::string e = trim_to_size(limits, stats); !e.empty()) return e;
  }
  if (std::string e = forget_empty_series(&stats->series); !e.empty()) return e;
  {
    Stmt del(*statements_, kDeleteDevices);
    del.bind(1, limits.aggregate_before_ms);
    if (std::string e = del.run(db_, "forget devices"); !e.empty()) return e;
    stats->devices = sqlite3_changes(db_);
  }
  std::string message;
  // Free pages go back to the file system, so the file shrinks with what
  // retention deleted (auto_vacuum = INCREMENTAL keeps this cheap).
  if (exec(db_, "PRAGMA incremental_vacuum", &message) != SQLITE_OK) {
    return "incremental_vacuum: " + message;
  }
  return "";
}

}  // namespace edgemon::store
