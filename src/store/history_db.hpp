#pragma once
// The history file: recent points and their per-minute, per-5-minute and
// per-hour aggregates, one SQLite file (WAL) of its own. Synchronous and not
// thread-safe: the daemon uses one writer connection on the history's write
// thread and one read-only connection on its query thread (store/history.hpp).
//
// Schema (documented in the README; operators read it with sqlite3):
//   meta(key, value)                      schema_version
//   series(id, device, measurement, field, tags)   tags: canonical JSON object
//   raw(series, t_ms, value)              one numeric field of one point
//   minute(series, t_ms, min, max, sum, count, last, last_t)   t_ms: bucket start
//   five_minute(series, t_ms, min, max, sum, count, last, last_t)
//   hour(series, t_ms, min, max, sum, count, last, last_t)
//   devices(device, tags, first_seen_ms, last_seen_ms, points)
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

struct sqlite3;

namespace edgemon::store {

namespace history_sql {
class StatementCache;
class SizeBudget;
}  // namespace history_sql

struct HistoryOptions {
  std::string path;
  // A reader never creates, repairs or writes the file.
  bool read_only = false;
  // Page cache of the connection, KiB: its cap when it grows per series.
  int64_t cache_kib = 1024;
  int busy_timeout_ms = 1000;
  // Non-zero: the cache is sized to the series kept, this much each over a
  // floor, up to cache_kib (HistoryDb::fit_cache).
  int64_t cache_kib_per_series = 0;
};

struct HistoryOpenReport {
  bool created = false;
  // The schema version the file had, when opening upgraded it; else 0.
  int upgraded_from = 0;
  // The file was not a usable history: renamed to `moved_to`, a new one begun.
  std::string corrupt_reason;
  std::string moved_to;
};

// A device as the registry keeps it (store/history_devices.hpp).
struct DeviceRow {
  std::string device;
  std::string tags_json;  // canonical JSON object, device_id not included
  int64_t first_seen_ms = 0;
  int64_t last_seen_ms = 0;
  int64_t points = 0;
};

struct WriteLimits {
  int64_t max_series = 20000;
  // Values older than this are not stored (retention would delete them at
  // once); 0 keeps everything.
  int64_t oldest_ms = 0;
  // New series and devices are not added beyond this many bytes of pages in
  // use (store/history_budget.hpp); values of stored series always are.
  // 0: no cap.
  int64_t max_bytes = 0;
};

// Values (one numeric field of one point each) by what became of them.
struct WriteStats {
  int64_t written = 0;
  int64_t duplicate = 0;   // same series and time already stored
  int64_t max_series = 0;  // a new series beyond history.max_series
  int64_t max_bytes = 0;   // a new series that would take the file past max_bytes
  int64_t too_old = 0;     // older than the aggregate retention
  int64_t series_added = 0;
  // New devices not saved for max_bytes (they stay in the registry in
  // memory and are saved once there is room).
  int64_t devices_refused = 0;
};

struct RetentionLimits {
  int64_t raw_before_ms = 0;        // raw rows older than this go
  int64_t aggregate_before_ms = 0;  // aggregate buckets that ended before this go
  int64_t max_bytes = 0;            // 0: no size cap
  // Most slices deleted for the size cap in one pass, so a pass is bounded.
  int max_slices = 64;
};

// Rows deleted, by table and reason.
struct RetentionStats {
  int64_t raw_age = 0;
  int64_t minute_age = 0;
  int64_t five_minute_age = 0;
  int64_t hour_age = 0;
  int64_t raw_size = 0;
  int64_t minute_size = 0;
  int64_t five_minute_size = 0;
  int64_t hour_size = 0;
  int64_t series = 0;      // series left without rows, forgotten
  int64_t devices = 0;     // devices not seen since aggregate_before_ms
  bool over_size = false;  // still above max_bytes after the pass
};

struct SeriesFilter {
  // Empty: any.
  std::string device;
  std::string measurement;
  std::string field;
};

struct SeriesInfo {
  int64_t id = 0;
  std::string device;
  std::string measurement;
  std::string field;
  std::string tags_json;
};

struct RawValue {
  size_t series = 0;  // index into the series list queried
  int64_t t_ms = 0;
  double value = 0;
};

// Aggregate of one bucket; t_ms is its start.
struct Bucket {
  int64_t t_ms = 0;
  double min = 0;
  double max = 0;
  double sum = 0;
  int64_t count = 0;
};

class HistoryDb {
 public:
  // Opens or creates the file. A file that is not a database, fails
  // `PRAGMA quick_check` or holds another schema is moved aside and a fresh
  // one created (never when read_only). Returns null with *error set only
  // when no history can be had at all.
  static std::unique_ptr<HistoryDb> open(const HistoryOptions& options, HistoryOpenReport* report,
                                         std::string* error);
  ~HistoryDb();
  HistoryDb(const HistoryDb&) = delete;
  HistoryDb& operator=(const HistoryDb&) = delete;

