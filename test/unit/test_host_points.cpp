// Host metrics as InfluxDB points: PointWriter (grouping by label set, field
// names, histograms, common tags) and HostPoints::take over a real Scheduler
// with test collectors (each gather taken once, stragglers taken later,
// failures as edgemon_collector points).
#include <uv.h>

#include <algorithm>
#include <functional>
#include <memory>

#include "cmocka_all.hpp"
#include "metrics/line_protocol.hpp"
#include "metrics/point_writer.hpp"
#include "sources/host/host_points.hpp"
#include "sources/host/scheduler.hpp"

using namespace edgemon;
using metrics::FamilyDesc;
using metrics::Point;
using metrics::Tag;
using metrics::Type;

namespace {

constexpr int64_t kT = 1736847690000000000;

std::string lines(const std::vector<Point>& points) {
  metrics::LineProtocolEncoder encoder;
  std::string out;
  for (const Point& p : points)
    encoder.append(out, p);
  return out;
}

const Point* find_point(const std::vector<Point>& points, std::string_view measurement,
                        std::initializer_list<std::pair<std::string_view, std::string_view>> tags) {
  for (const Point& p : points) {
    if (p.measurement != measurement) continue;
    bool all = std::all_of(tags.begin(), tags.end(), [&](const auto& want) {
      return std::any_of(p.tags.begin(), p.tags.end(), [&](const Tag& t) {
        return t.key == want.first && t.value == want.second;
      });
    });
    if (all) return &p;
  }
  return nullptr;
}

double field(const Point& p, std::string_view key) {
  for (const auto& f : p.fields)
    if (f.key == key) return std::get<double>(f.value);
  fail_msg("point %s has no field %.*s", p.measurement.c_str(), static_cast<int>(key.size()),
           key.data());
  return 0;
}

// ---- PointWriter ----

void label_sets_become_points_and_families_fields(void**) {
  std::vector<Point> out;
  metrics::PointWriter w(&out);
  w.start("netdev", "node_", kT);
  w.begin({"node_network_receive_bytes_total", "", Type::kCounter});
  w.sample({{"device", "eth0"}}, 100);
  w.sample({{"device", "wlan0"}}, 7);
  w.begin({"node_network_transmit_bytes_total", "", Type::kCounter});
  w.sample({{"device", "wlan0"}}, 8);
  w.sample({{"device", "eth0"}}, 200);
  w.begin({"edgemon_other", "", Type::kGauge});  // no prefix to strip: kept whole
  w.sample({{"device", "eth0"}}, 0.5);
  assert_int_equal(out.size(), 2);
  assert_string_equal(lines(out).c_str(),
                      "netdev,device=eth0 network_receive_bytes_total=100,"
                      "network_transmit_bytes_total=200,edgemon_other=0.5 1736847690000000000\n"
                      "netdev,device=wlan0 network_receive_bytes_total=7,"
                      "network_transmit_bytes_total=8 1736847690000000000\n");
}

void label_order_and_empty_values_do_not_split_points(void**) {
  std::vector<Point> out;
  metrics::PointWriter w(&out);
  w.start("cpu", "node_", kT);
  w.begin({"node_a", "", Type::kGauge});
  w.sample({{"cpu", "0"}, {"mode", "idle"}}, 1);
  w.sample({{"x", ""}}, 3);
  w.begin({"node_b", "", Type::kGauge});
  w.sample({{"mode", "idle"}, {"cpu", "0"}}, 2);
  w.sample(4);
  assert_int_equal(out.size(), 2);
  assert_string_equal(lines(out).c_str(),
                      "cpu,cpu=0,mode=idle a=1,b=2 1736847690000000000\n"
                      "cpu a=3,b=4 1736847690000000000\n");
}

void a_repeated_label_set_overwrites_its_field(void**) {
  std::vector<Point> out;
  metrics::PointWriter w(&out);
  w.start("filesystem", "node_", kT);
  w.begin({"node_filesystem_size_bytes", "", Type::kGauge});
  w.sample({{"mountpoint", "/"}}, 1);
  w.sample({{"mountpoint", "/"}}, 2);
  assert_int_equal(out.size(), 1);
  assert_int_equal(out[0].fields.size(), 1);
  assert_true(field(out[0], "filesystem_size_bytes") == 2);
}

void labels_clashing_with_common_tags_are_renamed(void**) {
  std::vector<Point> out;
  metrics::PointWriter w(&out);
  std::vector<Tag> common{{"device_id", "d1"}, {"host", "h"}, {"zone", "a"}};
  w.set_common_tags(common);
  w.start("thermal", "node_", kT);
  w.begin({"node_thermal_zone_temp", "", Type::kGauge});
  w.sample({{"type", "cpu-thermal"}, {"zone", "0"}}, 45.5);
  w.sample({{"type", "gpu-thermal"}, {"zone", "1"}}, 43);
  w.sample(2);
  assert_string_equal(
      lines(out).c_str(),
      "thermal,device_id=d1,exported_zone=0,host=h,type=cpu-thermal,zone=a "
      "thermal_zone_temp=45.5 1736847690000000000\n"
      "thermal,device_id=d1,exported_zone=1,host=h,type=gpu-thermal,zone=a "
      "thermal_zone_temp=43 1736847690000000000\n"
      "thermal,device_id=d1,host=h,zone=a thermal_zone_temp=2 1736847690000000000\n");
}

// The instance tag `source` gives way to a family's own `source` label (the
// power families' kind of meter), as /metrics does; other clashes rename.
void a_series_own_source_label_replaces_the_instance_tag(void**) {
  std::vector<Point> out;
  metrics::PointWriter w(&out);
  std::vector<Tag> common{{"device_id", "d1"}, {"source", "desk"}, {"zone", "a"}};
  w.set_common_tags(common);
  w.set_yielding_tag("source");
  w.start("shelly", "", kT);
  w.begin({"edge_power_watts", "", Type::kGauge});
  w.sample({{"device", "desk"}, {"rail", "switch:0"}, {"source", "shelly"}, {"zone", "z"}}, 12.5);
  w.begin({"edgemon_shelly_energy_resets_total", "", Type::kCounter});
  w.sample(1);
  assert_string_equal(lines(out).c_str(),
                      "shelly,device=desk,device_id=d1,exported_zone=z,rail=switch:0,"
                      "source=shelly,zone=a edge_power_watts=12.5 1736847690000000000\n"
                      "shelly,device_id=d1,source=desk,zone=a "
                      "edgemon_shelly_energy_resets_total=1 1736847690000000000\n");
}

void histogram_has_sum_count_and_a_point_per_bucket(void**) {
  std::vector<Point> out;
  metrics::PointWriter w(&out);
  w.start("http", "edgemon_", kT);
  w.begin({"edgemon_latency_seconds", "", Type::kHistogram});
  const double bounds[] = {0.005, 1};
  const uint64_t cumulative[] = {2, 5, 6};
  w.histogram(std::initializer_list<metrics::Label>{{"route", "/m"}}, bounds, cumulative, 3.25, 6);
  assert_string_equal(lines(out).c_str(),
                      "http,le=0.005,route=/m latency_seconds_bucket=2 1736847690000000000\n"
                      "http,le=1,route=/m latency_seconds_bucket=5 1736847690000000000\n"
                      "http,le=+Inf,route=/m latency_seconds_bucket=6 1736847690000000000\n"
                      "http,route=/m latency_seconds_sum=3.25,latency_seconds_count=6 "
                      "1736847690000000000\n");
}

void a_new_measurement_starts_new_points(void**) {
  std::vector<Point> out;
  metrics::PointWriter w(&out);
  w.start("a", "node_", kT);
  w.begin({"node_v", "", Type::kGauge});
  w.sample(1);
  w.start("b", "node_", kT + 1);
  w.begin({"node_v", "", Type::kGauge});
  w.sample(2);
  assert_int_equal(out.size(), 2);
  assert_string_equal(out[1].measurement.c_str(), "b");
  assert_true(out[1].time_ns == kT + 1);
}

// ---- HostPoints over a Scheduler ----

// Test collectors, registered next to the real ones; each test's scheduler
// disables the real ones. A gather of "zz_slow" completes only when the test
// calls the stored `ready`.
struct TestState {
  int fast_runs = 0;
  bool fail = false;
  std::function<void(std::string)> slow_ready;
  int slow_value = 0;
  int fast_built = 0;
  int slow_built = 0;
} state;

class FastCollector final : public collect::SyncCollector {
 public:
  std::string gather_now(const collect::CollectContext&) override {
    ok_ = !state.fail;
    if (!ok_) return "told to fail";
    value_ = ++state.fast_runs;
    return "";
  }
  void write(metrics::MetricSink& sink) const override {
    if (!ok_) return;
    sink.begin({"node_fast_value", "", Type::kGauge});
    sink.sample({{"dev", "a"}}, value_);
    sink.sample({{"dev", "b"}}, value_ * 10);
  }

