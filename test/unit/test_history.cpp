// The local history: points written then queried back, aggregates equal to
// a computation over the raw points whatever the order they came in,
// retention and the size cap deleting exactly what they should, the cap
// refusing new series before a write rather than evicting stored ones, the
// series and queue bounds counted, a corrupt file moved aside, devices
// surviving a restart, and the four endpoints over real HTTP.
#include <sqlite3.h>
#include <sys/stat.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <set>

#include "api/history_endpoints.hpp"
#include "api/query_params.hpp"
#include "core/clock.hpp"
#include "metrics/prometheus_text.hpp"
#include "store/history.hpp"
#include "test_http_harness.hpp"

using namespace edgemon;
using namespace edgemon::store;
using edgemon::metrics::Point;

namespace {

constexpr int64_t kMinute = 60000;
constexpr int64_t kHour = 3600000;

struct TempDir {
  std::string path;
  TempDir() {
    char tmpl[] = "/tmp/edgemon-history-test-XXXXXX";
    assert_non_null(mkdtemp(tmpl));
    path = tmpl;
  }
  ~TempDir() { std::filesystem::remove_all(path); }
  std::string file(const std::string& name) const { return path + "/" + name; }
};

struct Loop {
  uv_loop_t loop;
  Loop() { assert_int_equal(uv_loop_init(&loop), 0); }
  ~Loop() {
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&loop), 0);
  }
  void run() { uv_run(&loop, UV_RUN_DEFAULT); }
};

config::HistorySection history_config() {
  config::HistorySection c;
  // The timer must not fire in the middle of a test: retention is run by hand.
  c.retention_interval = std::chrono::hours(1);
  c.raw_retention = std::chrono::hours(24 * 30);
  c.aggregate_retention = std::chrono::hours(24 * 30);
  return c;
}

Point point(const std::string& device, int64_t t_ms, std::vector<metrics::Field> fields,
            std::vector<metrics::Tag> tags = {}) {
  Point p;
  p.measurement = "system_metrics";
  p.tags = std::move(tags);
  p.tags.push_back({"device_id", device});
  p.fields = std::move(fields);
  p.time_ns = t_ms * 1000000;
  return p;
}

void flush(Loop& l, History& h) {
  bool done = false;
  h.flush([&] { done = true; });
  l.run();
  assert_true(done);
}

void stop(Loop& l, History& h) {
  bool done = false;
  h.stop([&] { done = true; });
  l.run();
  assert_true(done);
}

template <typename R>
R read(Loop& l, History& h, std::function<R(HistoryDb*)> job) {
  R result{};
  bool done = false;
  h.read<R>(std::move(job), [&](R&& r) {
    result = std::move(r);
    done = true;
  });
  l.run();
  assert_true(done);
  return result;
}

std::string metrics_text(const History& h) {
  std::string out;
  metrics::PrometheusTextWriter writer(out);
  h.write_metrics(writer);
  return out;
}

void ok(const std::string& error) {
  if (!error.empty()) fail_msg("unexpected error: %s", error.c_str());
}

// An operator's sqlite3 session.
struct RawDb {
  sqlite3* db = nullptr;
  explicit RawDb(const std::string& path) { assert_int_equal(sqlite3_open(path.c_str(), &db), 0); }
  ~RawDb() { sqlite3_close(db); }
  int64_t scalar(const std::string& sql) {
    sqlite3_stmt* s = nullptr;
    if (sqlite3_prepare_v2(db, sql.c_str(), -1, &s, nullptr) != SQLITE_OK) {
      fail_msg("%s: %s", sql.c_str(), sqlite3_errmsg(db));
    }
    int64_t v = sqlite3_step(s) == SQLITE_ROW ? sqlite3_column_int64(s, 0) : -1;
    sqlite3_finalize(s);
    return v;
  }
};

std::unique_ptr<HistoryDb> open_db(const std::string& path, bool read_only = false,
                                   HistoryOpenReport* report = nullptr) {
  std::string error;
  auto db = HistoryDb::open({path, read_only, 1024, 1000}, report, &error);
  if (!db) fail_msg("open %s: %s", path.c_str(), error.c_str());
  return db;
}

// Writes points straight through a HistoryDb (no loop): the retention tests
// need exact times, not "now".
void write_points(HistoryDb& db, const std::vector<Point>& points, WriteLimits limits = {}) {
  PointBatch batch;
  int64_t non_finite = 0;
  for (const Point& p : points)
    batch.append(p, device_of(p), &non_finite);
  WriteStats stats;
  ok(db.write(batch.take(), {}, limits, &stats));
}

// ---- write then read ----