  // Stores an encoded batch (store/history_batch.hpp) and the devices'
  // records in one transaction. A value whose series and time are already
  // stored is ignored, so aggregates stay exact when agents replay. New
  // series and devices are refused at limits.max_bytes (counted in *stats).
  std::string write(std::string_view batch, std::span<const DeviceRow> devices,
                    const WriteLimits& limits, WriteStats* stats);
  std::string load_devices(std::vector<DeviceRow>* out);
  // Deletes what is older than the limits, then the oldest raw rows, minutes,
  // 5-minute buckets and hours while the file is above max_bytes; returns free pages to the
  // file system.
  std::string enforce_retention(const RetentionLimits& limits, RetentionStats* stats);

  // Queries. Each statement outside a Snapshot is a read transaction of its
  // own (a lock taken and released, the WAL index checked); a query made of
  // many statements runs in one, which is also one consistent view.
  class Snapshot {
   public:
    explicit Snapshot(HistoryDb* db);
    ~Snapshot();
    Snapshot(const Snapshot&) = delete;
    Snapshot& operator=(const Snapshot&) = delete;

   private:
    HistoryDb* db_;
    bool open_ = false;
  };
  std::string find_series(const SeriesFilter& filter, std::vector<SeriesInfo>* out);
  // The measurements of every series kept, in name order, at most `limit`.
  std::string measurements(int64_t limit, std::vector<std::string>* out);
  // The newest raw values of `series` with from_ms <= t <= to_ms, newest
  // first, at most `limit`; *truncated when more matched.
  std::string recent(std::span<const SeriesInfo> series, int64_t from_ms, int64_t to_ms,
                     int64_t limit, std::vector<RawValue>* out, bool* truncated);
  // Buckets of `step_ms` (a multiple of a minute) aligned to origin_ms, over
  // the values of [from_ms, to_ms) only (both minute aligned; origin_ms at
  // or before from_ms, so a first or last bucket may cover less than a
  // step, as InfluxDB's GROUP BY time() does), each read from the coarsest
  // table whose rows fall whole into one bucket: hours, then 5-minute
  // buckets, then minutes at the range's ragged ends. Empty buckets are left
  // out.
  std::string buckets(int64_t series_id, int64_t from_ms, int64_t to_ms, int64_t step_ms,
                      int64_t origin_ms, std::vector<Bucket>* out);

  const std::string& path() const { return path_; }
  // Size of the database file plus its WAL.
  int64_t file_bytes() const;
  // Pages in use (not free) times the page size: what max_bytes caps.
  int64_t used_bytes();
  int64_t series_count() const { return static_cast<int64_t>(series_.size()); }
  // Memory this connection's page cache holds now (it fills as pages are
  // used, up to the cache size it was opened with).
  int64_t cache_bytes() const;

 private:
  HistoryDb() = default;
  struct Group;
  enum class Refusal { kNone, kMaxSeries, kMaxBytes };
  std::string load_series();
  // Sets the page cache to the writer's working set for the series kept.
  void fit_cache();
  int64_t series_id(std::string_view key, const WriteLimits& limits,
                    history_sql::SizeBudget& budget, std::string* error, Refusal* refused,
                    std::vector<std::string>* added);
  // Upserts the devices' rows; a new one only if it fits in `budget`.
  std::string save_devices(std::span<const DeviceRow> devices, history_sql::SizeBudget& budget,
                           int64_t* refused);
  std::string upsert_groups(const char* sql, const std::vector<Group>& groups);
  std::string delete_before(const char* sql, int64_t before_ms, int64_t* deleted);
  std::string trim_to_size(const RetentionLimits& limits, RetentionStats* stats);
  std::string forget_empty_series(int64_t* forgotten);
  struct BucketQuery {
    int64_t series_id;
    int64_t step_ms;
    int64_t origin_ms;  // where the first bucket starts
    bool single;        // the whole range is one bucket
  };
  // The buckets of [from_ms, to_ms) from table kLevels[level] and finer.
  std::string level_rows(size_t level, const BucketQuery& q, int64_t from_ms, int64_t to_ms,
                         std::vector<Bucket>* out);
  // `total`: `sql` sums the range into one row (no time column).
  std::string range_rows(const char* sql, bool total, int64_t series_id, int64_t from_ms,
                         int64_t to_ms, int64_t step_ms, int64_t origin_ms,
                         std::vector<Bucket>* out);

  sqlite3* db_ = nullptr;
  std::string path_;
  int64_t cache_cap_kib_ = 0;
  int64_t cache_kib_per_series_ = 0;
  int64_t cache_set_kib_ = 0;
  std::unique_ptr<history_sql::StatementCache> statements_;
  // Writer only: series key (device, measurement, field, tags joined by
  // '\0') to id, loaded at open, so a write looks a series up without SQL.
  struct KeyHash {
    using is_transparent = void;
    size_t operator()(std::string_view key) const { return std::hash<std::string_view>{}(key); }
  };
  std::unordered_map<std::string, int64_t, KeyHash, std::equal_to<>> series_;
};

}  // namespace edgemon::store
