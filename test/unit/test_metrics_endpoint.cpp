// GET /metrics: the requests of one loop turn (a client pipelining hundreds
// of them without reading) share one buffer of live counters, plain and
// gzip; a request in a later turn sees what moved meanwhile.
#include <zlib.h>

#include <cstring>

#include "api/metrics_endpoint.hpp"
#include "loop_helpers.hpp"

using namespace edgemon;

namespace {

int g_requests = 0;  // the live section's one counter

std::vector<api::MetricsEndpoint::LiveSection> live_sections() {
  return {{[](metrics::MetricSink& sink) {
             sink.begin({"test_requests_total", "Requests seen.", metrics::Type::kCounter});
             sink.sample({}, g_requests);
           },
           nullptr}};
}

http::Response get(api::MetricsEndpoint& endpoint, bool gzip) {
  http::Request request;
  request.method = "GET";
  request.path = "/metrics";
  if (gzip) request.headers.emplace_back("accept-encoding", "gzip");
  http::Response response;
  endpoint.handle(request, response);
  return response;
}

std::string joined(const http::Response& r) {
  std::string out;
  for (const auto& part : r.body)
    out += *part;
  return out;
}

std::string gunzip(const std::string& data) {
  z_stream z{};
  assert_int_equal(inflateInit2(&z, 16 + MAX_WBITS), Z_OK);
  std::string out(1 << 20, '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  z.avail_in = static_cast<uInt>(data.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  assert_int_equal(inflate(&z, Z_FINISH), Z_STREAM_END);
  out.resize(z.total_out);
  inflateEnd(&z);
  return out;
}

void one_turn_shares_one_buffer_the_next_sees_new_counts(void**) {
  test::TestLoop loop;
  {
    bus::LatestRegistry families;
    api::MetricsEndpoint endpoint(&loop.loop, families, live_sections());
    g_requests = 1;
    http::Response a = get(endpoint, false);
    g_requests = 2;  // moved within the turn: not rendered again
    http::Response b = get(endpoint, false);
    assert_int_equal(a.body.size(), 2);
    assert_ptr_equal(a.body[1].get(), b.body[1].get());
    assert_ptr_equal(a.body[0].get(), b.body[0].get());
    assert_non_null(strstr(joined(b).c_str(), "test_requests_total 1\n"));

    http::Response za = get(endpoint, true);
    http::Response zb = get(endpoint, true);
    assert_int_equal(za.body.size(), 2);
    assert_ptr_equal(za.body[1].get(), zb.body[1].get());
    assert_non_null(strstr(gunzip(joined(zb)).c_str(), "test_requests_total 1\n"));

    // The turn ends (its check phase): the next request renders anew.
    uv_run(&loop.loop, UV_RUN_NOWAIT);
    http::Response c = get(endpoint, false);
    assert_ptr_not_equal(a.body[1].get(), c.body[1].get());
    assert_non_null(strstr(joined(c).c_str(), "test_requests_total 2\n"));
    http::Response zc = get(endpoint, true);
    assert_non_null(strstr(gunzip(joined(zc)).c_str(), "test_requests_total 2\n"));
    // What was handed out earlier is unchanged: responses still being
    // written keep their bytes.
    assert_non_null(strstr(joined(a).c_str(), "test_requests_total 1\n"));
  }
}

}  // namespace

int main() {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(one_turn_shares_one_buffer_the_next_sees_new_counts),
  };
  return cmocka_run_group_tests(tests, nullptr, nullptr);
}