void points_written_then_queried_newest_first(void**) {
  TempDir dir;
  Loop l;
  History h(&l.loop);
  h.start(history_config(), dir.file("history.db"), std::chrono::minutes(5));
  int64_t base = unix_now_ms() - 1000000;
  std::vector<Point> points;
  for (int d = 1; d <= 3; ++d) {
    for (int i = 0; i < 20; ++i) {
      std::string dev = "d" + std::to_string(d);
      points.push_back(point(dev, base + i * 10000 + d,
                             {{"cpu", 10.0 * d + i},
                              {"memory", 50.5},
                              {"disk", int64_t{70 + i}},
                              {"note", std::string("strings are not kept")},
                              {"ok", true}},
                             {{"zone", "z,1"}, {"host", "h" + std::to_string(d)}}));
    }
  }
  h.add(points);
  flush(l, h);
  assert_int_equal(h.report().written, 3 * 20 * 4);
  assert_int_equal(h.report().series, 3 * 4);
  assert_true(h.readable());

  struct Out {
    std::vector<SeriesInfo> series;
    std::vector<RawValue> values;
    bool truncated = false;
  };
  Out out = read<Out>(l, h, [&](HistoryDb* db) {
    Out o;
    ok(db->find_series({"d2", "", ""}, &o.series));
    ok(db->recent(o.series, 0, base + kHour, 10, &o.values, &o.truncated));
    return o;
  });
  assert_int_equal(out.series.size(), 4);
  assert_string_equal(out.series[0].tags_json.c_str(), "{\"host\":\"h2\",\"zone\":\"z,1\"}");
  assert_int_equal(out.values.size(), 10);
  assert_true(out.truncated);
  // Four fields share each time: the newest 10 values are the last 2.5 points.
  assert_int_equal(out.values[0].t_ms, base + 19 * 10000 + 2);
  for (size_t i = 1; i < out.values.size(); ++i)
    assert_true(out.values[i].t_ms <= out.values[i - 1].t_ms);
  assert_int_equal(out.values[9].t_ms, base + 17 * 10000 + 2);
  for (const RawValue& v : out.values) {
    if (out.series[v.series].field == "cpu") {
      assert_true(v.value == 20.0 + static_cast<double>((v.t_ms - base - 2) / 10000));
    }
  }
  // Only cpu of every device, across devices, newest first.
  out = read<Out>(l, h, [&](HistoryDb* db) {
    Out o;
    ok(db->find_series({"", "system_metrics", "cpu"}, &o.series));
    ok(db->recent(o.series, base + 150000, base + kHour, 1000, &o.values, &o.truncated));
    return o;
  });
  assert_int_equal(out.series.size(), 3);
  assert_int_equal(out.values.size(), 3 * 5);  // i = 15..19
  assert_false(out.truncated);
  assert_int_equal(out.values[0].t_ms, base + 190000 + 3);
  assert_contains(metrics_text(h), "edgemon_history_written_points_total 240\n");
  assert_contains(metrics_text(h), "edgemon_devices 3\n");
  assert_contains(metrics_text(h), "edgemon_devices_active 3\n");
  stop(l, h);
}

// Lets the loop's clock move on by `ms`.
void wait_ms(Loop& l, uint64_t ms) {
  uv_timer_t t;
  uv_timer_init(&l.loop, &t);
  uv_timer_start(
      &t, [](uv_timer_t*) {}, ms, 0);
  l.run();
  uv_close(reinterpret_cast<uv_handle_t*>(&t), nullptr);
  l.run();
}

struct Recent {
  std::vector<SeriesInfo> series;
  std::vector<RawValue> values;
  bool truncated = false;
};

Recent recent_cpu(Loop& l, History& h, int64_t until_ms) {
  return read<Recent>(l, h, [&](HistoryDb* db) {
    Recent o;
    ok(db->find_series({"d1", "", "cpu"}, &o.series));
    ok(db->recent(o.series, 0, until_ms, 10, &o.values, &o.truncated));
    return o;
  });
}

// An open history whose own points would wait 10 minutes to be written.
void start_with_long_flush_interval(Loop& l, History& h, const TempDir& dir) {
  config::HistorySection c = history_config();
  c.flush_interval = std::chrono::minutes(10);
  h.start(c, dir.file("history.db"), std::chrono::minutes(5));
  flush(l, h);  // opened
}

// Values wait up to flush_interval in memory; a query is never more than a
// second behind: what waited longer is written before it runs.
void a_query_writes_what_waited_over_a_second(void**) {
  TempDir dir;
  Loop l;
  History h(&l.loop);
  start_with_long_flush_interval(l, h, dir);
  int64_t t = unix_now_ms() - 5000;
  h.add(std::vector<Point>{point("d1", t, {{"cpu", 42.5}})});
  assert_true(h.unwritten());
  // Just queued: the query does not wait for a write.
  assert_int_equal(recent_cpu(l, h, t + kHour).values.size(), 0);
  assert_int_equal(h.report().written, 0);
  wait_ms(l, 1100);
  Recent out = recent_cpu(l, h, t + kHour);
  assert_int_equal(out.values.size(), 1);
  assert_true(out.values[0].value == 42.5);
  assert_int_equal(out.values[0].t_ms, t);
  assert_int_equal(h.report().written, 1);
  assert_false(h.unwritten());
  stop(l, h);
}

// A hub's pushed points are written within a second whatever flush_interval
// says, so that its queries never wait for a write.
void pushed_points_are_written_within_a_second(void**) {
  TempDir dir;
  Loop l;
  History h(&l.loop);
  start_with_long_flush_interval(l, h, dir);
  std::vector<Point> pushed{point("d7", unix_now_ms() - 5000, {{"cpu", 7.0}})};
  h.take_ingested(pushed, {}, nullptr);
  wait_ms(l, 1500);
  assert_int_equal(h.report().written, 1);
  stop(l, h);
}

// ---- aggregates ----

struct Expected {
  double min = 0, max = 0, sum = 0;
  int64_t count = 0;
};

void compare(const std::vector<Bucket>& got, const std::map<int64_t, Expected>& want) {
  assert_int_equal(got.size(), want.size());
  size_t i = 0;
  for (const auto& [t, e] : want) {
    const Bucket& b = got[i++];
    assert_int_equal(b.t_ms, t);
    assert_int_equal(b.count, e.count);
    assert_true(b.min == e.min);
    assert_true(b.max == e.max);
    if (std::fabs(b.sum - e.sum) > 1e-9 * std::max(1.0, std::fabs(e.sum))) {
      fail_msg("sum %.17g != %.17g", b.sum, e.sum);
    }
  }
}

