// The original edge server's system_metrics point: CPU percentages between
// two /proc/stat samples (the fixture pair with hand-checked values), memory
// and disk arithmetic, integer fields, the first round without CPU, missing
// collectors, and the whole path through HostPoints::take.
#include <uv.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>

#include "cmocka_all.hpp"
#include "core/read_file.hpp"
#include "metrics/line_protocol.hpp"
#include "metrics/system_metrics.hpp"
#include "sources/host/collector.hpp"
#include "sources/host/host_points.hpp"
#include "sources/host/scheduler.hpp"

using namespace edgemon;
using metrics::Point;
using metrics::SystemSample;
using metrics::Tag;

namespace {

const metrics::Field* find_field(const Point& p, std::string_view key) {
  for (const auto& f : p.fields)
    if (f.key == key) return &f;
  return nullptr;
}

double percent(const Point& p, std::string_view key) {
  const metrics::Field* f = find_field(p, key);
  if (f == nullptr) fail_msg("no field %.*s", static_cast<int>(key.size()), key.data());
  return std::get<double>(f->value);
}

// Byte counts and the heartbeat are whole numbers written as floats, the
// original edge server's types: an integer here would conflict with the
// databases it filled.
int64_t whole(const Point& p, std::string_view key) {
  const metrics::Field* f = find_field(p, key);
  if (f == nullptr) fail_msg("no field %.*s", static_cast<int>(key.size()), key.data());
  if (!std::holds_alternative<double>(f->value)) {
    fail_msg("field %.*s is not a float", static_cast<int>(key.size()), key.data());
  }
  double v = std::get<double>(f->value);
  if (v != std::floor(v))
    fail_msg("field %.*s is not whole", static_cast<int>(key.size()), key.data());
  return static_cast<int64_t>(v);
}

void assert_near(double got, double want) {
  if (std::fabs(got - want) > 1e-6) fail_msg("got %.9f, want %.9f", got, want);
}

std::string fixture_text(const char* relative) {
  std::string text;
  assert_string_equal(read_file(std::string(EDGEMON_FIXTURES) + relative, &text).c_str(), "");
  return text;
}

// A procfs with only stat and meminfo, whose stat the test replaces between
// collections.
class FakeProc {
 public:
  FakeProc() {
    char tmpl[] = "/tmp/edgemon-sm-XXXXXX";
    assert_non_null(mkdtemp(tmpl));
    dir_ = tmpl;
    write("meminfo", fixture_text("/host/proc/meminfo"));
  }
  ~FakeProc() {
    std::remove((dir_ + "/stat").c_str());
    std::remove((dir_ + "/meminfo").c_str());
    std::remove(dir_.c_str());
  }
  void write(const char* name, const std::string& text) const {
    FILE* f = std::fopen((dir_ + "/" + name).c_str(), "w");
    assert_non_null(f);
    std::fwrite(text.data(), 1, text.size(), f);
    std::fclose(f);
  }
  const std::string& dir() const { return dir_; }

