// Received points prepared off the loop: PointEncoding must give the bytes the
// loop would have written, SpooledOutput::add_encoded must batch them like
// add_received, the Pipeline must not spool text encoded for a configuration
// a reload replaced, and the history's prepare()/add() split must count
// devices and values as add() in one step does.
#include <uv.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <functional>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "core/config.hpp"
#include "core/loop_close.hpp"
#include "core/timer.hpp"
#include "http/http_client.hpp"
#include "ingest/agent_payload.hpp"
#include "metrics/line_protocol.hpp"
#include "outputs/hub_output.hpp"
#include "outputs/influxdb_output.hpp"
#include "outputs/pipeline.hpp"
#include "outputs/point_encoding.hpp"
#include "outputs/spooled_output.hpp"
#include "store/history.hpp"
#include "store/spool_worker.hpp"
// Last: it includes cmocka, whose fail() macro breaks later standard headers.
#include "spool_fixture.hpp"

namespace {

using namespace edgemon;
using namespace std::chrono_literals;
using metrics::Point;
using metrics::Precision;

constexpr int64_t kTimeNs = 1700000000123456789;

Point host_point(const std::string& device, int64_t i) {
  return Point{"cpu",
               {{"host", "h-" + device}, {"device_id", device}},
               {{"usage", 0.5 * static_cast<double>(i)},
                {"count", int64_t{i}},
                {"big", uint64_t{42}},
                {"up", true},
                {"state", std::string("ok")}},
               kTimeNs + i};
}

std::vector<Point> host_points(int64_t n, int64_t first = 0) {
  std::vector<Point> out;
  for (int64_t i = first; i < first + n; ++i)
    out.push_back(host_point("d" + std::to_string(i % 3), i));
  return out;
}

config::InfluxOutputConfig influx(const std::string& precision, int64_t batch_size = 5000) {
  config::InfluxOutputConfig c;
  c.name = "o";
  // Nothing listens on port 1: no test may depend on a delivery.
  c.url = "http://127.0.0.1:1";
  c.database = "db";
  c.precision = precision;
  c.batch_size = batch_size;
  c.flush_interval = 3600s;
  c.retry_initial = 600s;
  c.retry_max = 86400s;
  return c;
}

outputs::PointEncoding encoding_of(const config::InfluxOutputConfig& config) {
  return outputs::PointEncoding(outputs::influxdb_spec(config).kind);
}

// What a version 1 output writes: it has no unsigned type.
std::string v1_lines(std::span<const Point> points, Precision precision) {
  metrics::LineProtocolEncoder encoder({precision, false});
  std::string out;
  for (const auto& p : points)
    encoder.append(out, p);
  return out;
}

// ---- PointEncoding ----

void encode_gives_the_bytes_of_append_and_of_the_line_protocol_encoder(void**) {
  const auto points = host_points(5);
  const auto config = influx("ms");
  outputs::PointEncoding encoding = encoding_of(config);
  outputs::EncodedPoints encoded = encoding.encode(points);

  std::string appended;
  for (const auto& p : points)
    assert_true(encoding.append(appended, p));
  assert_string_equal(encoded.text.c_str(), appended.c_str());
  // Version 1 has no unsigned type, so the encoder must run without it.
  assert_string_equal(encoded.text.c_str(), v1_lines(points, Precision::kMs).c_str());
  assert_contains(encoded.text, "big=42i");
  assert_int_equal(encoded.unrepresentable, 0);

  assert_int_equal(encoded.ends.size(), points.size());
  size_t start = 0;
  for (size_t i = 0; i < points.size(); ++i) {
    std::string slice = encoded.text.substr(start, encoded.ends[i] - start);
    std::string one = v1_lines(std::span(&points[i], 1), Precision::kMs);
    assert_string_equal(slice.c_str(), one.c_str());
    assert_int_equal(slice.find('\n'), slice.size() - 1);
    start = encoded.ends[i];
  }
  assert_int_equal(start, encoded.text.size());
}

void unrepresentable_points_are_counted_and_get_no_end(void**) {
  std::vector<Point> points = host_points(2);
  points.insert(points.begin() + 1, Point{"cpu", {}, {{"usage", std::nan("")}}, kTimeNs});
  points.push_back(Point{"#comment", {}, {{"usage", 1.0}}, kTimeNs});
  outputs::EncodedPoints encoded = encoding_of(influx("ms")).encode(points);

  assert_int_equal(encoded.unrepresentable, 2);
  assert_int_equal(encoded.ends.size(), 2);
  std::string first = v1_lines(std::span(&points[0], 1), Precision::kMs);
  assert_int_equal(encoded.ends[0], first.size());
  assert_string_equal(encoded.text.substr(first.size()).c_str(),
                      v1_lines(std::span(&points[2], 1), Precision::kMs).c_str());
  assert_int_equal(encoded.ends[1], encoded.text.size());
}

void precision_of_the_output_config_is_honoured(void**) {
  const auto points = host_points(1);
  outputs::PointEncoding seconds = encoding_of(influx("s"));
  outputs::PointEncoding millis = encoding_of(influx("ms"));
  assert_int_equal(seconds.precision(), Precision::kS);
  assert_int_equal(millis.precision(), Precision::kMs);
  assert_true(seconds.encode(points).text.ends_with(" 1700000000\n"));
  assert_true(millis.encode(points).text.ends_with(" 1700000000123\n"));
}

void json_format_encodes_only_system_metrics_points(void**) {
  config::HubOutputConfig config;
  config.name = "hub";
  config.url = "http://127.0.0.1:1";
  config.precision = "ms";
  config.format = "json";
  Point sm{"system_metrics", {{"device_id", "d1"}, {"host", "d1"}}, {{"cpu", 12.5}}, kTimeNs};
  std::vector<Point> points = {host_point("d1", 0), sm};
  outputs::EncodedPoints encoded =
      outputs::PointEncoding(outputs::hub_spec(config).kind).encode(points);

  assert_int_equal(encoded.unrepresentable, 1);
  assert_int_equal(encoded.ends.size(), 1);
  assert_int_equal(encoded.ends[0], encoded.text.size());
  assert_string_equal(encoded.text.c_str(), (ingest::encode_agent_payload(sm) + "\n").c_str());
  assert_true(encoded.text.starts_with("{"));
  assert_int_equal(encoded.text.find('\n'), encoded.text.size() - 1);
}

// ---- SpooledOutput ----

// Received points arrive in chunks that do not line up with batch_size:
// every batch must still hold at most batch_size whole lines, none lost,
// whether the text was encoded off the loop or by the output itself.
void add_encoded_batches_like_add_received(void**) {
  uv_loop_t loop;
  assert_int_equal(uv_loop_init(&loop), 0);
  {
    http::HttpClient client(&loop);
    // Never opened and set_spool_ready() never called: the outputs only
    // batch, they cannot fetch or send.
    store::SpoolWorker spool(&loop);
    const auto config = influx("ms", 3);
    outputs::SpooledOutput received(&loop, client, spool, outputs::influxdb_spec(config), nullptr);
    outputs::SpooledOutput encoded(&loop, client, spool, outputs::influxdb_spec(config), nullptr);
    outputs::PointEncoding encoding = encoding_of(config);

    std::vector<std::vector<Point>> chunks = {host_points(2, 0), host_points(5, 2),
                                              host_points(4, 7)};
    // One that cannot be written, in the middle of a batch.
    chunks[1][2].fields = {{"usage", std::numeric_limits<double>::infinity()}};
    for (const auto& chunk : chunks) {
      received.add_received(chunk);
      encoded.add_encoded(encoding.encode(chunk));
      assert_int_equal(encoded.pending_bytes(), received.pending_bytes());
    }
    assert_int_equal(encoded.stats().dropped.unrepresentable, 1);
    assert_int_equal(received.stats().dropped.unrepresentable, 1);

    std::vector<store::NewBatch> want, got;
    assert_true(received.take_pending(1, &want));
    assert_true(encoded.take_pending(1, &got));
    assert_int_equal(got.size(), want.size());
    assert_int_equal(got.size(), 4);  // 10 points written, 3 a batch
    int64_t total = 0;
    for (size_t i = 0; i < got.size(); ++i) {
      assert_int_equal(got[i].points, want[i].points);
      assert_in_range(got[i].points, 1, 3);
      assert_string_equal(got[i].body.c_str(), want[i].body.c_str());
      assert_string_equal(got[i].precision.c_str(), "ms");
      assert_int_equal(std::count(got[i].body.begin(), got[i].body.end(), '\n'), got[i].points);
      total += got[i].points;
    }
    assert_int_equal(total, 10);
    assert_false(encoded.take_pending(1, &got));
    assert_int_equal(encoded.pending_bytes(), 0);
  }
  assert_int_equal(close_loop(&loop), 0);
}

// ---- Pipeline ----

// A started pipeline with one output, on its own loop and spool file.
class PipelineRig {
 public:
  PipelineRig() {
    assert_int_equal(uv_loop_init(&loop_), 0);
    client_ = std::make_unique<http::HttpClient>(&loop_);
    pipeline_ = std::make_unique<outputs::Pipeline>(&loop_, *client_);
    pipeline_->start(config_for("ms"), spool_path());
    assert_true(run_until([this] { return pipeline_->spool_report().open; }));
  }
  ~PipelineRig() {
    pipeline_.reset();
    client_.reset();
    if (close_loop(&loop_) != 0) fail_msg("handles left on the loop");
  }