void aggregates_equal_a_computation_over_raw_points(void**) {
  TempDir dir;
  Loop l;
  History h(&l.loop);
  h.start(history_config(), dir.file("history.db"), std::chrono::minutes(5));
  std::mt19937_64 rng(42);
  int64_t now = unix_now_ms();
  int64_t start = (now - 5 * kHour) / kHour * kHour - 17 * kMinute - 1234;
  struct Raw {
    std::string device;
    int64_t t;
    double v;
  };
  std::vector<Raw> raw;
  std::vector<Point> points;
  for (int d = 0; d < 4; ++d) {
    std::string dev = "dev-" + std::to_string(d);
    std::set<int64_t> used;
    while (used.size() < 700) {
      int64_t t = start + static_cast<int64_t>(rng() % static_cast<uint64_t>(5 * kHour));
      if (!used.insert(t).second) continue;
      double v = static_cast<double>(rng() % 100000) / 1000.0;
      raw.push_back({dev, t, v});
      points.push_back(point(dev, t, {{"cpu", v}}));
    }
  }
  // Out of order, in many batches, some of them written before the rest.
  std::shuffle(points.begin(), points.end(), rng);
  for (size_t i = 0; i < points.size(); i += 97) {
    size_t n = std::min<size_t>(97, points.size() - i);
    h.add(std::span<const Point>(points.data() + i, n));
    if (i % 3 == 0) flush(l, h);
  }
  flush(l, h);
  // A replay of already stored points changes nothing.
  h.add(std::span<const Point>(points.data(), 50));
  flush(l, h);
  assert_int_equal(h.report().written, raw.size());
  assert_int_equal(h.report().dropped.duplicate, 50);

  auto db = open_db(dir.file("history.db"), true);
  std::vector<SeriesInfo> series;
  ok(db->find_series({"", "system_metrics", "cpu"}, &series));
  assert_int_equal(series.size(), 4);
  const int64_t steps[] = {kMinute, 5 * kMinute, 7 * kMinute, kHour, 2 * kHour, 0, 15 * kMinute};
  for (int round = 0; round < 70; ++round) {
    int64_t step = steps[round % 7];
    int64_t from = start + static_cast<int64_t>(rng() % static_cast<uint64_t>(4 * kHour));
    // Aligned origins let the coarser tables answer; the others must not.
    int64_t align = kMinute;
    if (step >= kHour && round % 2 == 0) align = kHour;
    if (step % (5 * kMinute) == 0 && round % 3 == 0) align = 5 * kMinute;
    from = from / align * align;
    int64_t to = from + kMinute + static_cast<int64_t>(rng() % static_cast<uint64_t>(3 * kHour));
    to = to / kMinute * kMinute;
    // Buckets aligned before the range, as /metrics_usage aligns them to
    // the epoch: the first and last cover only what is in the range.
    int64_t origin = from;
    if (step == 0) {
      step = to - from;  // one bucket: /avg_usage
    } else if (round % 2 == 1) {
      origin -= kMinute * static_cast<int64_t>(rng() % static_cast<uint64_t>(step / kMinute));
    }
    for (const SeriesInfo& s : series) {
      std::map<int64_t, Expected> want;
      for (const Raw& r : raw) {
        if (r.device != s.device || r.t < from || r.t >= to) continue;
        int64_t b = origin + (r.t - origin) / step * step;
        Expected& e = want[b];
        e.min = e.count == 0 ? r.v : std::min(e.min, r.v);
        e.max = e.count == 0 ? r.v : std::max(e.max, r.v);
        e.sum += r.v;
        ++e.count;
      }
      std::vector<Bucket> got;
      ok(db->buckets(s.id, from, to, step, origin, &got));
      compare(got, want);
    }
  }
  db.reset();
  stop(l, h);
}

// ---- retention and size ----

int64_t count(RawDb& raw, const std::string& sql) {
  return raw.scalar(sql);
}

void retention_deletes_exactly_what_is_old(void**) {
  TempDir dir;
  std::string path = dir.file("history.db");
  int64_t base = 1714564800000;  // an hour boundary
  {
    auto db = open_db(path);
    std::vector<Point> points;
    for (int64_t t = base; t < base + 10 * kHour; t += 10000) {
      points.push_back(point("a", t, {{"cpu", 1.0}, {"memory", 2.0}}));
    }
    write_points(*db, points);
    int64_t raw_before = base + 4 * kHour + 5000;
    int64_t agg_before = base + 7 * kHour + 30000;
    int64_t raw_total, minute_total, five_total, hour_total, raw_old, minute_old, five_old,
        hour_old;
    {
      RawDb raw(path);
      raw_total = count(raw, "SELECT count(*) FROM raw");
      minute_total = count(raw, "SELECT count(*) FROM minute");
      five_total = count(raw, "SELECT count(*) FROM five_minute");
      five_old = count(raw, "SELECT count(*) FROM five_minute WHERE t_ms + 300000 <= " +
                                std::to_string(agg_before));
      hour_total = count(raw, "SELECT count(*) FROM hour");
      raw_old = count(raw, "SELECT count(*) FROM raw WHERE t_ms < " + std::to_string(raw_before));
      minute_old = count(
          raw, "SELECT count(*) FROM minute WHERE t_ms + 60000 <= " + std::to_string(agg_before));
      hour_old = count(
          raw, "SELECT count(*) FROM hour WHERE t_ms + 3600000 <= " + std::to_string(agg_before));
    }
    assert_int_equal(raw_total, 2 * 3600);
    assert_int_equal(minute_total, 2 * 600);
    assert_int_equal(five_total, 2 * 120);
    assert_int_equal(five_old, 2 * 84);
    assert_int_equal(hour_total, 2 * 10);
    assert_int_equal(raw_old, 2 * (4 * 360 + 1));
    assert_int_equal(minute_old, 2 * 420);
    assert_int_equal(hour_old, 2 * 7);
    RetentionStats stats;
    ok(db->enforce_retention({raw_before, agg_before, 0, 64}, &stats));
    assert_int_equal(stats.raw_age, raw_old);
    assert_int_equal(stats.minute_age, minute_old);
    assert_int_equal(stats.five_minute_age, five_old);
    assert_int_equal(stats.hour_age, hour_old);
    assert_int_equal(stats.raw_size + stats.minute_size + stats.five_minute_size + stats.hour_size,
                     0);
    assert_int_equal(stats.series, 0);
    RawDb raw(path);
    assert_int_equal(count(raw, "SELECT count(*) FROM raw"), raw_total - raw_old);
    assert_int_equal(count(raw, "SELECT min(t_ms) FROM raw"), base + 4 * kHour + 10000);
    assert_int_equal(count(raw, "SELECT count(*) FROM minute"), minute_total - minute_old);
    assert_int_equal(count(raw, "SELECT min(t_ms) FROM minute"), base + 7 * kHour);
    assert_int_equal(count(raw, "SELECT count(*) FROM five_minute"), five_total - five_old);
    assert_int_equal(count(raw, "SELECT min(t_ms) FROM five_minute"), base + 7 * kHour);
    assert_int_equal(count(raw, "SELECT count(*) FROM hour"), hour_total - hour_old);
    assert_int_equal(count(raw, "SELECT min(t_ms) FROM hour"), base + 7 * kHour);
    // Everything old: the series, now empty, are forgotten.
    ok(db->enforce_retention({base + 11 * kHour, base + 11 * kHour, 0, 64}, &stats));
    assert_int_equal(stats.series, 2);
    assert_int_equal(db->series_count(), 0);
    assert_int_equal(count(raw, "SELECT count(*) FROM series"), 0);
  }
}