 private:
  std::string dir_;
};

void gather(collect::Collector& c, const config::Config& config) {
  collect::CollectContext ctx{config, nullptr, 0};
  std::string error = "not called";
  c.gather(ctx, [&](std::string e) { error = std::move(e); });
  assert_string_equal(error.c_str(), "");
}

std::unique_ptr<collect::Collector> make(const char* name, const config::Config& config) {
  std::string error;
  auto c = collect::create_collector(name, config, &error);
  assert_non_null(c.get());
  return c;
}

// ---- the arithmetic ----

void cpu_percent_between_two_samples(void**) {
  FakeProc proc;
  config::Config config;
  config.collect.procfs = proc.dir();
  auto cpu = make("cpu", config);
  auto mem = make("meminfo", config);
  metrics::SystemMetrics sm;
  std::vector<Tag> tags{{"device_id", "d1"}, {"host", "h"}};
  std::vector<Point> out;

  for (const char* stat : {"/host/proc/stat.t0", "/host/proc/stat"}) {
    proc.write("stat", fixture_text(stat));
    gather(*cpu, config);
    gather(*mem, config);
    SystemSample sample;
    metrics::SystemSampleSink sink(&sample);
    cpu->write(sink);
    mem->write(sink);
    sm.add_round(sample, tags, 1000, &out);
  }
  assert_int_equal(out.size(), 2);
  // The first round has nothing to compare with.
  assert_null(find_field(out[0], "cpu"));
  assert_null(find_field(out[0], "cpu_core_0"));
  assert_int_equal(whole(out[0], "heartbeat"), 1);
  // fixtures/procfs/EXPECTED.md: 40.0 overall (not the naive 45.5, which
  // counts guest time twice), 50.0 / 40.0 / 33.3 / 34.8 per core.
  const Point& p = out[1];
  assert_near(percent(p, "cpu"), 40.0);
  assert_near(percent(p, "cpu_core_0"), 50.0);
  assert_near(percent(p, "cpu_core_1"), 40.0);
  assert_near(percent(p, "cpu_core_2"), 100.0 / 3.0);
  assert_near(percent(p, "cpu_core_3"), 80.0 / 230.0 * 100.0);
  assert_null(find_field(p, "cpu_core_4"));
  assert_int_equal(whole(p, "heartbeat"), 2);
  assert_string_equal(p.measurement.c_str(), "system_metrics");
  assert_int_equal(p.tags.size(), 3);  // device_type=unknown, as the original server tagged
  assert_true(p.time_ns == 1000);
  metrics::LineProtocolEncoder encoder;
  std::string line;
  encoder.append(line, p);
  assert_string_equal(
      line.c_str(),
      "system_metrics,device_id=d1,device_type=unknown,host=h cpu=40,cpu_core_0=50,cpu_core_1=40,"
      "cpu_core_2=33.33333333333333,cpu_core_3=34.78260869565217,"
      "memory=31.91534520652306,memory_total=7989481472,memory_used=2549870592,"
      "heartbeat=2 1000\n");
}

void memory_and_disk_arithmetic(void**) {
  SystemSample s;
  s.has_mem_total = s.has_mem_available = true;
  s.mem_total = 7989481472;
  s.mem_available = 5439610880;
  s.disk_parts = 7;
  s.disk_size = 1000e9;
  s.disk_free = 300e9;
  s.disk_avail = 250e9;  // 50 GB reserved for root: percent is of used + avail, like df
  metrics::SystemMetrics sm;
  std::vector<Point> out;
  sm.add_round(s, {}, 5, &out);
  assert_int_equal(out.size(), 1);
  const Point& p = out[0];
  assert_near(percent(p, "memory"), 2549870592.0 / 7989481472.0 * 100.0);
  assert_int_equal(whole(p, "memory_total"), 7989481472);
  assert_int_equal(whole(p, "memory_used"), 2549870592);
  assert_near(percent(p, "disk"), 700.0 / 950.0 * 100.0);
  assert_int_equal(whole(p, "disk_total"), 1000000000000);
  assert_int_equal(whole(p, "disk_used"), 700000000000);
  assert_int_equal(whole(p, "heartbeat"), 1);
  metrics::LineProtocolEncoder encoder;
  std::string line;
  encoder.append(line, p);
  assert_string_equal(line.c_str(),
                      "system_metrics,device_type=unknown memory=31.91534520652306,"
                      "memory_total=7989481472,memory_used=2549870592,disk=73.68421052631578,"
                      "disk_total=1e+12,disk_used=7e+11,heartbeat=1 5\n");
}

void missing_inputs_omit_their_fields(void**) {
  metrics::SystemMetrics sm;
  std::vector<Point> out;
  SystemSample nothing;
  sm.add_round(nothing, {}, 1, &out);  // every input collector disabled or failed
  assert_int_equal(out.size(), 0);
  assert_int_equal(sm.heartbeat(), 1);

  SystemSample partial;
  partial.disk_parts = 3;        // avail missing: the root fs reported an error
  partial.has_mem_total = true;  // MemAvailable missing
  partial.mem_total = 100;
  sm.add_round(partial, {}, 2, &out);
  assert_int_equal(out.size(), 0);

  SystemSample cpu_only;
  cpu_only.has_cpu = true;
  cpu_only.cpu_ratio = 0.25;
  sm.add_round(cpu_only, {}, 3, &out);
  assert_int_equal(out.size(), 1);
  assert_int_equal(out[0].fields.size(), 2);
  assert_near(percent(out[0], "cpu"), 25.0);
  // The heartbeat counts rounds, so a gap shows the rounds without a point.
  assert_int_equal(whole(out[0], "heartbeat"), 3);
}

void sink_takes_only_the_root_filesystem(void**) {
  SystemSample s;
  metrics::SystemSampleSink sink(&s);
  using metrics::Type;
  for (const char* family : {"node_filesystem_size_bytes", "node_filesystem_free_bytes",
                             "node_filesystem_avail_bytes"}) {
    sink.begin({family, "", Type::kGauge});
    sink.sample({{"device", "/dev/sda1"}, {"fstype", "ext4"}, {"mountpoint", "/boot"}}, 1);
    sink.sample({{"device", "/dev/sda2"}, {"fstype", "ext4"}, {"mountpoint", "/"}}, 42);
  }
  sink.begin({"node_filesystem_files", "", Type::kGauge});
  sink.sample({{"mountpoint", "/"}}, 7);
  assert_true(s.has_disk());
  assert_true(s.disk_size == 42 && s.disk_free == 42 && s.disk_avail == 42);
  assert_int_equal(s.captured, 3);
  assert_false(s.has_cpu);
}

// ---- through HostPoints and the scheduler ----

void take_builds_one_point_per_round(void**) {
  FakeProc proc;
  proc.write("stat", fixture_text("/host/proc/stat.t0"));
  auto config = std::make_shared<config::Config>();
  config->collect.procfs = proc.dir();
  for (const auto& name : collect::registered_collector_names())
    if (name != "cpu" && name != "meminfo") config->collect.disable.push_back(name);
  uv_loop_t loop;
  uv_loop_init(&loop);
  {
    collect::Scheduler scheduler(&loop);
    assert_string_equal(scheduler.configure(config).c_str(), "");
    collect::HostPoints points(std::vector<Tag>{{"device_id", "d1"}, {"host", "h"}, {"zone", "a"}});
    std::vector<Point> system;
    scheduler.run_once([] {});
    points.take(scheduler, nullptr, &system);
    assert_int_equal(system.size(), 1);
    assert_null(find_field(system[0], "cpu"));
    assert_non_null(find_field(system[0], "memory"));
    // The start of the newest gather that fed it (cpu and meminfo may start
    // in different milliseconds).
    int64_t newest = 0;
    for (const auto& st : scheduler.statuses())
      newest = std::max(newest, st.last_run_unix_ms);
    assert_true(system[0].time_ns == newest * 1000000);

    points.take(scheduler, nullptr, &system);  // no new round: no point, no heartbeat
    assert_int_equal(system.size(), 1);

    proc.write("stat", fixture_text("/host/proc/stat"));
    scheduler.run_once([] {});
    points.take(scheduler, nullptr, &system);
    assert_int_equal(system.size(), 2);
    assert_near(percent(system[1], "cpu"), 40.0);
    assert_int_equal(whole(system[1], "heartbeat"), 2);
    metrics::LineProtocolEncoder encoder;
    std::string line;
    encoder.append(line, system[1]);
    assert_contains(line, "system_metrics,device_id=d1,device_type=unknown,host=h,zone=a cpu=");
  }
  uv_run(&loop, UV_RUN_NOWAIT);
  assert_int_equal(uv_loop_close(&loop), 0);
}

}  // namespace

int main() {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(cpu_percent_between_two_samples),
      cmocka_unit_test(memory_and_disk_arithmetic),
      cmocka_unit_test(missing_inputs_omit_their_fields),
      cmocka_unit_test(sink_takes_only_the_root_filesystem),
      cmocka_unit_test(take_builds_one_point_per_round),
  };
  return cmocka_run_group_tests(tests, nullptr, nullptr);
}
