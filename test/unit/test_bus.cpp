// Snapshots replay exactly what was written into them; the latest-value
// registry merges families across sources, labels instances, and forgets a
// withdrawn source at once. The point channel hands every consumer the same
// points, carries what each prepared off the loop back to it, and answers a
// push once every consumer that makes points durable has, with the first
// error; a source's publication becomes points in the host schema.
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "bus/bus.hpp"
#include "bus/latest_registry.hpp"
#include "cmocka_all.hpp"
#include "loop_helpers.hpp"
#include "metrics/prometheus_text.hpp"
#include "metrics/snapshot.hpp"
#include "sources/own_points.hpp"

using namespace edgemon;

namespace {

void write_some(metrics::MetricSink& sink, double scale) {
  sink.begin({"demo_temperature_celsius", "A gauge.", metrics::Type::kGauge});
  sink.sample({{"zone", "cpu"}, {"type", "x86_pkg_temp"}}, 41.5 * scale);
  sink.sample({{"zone", "gpu"}, {"type", "acpitz"}}, 38 * scale);
  sink.begin({"demo_requests_total", "A counter.", metrics::Type::kCounter});
  sink.sample(12 * scale);
  sink.begin({"demo_latency_seconds", "A histogram.", metrics::Type::kHistogram});
  const double bounds[] = {0.1, 1};
  const uint64_t cumulative[] = {3, 5, 6};
  const metrics::Label a[] = {{"path", "/a"}};
  sink.histogram(a, bounds, cumulative, 4.25, 6);
  const double more_bounds[] = {0.5};
  const uint64_t more_cumulative[] = {1, 2};
  const metrics::Label b[] = {{"path", "/b"}};
  sink.histogram(b, more_bounds, more_cumulative, 0.75, 2);
}

std::string text_of(const metrics::Snapshot& s) {
  std::string out;
  metrics::PrometheusTextWriter w(out);
  s.replay(w);
  return out;
}

std::shared_ptr<const metrics::Snapshot> recorded(double scale) {
  metrics::SnapshotRecorder r;
  write_some(r, scale);
  return r.take();
}

void snapshot_replays_what_was_written(void**) {
  std::string direct;
  metrics::PrometheusTextWriter w(direct);
  write_some(w, 1);
  auto snapshot = recorded(1);
  assert_string_equal(text_of(*snapshot).c_str(), direct.c_str());
  assert_int_equal(snapshot->families(), 3);
  assert_int_equal(snapshot->samples(), 5);
  assert_true(snapshot->bytes() > 100);
}

void recorder_starts_afresh_after_take(void**) {
  metrics::SnapshotRecorder r;
  write_some(r, 1);
  auto first = r.take();
  r.begin({"only_this", "Alone.", metrics::Type::kGauge});
  r.sample(1);
  auto second = r.take();
  assert_int_equal(first->families(), 3);
  assert_int_equal(second->families(), 1);
  assert_string_equal(text_of(*second).c_str(),
                      "# HELP only_this Alone.\n# TYPE only_this gauge\nonly_this 1\n");
}

std::string registry_text(const bus::LatestRegistry& registry) {
  std::string out;
  metrics::PrometheusTextWriter w(out);
  registry.write(w);
  return out;
}

size_t count(const std::string& text, const char* what) {
  size_t n = 0;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1))
    ++n;
  return n;
}

