// Reads: which series match, the newest raw values across many series, and
// aggregates over a range. Everything walks the (series, t_ms) keys, so a
// query costs what it returns, not what the file holds.
#include <algorithm>
#include <queue>

#include "store/history_db.hpp"
#include "store/history_internal.hpp"

namespace edgemon::store {

using namespace history_sql;

namespace {

#define EDGEMON_SERIES "SELECT id, device, measurement, field, tags FROM series WHERE "
// One statement per combination of filters given (bit 0 device, 1
// measurement, 2 field), so each is an equality the indexes answer: the
// UNIQUE one leads with device, series_by_name with (measurement, field).
// An unused parameter is bound anyway; "?n = ?n" keeps it in the statement.
constexpr const char* kFindSeries[] = {
    EDGEMON_SERIES "?1 = ?1 AND ?2 = ?2 AND ?3 = ?3 ORDER BY id",
    EDGEMON_SERIES "device = ?1 AND ?2 = ?2 AND ?3 = ?3 ORDER BY id",
    EDGEMON_SERIES "?1 = ?1 AND measurement = ?2 AND ?3 = ?3 ORDER BY id",
    EDGEMON_SERIES "device = ?1 AND measurement = ?2 AND ?3 = ?3 ORDER BY id",
    EDGEMON_SERIES "?1 = ?1 AND ?2 = ?2 AND field = ?3 ORDER BY id",
    EDGEMON_SERIES "device = ?1 AND ?2 = ?2 AND field = ?3 ORDER BY id",
    EDGEMON_SERIES "?1 = ?1 AND measurement = ?2 AND field = ?3 ORDER BY id",
    EDGEMON_SERIES "device = ?1 AND measurement = ?2 AND field = ?3 ORDER BY id",
};

constexpr const char* kRawPage =
    "SELECT t_ms, value FROM raw WHERE series = ?1 AND t_ms >= ?2 AND t_ms <= ?3 "
    "ORDER BY t_ms DESC LIMIT ?4";
// The rows of one bucket table over a range, oldest first, and the same
// summed by SQLite into one row (the whole range as one bucket: /avg_usage).
#define EDGEMON_BUCKET_RANGE(table)               \
  "SELECT t_ms, min, max, sum, count FROM " table \
  " WHERE series = ?1 AND t_ms >= ?2 AND "        \
  "t_ms < ?3 ORDER BY t_ms"
#define EDGEMON_BUCKET_TOTAL(table)                             \
  "SELECT min(min), max(max), sum(sum), sum(count) FROM " table \
  " WHERE series = ?1 AND "                                     \
  "t_ms >= ?2 AND t_ms < ?3"

// The newest rows of one series not yet handed out, read a page at a time.
struct Cursor {
  size_t index = 0;
  int64_t id = 0;
  std::vector<std::pair<int64_t, double>> rows;
  size_t pos = 0;
  bool exhausted = false;
  int64_t next_to = 0;  // inclusive upper bound of the next page

