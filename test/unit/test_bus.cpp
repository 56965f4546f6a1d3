// Snapshots replay exactly what was written into them; the latest-value
// registry merges families across sources, labels instances, and forgets a
// withdrawn source at once.
#include <cstring>
#include <string>

#include "bus/bus.hpp"
#include "bus/latest_registry.hpp"
#include "cmocka_all.hpp"
#include "metrics/prometheus_text.hpp"
#include "metrics/snapshot.hpp"

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

}  // namespace

int main() {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(snapshot_replays_what_was_written),
      cmocka_unit_test(recorder_starts_afresh_after_take),
      cmocka_unit_test(registry_merges_labels_and_withdraws),
      cmocka_unit_test(registry_leaves_out_a_family_of_another_type),
  };
  return cmocka_run_group_tests(tests, nullptr, nullptr);
}