// A file of schema 1 (no five_minute table) is upgraded in place when the
// writer opens it: the table is rebuilt from the minutes, exactly as
// writing the points would have made it.
void schema_1_file_gains_five_minute_buckets(void**) {
  TempDir dir;
  std::string path = dir.file("history.db");
  int64_t base = 1714564800000 + 2 * kMinute;  // not on a 5-minute boundary
  std::mt19937_64 rng(7);
  std::vector<Point> points;
  for (int64_t t = base; t < base + 3 * kHour; t += 7000) {
    points.push_back(point("a", t, {{"cpu", static_cast<double>(rng() % 1000) / 10.0}}));
  }
  const std::string rows =
      "SELECT group_concat(series || ':' || t_ms || ':' || min || ':' || max || ':' || sum || "
      "':' || count || ':' || last || ':' || last_t, ';') FROM (SELECT * FROM five_minute ORDER "
      "BY series, t_ms)";
  auto text = [&](RawDb& raw) {
    sqlite3_stmt* s = nullptr;
    assert_int_equal(sqlite3_prepare_v2(raw.db, rows.c_str(), -1, &s, nullptr), SQLITE_OK);
    assert_int_equal(sqlite3_step(s), SQLITE_ROW);
    std::string out(reinterpret_cast<const char*>(sqlite3_column_text(s, 0)));
    sqlite3_finalize(s);
    return out;
  };
  std::string written;
  {
    auto db = open_db(path);
    write_points(*db, points);
  }
  {
    RawDb raw(path);
    written = text(raw);
    assert_true(raw.scalar("SELECT count(*) FROM five_minute") == 37);
    char* err = nullptr;
    assert_int_equal(sqlite3_exec(raw.db,
                                  "DROP TABLE five_minute; UPDATE meta SET value = '1' "
                                  "WHERE key = 'schema_version'",
                                  nullptr, nullptr, &err),
                     SQLITE_OK);
  }
  HistoryOpenReport report;
  auto db = open_db(path, false, &report);
  assert_true(report.moved_to.empty());
  assert_int_equal(report.upgraded_from, 1);
  RawDb raw(path);
  assert_int_equal(raw.scalar("SELECT value FROM meta WHERE key = 'schema_version'"), 2);
  assert_string_equal(text(raw).c_str(), written.c_str());
}

void size_cap_deletes_the_oldest_first(void**) {
  TempDir dir;
  std::string path = dir.file("history.db");
  int64_t base = 1714564800000;
  auto db = open_db(path);
  for (int d = 0; d < 20; ++d) {
    std::vector<Point> points;
    for (int64_t t = base; t < base + 24 * kHour; t += 10000) {
      points.push_back(point("dev-" + std::to_string(d), t, {{"cpu", 1.5}, {"memory", 2.5}}));
    }
    write_points(*db, points);
  }
  int64_t used = db->used_bytes();
  int64_t file = db->file_bytes();
  assert_true(used > 8 * 1024 * 1024);
  RetentionStats stats;
  int64_t cap = used / 3;
  ok(db->enforce_retention({0, 0, cap, 64}, &stats));
  print_message("used %lld -> %lld (cap %lld), raw deleted %lld\n", (long long)used,
                (long long)db->used_bytes(), (long long)cap, (long long)stats.raw_size);
  assert_true(db->used_bytes() <= cap);
  assert_false(stats.over_size);
  assert_true(stats.raw_size > 0);
  assert_int_equal(stats.minute_size, 0);
  assert_int_equal(stats.raw_age, 0);
  {
    RawDb raw(path);
    assert_true(count(raw, "SELECT min(t_ms) FROM raw") > base);
    assert_int_equal(count(raw, "SELECT max(t_ms) FROM raw"), base + 24 * kHour - 10000);
    assert_int_equal(count(raw, "SELECT min(t_ms) FROM minute"), base);
  }
  // The freed pages went back to the file system.
  WriteStats none;
  ok(db->write("", {}, {}, &none));
  assert_true(db->file_bytes() < file);
  // A cap below what the aggregates need deletes raw rows, then minutes.
  ok(db->enforce_retention({0, 0, 1024 * 1024, 64}, &stats));
  assert_true(db->used_bytes() <= 1024 * 1024);
  assert_true(stats.minute_size > 0);
  RawDb raw(path);
  assert_int_equal(count(raw, "SELECT count(*) FROM raw"), 0);
}

// ---- bounds ----