void registry_merges_labels_and_withdraws(void**) {
  bus::Bus bus;
  bus::LatestRegistry registry;
  bus.subscribe([&](const bus::Publication& p) { registry.on_publication(p); });
  bus.publish({"demo", "b", 1, recorded(2), true});
  bus.publish({"demo", "a", 1, recorded(1), true});
  bus.publish({"host", "thermal", 1, recorded(3), false});
  std::string text = registry_text(registry);
  // One header per family, whatever the number of sources.
  assert_int_equal(count(text, "# TYPE demo_requests_total counter\n"), 1);
  assert_non_null(strstr(text.c_str(), "demo_requests_total{source=\"a\"} 12\n"));
  assert_non_null(strstr(text.c_str(), "demo_requests_total{source=\"b\"} 24\n"));
  // An unlabelled publication keeps its labels exactly.
  assert_non_null(strstr(text.c_str(), "demo_requests_total 36\n"));
  assert_non_null(
      strstr(text.c_str(), "demo_latency_seconds_bucket{path=\"/b\",source=\"a\",le=\"0.5\"} 1\n"));
  uint64_t before = registry.generation();
  size_t bytes = registry.bytes();
  bus.publish({"demo", "b", 2, nullptr, true});
  assert_true(registry.generation() > before);
  assert_true(registry.bytes() < bytes);
  text = registry_text(registry);
  assert_null(strstr(text.c_str(), "source=\"b\""));
  assert_int_equal(registry.sources(), 2);
  // Withdrawing what was never published changes nothing.
  before = registry.generation();
  bus.publish({"demo", "never", 3, nullptr, true});
  assert_int_equal(registry.generation(), before);
  assert_int_equal(bus.published(), 5);
}

void registry_leaves_out_a_family_of_another_type(void**) {
  bus::LatestRegistry registry;
  registry.on_publication({"demo", "a", 1, recorded(1), true});
  metrics::SnapshotRecorder r;
  r.begin({"demo_requests_total", "Now a gauge.", metrics::Type::kGauge});
  r.sample(99);
  registry.on_publication({"demo", "z", 1, r.take(), true});
  std::string text = registry_text(registry);
  assert_null(strstr(text.c_str(), "99"));
  assert_int_equal(registry.type_conflicts(), 1);
}

// Remembers what it was given; answers durability as told.
struct Consumer final : bus::PointConsumer {
  std::string name;
  bool durable_kind = false;
  bool answer_at_once = true;
  std::string error;  // answered when durable_kind
  std::vector<const metrics::Point*> own;
  std::vector<std::string> prepared_seen;  // what each take_ingested got
  std::vector<size_t> points_seen;         // and how many points with it
  bool wants_points = true;
  bool reads_points(const bus::Prepared&) const override { return wants_points; }
  std::vector<std::string>* order = nullptr;
  Durable held;

  void take_own(std::span<const metrics::Point> host,
                std::span<const metrics::Point> system_metrics) override {
    for (const auto& p : host)
      own.push_back(&p);
    for (const auto& p : system_metrics)
      own.push_back(&p);
  }
  Preparer ingest_preparer() const override {
    return [n = name](std::span<const metrics::Point> points) -> bus::Prepared {
      return std::make_shared<std::string>(n + ":" + std::to_string(points.size()));
    };
  }
  void take_ingested(std::span<const metrics::Point> points, bus::Prepared&& prepared,
                     const Durable& durable) override {
    auto* made = std::any_cast<std::shared_ptr<std::string>>(&prepared);
    prepared_seen.push_back(made ? **made : "(none)");
    points_seen.push_back(points.size());
    if (order) order->push_back(name);
    if (!durable_kind) return;
    if (answer_at_once) {
      durable(error);
    } else {
      held = durable;
    }
  }
  bool makes_durable() const override { return durable_kind; }
};

std::vector<metrics::Point> two_points() {
  return {{"cpu", {{"device_id", "a"}}, {{"usage", 1.5}}, 1},
          {"cpu", {{"device_id", "b"}}, {{"usage", 2.5}}, 2}};
}

void own_points_reach_every_consumer_once_made(void**) {
  bus::Bus bus;
  Consumer history, outputs;
  bus.add_consumer(history);
  bus.add_consumer(outputs);
  auto host = two_points();
  std::vector<metrics::Point> system = {{"system_metrics", {}, {{"cpu", 3.0}}, 3}};
  bus.publish_points(host, system);
  assert_int_equal(history.own.size(), 3);
  // The same objects, not copies: a point is made once.
  assert_ptr_equal(history.own[0], &host[0]);
  assert_ptr_equal(outputs.own[2], &system[0]);
  bus.publish_points({}, {});
  assert_int_equal(outputs.own.size(), 3);
}

