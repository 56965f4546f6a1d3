// The write path: a batch of points becomes raw rows and per-minute,
// per-5-minute and per-hour aggregates in one transaction. Points may come in any order (an
// agent replaying its backlog): each aggregate bucket is upserted, so
// min/max/sum/count are right whatever the order, and a value whose raw row
// already exists is counted once. New series and devices are added only
// within history.max_bytes (store/history_budget.hpp).
#include <map>

#include "store/history_batch.hpp"
#include "store/history_budget.hpp"
#include "store/history_db.hpp"
#include "store/history_internal.hpp"

namespace edgemon::store {

using namespace history_sql;

namespace {

constexpr const char* kInsertSeries =
    "INSERT INTO series (device, measurement, field, tags) VALUES (?1, ?2, ?3, ?4)";
constexpr const char* kInsertRaw =
    "INSERT OR IGNORE INTO raw (series, t_ms, value) VALUES (?1, ?2, ?3)";
// last is the value with the greatest time; min() and max() of SQLite take
// two arguments as scalar functions.
#define EDGEMON_UPSERT_BUCKET(table)                                                         \
  "INSERT INTO " table                                                                       \
  " (series, t_ms, min, max, sum, count, last, last_t) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, " \
  "?8) ON CONFLICT (series, t_ms) DO UPDATE SET min = min(min, excluded.min), "              \
  "max = max(max, excluded.max), sum = sum + excluded.sum, count = count + excluded.count, " \
  "last = CASE WHEN excluded.last_t >= last_t THEN excluded.last ELSE last END, "            \
  "last_t = max(last_t, excluded.last_t)"
constexpr const char* kUpsertMinute = EDGEMON_UPSERT_BUCKET("minute");
constexpr const char* kUpsertFiveMinutes = EDGEMON_UPSERT_BUCKET("five_minute");
constexpr const char* kUpsertHour = EDGEMON_UPSERT_BUCKET("hour");
constexpr const char* kUpsertDevice =
    "INSERT INTO devices (device, tags, first_seen_ms, last_seen_ms, points) "
    "VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (device) DO UPDATE SET tags = excluded.tags, "
    "first_seen_ms = min(first_seen_ms, excluded.first_seen_ms), "
    "last_seen_ms = max(last_seen_ms, excluded.last_seen_ms), points = excluded.points";
constexpr const char* kDeviceStored = "SELECT 1 FROM devices WHERE device = ?1";
constexpr const char* kLoadDevices =
    "SELECT device, tags, first_seen_ms, last_seen_ms, points FROM devices";

int64_t bucket_start(int64_t t_ms, int64_t width) {
  int64_t q = t_ms / width;
  if (t_ms % width != 0 && t_ms < 0) --q;
  return q * width;
}

}  // namespace

// One aggregate bucket accumulated in memory over a batch, upserted once.
struct HistoryDb::Group {
  int64_t series = 0;
  int64_t t_ms = 0;
  double min = 0;
  double max = 0;
  double sum = 0;
  int64_t count = 0;
  double last = 0;
  int64_t last_t = 0;

