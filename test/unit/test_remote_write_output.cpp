// The remote_write kind of output: how points become series (names, labels,
// values, millisecond samples, what cannot be a sample), that spool rows
// joined are one request and a row cut after a 413 is two, snappy on the
// wire, the request's headers and authentication, how answers are read, and
// that the spooled output batches by samples.
#include <uv.h>

#include <algorithm>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "core/loop_close.hpp"
#include "core/snappy.hpp"
#include "http/http_client.hpp"
#include "outputs/point_encoding.hpp"
#include "outputs/remote_write_output.hpp"
#include "outputs/remote_write_request.hpp"
#include "outputs/spooled_output.hpp"
#include "store/spool_worker.hpp"
// cmocka defines fail(), which clashes with <ios>: it goes last.
#include "cmocka_all.hpp"
#include "metrics/prometheus_names.hpp"

using namespace edgemon;
using namespace edgemon::outputs;
using metrics::Point;

namespace {

constexpr int64_t kTimeNs = 1700000000123456789;  // ...123 ms

RemoteWriteConfig rw_config() {
  RemoteWriteConfig c;
  c.url = "http://127.0.0.1:1/api/v1/write";
  return c;
}

OutputSpec spec(const RemoteWriteConfig& c = rw_config()) {
  return remote_write_spec("prom", c);
}

EncodedPoints encode(const std::vector<Point>& points) {
  return PointEncoding(spec().kind).encode(points);
}

std::vector<RwSeries> decode(std::string_view row) {
  std::vector<RwSeries> out;
  std::string error = decode_write_request(row, &out);
  if (!error.empty()) fail_msg("decode: %s", error.c_str());
  return out;
}

std::string label(const RwSeries& s, const std::string& name) {
  for (const auto& [n, v] : s.labels) {
    if (n == name) return v;
  }
  return "<none>";
}

Point cpu_point(int64_t i = 0) {
  return Point{"cpu",
               {{"host", "h1"}, {"cpu", "0"}},
               {{"usage", 0.5 + static_cast<double>(i)}},
               kTimeNs + i * 1000000};
}

void each_numeric_field_is_one_series_named_measurement_field(void**) {
  Point p{"disk",
          {{"host", "h1"}, {"device", "sda"}},
          {{"reads", int64_t{-7}},
           {"bytes", uint64_t{1} << 40},
           {"ok", true},
           {"failed", false},
           {"model", std::string("WDC")},
           {"value", 2.5}},
          kTimeNs};
  EncodedPoints e = encode({p});
  assert_int_equal(e.unrepresentable, 1);  // the string field
  assert_int_equal(e.ends.size(), 5);      // one item a sample
  assert_int_equal(e.ends.back(), e.text.size());

  auto series = decode(e.text);
  assert_int_equal(series.size(), 5);
  const char* names[] = {"disk_reads", "disk_bytes", "disk_ok", "disk_failed", "disk"};
  const double values[] = {-7, 1099511627776.0, 1, 0, 2.5};
  for (size_t i = 0; i < 5; ++i) {
    const RwSeries& s = series[i];
    assert_string_equal(label(s, "__name__").c_str(), names[i]);
    assert_string_equal(label(s, "host").c_str(), "h1");
    assert_string_equal(label(s, "device").c_str(), "sda");
    assert_int_equal(s.labels.size(), 3);
    assert_int_equal(s.samples.size(), 1);
    assert_int_equal(s.samples[0].first, 1700000000123);  // milliseconds
    assert_true(s.samples[0].second == values[i]);
  }
  // Each end is where one series' bytes end: every prefix is a request.
  size_t start = 0;
  for (size_t i = 0; i < e.ends.size(); ++i) {
    auto one = decode(std::string_view(e.text).substr(start, e.ends[i] - start));
    assert_int_equal(one.size(), 1);
    assert_string_equal(label(one[0], "__name__").c_str(), names[i]);
    start = e.ends[i];
  }
}

std::string metric_name(std::string_view measurement, std::string_view field) {
  std::string out;
  metrics::point_metric_name(measurement, field, &out);
  return out;
}

std::string label_name(std::string_view key) {
  std::string out;
  metrics::point_label_name(key, &out);
  return out;
}

void names_are_sanitized_simply(void**) {
  assert_string_equal(metric_name("cpu", "usage_user").c_str(), "cpu_usage_user");
  assert_string_equal(metric_name("temp", "value").c_str(), "temp");
  assert_string_equal(metric_name("disk io", "read-bytes").c_str(), "disk_io_read_bytes");
  assert_string_equal(metric_name("node:load", "1m").c_str(), "node:load_1m");
  assert_string_equal(metric_name("5xx", "value").c_str(), "_5xx");
  assert_string_equal(metric_name("é", "x").c_str(), "___x");  // two UTF-8 bytes
  assert_string_equal(label_name("device.id").c_str(), "device_id");
  assert_string_equal(label_name("1st").c_str(), "_1st");
  assert_string_equal(label_name("a:b").c_str(), "a_b");  // no colon in labels

  Point p{"m.x", {{"zone-name", "a"}}, {{"f.1", 1.0}}, kTimeNs};
  auto series = decode(encode({p}).text);
  assert_int_equal(series.size(), 1);
  assert_string_equal(label(series[0], "__name__").c_str(), "m_x_f_1");
  assert_string_equal(label(series[0], "zone_name").c_str(), "a");
}

void what_cannot_be_a_series_is_counted(void**) {
  std::vector<Point> points = {
      // Two fields that sanitize to one name: the first is kept.
      Point{"m", {}, {{"a-b", 1.0}, {"a_b", 2.0}}, kTimeNs},
      // Two tags that sanitize to one label: the series is refused.
      Point{"n", {{"x.y", "1"}, {"x_y", "2"}}, {{"v", 1.0}}, kTimeNs},
      // Nothing numeric at all.
      Point{"s", {}, {{"text", std::string("t")}}, kTimeNs},
      // No tags, an empty tag value (left out, as Prometheus reads it).
      Point{"o", {{"empty", ""}}, {{"v", 3.0}}, kTimeNs},
  };
  EncodedPoints e = encode(points);
  assert_int_equal(e.unrepresentable, 3);
  auto series = decode(e.text);
  assert_int_equal(series.size(), 2);
  assert_string_equal(label(series[0], "__name__").c_str(), "m_a_b");
  assert_true(series[0].samples[0].second == 1.0);
  assert_string_equal(label(series[1], "__name__").c_str(), "o_v");
  assert_int_equal(series[1].labels.size(), 1);
  assert_int_equal(e.ends.size(), 2);
}

void times_before_1970_round_down_to_the_millisecond(void**) {
  Point p{"m", {}, {{"v", 1.0}}, -1500001};
  auto series = decode(encode({p}).text);
  assert_int_equal(series[0].samples[0].first, -2);
}

void rows_joined_are_one_request_and_go_snappy(void**) {
  const OutputSpec s = spec();
  const auto& kind = *s.kind;
  std::vector<store::Batch> rows(3);
  std::vector<std::string> names;
  for (int64_t r = 0; r < 3; ++r) {
    std::vector<Point> points;
    for (int64_t i = 0; i < 4; ++i)
      points.push_back(cpu_point(r * 4 + i));
    rows[static_cast<size_t>(r)].body = encode(points).text;
    rows[static_cast<size_t>(r)].points = 4;
  }
  std::string body;
  kind.join_rows(rows, &body);
  auto series = decode(body);
  assert_int_equal(series.size(), 12);
  for (size_t i = 0; i < series.size(); ++i)
    assert_int_equal(series[i].samples[0].first, 1700000000123 + static_cast<int64_t>(i));
  for (const auto& r : rows)
    assert_true(r.body.empty());  // freed as joined

  std::string wire;
  assert_int_equal(kind.compress(body, &wire), ContentCoding::kSnappy);
  std::string back;
  assert_true(snappy_uncompress(wire, 1 << 20, &back));
  assert_true(back == body);
}

void a_row_is_cut_at_series_boundaries(void**) {
  const OutputSpec s = spec();
  const auto& kind = *s.kind;
  std::vector<Point> points;
  for (int64_t i = 0; i < 5; ++i)
    points.push_back(cpu_point(i));
  std::string row = encode(points).text;

  auto cut = kind.cut_row(row, 2);
  assert_true(cut.has_value());
  assert_int_equal(cut->items, 2);
  auto first = decode(std::string_view(row).substr(0, cut->bytes));
  auto rest = decode(std::string_view(row).substr(cut->bytes));
  assert_int_equal(first.size(), 2);
  assert_int_equal(rest.size(), 3);
  assert_int_equal(rest[0].samples[0].first, 1700000000123 + 2);

  auto whole = kind.cut_row(row, 10);
  assert_int_equal(whole->items, 5);
  assert_int_equal(whole->bytes, row.size());
  assert_false(kind.cut_row("\xff\xff garbage", 1).has_value());
}

http::ClientResponse answer(int status) {
  http::ClientResponse r;
  r.status = status;
  return r;
}

void answers_are_read_by_the_remote_write_spec(void**) {
  for (int s : {200, 204})
    assert_int_equal(classify_remote_write(answer(s)), WriteOutcome::kDelivered);
  for (int s : {500, 502, 503, 429, 408, 0})
    assert_int_equal(classify_remote_write(answer(s)), WriteOutcome::kRetry);
  assert_int_equal(classify_remote_write(answer(413)), WriteOutcome::kTooLarge);
  // Bad data: Prometheus's answer to out-of-order or conflicting samples.
  for (int s : {400, 409, 422})
    assert_int_equal(classify_remote_write(answer(s)), WriteOutcome::kRejected);
  // A wrong URL or credentials: keep the batches, stop sending.
  for (int s : {301, 401, 403, 404, 405, 407})
    assert_int_equal(classify_remote_write(answer(s)), WriteOutcome::kRefused);
  assert_true(spec().kind->rejects_whole_request());

  http::ClientResponse r = answer(400);
  r.body = "out of order sample\n";
  assert_string_equal(spec().kind->describe_failure(r).c_str(), "HTTP 400: out of order sample");
}

bool has_header(const http::ClientRequest& r, const std::string& line) {
  return std::find(r.headers.begin(), r.headers.end(), line) != r.headers.end();
}

void request_carries_the_spec_headers_and_credentials(void**) {
  auto c = rw_config();
  c.url = "https://user:pw@mimir.example:443/api/v1/push";
  c.bearer_token = "t0k3n";
  c.headers = {{"X-Scope-OrgID", "edge"}};
  c.tls_ca_file = "/etc/ca.pem";
  auto s = spec(c);
  auto r = s.kind->request("ms");
  assert_string_equal(r.method.c_str(), "POST");
  assert_string_equal(r.url.c_str(), "https://user:pw@mimir.example:443/api/v1/push");
  assert_true(has_header(r, "Content-Type: application/x-protobuf"));
  assert_true(has_header(r, "X-Prometheus-Remote-Write-Version: 0.1.0"));
  assert_true(has_header(r, "Authorization: Bearer t0k3n"));
  assert_true(has_header(r, "X-Scope-OrgID: edge"));
  assert_string_equal(r.ca_file.c_str(), "/etc/ca.pem");
  assert_string_equal(s.kind->display_url().c_str(), "https://mimir.example:443/api/v1/push");
  assert_string_equal(std::string(s.kind->type()).c_str(), "remote_write");
  assert_int_equal(s.kind->precision(), metrics::Precision::kMs);
  // Milliseconds and snappy whatever the inherited keys say.
  assert_string_equal(s.delivery.precision.c_str(), "ms");
  assert_false(s.delivery.gzip);

  c.bearer_token.clear();
  c.username = "u";
  c.password = "p";
  r = spec(c).kind->request("ms");
  assert_string_equal(r.username.c_str(), "u");
  assert_string_equal(r.password.c_str(), "p");
  assert_false(has_header(r, "Authorization: Bearer t0k3n"));
}

void options_are_checked(void**) {
  RemoteWriteConfig c;
  config::Errors errors;
  c.validate("outputs.remote_write[0]", errors);
  assert_int_equal(errors.size(), 1);
  assert_string_equal(errors[0].key.c_str(), "outputs.remote_write[0].url");

  c = rw_config();
  c.bearer_token = "t";
  c.username = "u";
  c.headers = {{"X-A", "a\r\nInjected: 1"}};
  errors.clear();
  c.validate("rw", errors);
  assert_int_equal(errors.size(), 2);

  assert_string_equal(check_header_name("X-Scope-OrgID").c_str(), "");
  assert_string_not_equal(check_header_name("Content-Encoding").c_str(), "");
  assert_string_not_equal(check_header_name("bad header").c_str(), "");
  assert_string_equal(check_remote_write_url("http://vm:8428/api/v1/write?extra_label=a=b").c_str(),
                      "");
  assert_string_not_equal(check_remote_write_url("vm:8428").c_str(), "");

  // A reload rebuilds the output when any key changed, and only then.
  auto a = rw_config(), b = rw_config();
  assert_string_equal(spec(a).settings.c_str(), spec(b).settings.c_str());
  b.headers["X-A"] = "1";
  assert_string_not_equal(spec(a).settings.c_str(), spec(b).settings.c_str());
}

// batch_size counts samples: points with several fields fill a batch
// sooner, and a batch never ends inside a point's series but between them.
void the_spooled_output_batches_samples(void**) {
  uv_loop_t loop;
  assert_int_equal(uv_loop_init(&loop), 0);
  {
    http::HttpClient client(&loop);
    store::SpoolWorker spool(&loop);  // never opened: nothing is sent
    auto c = rw_config();
    c.batch_size = 4;
    SpooledOutput output(&loop, client, spool, spec(c), nullptr);
    std::vector<Point> points;
    for (int64_t i = 0; i < 3; ++i) {
      Point p = cpu_point(i);
      p.fields.push_back({"system", 0.25});
      p.fields.push_back({"name", std::string("x")});
      points.push_back(p);
    }
    output.add(points, {});
    std::vector<store::NewBatch> batches;
    assert_true(output.take_pending(1, &batches));
    assert_int_equal(batches.size(), 2);
    assert_int_equal(batches[0].points, 4);
    assert_int_equal(batches[1].points, 2);
    assert_string_equal(batches[0].precision.c_str(), "ms");
    assert_int_equal(output.stats().dropped.unrepresentable, 3);
    size_t total = 0;
    for (const auto& b : batches) {
      auto series = decode(b.body);
      assert_int_equal(static_cast<int64_t>(series.size()), b.points);
      total += series.size();
    }
    assert_int_equal(total, 6);
    // The schema: system_metrics points are not taken by a `host` output.
    output.add({}, points);
    assert_false(output.take_pending(2, &batches));
  }
  assert_int_equal(close_loop(&loop), 0);
}

}  // namespace

int main() {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(each_numeric_field_is_one_series_named_measurement_field),
      cmocka_unit_test(names_are_sanitized_simply),
      cmocka_unit_test(what_cannot_be_a_series_is_counted),
      cmocka_unit_test(times_before_1970_round_down_to_the_millisecond),
      cmocka_unit_test(rows_joined_are_one_request_and_go_snappy),
      cmocka_unit_test(a_row_is_cut_at_series_boundaries),
      cmocka_unit_test(answers_are_read_by_the_remote_write_spec),
      cmocka_unit_test(request_carries_the_spec_headers_and_credentials),
      cmocka_unit_test(options_are_checked),
      cmocka_unit_test(the_spooled_output_batches_samples),
  };
  return cmocka_run_group_tests(tests, nullptr, nullptr);
}
