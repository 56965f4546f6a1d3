// Request parsing with limits, fed whole, in pieces and pipelined.
#include <vector>

#include "http/request_parser.hpp"

// cmocka last: its fail() macro breaks later standard headers.
#include "cmocka_all.hpp"

using namespace edgemon::http;
using Result = RequestParser::Result;

namespace {

struct Parsed {
  std::vector<Request> requests;
  std::vector<bool> keep_alive;
  int error_status = 0;
  std::string error_message;
  std::string error_reason;
};

// Feeds `input` in pieces of `step` bytes (0: all at once), like reads.
Parsed parse(std::string_view input, size_t step = 0, ParserLimits limits = {}) {
  RequestParser parser(&limits);
  Parsed out;
  if (step == 0) step = input.size();
  for (size_t offset = 0; offset < input.size() && out.error_status == 0; offset += step) {
    std::string_view piece = input.substr(offset, step);
    bool more = true;
    while (more) {
      size_t used = 0;
      Result r = parser.feed(piece.data(), piece.size(), &used);
      piece.remove_prefix(used);
      switch (r) {
        case Result::kNeedMore:
          more = false;
          break;
        case Result::kHeadersComplete:
          break;
        case Result::kRequestComplete:
          out.requests.push_back(parser.request());
          out.keep_alive.push_back(parser.keep_alive());
          parser.reset();
          more = !piece.empty();
          break;
        case Result::kError:
          out.error_status = parser.error_status();
          out.error_message = parser.error_message();
          out.error_reason = std::string(parser.error_reason());
          more = false;
          break;
      }
    }
  }
  return out;
}

const char kGet[] =
    "GET /a%20b/c?x=1&y=%20 HTTP/1.1\r\n"
    "Host: example\r\n"
    "X-Mixed-CASE:  value with spaces  \r\n"
    "\r\n";

void parses_a_request(void**) {
  Parsed p = parse(kGet);
  assert_int_equal(p.error_status, 0);
  assert_int_equal(p.requests.size(), 1);
  const Request& r = p.requests[0];
  assert_string_equal(std::string(r.method).c_str(), "GET");
  assert_string_equal(r.path.c_str(), "/a b/c");
  assert_string_equal(r.query.c_str(), "x=1&y=%20");
  assert_string_equal(r.header("host")->c_str(), "example");
  assert_string_equal(r.header("x-mixed-case")->c_str(), "value with spaces");
  assert_true(p.keep_alive[0]);
}

void byte_by_byte_gives_the_same(void**) {
  Parsed p = parse(kGet, 1);
  assert_int_equal(p.requests.size(), 1);
  assert_string_equal(p.requests[0].path.c_str(), "/a b/c");
  assert_string_equal(p.requests[0].header("x-mixed-case")->c_str(), "value with spaces");
}

void pipelined_requests_come_out_one_by_one(void**) {
  std::string input =
      "GET /1 HTTP/1.1\r\n\r\n"
      "POST /2 HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello"
      "POST /3 HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n"
      "Trailer-X: t\r\n\r\n"
      "HEAD /4 HTTP/1.1\r\nConnection: close\r\n\r\n";
  for (size_t step : {size_t{0}, size_t{1}, size_t{7}}) {
    Parsed p = parse(input, step);
    assert_int_equal(p.error_status, 0);
    assert_int_equal(p.requests.size(), 4);
    assert_string_equal(p.requests[0].path.c_str(), "/1");
    assert_string_equal(p.requests[1].body.c_str(), "hello");
    assert_string_equal(p.requests[2].body.c_str(), "abcde");
    assert_null(p.requests[2].header("trailer-x"));
    assert_string_equal(std::string(p.requests[3].method).c_str(), "HEAD");
    assert_true(p.keep_alive[2]);
    assert_false(p.keep_alive[3]);
  }
}

void keep_alive_rules(void**) {
  assert_false(parse("GET / HTTP/1.0\r\n\r\n").keep_alive.at(0));
  assert_true(parse("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n").keep_alive.at(0));
  assert_false(parse("GET / HTTP/1.1\r\nConnection: close\r\n\r\n").keep_alive.at(0));
  assert_int_equal(parse("GET / HTTP/1.0\r\n\r\n").requests.at(0).http_minor, 0);
  // Upgrades are not supported: answer, then close.
  assert_false(parse("GET / HTTP/1.1\r\nConnection: upgrade\r\nUpgrade: websocket\r\n\r\n")
                   .keep_alive.at(0));
}

void header_limit_counts_raw_bytes(void**) {
  ParserLimits limits{1024, 1024, nullptr};
  std::string head = "GET / HTTP/1.1\r\nX: ";
  std::string tail = "\r\n\r\n";
  std::string exact = head + std::string(1024 - head.size() - tail.size(), 'a') + tail;
  assert_int_equal(exact.size(), 1024);
  for (size_t step : {size_t{0}, size_t{1}, size_t{100}}) {
    Parsed ok = parse(exact, step, limits);
    assert_int_equal(ok.error_status, 0);
    assert_int_equal(ok.requests.size(), 1);
    std::string over = head + std::string(1025 - head.size() - tail.size(), 'a') + tail;
    Parsed p = parse(over, step, limits);
    assert_int_equal(p.error_status, 431);
    assert_string_equal(p.error_reason.c_str(), "header_too_large");
    assert_contains(p.error_message, "1024");
  }
  // Many small headers and a long URL count the same way.
  std::string many = "GET /" + std::string(600, 'u') + " HTTP/1.1\r\n";
  for (int i = 0; i < 100; ++i)
    many += "A: b\r\n";
  assert_int_equal(parse(many + "\r\n", 0, limits).error_status, 431);
  // A head that never ends is stopped at the limit, not buffered.
  assert_int_equal(parse("GET / HTTP/1.1\r\nX: " + std::string(5000, 'a'), 64, limits).error_status,
                   431);
}

void body_limit(void**) {
  ParserLimits limits{16 * 1024, 10, nullptr};
  Parsed p = parse("POST / HTTP/1.1\r\nContent-Length: 11\r\n\r\n", 0, limits);
  assert_int_equal(p.error_status, 413);
  assert_string_equal(p.error_reason.c_str(), "body_too_large");
  p = parse("POST / HTTP/1.1\r\nContent-Length: 10\r\n\r\n0123456789", 3, limits);
  assert_int_equal(p.error_status, 0);
  assert_string_equal(p.requests.at(0).body.c_str(), "0123456789");
  // Chunked bodies are counted as they arrive.
  p = parse("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n6\r\nabcdef\r\n5\r\nghijk\r\n", 0,
            limits);
  assert_int_equal(p.error_status, 413);
  // So are trailers.
  p = parse("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n1\r\na\r\n0\r\nX-Long: " +
                std::string(20, 't') + "\r\n\r\n",
            0, limits);
  assert_int_equal(p.error_status, 413);
}

void malformed_requests(void**) {
  const std::string bad[] = {
      "GARBAGE\r\n\r\n",
      "GET / HTTP/9.9\r\n\r\n",
      "GET / HTTP/1.1\r\nBad Header\r\n\r\n",
      "GET / HTTP/1.1\r\nHo\x01st: x\r\n\r\n",
      "GET / HTTP/1.1\r\nContent-Length: x\r\n\r\n",
      "GET / HTTP/1.1\r\nContent-Length: -1\r\n\r\n",
      "GET / HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 7\r\n\r\nabcde",
      "GET / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
      "POST / HTTP/1.1\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n",
      std::string("GET /hea\0lth HTTP/1.1\r\n\r\n", 26),
      "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03",  // a TLS hello
      "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n",
      "GET /%zz HTTP/1.1\r\n\r\n",
      "GET /%4 HTTP/1.1\r\n\r\n",
  };
  for (const std::string& input : bad) {
    for (size_t step : {size_t{0}, size_t{1}}) {
      Parsed p = parse(input, step);
      if (p.error_status != 400) fail_msg("expected 400 for %s", input.c_str());
      assert_int_equal(p.requests.size(), 0);
      assert_string_equal(p.error_reason.c_str(), "bad_request");
      assert_contains(p.error_message, "request");
    }
  }
}

void expect_continue(void**) {
  ParserLimits limits;
  RequestParser parser(&limits);
  std::string input = "PUT /x HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\n";
  size_t used = 0;
  assert_int_equal(static_cast<int>(parser.feed(input.data(), input.size(), &used)),
                   static_cast<int>(Result::kHeadersComplete));
  assert_int_equal(used, input.size());
  assert_true(parser.expects_continue());
  assert_true(parser.has_body());
  assert_true(parser.phase() == RequestParser::Phase::kBody);
  assert_int_equal(static_cast<int>(parser.feed("ok", 2, &used)),
                   static_cast<int>(Result::kRequestComplete));
  assert_string_equal(parser.request().body.c_str(), "ok");
}

void absolute_form_target(void**) {
  Parsed p = parse("GET http://example.com:9110/metrics?x HTTP/1.1\r\n\r\n");
  assert_int_equal(p.requests.size(), 1);
  assert_string_equal(p.requests[0].path.c_str(), "/metrics");
  assert_string_equal(p.requests[0].query.c_str(), "x");
}

}  // namespace

int main() {
  const CMUnitTest tests[] = {
      cmocka_unit_test(parses_a_request),
      cmocka_unit_test(byte_by_byte_gives_the_same),
      cmocka_unit_test(pipelined_requests_come_out_one_by_one),
      cmocka_unit_test(keep_alive_rules),
      cmocka_unit_test(header_limit_counts_raw_bytes),
      cmocka_unit_test(body_limit),
      cmocka_unit_test(malformed_requests),
      cmocka_unit_test(expect_continue),
      cmocka_unit_test(absolute_form_target),
  };
  return cmocka_run_group_tests(tests, nullptr, nullptr);
}
