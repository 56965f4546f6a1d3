// The remote-write wire layer: what the encoder leaves out and how it orders
// what it keeps, values that must survive bit for bit (the staleness NaN),
// encode -> snappy -> decode round trips, the concatenation property the
// output's spool relies on, and cutting a request at series boundaries.
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "core/snappy.hpp"
#include "outputs/remote_write_encoder.hpp"
#include "outputs/remote_write_request.hpp"
// cmocka defines fail(), which clashes with <ios>: it goes last.
#include "cmocka_all.hpp"

using namespace edgemon;
using namespace edgemon::outputs;

namespace {

uint64_t bits(double d) {
  uint64_t u;
  std::memcpy(&u, &d, sizeof u);
  return u;
}

double from_bits(uint64_t u) {
  double d;
  std::memcpy(&d, &u, sizeof d);
  return d;
}

// Prometheus marks a series stale with this NaN; any other NaN is a value.
const double kStaleNaN = from_bits(0x7ff0000000000002);

RwSeries series(std::vector<std::pair<std::string, std::string>> labels,
                std::vector<std::pair<int64_t, double>> samples = {{1000, 1.0}}) {
  return RwSeries{std::move(labels), std::move(samples)};
}

// Values compare by their bits, so NaNs compare too.
void assert_same(const RwSeries& got, const RwSeries& want) {
  assert_int_equal(got.labels.size(), want.labels.size());
  for (size_t i = 0; i < want.labels.size(); ++i) {
    assert_string_equal(got.labels[i].first.c_str(), want.labels[i].first.c_str());
    assert_string_equal(got.labels[i].second.c_str(), want.labels[i].second.c_str());
  }
  assert_int_equal(got.samples.size(), want.samples.size());
  for (size_t i = 0; i < want.samples.size(); ++i) {
    assert_int_equal(got.samples[i].first, want.samples[i].first);
    assert_int_equal(bits(got.samples[i].second), bits(want.samples[i].second));
  }
}

void assert_all_same(const std::vector<RwSeries>& got, const std::vector<RwSeries>& want) {
  assert_int_equal(got.size(), want.size());
  for (size_t i = 0; i < want.size(); ++i)
    assert_same(got[i], want[i]);
}

std::string encode(const std::vector<RwSeries>& in, RwEncodeResult* result = nullptr) {
  RemoteWriteEncoder encoder;
  std::string out;
  const RwEncodeResult r = encoder.encode(in, &out);
  if (result != nullptr) *result = r;
  return out;
}

std::vector<RwSeries> decode(std::string_view encoded) {
  std::vector<RwSeries> out;
  assert_string_equal(decode_write_request(encoded, &out).c_str(), "");
  return out;
}

// Series already in the encoder's output form: labels sorted, values set,
// samples ordered with distinct timestamps.
std::vector<RwSeries> random_series(size_t n, unsigned seed) {
  std::mt19937 rng(seed);
  std::vector<RwSeries> out;
  for (size_t i = 0; i < n; ++i) {
    RwSeries s;
    s.labels = {{"__name__", "edge_metric_" + std::to_string(rng() % 50)},
                {"host", "h" + std::to_string(i)},
                {"job", "edgemon"}};
    const int64_t t0 = 1'700'000'000'000 + static_cast<int64_t>(rng() % 1000);
    for (int64_t k = 0, n_samples = 1 + rng() % 20; k < n_samples; ++k)
      s.samples.emplace_back(t0 + k * 15'000, std::ldexp(static_cast<double>(rng()), -7));
    out.push_back(std::move(s));
  }
  return out;
}

void labels_sorted_and_empty_values_dropped(void**) {
  RwEncodeResult r;
  const std::string encoded = encode(
      {series({{"job", "node"}, {"instance", ""}, {"__name__", "up"}, {"Zone", "eu"}, {"a", "1"}})},
      &r);
  assert_int_equal(r.series, 1);
  assert_int_equal(r.samples, 1);
  assert_int_equal(r.empty_labels, 1);
  assert_int_equal(r.rejected.total(), 0);
  // Byte order, __name__ included: 'Z' < '_' < 'a'.
  assert_all_same(decode(encoded),
                  {series({{"Zone", "eu"}, {"__name__", "up"}, {"a", "1"}, {"job", "node"}})});
}

void bad_series_rejected_and_counted(void**) {
  RwEncodeResult r;
  const std::string encoded = encode(
      {
          series({{"job", "x"}}),                                       // no name
          series({{"__name__", ""}, {"job", "x"}}),                     // empty name is no name
          series({{"__name__", "1up"}}),                                // bad metric name
          series({{"__name__", "up-time"}}),                            // bad metric name
          series({{"__name__", "up"}, {"a-b", "x"}}),                   // bad label name
          series({{"__name__", "up"}, {"a:b", "x"}}),                   // ':' only in metric names
          series({{"__name__", "up"}, {"job", "x"}, {"job", "y"}}),     // duplicate
          series({{"__name__", "up"}, {"__name__", "down"}}),           // duplicate name
          series({{"__name__", "up"}, {"v", "\xff"}}),                  // not UTF-8
          series({{"__name__", "up"}, {"v", std::string("a\0b", 3)}}),  // NUL
          series({{"__name__", "up"}}, {}),                             // no samples
          series({{"__name__", "job:up:rate5m"}, {"_x", "ok"}}),        // fine
      },
      &r);
  assert_int_equal(r.series, 1);
  assert_int_equal(r.rejected.no_name, 2);
  assert_int_equal(r.rejected.bad_metric_name, 2);
  assert_int_equal(r.rejected.bad_label_name, 2);
  assert_int_equal(r.rejected.duplicate_label, 2);
  assert_int_equal(r.rejected.bad_label_value, 2);
  assert_int_equal(r.rejected.no_samples, 1);
  assert_int_equal(r.rejected.total(), 11);
  assert_all_same(decode(encoded), {series({{"__name__", "job:up:rate5m"}, {"_x", "ok"}})});

  // Nothing acceptable: nothing appended.
  std::string out = "kept";
  RemoteWriteEncoder encoder;
  assert_int_equal(encoder.encode(std::vector{series({{"job", "x"}})}, &out).rejected.no_name, 1);
  assert_string_equal(out.c_str(), "kept");
  assert_true(valid_metric_name("a:b_c9") && !valid_metric_name("") && !valid_metric_name("9a"));
  assert_true(valid_label_name("_a9") && !valid_label_name("a:b") && !valid_label_name("é"));
}

void samples_time_ordered_one_per_timestamp(void**) {
  RwEncodeResult r;
  const std::string encoded = encode(
      {series({{"__name__", "m"}},
              {{3000, 3.0}, {1000, 1.0}, {2000, 2.0}, {2000, 2.5}, {-5, -1.0}, {2000, 2.75}})},
      &r);
  assert_int_equal(r.samples, 4);
  assert_int_equal(r.duplicate_samples, 2);
  // Of one timestamp the last given wins.
  assert_all_same(decode(encoded), {series({{"__name__", "m"}},
                                           {{-5, -1.0}, {1000, 1.0}, {2000, 2.75}, {3000, 3.0}})});
}

void special_values_preserved(void**) {
  const double inf = std::numeric_limits<double>::infinity();
  const std::vector<RwSeries> in = {
      series({{"__name__", "m"}}, {{1, kStaleNaN},
                                   {2, std::numeric_limits<double>::quiet_NaN()},
                                   {3, inf},
                                   {4, -inf},
                                   {5, -0.0},
                                   {6, std::numeric_limits<double>::denorm_min()},
                                   {7, std::numeric_limits<double>::max()},
                                   {INT64_MAX, 0.0}})};
  std::vector<RwSeries> want = in;
  // proto3 leaves out a field equal to its default, and -0.0 == 0: it
  // arrives as +0.0, exactly as from Prometheus's own Go encoder.
  want[0].samples[4].second = 0.0;
  const std::vector<RwSeries> out = decode(encode(in));
  assert_all_same(out, want);
  assert_int_equal(bits(out[0].samples[0].second), 0x7ff0000000000002);
}

void round_trip_through_snappy(void**) {
  const std::vector<RwSeries> in = random_series(2000, 1);
  RwEncodeResult r;
  const std::string encoded = encode(in, &r);
  assert_int_equal(r.series, in.size());
  const std::string body = snappy_compress(encoded);
  assert_true(body.size() < encoded.size());
  std::string plain = "replaced";
  assert_true(snappy_uncompress(body, encoded.size(), &plain));
  assert_true(plain == encoded);
  assert_all_same(decode(plain), in);

  // The cap is read from the block header, before anything is decoded.
  assert_false(snappy_uncompress(body, encoded.size() - 1, &plain));
  assert_true(plain.empty());
  assert_false(snappy_uncompress("not snappy at all", 1 << 20, &plain));
  assert_false(snappy_uncompress(body.substr(0, body.size() / 2), 1 << 20, &plain));
  // The framing format's stream identifier is not a block.
  assert_false(snappy_uncompress(std::string("\xff\x06\x00\x00sNaPpY", 10), 1 << 20, &plain));
  assert_true(snappy_uncompress(snappy_compress(""), 0, &plain) && plain.empty());
}

// What the output's spool relies on: batches encoded one by one and
// appended make one request holding every series, in order.
void concatenated_requests_are_one_request(void**) {
  const std::vector<RwSeries> a = random_series(3, 2);
  const std::vector<RwSeries> b = random_series(4, 3);
  const std::string joined = encode(a) + encode(b);
  std::vector<RwSeries> all = a;
  all.insert(all.end(), b.begin(), b.end());
  assert_all_same(decode(joined), all);

  // The same through one encoder appending to one buffer.
  RemoteWriteEncoder encoder;
  std::string out;
  assert_int_equal(encoder.encode(a, &out).series, 3);
  assert_int_equal(encoder.encode(b, &out).series, 4);
  assert_true(out == joined);
  // And compressed as a whole, as a request body is.
  std::string plain;
  assert_true(snappy_uncompress(snappy_compress(joined), kMaxWriteRequestBytes, &plain));
  assert_all_same(decode(plain), all);
}

void split_parts_decode_to_the_same_series(void**) {
  const std::vector<RwSeries> in = random_series(7, 4);
  // A metadata field (3, empty message) first and one in the middle.
  const std::string meta("\x1a\x00", 2);
  const std::string encoded =
      meta + encode({in.begin(), in.begin() + 4}) + meta + encode({in.begin() + 4, in.end()});
  assert_int_equal(count_write_request_series(encoded).value(), 7);
  for (size_t max : {1u, 2u, 3u, 6u, 7u, 100u}) {
    std::vector<std::string_view> parts;
    assert_true(split_write_request(encoded, max, &parts));
    assert_int_equal(parts.size(), (7 + max - 1) / max);
    std::string joined;
    std::vector<RwSeries> got;
    for (std::string_view part : parts) {
      const size_t n = count_write_request_series(part).value();
      assert_true(n >= 1 && n <= max);
      assert_string_equal(decode_write_request(part, &got).c_str(), "");
      joined.append(part);
    }
    assert_true(joined == encoded);
    assert_all_same(got, in);
  }
  std::vector<std::string_view> parts = {"stale"};
  assert_true(split_write_request("", 3, &parts) && parts.empty());
  assert_true(split_write_request(meta, 3, &parts) && parts.size() == 1);
  // Cut short, a series that is not length-delimited, a group.
  assert_false(split_write_request(encoded.substr(0, encoded.size() - 1), 3, &parts));
  assert_true(parts.empty());
  assert_false(split_write_request(std::string("\x08\x01", 2), 3, &parts));
  assert_false(split_write_request(std::string("\x1b\x1c", 2), 3, &parts));
  assert_false(count_write_request_series(std::string("\x0a\x05\x00", 3)).has_value());
}

void decode_refuses_bad_input(void**) {
  std::vector<RwSeries> out = random_series(1, 5);
  assert_string_equal(decode_write_request("\x0a\x05\x00", &out).c_str(),
                      "not a valid WriteRequest");
  assert_string_equal(decode_write_request("\xff\xff\xff", &out).c_str(),
                      "not a valid WriteRequest");
  assert_string_equal(
      decode_write_request(std::string(kMaxWriteRequestBytes + 1, '\0'), &out).c_str(),
      "write request is larger than 33554432 bytes");
  // A million empty series: 2 MB that protobuf-c would spend ~60 MB on.
  std::string bomb;
  for (int i = 0; i < 1'000'000; ++i)
    bomb.append("\x0a\x00", 2);
  assert_string_equal(decode_write_request(bomb, &out).c_str(),
                      "write request needs too much memory to decode");
  // On every error *out is untouched.
  assert_all_same(out, random_series(1, 5));
  // Real data of the same size fits the budget easily.
  const std::string big = encode(random_series(20'000, 6));
  assert_true(big.size() > 2'000'000);
  assert_int_equal(decode(big).size(), 20'000);
  assert_int_equal(decode("").size(), 0);
}

}  // namespace

int main() {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(labels_sorted_and_empty_values_dropped),
      cmocka_unit_test(bad_series_rejected_and_counted),
      cmocka_unit_test(samples_time_ordered_one_per_timestamp),
      cmocka_unit_test(special_values_preserved),
      cmocka_unit_test(round_trip_through_snappy),
      cmocka_unit_test(concatenated_requests_are_one_request),
      cmocka_unit_test(split_parts_decode_to_the_same_series),
      cmocka_unit_test(decode_refuses_bad_input),
  };
  return cmocka_run_group_tests(tests, nullptr, nullptr);
}