  void add(int64_t t, double v) {
    if (count == 0 || v < min) min = v;
    if (count == 0 || v > max) max = v;
    if (count == 0 || t >= last_t) {
      last = v;
      last_t = t;
    }
    sum += v;
    ++count;
  }
};

int64_t HistoryDb::series_id(std::string_view key, const WriteLimits& limits, SizeBudget& budget,
                             std::string* error, Refusal* refused,
                             std::vector<std::string>* added) {
  if (auto it = series_.find(key); it != series_.end()) return it->second;
  if (static_cast<int64_t>(series_.size()) >= limits.max_series) {
    *refused = Refusal::kMaxSeries;
    return 0;
  }
  // With room for its first value's rows too: a series admitted without
  // them would only hold a slot.
  int64_t bytes = series_bytes(key.size());
  if (!budget.fits(bytes + kRawRowBytes + 3 * kAggregateRowBytes)) {
    *refused = Refusal::kMaxBytes;
    return 0;
  }
  budget.spend(bytes);
  std::string_view parts[4];
  std::string_view rest = key;
  for (int i = 0; i < 4; ++i) {
    size_t nul = i < 3 ? rest.find('\0') : rest.size();
    parts[i] = rest.substr(0, nul);
    rest.remove_prefix(i < 3 ? nul + 1 : nul);
  }
  Stmt q(*statements_, kInsertSeries);
  q.bind(1, parts[0]).bind(2, parts[1]).bind(3, parts[2]).bind(4, parts[3]);
  if (std::string e = q.run(db_, "add series"); !e.empty()) {
    *error = e;
    return 0;
  }
  int64_t id = sqlite3_last_insert_rowid(db_);
  series_.emplace(std::string(key), id);
  added->emplace_back(key);
  return id;
}

std::string HistoryDb::upsert_groups(const char* sql, const std::vector<Group>& groups) {
  for (const Group& g : groups) {
    Stmt q(*statements_, sql);
    q.bind(1, g.series).bind(2, g.t_ms).bind(3, g.min).bind(4, g.max).bind(5, g.sum);
    q.bind(6, g.count).bind(7, g.last).bind(8, g.last_t);
    if (std::string e = q.run(db_, "upsert aggregate"); !e.empty()) return e;
  }
  return "";
}

std::string HistoryDb::write(std::string_view batch, std::span<const DeviceRow> devices,
                             const WriteLimits& limits, WriteStats* stats) {
  WriteStats counted;
  // Keyed by (series, bucket start): a batch of 10 s points touches each
  // minute a handful of times but upserts it once.
  using Groups = std::map<std::pair<int64_t, int64_t>, Group>;
  struct Level {
    int64_t width;
    const char* upsert;
    Groups groups;
  };
  Level levels[] = {{kMinuteMs, kUpsertMinute, {}},
                    {kFiveMinutesMs, kUpsertFiveMinutes, {}},
                    {kHourMs, kUpsertHour, {}}};
  // Rolled back as a whole on failure: the series added in it too.
  std::vector<std::string> added;
  Transaction tx(db_);
  std::string error = tx.begin();
  // Measured once a batch, inside its transaction: the pages the last
  // commit (this writer's or retention's) left in use.
  SizeBudget budget;
  if (error.empty() && limits.max_bytes > 0) budget = SizeBudget(limits.max_bytes, used_bytes());
  PointBatchReader reader(batch);
  DecodedPoint p;
  std::string key;
  while (error.empty() && reader.next(&p)) {
    std::string tags = canonical_tags(p.tags);
    for (const auto& [field, value] : p.values) {
      if (limits.oldest_ms != 0 && p.t_ms < limits.oldest_ms) {
        ++counted.too_old;
        continue;
      }
      key.assign(p.device).append(1, '\0').append(p.measurement).append(1, '\0');
      key.append(field).append(1, '\0').append(tags);
      Refusal refused = Refusal::kNone;
      int64_t id = series_id(key, limits, budget, &error, &refused, &added);
      if (!error.empty()) break;
      if (refused != Refusal::kNone) {
        ++(refused == Refusal::kMaxSeries ? counted.max_series : counted.max_bytes);
        continue;
      }
      Stmt q(*statements_, kInsertRaw);
      q.bind(1, id).bind(2, p.t_ms).bind(3, value);
      if (error = q.run(db_, "insert raw"); !error.empty()) break;
      if (sqlite3_changes(db_) == 0) {
        ++counted.duplicate;
        continue;
      }
      ++counted.written;
      budget.spend(kRawRowBytes);
      for (Level& level : levels) {
        int64_t start = bucket_start(p.t_ms, level.width);
        auto [it, fresh] = level.groups.try_emplace({id, start});
        Group& g = it->second;
        if (fresh) {
          // A new bucket of a stored series may be an update of a row the
          // file has: counted as a new row all the same (an estimate high
          // by one row per series and table a batch).
          budget.spend(kAggregateRowBytes);
          g.series = id;
          g.t_ms = start;
        }
        g.add(p.t_ms, value);
      }
    }
  }
  auto flat = [](const auto& groups) {
    std::vector<Group> out;
    out.reserve(groups.size());
    for (const auto& [k, g] : groups)
      out.push_back(g);
    return out;
  };
  for (const Level& level : levels) {
    if (error.empty()) error = upsert_groups(level.upsert, flat(level.groups));
  }
  if (error.empty()) error = save_devices(devices, budget, &counted.devices_refused);
  if (error.empty()) error = tx.commit();
  if (!error.empty()) {
    for (const std::string& k : added)
      series_.erase(k);
    return error;
  }
  counted.series_added = static_cast<int64_t>(added.size());
  if (!added.empty()) fit_cache();
  *stats = counted;
  return "";
}

std::string HistoryDb::save_devices(std::span<const DeviceRow> devices, SizeBudget& budget,
                                    int64_t* refused) {
  for (const DeviceRow& d : devices) {
    int64_t bytes = device_bytes(d.device.size(), d.tags_json.size());
    if (budget.fits(bytes)) {
      budget.spend(bytes);
    } else {
      // Looked up only here: a stored device is updated in place.
      Stmt known(*statements_, kDeviceStored);
      known.bind(1, d.device);
      if (known.step() != SQLITE_ROW) {
        ++*refused;
        continue;
      }
    }
    Stmt q(*statements_, kUpsertDevice);
    q.bind(1, d.device).bind(2, d.tags_json).bind(3, d.first_seen_ms).bind(4, d.last_seen_ms);
    q.bind(5, d.points);
    if (std::string e = q.run(db_, "save device"); !e.empty()) return e;
  }
  return "";
}

std::string HistoryDb::load_devices(std::vector<DeviceRow>* out) {
  out->clear();
  Stmt q(*statements_, kLoadDevices);
  if (!q.ok()) return q.prepare_error();
  int rc;
  while ((rc = q.step()) == SQLITE_ROW) {
    out->push_back(
        {std::string(q.text(0)), std::string(q.text(1)), q.int64(2), q.int64(3), q.int64(4)});
  }
  return rc == SQLITE_DONE ? "" : sql_error(db_, "load devices");
}

}  // namespace edgemon::store