  int64_t head() const { return rows[pos].first; }
};

std::string fetch_page(sqlite3* db, StatementCache& statements, Cursor* c, int64_t from_ms,
                       int64_t page) {
  c->rows.clear();
  c->pos = 0;
  Stmt q(statements, kRawPage);
  q.bind(1, c->id).bind(2, from_ms).bind(3, c->next_to).bind(4, page);
  int rc;
  while ((rc = q.step()) == SQLITE_ROW)
    c->rows.emplace_back(q.int64(0), q.real(1));
  if (rc != SQLITE_DONE) return sql_error(db, "read raw");
  c->exhausted = static_cast<int64_t>(c->rows.size()) < page;
  if (!c->rows.empty()) c->next_to = c->rows.back().first - 1;
  return "";
}

int64_t floor_to(int64_t t, int64_t width) {
  int64_t q = t / width;
  if (t % width != 0 && t < 0) --q;
  return q * width;
}

}  // namespace

HistoryDb::Snapshot::Snapshot(HistoryDb* db) : db_(db) {
  std::string message;
  open_ = db_ != nullptr && exec(db_->db_, "BEGIN", &message) == SQLITE_OK;
}

HistoryDb::Snapshot::~Snapshot() {
  std::string message;
  if (open_ && sqlite3_get_autocommit(db_->db_) == 0) exec(db_->db_, "COMMIT", &message);
}

std::string HistoryDb::find_series(const SeriesFilter& filter, std::vector<SeriesInfo>* out) {
  out->clear();
  size_t shape = (filter.device.empty() ? 0 : 1) | (filter.measurement.empty() ? 0 : 2) |
                 (filter.field.empty() ? 0 : 4);
  Stmt q(*statements_, kFindSeries[shape]);
  if (!q.ok()) return q.prepare_error();
  q.bind(1, filter.device).bind(2, filter.measurement).bind(3, filter.field);
  int rc;
  while ((rc = q.step()) == SQLITE_ROW) {
    out->push_back({q.int64(0), std::string(q.text(1)), std::string(q.text(2)),
                    std::string(q.text(3)), std::string(q.text(4))});
  }
  return rc == SQLITE_DONE ? "" : sql_error(db_, "find series");
}

std::string HistoryDb::measurements(int64_t limit, std::vector<std::string>* out) {
  out->clear();
  // series_by_name leads with measurement: a walk of the index.
  Stmt q(*statements_, "SELECT DISTINCT measurement FROM series ORDER BY measurement LIMIT ?1");
  if (!q.ok()) return q.prepare_error();
  q.bind(1, limit);
  int rc;
  while ((rc = q.step()) == SQLITE_ROW)
    out->emplace_back(q.text(0));
  return rc == SQLITE_DONE ? "" : sql_error(db_, "list measurements");
}

std::string HistoryDb::recent(std::span<const SeriesInfo> series, int64_t from_ms, int64_t to_ms,
                              int64_t limit, std::vector<RawValue>* out, bool* truncated) {
  out->clear();
  *truncated = false;
  if (series.empty() || limit <= 0 || from_ms > to_ms) return "";
  // A k-way merge of the series, newest first. Pages are sized so that the
  // first round usually reads about twice what the answer needs.
  int64_t n = static_cast<int64_t>(series.size());
  int64_t page = std::clamp<int64_t>(2 * (limit + 1) / n + 1, 4, limit + 1);
  std::vector<Cursor> cursors(series.size());
  auto newer = [&](size_t a, size_t b) {
    if (cursors[a].head() != cursors[b].head()) return cursors[a].head() < cursors[b].head();
    return a > b;
  };
  std::priority_queue<size_t, std::vector<size_t>, decltype(newer)> heap(newer);
  for (size_t i = 0; i < series.size(); ++i) {
    Cursor& c = cursors[i];
    c.index = i;
    c.id = series[i].id;
    c.next_to = to_ms;
    if (std::string e = fetch_page(db_, *statements_, &c, from_ms, page); !e.empty()) return e;
    if (!c.rows.empty()) heap.push(i);
  }
  while (!heap.empty() && static_cast<int64_t>(out->size()) <= limit) {
    size_t i = heap.top();
    heap.pop();
    Cursor& c = cursors[i];
    out->push_back({c.index, c.rows[c.pos].first, c.rows[c.pos].second});
    if (++c.pos == c.rows.size()) {
      if (c.exhausted) continue;
      if (std::string e = fetch_page(db_, *statements_, &c, from_ms, page); !e.empty()) return e;
      if (c.rows.empty()) continue;
    }
    heap.push(i);
  }
  if (static_cast<int64_t>(out->size()) > limit) {
    out->resize(static_cast<size_t>(limit));
    *truncated = true;
  }
  return "";
}

std::string HistoryDb::range_rows(const char* sql, bool total, int64_t series_id, int64_t from_ms,
                                  int64_t to_ms, int64_t step_ms, int64_t origin_ms,
                                  std::vector<Bucket>* out) {
  if (from_ms >= to_ms) return "";
  Stmt q(*statements_, sql);
  q.bind(1, series_id).bind(2, from_ms).bind(3, to_ms);
  // The totals statements have no time column: their one row is the bucket
  // at origin_ms (and has a NULL count when no row matched).
  int c = total ? 0 : 1;
  int rc;
  while ((rc = q.step()) == SQLITE_ROW) {
    if (total && q.is_null(3)) continue;
    int64_t start = total ? origin_ms : origin_ms + floor_to(q.int64(0) - origin_ms, step_ms);
    double lo = q.real(c);
    double hi = q.real(c + 1);
    if (out->empty() || out->back().t_ms != start) {
      out->push_back({start, lo, hi, 0, 0});
    }
    Bucket& b = out->back();
    b.min = std::min(b.min, lo);
    b.max = std::max(b.max, hi);
    b.sum += q.real(c + 2);
    b.count += q.int64(c + 3);
  }
  return rc == SQLITE_DONE ? "" : sql_error(db_, "read aggregates");
}

namespace {

// A table of buckets and how to read a range of it.
struct Level {
  int64_t width_ms;
  const char* range;  // the rows, oldest first
  const char* total;  // the rows summed into one
};

// Coarsest first; the last one (minutes) can always be used.
constexpr Level kLevels[] = {
    {kHourMs, EDGEMON_BUCKET_RANGE("hour"), EDGEMON_BUCKET_TOTAL("hour")},
    {kFiveMinutesMs, EDGEMON_BUCKET_RANGE("five_minute"), EDGEMON_BUCKET_TOTAL("five_minute")},
    {kMinuteMs, EDGEMON_BUCKET_RANGE("minute"), EDGEMON_BUCKET_TOTAL("minute")}};

int64_t ceil_to(int64_t t, int64_t width) {
  return floor_to(t + width - 1, width);
}

}  // namespace

std::string HistoryDb::level_rows(size_t level, const BucketQuery& q, int64_t from_ms,
                                  int64_t to_ms, std::vector<Bucket>* out) {
  if (from_ms >= to_ms) return "";
  const Level& l = kLevels[level];
  const char* sql = q.single ? l.total : l.range;
  if (level + 1 == std::size(kLevels)) {
    return range_rows(sql, q.single, q.series_id, from_ms, to_ms, q.step_ms, q.origin_ms, out);
  }
  // A row of this table may stand for its finer rows only if it falls whole
  // into one bucket: when the range is one bucket, or the buckets are whole
  // rows of it, aligned to them.
  if (!q.single &&
      (q.step_ms % l.width_ms != 0 || floor_to(q.origin_ms, l.width_ms) != q.origin_ms)) {
    return level_rows(level + 1, q, from_ms, to_ms, out);
  }
  int64_t a = std::min(to_ms, ceil_to(from_ms, l.width_ms));
  int64_t b = std::max(a, floor_to(to_ms, l.width_ms));
  std::string e = level_rows(level + 1, q, from_ms, a, out);
  if (e.empty()) e = range_rows(sql, q.single, q.series_id, a, b, q.step_ms, q.origin_ms, out);
  if (e.empty()) e = level_rows(level + 1, q, b, to_ms, out);
  return e;
}

std::string HistoryDb::buckets(int64_t series_id, int64_t from_ms, int64_t to_ms, int64_t step_ms,
                               int64_t origin_ms, std::vector<Bucket>* out) {
  out->clear();
  if (from_ms >= to_ms || step_ms <= 0 || origin_ms > from_ms) return "";
  // One bucket when the first and the last value's bucket are the same.
  bool single = floor_to(from_ms - origin_ms, step_ms) == floor_to(to_ms - 1 - origin_ms, step_ms);
  if (single) origin_ms += floor_to(from_ms - origin_ms, step_ms);
  BucketQuery q{series_id, step_ms, origin_ms, single};
  return level_rows(0, q, from_ms, to_ms, out);
}

}  // namespace edgemon::store