// The writer's page cache follows the series kept: an agent writing a few
// series for days keeps a few hundred KiB, not the cap a hub needs, and
// a hub's grows with its series up to that cap.
void writer_cache_follows_the_series_kept(void**) {
  TempDir dir;
  std::string error;
  constexpr int64_t kCapKib = 8192;
  constexpr int64_t kPerSeriesKib = 20;
  auto db = HistoryDb::open({dir.file("history.db"), false, kCapKib, 1000, kPerSeriesKib}, nullptr,
                            &error);
  if (!db) fail_msg("open: %s", error.c_str());
  // Two series for a week at 10 s: a 4 MiB file, every page of which goes
  // through the writer (a fixed 8 MiB cache kept all of it, 4,450 KiB).
  int64_t base = 1714564800000;
  for (int64_t day = 0; day < 7; ++day) {
    std::vector<Point> points;
    for (int64_t t = base + day * 24 * kHour; t < base + (day + 1) * 24 * kHour; t += 10000) {
      points.push_back(point("agent", t, {{"cpu", 1.5}, {"memory", 2.5}}));
    }
    write_points(*db, points);
  }
  assert_true(db->used_bytes() > 4 * 1024 * 1024);
  int64_t few = db->cache_bytes();
  print_message("2 series: cache %lld KiB, file %lld KiB\n", (long long)few / 1024,
                (long long)db->used_bytes() / 1024);
  // The floor and two series' share, with SQLite's per-page overhead.
  assert_true(few <= (256 + 2 * kPerSeriesKib) * 1024 * 5 / 4);
  // 500 series: the share outgrows the cap, which then holds.
  for (int round = 0; round < 40; ++round) {
    std::vector<Point> points;
    for (int d = 0; d < 250; ++d) {
      for (int64_t t = base + round * kHour; t < base + (round + 1) * kHour; t += 600000) {
        points.push_back(point("hub-" + std::to_string(d), t, {{"cpu", 1.5}, {"memory", 2.5}}));
      }
    }
    write_points(*db, points);
  }
  int64_t many = db->cache_bytes();
  print_message("502 series: cache %lld KiB\n", (long long)many / 1024);
  assert_true(many > 4 * few);
  assert_true(many <= kCapKib * 1024 * 5 / 4);
}

void max_series_is_enforced_and_counted(void**) {
  TempDir dir;
  Loop l;
  History h(&l.loop);
  config::HistorySection c = history_config();
  c.max_series = 3;
  h.start(c, dir.file("history.db"), std::chrono::minutes(5));
  int64_t t = unix_now_ms() - 60000;
  std::vector<Point> points;
  for (int i = 0; i < 10; ++i) {
    points.push_back(point("a", t + i * 1000,
                           {{"f1", 1.0}, {"f2", 2.0}, {"f3", 3.0}, {"f4", 4.0}, {"f5", 5.0}}));
  }
  h.add(points);
  flush(l, h);
  assert_int_equal(h.report().series, 3);
  assert_int_equal(h.report().written, 30);
  assert_int_equal(h.report().dropped.max_series, 20);
  assert_contains(metrics_text(h),
                  "edgemon_history_dropped_points_total{reason=\"max_series\"} 20\n");
  assert_contains(metrics_text(h), "edgemon_history_series 3\n");
  stop(l, h);
}

// Pages in use, as retention and the write budget count them.
int64_t used_bytes(RawDb& raw) {
  return (raw.scalar("PRAGMA page_count") - raw.scalar("PRAGMA freelist_count")) *
         raw.scalar("PRAGMA page_size");
}