void pushed_points_carry_each_consumers_preparation(void**) {
  bus::Bus bus;
  std::vector<std::string> order;
  Consumer history, outputs, pushed;
  history.name = "history";
  outputs.name = "outputs";
  outputs.durable_kind = true;
  pushed.name = "pushed";
  for (Consumer* c : {&history, &outputs, &pushed}) {
    c->order = &order;
    bus.add_consumer(*c);
  }
  auto points = two_points();
  auto prepared = bus.ingest_preparer()(points);
  assert_int_equal(prepared.size(), 3);
  std::vector<std::string> answers;
  bus.publish_ingested(std::vector<metrics::Point>(points), std::move(prepared),
                       [&](const std::string& e) {
                         answers.push_back("done:" + e);
                         order.push_back("answer");
                       });
  assert_string_equal(history.prepared_seen.at(0).c_str(), "history:2");
  assert_string_equal(outputs.prepared_seen.at(0).c_str(), "outputs:2");
  assert_string_equal(pushed.prepared_seen.at(0).c_str(), "pushed:2");
  // The durable consumer first, then the ones that keep points, then the
  // answer: the points it acknowledges are everywhere already.
  assert_int_equal(answers.size(), 1);
  assert_string_equal(answers[0].c_str(), "done:");
  assert_int_equal(order.size(), 4);
  assert_string_equal(order[0].c_str(), "outputs");
  assert_string_equal(order[1].c_str(), "history");
  assert_string_equal(order[2].c_str(), "pushed");
  assert_string_equal(order[3].c_str(), "answer");

  // Prepared for other consumers than these: each prepares nothing.
  bus.publish_ingested(std::vector<metrics::Point>(points), {},
                       [&](const std::string& e) { answers.push_back("done:" + e); });
  assert_string_equal(history.prepared_seen.at(1).c_str(), "(none)");
  assert_int_equal(answers.size(), 2);
}

void push_waits_for_every_durable_consumer_first_error_wins(void**) {
  bus::Bus bus;
  Consumer spool_a, spool_b, history;
  spool_a.durable_kind = spool_b.durable_kind = true;
  spool_a.answer_at_once = spool_b.answer_at_once = false;
  bus.add_consumer(spool_a);
  bus.add_consumer(history);
  bus.add_consumer(spool_b);
  auto points = two_points();
  std::vector<std::string> answers;
  bus.publish_ingested(std::vector<metrics::Point>(points), bus.ingest_preparer()(points),
                       [&](const std::string& e) { answers.push_back(e); });
  assert_int_equal(answers.size(), 0);
  spool_b.held("disk full");
  assert_int_equal(answers.size(), 0);
  spool_a.held("");
  assert_int_equal(answers.size(), 1);
  assert_string_equal(answers[0].c_str(), "disk full");
  // Answered "not stored": the history never saw them, so a retry is not
  // counted twice.
  assert_int_equal(history.prepared_seen.size(), 0);

  // Once every spool has them, the history gets them, before the answer.
  bus.publish_ingested(std::vector<metrics::Point>(points), bus.ingest_preparer()(points),
                       [&](const std::string& e) {
                         assert_int_equal(history.prepared_seen.size(), 1);
                         answers.push_back(e);
                       });
  spool_a.held("");
  assert_int_equal(history.prepared_seen.size(), 0);
  spool_b.held("");
  assert_int_equal(answers.size(), 2);
  assert_string_equal(answers[1].c_str(), "");
  assert_string_equal(history.prepared_seen.at(0).c_str(), ":2");
}