 private:
  bool ok_ = false;
  double value_ = 0;
};

class SlowCollector final : public collect::Collector {
 public:
  void gather(const collect::CollectContext&, std::function<void(std::string)> ready) override {
    state.slow_ready = [this, ready = std::move(ready)](std::string error) {
      value_ = ++state.slow_value;
      ready(std::move(error));
    };
  }
  void write(metrics::MetricSink& sink) const override {
    sink.begin({"node_slow_value", "", Type::kGauge});
    sink.sample(value_);
  }

 private:
  double value_ = 0;
};

const collect::Registration kFast{"zz_fast", [](const config::Config&, std::string*) {
                                    ++state.fast_built;
                                    return std::unique_ptr<collect::Collector>(new FastCollector);
                                  }};
const collect::Registration kSlow{"zz_slow", [](const config::Config&, std::string*) {
                                    ++state.slow_built;
                                    return std::unique_ptr<collect::Collector>(new SlowCollector);
                                  }};

struct Fixture {
  uv_loop_t loop;
  std::unique_ptr<collect::Scheduler> scheduler;
  int rounds = 0;

  explicit Fixture(bool with_slow) {
    state = TestState{};
    uv_loop_init(&loop);
    scheduler = std::make_unique<collect::Scheduler>(&loop);
    assert_string_equal(scheduler->configure(config(with_slow)).c_str(), "");
    scheduler->set_round_listener([this] { ++rounds; });
  }
  static std::shared_ptr<config::Config> config(bool with_slow) {
    auto config = std::make_shared<config::Config>();
    for (const auto& name : collect::registered_collector_names()) {
      if (name == "zz_fast" || (with_slow && name == "zz_slow")) continue;
      config->collect.disable.push_back(name);
    }
    return config;
  }
  ~Fixture() {
    scheduler.reset();
    uv_run(&loop, UV_RUN_NOWAIT);
    assert_int_equal(uv_loop_close(&loop), 0);
  }
  void round() {
    scheduler->run_once([] {});
  }
};

void each_gather_is_taken_once(void**) {
  Fixture f(false);
  collect::HostPoints points(std::vector<Tag>{{"device_id", "d1"}});
  f.round();
  assert_int_equal(f.rounds, 1);
  std::vector<Point> host;
  points.take(*f.scheduler, &host, nullptr);
  const Point* a = find_point(host, "zz_fast", {{"dev", "a"}, {"device_id", "d1"}});
  assert_non_null(a);
  assert_true(field(*a, "fast_value") == 1);
  const Point* b = find_point(host, "zz_fast", {{"dev", "b"}});
  assert_non_null(b);
  assert_true(field(*b, "fast_value") == 10);
  const auto& status = f.scheduler->statuses()[0];
  assert_true(a->time_ns == status.last_run_unix_ms * 1000000);
  assert_true(status.last_run_unix_ms > 0);
  const Point* health = find_point(host, "edgemon_collector", {{"collector", "zz_fast"}});
  assert_non_null(health);
  assert_true(field(*health, "success") == 1);
  assert_true(field(*health, "runs_total") == 1);
  assert_true(health->time_ns == a->time_ns);
  assert_int_equal(host.size(), 3);

  std::vector<Point> again;
  points.take(*f.scheduler, &again, nullptr);
  assert_int_equal(again.size(), 0);

  f.round();
  assert_int_equal(f.rounds, 2);
  points.take(*f.scheduler, &again, nullptr);
  a = find_point(again, "zz_fast", {{"dev", "a"}});
  assert_non_null(a);
  assert_true(field(*a, "fast_value") == 2);
}

// A reload keeps the collectors whose settings did not change, with their
// state and counts; a changed setting, or a gather in flight, rebuilds.
void reload_keeps_unchanged_collectors(void**) {
  Fixture f(true);
  f.round();
  state.slow_ready("");
  assert_int_equal(state.fast_built, 1);
  assert_int_equal(state.slow_built, 1);
  assert_string_equal(f.scheduler->configure(Fixture::config(true)).c_str(), "");
  assert_int_equal(state.fast_built, 1);
  assert_int_equal(state.slow_built, 1);
  assert_int_equal(f.scheduler->statuses()[0].runs, 1);
  f.round();
  assert_int_equal(f.scheduler->statuses()[0].runs, 2);
  // The slow one is in the middle of a gather: rebuilt; the fast one kept.
  assert_string_equal(f.scheduler->configure(Fixture::config(true)).c_str(), "");
  assert_int_equal(state.fast_built, 1);
  assert_int_equal(state.slow_built, 2);
  // Where they read from is part of every collector's settings.
  auto moved = Fixture::config(false);
  moved->collect.procfs = "/elsewhere/proc";
  assert_string_equal(f.scheduler->configure(moved).c_str(), "");
  assert_int_equal(state.fast_built, 2);
  assert_int_equal(f.scheduler->statuses().size(), 1);
  assert_int_equal(f.scheduler->statuses()[0].runs, 0);
}

void stragglers_are_taken_with_the_next_round(void**) {
  Fixture f(true);
  collect::HostPoints points;
  f.round();  // fast done, slow in flight: the round is not complete
  assert_int_equal(f.rounds, 0);
  assert_true(static_cast<bool>(state.slow_ready));
  auto first_slow = std::move(state.slow_ready);
  state.slow_ready = nullptr;

  f.round();  // slow is skipped, fast completes the round
  assert_int_equal(f.rounds, 1);
  std::vector<Point> host;
  points.take(*f.scheduler, &host, nullptr);
  assert_null(find_point(host, "zz_slow", {}));
  assert_null(find_point(host, "edgemon_collector", {{"collector", "zz_slow"}}));
  // Only fast's latest gather is there: the collector keeps no other.
  const Point* a = find_point(host, "zz_fast", {{"dev", "a"}});
  assert_non_null(a);
  assert_true(field(*a, "fast_value") == 2);

  first_slow("");  // the straggler reports after its round
  std::vector<Point> late;
  points.take(*f.scheduler, &late, nullptr);
  const Point* slow = find_point(late, "zz_slow", {});
  assert_non_null(slow);
  assert_true(field(*slow, "slow_value") == 1);
  assert_null(find_point(late, "zz_fast", {}));
  const Point* health = find_point(late, "edgemon_collector", {{"collector", "zz_slow"}});
  assert_non_null(health);
  assert_true(field(*health, "skipped_total") == 1);

  std::vector<Point> none;
  points.take(*f.scheduler, &none, nullptr);
  assert_int_equal(none.size(), 0);
}

void a_failed_gather_yields_only_its_health_point(void**) {
  Fixture f(false);
  collect::HostPoints points;
  state.fail = true;
  f.round();
  std::vector<Point> host;
  points.take(*f.scheduler, &host, nullptr);
  assert_int_equal(host.size(), 1);
  assert_string_equal(host[0].measurement.c_str(), "edgemon_collector");
  assert_true(field(host[0], "success") == 0);
  assert_true(field(host[0], "failures_total") == 1);
  assert_contains(lines(host), "edgemon_collector,collector=zz_fast ");
}

void reconfigure_keeps_the_taken_mark(void**) {
  Fixture f(false);
  collect::HostPoints points;
  f.round();
  std::vector<Point> host;
  points.take(*f.scheduler, &host, nullptr);
  auto config = std::make_shared<config::Config>();
  config->collect.disable = collect::registered_collector_names();
  config->collect.disable.erase(
      std::find(config->collect.disable.begin(), config->collect.disable.end(), "zz_fast"));
  assert_string_equal(f.scheduler->configure(config).c_str(), "");
  std::vector<Point> after;
  points.take(*f.scheduler, &after, nullptr);
  assert_int_equal(after.size(), 0);  // the new collector has not run yet
  f.round();
  points.take(*f.scheduler, &after, nullptr);
  assert_non_null(find_point(after, "zz_fast", {{"dev", "a"}}));
}

void common_tags_helper_orders_and_skips(void**) {
  config::StringMap global{{"zone", "a"}, {"location", "lab"}, {"host", "nope"}, {"empty", ""}};
  auto tags = collect::host_common_tags("d1", "box", global);
  assert_int_equal(tags.size(), 4);
  assert_string_equal(tags[0].key.c_str(), "device_id");
  assert_string_equal(tags[1].value.c_str(), "box");
  assert_string_equal(tags[2].key.c_str(), "location");
  assert_string_equal(tags[3].key.c_str(), "zone");
  collect::HostSchema schema;
  assert_true(collect::parse_host_schema("both", &schema));
  assert_true(schema.host && schema.system_metrics);
  assert_true(collect::parse_host_schema("system_metrics", &schema));
  assert_true(!schema.host && schema.system_metrics);
  assert_false(collect::parse_host_schema("Host", &schema));
}

}  // namespace

int main() {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(label_sets_become_points_and_families_fields),
      cmocka_unit_test(label_order_and_empty_values_do_not_split_points),
      cmocka_unit_test(a_repeated_label_set_overwrites_its_field),
      cmocka_unit_test(labels_clashing_with_common_tags_are_renamed),
      cmocka_unit_test(a_series_own_source_label_replaces_the_instance_tag),
      cmocka_unit_test(histogram_has_sum_count_and_a_point_per_bucket),
      cmocka_unit_test(a_new_measurement_starts_new_points),
      cmocka_unit_test(each_gather_is_taken_once),
      cmocka_unit_test(stragglers_are_taken_with_the_next_round),
      cmocka_unit_test(reload_keeps_unchanged_collectors),
      cmocka_unit_test(a_failed_gather_yields_only_its_health_point),
      cmocka_unit_test(reconfigure_keeps_the_taken_mark),
      cmocka_unit_test(common_tags_helper_orders_and_skips),
  };
  return cmocka_run_group_tests(tests, nullptr, nullptr);
}