// A client inventing series (and devices) while the file is near
// history.max_bytes: its new series stop where the file would pass the cap,
// every value refused is counted, the series stored before keep receiving
// values, and retention then has nothing to delete -- the flood evicts
// nothing that was there.
void max_bytes_refuses_new_series_not_stored_ones(void**) {
  TempDir dir;
  std::string path = dir.file("history.db");
  Loop l;
  History h(&l.loop);
  config::HistorySection c = history_config();
  constexpr int64_t kCap = 1024 * 1024;
  c.max_bytes = config::ByteSize(kCap);
  c.max_series = 1000000;  // the cap, not the series bound, must stop it
  h.start(c, path, std::chrono::minutes(5));
  // Legitimate: 3 devices x 4 fields, 2 h of points every 10 s.
  int64_t now = unix_now_ms();
  int64_t t0 = (now - 3 * kHour) / kMinute * kMinute;
  auto legit = [&](int64_t t) {
    std::vector<Point> points;
    for (int d = 0; d < 3; ++d) {
      points.push_back(point("dev-" + std::to_string(d), t,
                             {{"cpu", 1.5}, {"memory", 2.5}, {"disk", 3.5}, {"temp", 4.5}}));
    }
    return points;
  };
  for (int64_t t = t0; t < t0 + 2 * kHour; t += 10000)
    h.add(legit(t));
  flush(l, h);
  constexpr int64_t kLegitPoints = 2 * 360;
  assert_int_equal(h.report().written, kLegitPoints * 12);
  assert_int_equal(h.report().series, 12);
  int64_t legit_minutes = 0;
  {
    RawDb raw(path);
    assert_true(used_bytes(raw) < kCap / 2);
    legit_minutes = count(raw, "SELECT count(*) FROM minute");
    assert_int_equal(legit_minutes, 12 * 120);
  }

  // The flood: every point a new device and a new series, in batches of
  // 2000 (about a megabyte of file each), each with the legitimate devices'
  // latest points among them.
  constexpr int kRounds = 12;
  constexpr int kPerRound = 2000;
  int64_t peak = 0;
  for (int r = 0; r < kRounds; ++r) {
    int64_t t = t0 + 2 * kHour + r * 10000;
    std::vector<Point> points = legit(t);
    for (int i = 0; i < kPerRound; ++i) {
      std::string name = "evil-" + std::to_string(r) + "-" + std::to_string(i);
      points.push_back(point(name, t, {{"x", 1.0}}, {{"tag", name + "-padding-padding"}}));
    }
    h.add(points);
    flush(l, h);
    RawDb raw(path);
    peak = std::max(peak, used_bytes(raw));
  }
  print_message("cap %lld, peak used %lld, series %lld, refused %llu\n", (long long)kCap,
                (long long)peak, (long long)h.report().series,
                (unsigned long long)h.report().dropped.max_bytes);
  // The bound held before each write, not after: the file never passed it
  // (newcomers stop within the budget's page slack of it, 64 KiB, plus what
  // the estimates left over).
  assert_true(peak <= kCap);
  assert_true(peak > kCap - 256 * 1024);
  // Some newcomers fit below the cap (it is not refusing everything), far
  // from all of them did.
  int64_t admitted = h.report().series - 12;
  assert_true(admitted > 100);
  assert_true(admitted < kRounds * kPerRound / 4);
  // Every value refused is counted, under its own reason.
  assert_int_equal(h.report().dropped.max_bytes, kRounds * kPerRound - admitted);
  assert_int_equal(h.report().dropped.max_series, 0);
  assert_int_equal(h.report().dropped.queue_full, 0);
  assert_true(h.report().refusing_new_series);
  std::string refused_line = "edgemon_history_dropped_points_total{reason=\"max_bytes\"} " +
                             std::to_string(kRounds * kPerRound - admitted) + "\n";
  assert_contains(metrics_text(h), refused_line);
  // The stored series received every value during the flood, and still do.
  for (int r = 0; r < 3; ++r)
    h.add(legit(t0 + 2 * kHour + (kRounds + r) * 10000));
  flush(l, h);
  int64_t legit_values = (kLegitPoints + kRounds + 3) * 12;
  int64_t evil_devices = 0;
  {
    RawDb raw(path);
    assert_int_equal(count(raw,
                           "SELECT count(*) FROM raw JOIN series ON series.id = raw.series "
                           "WHERE series.device LIKE 'dev-%'"),
                     legit_values);
    assert_int_equal(count(raw, "SELECT count(*) FROM series WHERE device LIKE 'evil-%'"),
                     admitted);
    // New devices stop at the cap as well.
    evil_devices = count(raw, "SELECT count(*) FROM devices WHERE device LIKE 'evil-%'");
    assert_true(evil_devices < kRounds * kPerRound / 4);
    assert_true(used_bytes(raw) <= kCap);
  }
  assert_int_equal(h.devices().size(), 3 + kRounds * kPerRound);
  // Retention after the flood finds the file within its cap: no row stored
  // before the flood is deleted to make room for it.
  bool done = false;
  h.enforce_retention([&] { done = true; });
  l.run();
  assert_true(done);
  const HistoryDeleted& deleted = h.report().deleted;
  assert_int_equal(deleted.raw_max_bytes + deleted.minute_max_bytes +
                       deleted.five_minute_max_bytes + deleted.hour_max_bytes,
                   0);
  assert_false(h.report().over_size);
  {
    RawDb raw(path);
    assert_int_equal(count(raw,
                           "SELECT count(*) FROM raw JOIN series ON series.id = raw.series "
                           "WHERE series.device LIKE 'dev-%'"),
                     legit_values);
    assert_int_equal(count(raw,
                           "SELECT min(t_ms) FROM raw JOIN series ON series.id = raw.series "
                           "WHERE series.device LIKE 'dev-%'"),
                     t0);
    assert_true(count(raw,
                      "SELECT count(*) FROM minute JOIN series ON series.id = minute.series "
                      "WHERE series.device LIKE 'dev-%'") >= legit_minutes);
  }
  stop(l, h);
}

void queue_bound_drops_are_counted(void**) {
  TempDir dir;
  Loop l;
  History h(&l.loop);
  config::HistorySection c = history_config();
  c.max_queue_bytes = config::ByteSize(64 * 1024);
  h.start(c, dir.file("history.db"), std::chrono::minutes(5));
  int64_t t = unix_now_ms() - 600000;
  std::vector<Point> points;
  for (int i = 0; i < 5000; ++i) {
    points.push_back(point("a", t + i, {{"cpu", 1.0}, {"memory", 2.0}}, {{"host", "h"}}));
  }
  // The loop does not run meanwhile: nothing leaves the queue.
  h.add(points);
  assert_true(h.report().dropped.queue_full > 0);
  assert_true(h.queue_bytes() <= 64 * 1024);
  assert_true(h.queue_bytes() > 60 * 1024);
  flush(l, h);
  assert_int_equal(h.report().written + h.report().dropped.queue_full, 2 * 5000);
  assert_int_equal(h.queue_bytes(), 0);
  std::string expected = "edgemon_history_dropped_points_total{reason=\"queue_full\"} " +
                         std::to_string(h.report().dropped.queue_full) + "\n";
  assert_contains(metrics_text(h), expected);
  // Devices are counted whatever history could keep.
  assert_int_equal(h.devices().devices().at("a").points, 5000);
  stop(l, h);
}

void strings_and_non_finite_values_are_not_kept(void**) {
  TempDir dir;
  Loop l;
  History h(&l.loop);
  h.start(history_config(), dir.file("history.db"), std::chrono::minutes(5));
  int64_t t = unix_now_ms() - 60000;
  h.add(std::vector<Point>{point("a", t, {{"s", std::string("x")}, {"n", NAN}, {"v", 1.0}}),
                           point("", t, {{"v", uint64_t{7}}})});
  flush(l, h);
  assert_int_equal(h.report().written, 2);
  assert_int_equal(h.report().dropped.non_finite, 1);
  assert_true(h.devices().devices().count("unknown") == 1);
  stop(l, h);
}

// ---- files ----