  static config::Config config_for(const std::string& precision) {
    config::Config c;
    c.outputs.influxdb = {influx(precision)};
    return c;
  }
  outputs::Pipeline& pipeline() { return *pipeline_; }
  std::string spool_path() const { return dir_.file("spool.db"); }

  // Runs the loop until `done` holds; false when 10 s passed first.
  bool run_until(const std::function<bool()>& done) {
    bool expired = false;
    Timer guard(&loop_);
    guard.start(10000, 0, [&] { expired = true; });
    while (!done() && !expired)
      uv_run(&loop_, UV_RUN_ONCE);
    return done();
  }

  // Ingests and waits for the points to be durable.
  void ingest(std::span<const Point> points, outputs::Pipeline::Encoded&& encoded) {
    bool called = false;
    std::string error = "not called";
    pipeline_->ingest(points, std::move(encoded), [&](const std::string& e) {
      called = true;
      error = e;
    });
    assert_true(run_until([&] { return called; }));
    assert_string_equal(error.c_str(), "");
  }

  // Stops the pipeline and reads back every batch in the spool, with bodies.
  std::vector<store::Batch> stop_and_read() {
    bool stopped = false;
    // A zero deadline abandons the stop's first send before it starts: the
    // batches stay in the spool whatever answers on the output's URL.
    pipeline_->stop(0ms, [&] { stopped = true; });
    assert_true(run_until([&] { return stopped; }));
    pipeline_.reset();  // closes the spool file
    auto spool = spool_test::open_spool(spool_path());
    std::vector<store::Batch> listed;
    spool_test::ok(spool->list("", 0, 100, &listed));
    // list() leaves bodies out; fetch() has them (of one precision at a time).
    auto batches = spool_test::fetch(*spool, "o", 1000000, 1 << 24);
    assert_int_equal(batches.size(), listed.size());
    return batches;
  }

