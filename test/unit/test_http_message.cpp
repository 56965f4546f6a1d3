// Request helpers, error bodies, response heads and the server's metrics.
#include "http/http_metrics.hpp"
#include "http/request.hpp"
#include "http/response_writer.hpp"
#include "metrics/prometheus_text.hpp"

// cmocka last: its fail() macro breaks later standard headers.
#include "cmocka_all.hpp"

using namespace edgemon::http;

namespace {

bool gzip(std::initializer_list<const char*> values) {
  Request r;
  for (const char* v : values)
    r.headers.emplace_back("accept-encoding", v);
  return r.accepts_gzip();
}

void accepts_gzip(void**) {
  assert_true(gzip({"gzip"}));
  assert_true(gzip({"deflate, gzip;q=0.5"}));
  assert_true(gzip({"br", "GZIP"}));
  assert_true(gzip({"x-gzip"}));
  assert_true(gzip({"*"}));
  assert_true(gzip({"identity;q=0, *;q=0.1"}));
  assert_false(gzip({}));
  assert_false(gzip({"identity"}));
  assert_false(gzip({"gzip;q=0"}));
  assert_false(gzip({"gzip; q=0.000"}));
  assert_false(gzip({"*;q=1, gzip;q=0"}));
  assert_false(gzip({"gzipx"}));
  assert_true(gzip({"gzip;q=0.001"}));
}

void header_lookup(void**) {
  Request r;
  r.headers = {{"host", "a"}, {"x-dup", "1"}, {"x-dup", "2"}};
  assert_string_equal(r.header("host")->c_str(), "a");
  assert_string_equal(r.header("x-dup")->c_str(), "1");
  assert_null(r.header("missing"));
}

void json_error_body(void**) {
  Response r = json_error(404, "no \"route\"");
  assert_int_equal(r.status, 404);
  assert_string_equal(r.content_type.c_str(), "application/json");
  assert_string_equal(r.body.at(0)->c_str(), "{\"error\":\"no \\\"route\\\"\",\"status\":404}\n");
}

void response_head(void**) {
  Response r;
  r.status = 405;
  r.headers.emplace_back("Allow", "GET, HEAD");
  std::string out;
  append_response_head(out, r, 17, ConnectionHeader::kClose, "Thu, 01 Jan 1970 00:00:00 GMT");
  assert_string_equal(out.c_str(),
                      "HTTP/1.1 405 Method Not Allowed\r\n"
                      "Server: edgemon\r\n"
                      "Date: Thu, 01 Jan 1970 00:00:00 GMT\r\n"
                      "Content-Type: application/json\r\n"
                      "Content-Length: 17\r\n"
                      "Connection: close\r\n"
                      "Allow: GET, HEAD\r\n"
                      "\r\n");
  out.clear();
  r = Response{};
  r.status = 204;
  append_response_head(out, r, 0, ConnectionHeader::kKeepAlive, "D");
  assert_string_equal(out.c_str(),
                      "HTTP/1.1 204 No Content\r\nServer: edgemon\r\nDate: D\r\n"
                      "Connection: keep-alive\r\n\r\n");
}

void http_date(void**) {
  assert_string_equal(HttpDate::format(784111777).c_str(), "Sun, 06 Nov 1994 08:49:37 GMT");
  HttpDate date;
  std::string_view a = date.now();
  assert_int_equal(a.size(), 29);
  assert_contains(a, " GMT");
}

void metrics_families(void**) {
  HttpMetrics m;
  m.request_done("GET", "/metrics", 200, 0.0002);
  m.request_done("GET", "/metrics", 200, 0.0004);
  m.request_done("BREW", "other", 404, 0.0001);
  m.reject(RejectReason::kRateLimited);
  m.connection_opened();
  m.request_started();
  std::string text;
  edgemon::metrics::PrometheusTextWriter writer(text);
  m.write(writer);
  assert_contains(text, "# TYPE edgemon_http_requests_total counter");
  assert_contains(
      text, "edgemon_http_requests_total{method=\"GET\",route=\"/metrics\",status=\"200\"} 2");
  assert_contains(text,
                  "edgemon_http_requests_total{method=\"other\",route=\"other\",status=\"404\"} 1");
  assert_contains(text, "# TYPE edgemon_http_request_duration_seconds histogram");
  assert_contains(text, "edgemon_http_request_duration_seconds_count{route=\"/metrics\"} 2");
  assert_contains(text, "edgemon_http_requests_in_flight 1");
  assert_contains(text, "edgemon_http_connections 1");
  assert_contains(text, "edgemon_http_connections_total 1");
  assert_contains(text, "edgemon_http_rejected_total{reason=\"rate_limited\"} 1");
  // Every reason is present from the start, so rate() works on the first hit.
  for (const char* reason :
       {"too_many_connections", "header_too_large", "body_too_large", "header_timeout",
        "body_timeout", "bad_request", "forbidden", "unauthorized"}) {
    std::string line = "edgemon_http_rejected_total{reason=\"" + std::string(reason) + "\"} 0";
    assert_contains(text, line);
  }
  assert_contains(text, "# HELP edgemon_http_connections ");
}

}  // namespace

int main() {
  const CMUnitTest tests[] = {
      cmocka_unit_test(accepts_gzip),    cmocka_unit_test(header_lookup),
      cmocka_unit_test(json_error_body), cmocka_unit_test(response_head),
      cmocka_unit_test(http_date),       cmocka_unit_test(metrics_families),
  };
  return cmocka_run_group_tests(tests, nullptr, nullptr);
}