void corrupt_file_is_moved_aside(void**) {
  TempDir dir;
  std::string path = dir.file("history.db");
  std::string garbage;
  for (int i = 0; i < 65536; ++i)
    garbage.push_back(static_cast<char>((i * 7919 + 13) & 0xff));
  std::ofstream(path, std::ios::binary) << garbage;
  Loop l;
  History h(&l.loop);
  h.start(history_config(), path, std::chrono::minutes(5));
  h.add(std::vector<Point>{point("a", unix_now_ms(), {{"cpu", 1.0}})});
  flush(l, h);
  assert_int_equal(h.report().corrupt_files, 1);
  assert_true(h.report().open);
  assert_int_equal(h.report().written, 1);
  std::ifstream moved(h.report().moved_to, std::ios::binary);
  std::string kept((std::istreambuf_iterator<char>(moved)), {});
  assert_true(kept == garbage);
  assert_contains(metrics_text(h), "edgemon_history_corrupt_files_total 1\n");
  stop(l, h);

  // Another application's database is moved aside too.
  std::filesystem::remove(path);
  {
    RawDb raw(path);
    raw.scalar("CREATE TABLE photos (id INTEGER PRIMARY KEY)");
  }
  HistoryOpenReport report;
  auto db = open_db(path, false, &report);
  assert_contains(report.corrupt_reason, "no table");
  assert_true(report.created);
}

void devices_survive_a_restart(void**) {
  TempDir dir;
  std::string path = dir.file("history.db");
  int64_t t = unix_now_ms();
  int64_t first_seen = 0;
  {
    Loop l;
    History h(&l.loop);
    h.start(history_config(), path, std::chrono::minutes(5));
    h.add(std::vector<Point>{point("d1", t, {{"cpu", 1.0}}, {{"zone", "a"}}),
                             point("d1", t + 1, {{"cpu", 1.0}}, {{"zone", "a"}}),
                             point("d2", t, {{"cpu", 1.0}})});
    first_seen = h.devices().devices().at("d1").first_seen_ms;
    stop(l, h);
  }
  Loop l;
  History h(&l.loop);
  h.start(history_config(), path, std::chrono::minutes(5));
  // Counted before the stored devices were loaded: added to them.
  h.add(std::vector<Point>{point("d1", t + 2, {{"cpu", 1.0}}, {{"zone", "b"}})});
  flush(l, h);
  const auto& devices = h.devices().devices();
  assert_int_equal(devices.size(), 2);
  assert_int_equal(devices.at("d1").points, 3);
  assert_int_equal(devices.at("d2").points, 1);
  assert_int_equal(devices.at("d1").first_seen_ms, first_seen);
  assert_string_equal(devices.at("d1").tags.at(0).value.c_str(), "b");
  stop(l, h);
  RawDb raw(path);
  assert_int_equal(raw.scalar("SELECT points FROM devices WHERE device = 'd1'"), 3);
}

// The registry holds a bounded share of a device's tags and forgets devices
// that nothing is kept of any longer, in memory and in the file.
void devices_are_bounded_and_forgotten(void**) {
  std::vector<metrics::Tag> tags;
  for (int i = 0; i < 40; ++i)
    tags.push_back({"t" + std::to_string(100 + i), std::string(60, 'x')});
  std::vector<Point> points = {point("big", 1, {{"cpu", 1.0}}, tags)};
  std::vector<DeviceSighting> seen = sightings(points);
  size_t bytes = 0;
  for (const auto& t : seen.at(0).tags)
    bytes += t.key.size() + t.value.size();
  assert_true(bytes <= kMaxDeviceTagBytes);
  assert_int_equal(seen.at(0).tags.size(), kMaxDeviceTagBytes / 64);  // "t1NN" + 60
  assert_string_equal(seen.at(0).tags.at(0).key.c_str(), "t100");     // key order kept

  DeviceRegistry registry;
  registry.observe({"old", {}, 1}, 1000);
  registry.observe({"new", {}, 1}, 5000);
  assert_true(registry.has_dirty());
  assert_int_equal(registry.forget_before(2000), 1);
  assert_int_equal(registry.size(), 1);
  assert_int_equal(registry.take_dirty().size(), 1);  // a forgotten device is not persisted

  TempDir dir;
  std::string path = dir.file("history.db");
  HistoryOpenReport report;
  auto db = open_db(path, false, &report);
  std::vector<DeviceRow> rows = {{"old", "{}", 1000, 1000, 1}, {"new", "{}", 1000, 5000, 1}};
  WriteStats none;
  ok(db->write("", rows, {}, &none));
  RetentionStats stats;
  ok(db->enforce_retention({0, 2000, 0, 64}, &stats));
  assert_int_equal(stats.devices, 1);
  std::vector<DeviceRow> left;
  ok(db->load_devices(&left));
  assert_int_equal(left.size(), 1);
  assert_string_equal(left.at(0).device.c_str(), "new");
}

void disabled_history_keeps_devices_in_memory(void**) {
  TempDir dir;
  Loop l;
  History h(&l.loop);
  config::HistorySection c = history_config();
  c.enabled = false;
  h.start(c, dir.file("history.db"), std::chrono::minutes(5));
  h.add(std::vector<Point>{point("d1", unix_now_ms(), {{"cpu", 1.0}})});
  flush(l, h);
  assert_int_equal(h.devices().size(), 1);
  assert_false(std::filesystem::exists(dir.file("history.db")));
  assert_int_equal(h.queue_bytes(), 0);
  api::HistoryEndpoints endpoints(h);
  http::Request request;
  http::Response response;
  endpoints.history(request, response);
  assert_int_equal(response.status, 503);
  http::Response devices;
  endpoints.devices(request, devices);
  assert_int_equal(devices.status, 200);
  std::string body;
  for (const auto& part : devices.body)
    body += *part;
  assert_contains(body, "\"device\":\"d1\"");
  assert_contains(body, "\"active\":true");
  stop(l, h);
}

// ---- over HTTP ----

struct Exchange {
  std::string path;
  http_test::HttpResponse response;
};