 private:
  spool_test::TempDir dir_;
  uv_loop_t loop_;
  std::unique_ptr<http::HttpClient> client_;
  std::unique_ptr<outputs::Pipeline> pipeline_;
};

void stale_encoding_is_redone_with_the_reloaded_precision(void**) {
  PipelineRig rig;
  const auto points = host_points(4);
  auto before = rig.pipeline().ingest_encoding();
  auto stale = before->encode(points);
  assert_string_equal(stale[0].text.c_str(), v1_lines(points, Precision::kMs).c_str());

  rig.pipeline().reconfigure(PipelineRig::config_for("s"));
  assert_true(rig.pipeline().ingest_encoding() != before);
  rig.ingest(points, {before, std::move(stale)});

  auto batches = rig.stop_and_read();
  assert_int_equal(batches.size(), 1);
  assert_string_equal(batches[0].output.c_str(), "o");
  assert_string_equal(batches[0].precision.c_str(), "s");
  assert_int_equal(batches[0].points, 4);
  assert_string_equal(batches[0].body.c_str(), v1_lines(points, Precision::kS).c_str());
}

// A reload that keeps every output as it was (here: the same file again)
// leaves the encoding current: what the thread pool encoded is spooled.
void current_encoding_is_spooled_as_given(void**) {
  PipelineRig rig;
  const auto points = host_points(2);
  auto encoding = rig.pipeline().ingest_encoding();
  rig.pipeline().reconfigure(PipelineRig::config_for("ms"));
  assert_true(rig.pipeline().ingest_encoding() == encoding);
  auto encoded = encoding->encode(points);
  assert_int_equal(encoded.size(), 1);
  // Text no encoder would write from `points`: it reaching the spool shows
  // the pipeline did not encode them again.
  encoded[0].text = "marker v=1i 1\nmarker v=2i 2\n";
  encoded[0].ends = {14, 28};
  rig.ingest(points, {encoding, std::move(encoded)});

  auto batches = rig.stop_and_read();
  assert_int_equal(batches.size(), 1);
  assert_string_equal(batches[0].body.c_str(), "marker v=1i 1\nmarker v=2i 2\n");
  assert_int_equal(batches[0].points, 2);
  assert_string_equal(batches[0].precision.c_str(), "ms");
}

// ---- History ----

std::vector<Point> three_devices() {
  auto p = [](const std::string& device, const std::string& seq) {
    return Point{"m",
                 {{"zone", "z-" + seq}, {"device_id", device}, {"app", "a"}},
                 {{"v", 1.0}, {"w", int64_t{2}}, {"s", std::string("x")}},
                 kTimeNs};
  };
  return {p("b", "1"), p("a", "2"), p("b", "3"), p("c", "4"), p("a", "5"), p("b", "6")};
}

void sightings_are_in_first_appearance_order_with_last_tags(void**) {
  auto seen = store::sightings(three_devices());
  assert_int_equal(seen.size(), 3);
  const char* devices[] = {"b", "a", "c"};
  const int64_t counts[] = {3, 2, 1};
  const char* zones[] = {"z-6", "z-5", "z-4"};
  for (size_t i = 0; i < 3; ++i) {
    assert_string_equal(seen[i].device.c_str(), devices[i]);
    assert_int_equal(seen[i].points, counts[i]);
    // Sorted by key, device_id left out.
    assert_int_equal(seen[i].tags.size(), 2);
    assert_string_equal(seen[i].tags[0].key.c_str(), "app");
    assert_string_equal(seen[i].tags[1].key.c_str(), "zone");
    assert_string_equal(seen[i].tags[1].value.c_str(), zones[i]);
  }
}

store::PointBatch batch_of(std::span<const Point> points) {
  store::PointBatch batch;
  int64_t non_finite = 0;
  for (const auto& p : points)
    batch.append(p, store::device_of(p), &non_finite);
  return batch;
}

void prepare_lays_out_values_only_when_asked(void**) {
  auto points = three_devices();
  points[0].fields.push_back({"nan", std::nan("")});
  using Intake = store::History::Intake;

  auto devices_only = store::History::prepare(points, Intake::kDevicesOnly);
  assert_int_equal(devices_only.devices.size(), 3);
  assert_true(devices_only.values.empty());
  assert_int_equal(devices_only.queue_full, 0);

  auto counted = store::History::prepare(points, Intake::kCountValues);
  assert_true(counted.values.empty());
  assert_int_equal(counted.queue_full, 12);  // 2 numeric fields a point
  assert_int_equal(counted.non_finite, 1);   // the NaN, by its own reason

  auto kept = store::History::prepare(points, Intake::kValues);
  assert_int_equal(kept.values.values(), 12);
  assert_int_equal(kept.non_finite, 1);
  assert_true(kept.values.take() == batch_of(points).take());
}

void add_counts_each_sighting_in_the_device_registry(void**) {
  uv_loop_t loop;
  assert_int_equal(uv_loop_init(&loop), 0);
  {
    store::History history(&loop);
    config::HistorySection config;
    config.enabled = false;  // devices in memory only: no file to open
    history.start(config, "", 300s);
    history.add(store::History::prepare(three_devices(), store::History::Intake::kDevicesOnly));
    history.add(store::History::prepare(three_devices(), store::History::Intake::kDevicesOnly));
    const auto& devices = history.devices().devices();
    assert_int_equal(devices.size(), 3);
    assert_int_equal(devices.at("b").points, 6);
    assert_int_equal(devices.at("a").points, 4);
    assert_int_equal(devices.at("c").points, 2);
    assert_string_equal(devices.at("a").tags[1].value.c_str(), "z-5");
  }
  assert_int_equal(close_loop(&loop), 0);
}

void point_batch_append_moves_only_whole_points(void**) {
  const auto points = three_devices();
  const std::span all(points);
  const size_t two_bytes = batch_of(all.first(2)).bytes();

  // One byte short of the third point: two whole points, never a part.
  store::PointBatch source = batch_of(all.first(3)), target;
  assert_int_equal(target.append(std::move(source), batch_of(all.first(3)).bytes() - 1), 4);
  assert_true(source.empty());
  store::PointBatch want = batch_of(all.first(2));
  assert_int_equal(target.values(), want.values());
  assert_int_equal(target.bytes(), two_bytes);
  assert_true(target.take() == want.take());

  // Onto a non-empty batch the bound counts what is already there.
  store::PointBatch rebuilt = batch_of(all.first(1));
  assert_int_equal(rebuilt.append(batch_of(all.subspan(1, 2)), two_bytes), 2);
  assert_int_equal(rebuilt.bytes(), two_bytes);
  assert_true(rebuilt.take() == batch_of(all.first(2)).take());
}

}  // namespace

int main() {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(encode_gives_the_bytes_of_append_and_of_the_line_protocol_encoder),
      cmocka_unit_test(unrepresentable_points_are_counted_and_get_no_end),
      cmocka_unit_test(precision_of_the_output_config_is_honoured),
      cmocka_unit_test(json_format_encodes_only_system_metrics_points),
      cmocka_unit_test(add_encoded_batches_like_add_received),
      cmocka_unit_test(stale_encoding_is_redone_with_the_reloaded_precision),
      cmocka_unit_test(current_encoding_is_spooled_as_given),
      cmocka_unit_test(sightings_are_in_first_appearance_order_with_last_tags),
      cmocka_unit_test(prepare_lays_out_values_only_when_asked),
      cmocka_unit_test(add_counts_each_sighting_in_the_device_registry),
      cmocka_unit_test(point_batch_append_moves_only_whole_points),
  };
  return cmocka_run_group_tests(tests, nullptr, nullptr);
}