// Points cost several times their text: held while a spool commits only
// if a consumer behind it will read them.
void points_are_freed_early_unless_a_later_consumer_reads_them(void**) {
  bus::Bus bus;
  Consumer spool, history;
  spool.durable_kind = true;
  spool.answer_at_once = false;
  history.wants_points = false;
  bus.add_consumer(spool);
  bus.add_consumer(history);
  auto points = two_points();
  bus.publish_ingested(std::vector<metrics::Point>(points), bus.ingest_preparer()(points),
                       [](const std::string&) {});
  spool.held("");
  assert_int_equal(history.points_seen.at(0), 0);
  assert_string_equal(history.prepared_seen.at(0).c_str(), ":2");

  history.wants_points = true;
  bus.publish_ingested(std::vector<metrics::Point>(points), bus.ingest_preparer()(points),
                       [](const std::string&) {});
  spool.held("");
  assert_int_equal(history.points_seen.at(1), 2);

  // With a disposer the points go there to be freed (off the loop), once
  // the last consumer that reads them has: early when none does ...
  std::vector<size_t> disposed;
  bus.set_disposer([&](std::vector<metrics::Point>&& dead) { disposed.push_back(dead.size()); });
  history.wants_points = false;
  bus.publish_ingested(std::vector<metrics::Point>(points), bus.ingest_preparer()(points),
                       [](const std::string&) {});
  assert_int_equal(disposed.size(), 1);
  assert_int_equal(disposed[0], 2);
  spool.held("");
  assert_int_equal(history.points_seen.at(2), 0);
  // ... after the history took them when it reads them.
  history.wants_points = true;
  bus.publish_ingested(std::vector<metrics::Point>(points), bus.ingest_preparer()(points),
                       [&](const std::string&) { assert_int_equal(disposed.size(), 2); });
  assert_int_equal(disposed.size(), 1);
  spool.held("");
  assert_int_equal(history.points_seen.at(3), 2);
  assert_int_equal(disposed[1], 2);
}

void push_without_durable_consumers_is_answered_at_once(void**) {
  bus::Bus bus;
  Consumer history;
  bus.add_consumer(history);
  auto points = two_points();
  int answers = 0;
  bus.publish_ingested(std::vector<metrics::Point>(points), bus.ingest_preparer()(points),
                       [&](const std::string& e) {
                         assert_true(e.empty());
                         ++answers;
                       });
  assert_int_equal(answers, 1);
  assert_int_equal(history.prepared_seen.size(), 1);
}

bool has_tag(const metrics::Point& p, const char* key, const char* value) {
  for (const auto& t : p.tags) {
    if (t.key == key && t.value == value) return true;
  }
  return false;
}

void a_sources_publication_becomes_points_in_the_host_schema(void**) {
  test::TestLoop loop;
  collect::Scheduler scheduler(&loop.loop);
  bus::Bus bus;
  sources::OwnPoints own(scheduler, bus);
  own.set_common_tags({{"device_id", "edge-7"}, {"host", "box"}});
  Consumer outputs;
  bus.add_consumer(outputs);
  metrics::SnapshotRecorder r;
  r.begin({"ups_load_percent", "A gauge.", metrics::Type::kGauge});
  r.sample({{"outlet", "1"}}, 40);
  r.sample({{"outlet", "2"}}, 60);
  bus.publish({"exec", "ups", 1700000000123, r.take(), true});
  assert_int_equal(outputs.own.size(), 2);  // one point per label set
  const metrics::Point& first = *outputs.own[0];
  assert_string_equal(first.measurement.c_str(), "exec");
  assert_true(has_tag(first, "outlet", "1"));
  assert_int_equal(first.fields.size(), 1);
  assert_int_equal(first.time_ns, 1700000000123LL * 1000000);
  assert_true(has_tag(first, "device_id", "edge-7"));
  assert_true(has_tag(first, "source", "ups"));
  // A withdrawal has no points, and the host collectors' snapshots are
  // taken per round, not per publication.
  outputs.own.clear();
  bus.publish({"exec", "ups", 1700000000124, nullptr, true});
  bus.publish({std::string(collect::kHostKind), "cpu", 1700000000125, recorded(1), false});
  assert_int_equal(outputs.own.size(), 0);
}

}  // namespace

int main() {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(snapshot_replays_what_was_written),
      cmocka_unit_test(recorder_starts_afresh_after_take),
      cmocka_unit_test(registry_merges_labels_and_withdraws),
      cmocka_unit_test(registry_leaves_out_a_family_of_another_type),
      cmocka_unit_test(own_points_reach_every_consumer_once_made),
      cmocka_unit_test(pushed_points_carry_each_consumers_preparation),
      cmocka_unit_test(push_waits_for_every_durable_consumer_first_error_wins),
      cmocka_unit_test(points_are_freed_early_unless_a_later_consumer_reads_them),
      cmocka_unit_test(push_without_durable_consumers_is_answered_at_once),
      cmocka_unit_test(a_sources_publication_becomes_points_in_the_host_schema),
  };
  return cmocka_run_group_tests(tests, nullptr, nullptr);
}