void endpoints_over_http(void**) {
  TempDir dir;
  Loop l;
  History h(&l.loop);
  h.start(history_config(), dir.file("history.db"), std::chrono::minutes(5));
  int64_t now = unix_now_ms();
  std::vector<Point> points;
  for (int i = 0; i < 360; ++i) {  // the last hour, every 10 s
    int64_t t = now - 3600000 + i * 10000;
    points.push_back(point("d1", t, {{"cpu", 10.0}, {"memory", 40.0}}, {{"zone", "z"}}));
    points.push_back(point("d2", t, {{"cpu", 30.0}, {"memory", 60.0}}));
  }
  h.add(points);
  flush(l, h);

  http::Router router;
  api::HistoryEndpoints endpoints(h);
  endpoints.add_routes(router);
  http::Server server(&l.loop, http_test::base_config(), router);
  ok(server.listen());
  int port = http_test::port_of(server.listening().at(0));
  uv_async_t async;
  async.data = &server;
  uv_async_init(&l.loop, &async,
                [](uv_async_t* a) { static_cast<http::Server*>(a->data)->shutdown([] {}); });
  uv_unref(reinterpret_cast<uv_handle_t*>(&async));
  std::vector<Exchange> exchanges = {
      {"/history?device=d1&field=cpu&limit=5", {}},
      {"/avg_usage?metric=cpu&range=2h", {}},
      {"/avg_usage?metric=memory&device=d2&range=1h", {}},
      {"/metrics_usage?metric=cpu&step=15m&range=1h", {}},
      {"/devices", {}},
      {"/history?from=last+week", {}},
      {"/avg_usage?metric=cpu&bogus=1", {}},
      {"/avg_usage?resource=cpu&range=2", {}},
      {"/metrics_usage?resource=mem&device=d2&range=1", {}},
  };
  std::thread client([&] {
    for (Exchange& e : exchanges) {
      http_test::Client c(port);
      if (c.send(http_test::get(e.path))) e.response = c.response();
    }
    uv_async_send(&async);
  });
  l.run();
  client.join();
  uv_close(reinterpret_cast<uv_handle_t*>(&async), nullptr);
  for (const Exchange& e : exchanges)
    print_message("%s -> %d %.300s\n", e.path.c_str(), e.response.status, e.response.body.c_str());
  const auto& hist = exchanges[0].response;
  assert_int_equal(hist.status, 200);
  assert_contains(hist.body, "\"count\":5,\"truncated\":true");
  assert_contains(hist.body, "\"tags\":{\"zone\":\"z\"}");
  assert_contains(hist.body,
                  "\"device\":\"d1\",\"measurement\":\"system_metrics\",\"field\":\"cpu\"");
  std::string newest = "\"time\":\"" + api::format_time(now - 3600000 + 359 * 10000) + "\"";
  assert_contains(hist.body, newest);
  const auto& avg = exchanges[1].response;
  assert_int_equal(avg.status, 200);
  assert_contains(avg.body, "\"average\":20,\"samples\":720");
  assert_contains(avg.body, "{\"device\":\"d1\",\"average\":10,\"samples\":360}");
  assert_contains(exchanges[2].response.body, "\"average\":60,\"samples\":360,\"devices\":[{");
  const auto& series = exchanges[3].response;
  assert_int_equal(series.status, 200);
  assert_contains(series.body, "\"step\":\"15m\"");
  assert_contains(series.body, "\"avg\":30,\"min\":30,\"max\":30,\"count\":90");
  const auto& devices = exchanges[4].response;
  assert_contains(devices.body, "\"count\":2,\"active\":2");
  assert_contains(devices.body, "\"points\":360,\"active\":true");
  assert_int_equal(exchanges[5].response.status, 400);
  assert_contains(exchanges[5].response.body, "\"parameter\":\"from\"");
  assert_contains(exchanges[5].response.body,
                  "\"error\":\"parameter 'from': expected RFC 3339 or unix seconds\"");
  assert_int_equal(exchanges[6].response.status, 400);
  assert_contains(exchanges[6].response.body, "\"parameter\":\"bogus\"");
  // The metrics-collection system's shapes.
  assert_int_equal(exchanges[7].response.status, 200);
  assert_string_equal(exchanges[7].response.body.c_str(), "{\"average_cpu_usage\":20}\n");
  const auto& legacy = exchanges[8].response;
  assert_int_equal(legacy.status, 200);
  assert_contains(legacy.body, "{\"mem_usage\":[{\"");
  assert_contains(legacy.body, "\":60}");
  // Keyed "YYYY-mm-dd HH:MM:SS", one a minute, only minutes inside the hour
  // asked (widened to whole steps it was 61).
  size_t entries = 0;
  for (size_t at = legacy.body.find(":00\":"); at != std::string::npos;
       at = legacy.body.find(":00\":", at + 1))
    ++entries;
  if (entries < 58 || entries > 60) fail_msg("%zu one-minute entries in an hour", entries);
  std::string today = api::format_time(now).substr(0, 10) + " ";
  assert_contains(legacy.body, today);
  stop(l, h);
}

}  // namespace

int main() {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(points_written_then_queried_newest_first),
      cmocka_unit_test(a_query_writes_what_waited_over_a_second),
      cmocka_unit_test(pushed_points_are_written_within_a_second),
      cmocka_unit_test(aggregates_equal_a_computation_over_raw_points),
      cmocka_unit_test(retention_deletes_exactly_what_is_old),
      cmocka_unit_test(schema_1_file_gains_five_minute_buckets),
      cmocka_unit_test(size_cap_deletes_the_oldest_first),
      cmocka_unit_test(writer_cache_follows_the_series_kept),
      cmocka_unit_test(max_series_is_enforced_and_counted),
      cmocka_unit_test(max_bytes_refuses_new_series_not_stored_ones),
      cmocka_unit_test(queue_bound_drops_are_counted),
      cmocka_unit_test(strings_and_non_finite_values_are_not_kept),
      cmocka_unit_test(corrupt_file_is_moved_aside),
      cmocka_unit_test(devices_survive_a_restart),
      cmocka_unit_test(devices_are_bounded_and_forgotten),
      cmocka_unit_test(disabled_history_keeps_devices_in_memory),
      cmocka_unit_test(endpoints_over_http),
  };
  return cmocka_run_group_tests(tests, http_test::quiet_logs, nullptr);
}
