// What the client puts on the wire, without sockets: URL parsing and the
// request head.
#include <string>

#include "build_info.hpp"
#include "http/request_head.hpp"
#include "http/url.hpp"

// cmocka last: its fail() macro breaks later standard headers.
#include "cmocka_all.hpp"

namespace {

using namespace edgemon::http;

Url parsed(const char* text) {
  Url url;
  std::string error = parse_url(text, &url);
  if (!error.empty()) fail_msg("%s: %s", text, error.c_str());
  return url;
}

std::string url_error(const char* text) {
  Url url;
  return parse_url(text, &url);
}

void urls(void**) {
  Url u = parsed("http://influx.lan:8086/write?db=edge");
  assert_false(u.tls);
  assert_string_equal(u.host.c_str(), "influx.lan");
  assert_int_equal(u.port, 8086);
  assert_string_equal(u.target.c_str(), "/write?db=edge");
  assert_string_equal(u.authority().c_str(), "influx.lan:8086");

  u = parsed("https://example.com");
  assert_true(u.tls);
  assert_int_equal(u.port, 443);
  assert_string_equal(u.target.c_str(), "/");
  assert_string_equal(u.authority().c_str(), "example.com");

  u = parsed("http://[::1]:9110?x=1#frag");
  assert_true(u.host_is_ipv6);
  assert_string_equal(u.host.c_str(), "::1");
  assert_string_equal(u.target.c_str(), "/?x=1");
  assert_string_equal(u.authority().c_str(), "[::1]:9110");

  u = parsed("http://us%40er:p%3Ass@127.0.0.1/");
  assert_string_equal(u.username.c_str(), "us@er");
  assert_string_equal(u.password.c_str(), "p:ss");
  assert_string_equal(u.host.c_str(), "127.0.0.1");

  assert_contains(url_error("ftp://host/"), "expected http:// or https://");
  assert_contains(url_error("not a url"), "expected http:// or https://");
  assert_contains(url_error("http://[::1"), "IPv6");
  assert_contains(url_error("http://host:0/"), "port");
  assert_contains(url_error("http://host:99999/"), "port");
  assert_contains(url_error("http://host:80x/"), "port");
  assert_contains(url_error("http:///path"), "no host");
  assert_contains(url_error("http://ho st/"), "spaces or control characters");
  assert_contains(url_error("http://host/a\r\nX: y"), "spaces or control characters");
}

std::string head(ClientRequest request) {
  Url url;
  if (std::string error = parse_url(request.url, &url); !error.empty())
    fail_msg("%s", error.c_str());
  std::string out;
  std::string error = build_request_head(request, url, &out);
  return error.empty() ? out : "error: " + error;
}

void request_heads(void**) {
  std::string agent = std::string("User-Agent: edgemon/") + edgemon::build::kVersion + "\r\n";
  ClientRequest r;
  r.url = "http://127.0.0.1:8086/write?db=x";
  r.method = "POST";
  r.body = "abc";
  r.headers = {"Content-Type: text/plain", "Expect:", "Content-Length: 99"};
  r.username = "user";
  r.password = "pass";
  assert_string_equal(head(r).c_str(),
                      ("POST /write?db=x HTTP/1.1\r\nHost: 127.0.0.1:8086\r\n" + agent +
                       "Authorization: Basic dXNlcjpwYXNz\r\n"
                       "Content-Type: text/plain\r\nContent-Length: 3\r\n\r\n")
                          .c_str());

  ClientRequest g;
  g.url = "https://u:p@[::1]/";
  g.headers = {"User-Agent: probe", "Host: other"};
  assert_string_equal(head(g).c_str(),
                      "GET / HTTP/1.1\r\nAuthorization: Basic dTpw\r\nUser-Agent: probe\r\n"
                      "Host: other\r\n\r\n");

  ClientRequest bad = g;
  bad.headers = {"X-A: 1\r\nX-B: 2"};
  assert_contains(head(bad), "error: the request header 'X-A: 1' contains a line break");
  bad.headers = {"no colon"};
  assert_contains(head(bad), "error: invalid request header line");
  bad.headers = {};
  bad.method = "GET /x";
  assert_contains(head(bad), "error: invalid request method");
}

}  // namespace

int main() {
  const CMUnitTest tests[] = {
      cmocka_unit_test(urls),
      cmocka_unit_test(request_heads),
  };
  return cmocka_run_group_tests(tests, nullptr, nullptr);
}
