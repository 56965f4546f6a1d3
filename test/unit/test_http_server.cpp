// The HTTP server end to end: pipelining, keep-alive, HEAD, errors, IPv6,
// graceful shutdown and cleanup of every libuv handle.
#include "test_http_harness.hpp"

using namespace http_test;

namespace {

void pipelined_requests_answered_in_order(void**) {
  Router router = make_router();
  std::vector<HttpResponse> responses;
  Outcome out = run_server(base_config(), router, [&](Context& ctx) {
    Client c(ctx.port);
    c.send(get("/echo?1") + get("/echo?2") + get("/echo?3"));
    for (int i = 0; i < 3; ++i)
      responses.push_back(c.response());
  });
  assert_clean(out);
  assert_int_equal(responses.size(), 3);
  for (int i = 0; i < 3; ++i) {
    assert_true(responses[i].complete);
    assert_int_equal(responses[i].status, 200);
    assert_string_equal(responses[i].body.c_str(), std::to_string(i + 1).c_str());
    assert_string_equal(responses[i].header("server").c_str(), "edgemon");
    assert_int_equal(responses[i].header("date").size(), 29);
    assert_string_equal(responses[i].header("content-type").c_str(), "application/json");
  }
  assert_contains(out.metrics,
                  "edgemon_http_requests_total{method=\"GET\",route=\"/echo\",status=\"200\"} 3");
  assert_contains(out.metrics, "edgemon_http_connections_total 1\n");
}

void keep_alive_head_and_errors(void**) {
  Router router = make_router();
  HttpResponse first, head, after_head, missing, wrong_method, post;
  Outcome out = run_server(base_config(), router, [&](Context& ctx) {
    Client c(ctx.port);
    c.send(get("/echo?first"));
    first = c.response();
    c.send("HEAD /echo?abc HTTP/1.1\r\nHost: t\r\n\r\n");
    head = c.response(true);
    c.send(get("/echo?x"));
    after_head = c.response();
    c.send(get("/nope"));
    missing = c.response();
    c.send("DELETE /echo HTTP/1.1\r\nHost: t\r\n\r\n");
    wrong_method = c.response();
    c.send("POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 4\r\n\r\nbody");
    post = c.response();
  });
  assert_clean(out);
  assert_string_equal(first.body.c_str(), "first");
  assert_int_equal(head.status, 200);
  assert_string_equal(head.header("content-length").c_str(), "3");
  // Had HEAD sent a body, it would be read as the start of the next response.
  assert_int_equal(after_head.status, 200);
  assert_string_equal(after_head.body.c_str(), "x");
  assert_int_equal(missing.status, 404);
  assert_string_equal(missing.body.c_str(), "{\"error\":\"not found\",\"status\":404}\n");
  assert_int_equal(wrong_method.status, 405);
  assert_string_equal(wrong_method.header("allow").c_str(), "GET, HEAD, POST");
  assert_string_equal(post.body.c_str(), "body");
  assert_contains(out.metrics, "edgemon_http_connections_total 1\n");
  assert_contains(out.metrics,
                  "edgemon_http_requests_total{method=\"GET\",route=\"other\",status=\"404\"} 1");
  assert_contains(
      out.metrics,
      "edgemon_http_requests_total{method=\"DELETE\",route=\"/echo\",status=\"405\"} 1");
  assert_contains(out.metrics,
                  "edgemon_http_requests_total{method=\"HEAD\",route=\"/echo\",status=\"200\"} 1");
}

void http10_closes_unless_keep_alive(void**) {
  Router router = make_router();
  HttpResponse plain, kept, again;
  bool plain_closed = false;
  Outcome out = run_server(base_config(), router, [&](Context& ctx) {
    Client a(ctx.port);
    a.send("GET /echo?a HTTP/1.0\r\n\r\n");
    plain = a.response();
    plain_closed = a.closed_by_server();
    Client b(ctx.port);
    b.send("GET /echo?b HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
    kept = b.response();
    b.send("GET /echo?c HTTP/1.1\r\nConnection: close\r\n\r\n");
    again = b.response();
  });
  assert_clean(out);
  assert_string_equal(plain.body.c_str(), "a");
  assert_string_equal(plain.header("connection").c_str(), "close");
  assert_true(plain_closed);
  assert_string_equal(kept.header("connection").c_str(), "keep-alive");
  assert_string_equal(again.body.c_str(), "c");
  assert_string_equal(again.header("connection").c_str(), "close");
}

void expect_continue(void**) {
  Router router = make_router();
  std::string interim;
  HttpResponse final_response;
  Outcome out = run_server(base_config(), router, [&](Context& ctx) {
    Client c(ctx.port);
    c.send("POST /echo HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n");
    HttpResponse r = c.response();
    interim = std::to_string(r.status);
    c.send("hello");
    final_response = c.response();
  });
  assert_clean(out);
  assert_string_equal(interim.c_str(), "100");
  assert_int_equal(final_response.status, 200);
  assert_string_equal(final_response.body.c_str(), "hello");
}

// A refused request with a body is answered from its head: no 100 Continue
// and no waiting for a body the client was never going to be allowed to send.
void refused_body_is_answered_before_it_is_sent(void**) {
  Router router = make_router();
  config::HttpSection cfg = base_config();
  cfg.access.write.tokens = {"right"};
  HttpResponse refused;
  HttpResponse no_token;
  Outcome out = run_server(cfg, router, [&](Context& ctx) {
    Client a(ctx.port);
    a.send(
        "POST /admin HTTP/1.1\r\nAuthorization: Bearer wrong\r\nExpect: 100-continue\r\n"
        "Content-Length: 5\r\n\r\n");
    refused = a.response();
    Client b(ctx.port);
    b.send("POST /admin HTTP/1.1\r\nContent-Length: 1000\r\n\r\nonly part");
    no_token = b.response();
  });
  assert_clean(out);
  assert_int_equal(refused.status, 401);
  assert_int_equal(no_token.status, 401);
  assert_string_equal(no_token.header("connection").c_str(), "close");
}

bool ipv6_loopback_available() {
  int fd = socket(AF_INET6, SOCK_STREAM, 0);
  if (fd < 0) return false;
  sockaddr_in6 a{};
  a.sin6_family = AF_INET6;
  a.sin6_addr = in6addr_loopback;
  bool ok = bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  ::close(fd);
  return ok;
}

void listens_on_ipv4_and_ipv6(void**) {
  if (!ipv6_loopback_available()) skip();
  config::HttpSection config = base_config();
  config.listen = {"127.0.0.1:0", "[::1]:0"};
  Router router = make_router();
  HttpResponse v4, v6;
  int port6 = 0;
  Outcome out = run_server(config, router, [&](Context& ctx) {
    port6 = ctx.port6;
    Client a(ctx.port);
    a.send(get("/echo?v4"));
    v4 = a.response();
    Client b(ctx.port6, AF_INET6);
    b.send(get("/echo?v6"));
    v6 = b.response();
  });
  assert_clean(out);
  assert_true(port6 > 0);
  assert_string_equal(v4.body.c_str(), "v4");
  assert_string_equal(v6.body.c_str(), "v6");
}

void graceful_shutdown_finishes_responses(void**) {
  config::HttpSection config = base_config();
  config.limits.shutdown_timeout = std::chrono::milliseconds(5000);
  Router router = make_router();
  HttpResponse in_flight;
  bool idle_closed = false, busy_closed = false;
  int64_t idle_close_ms = 0;
  Outcome out = run_server(config, router, [&](Context& ctx) {
    Client idle(ctx.port);
    idle.send(get("/echo?i"));
    idle.response();
    Client busy(ctx.port);
    busy.send(get("/big?last"));
    // Let the response start queueing, then stop the server while the
    // client has not read it.
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    auto start = Clock::now();
    ctx.request_shutdown();
    idle_closed = idle.closed_by_server();
    idle_close_ms = ms_since(start);
    in_flight = busy.response();
    busy_closed = busy.closed_by_server();
  });
  assert_clean(out);
  assert_true(idle_closed);
  assert_true(idle_close_ms < 1000);
  assert_int_equal(in_flight.status, 200);
  assert_int_equal(in_flight.body.size(), kBigBody);
  assert_true(busy_closed);
}

void shutdown_force_closes_after_timeout(void**) {
  config::HttpSection config = base_config();
  config.limits.shutdown_timeout = std::chrono::milliseconds(300);
  Router router = make_router();
  bool closed = false;
  int64_t close_ms = 0;
  auto start = Clock::now();
  Outcome out = run_server(config, router, [&](Context& ctx) {
    Client stuck(ctx.port);
    stuck.send("GET /echo HTTP/1.1\r\n");  // a head that never completes
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    start = Clock::now();
    ctx.request_shutdown();
    closed = stuck.closed_by_server();
    close_ms = ms_since(start);
  });
  assert_clean(out);
  assert_true(closed);
  assert_true(close_ms >= 250 && close_ms < 2500);
}

void reconfigure_applies_limits(void**) {
  Router router = make_router();
  uv_loop_t loop;
  uv_loop_init(&loop);
  config::HttpSection config = base_config();
  Server server(&loop, config, router);
  assert_string_equal(server.listen().c_str(), "");
  assert_int_equal(server.listening().size(), 1);
  assert_int_not_equal(port_of(server.listening()[0]), 0);
  config.listen = {"127.0.0.1:1"};
  config.access.read.allow = {};
  server.reconfigure(config);  // logs that the listen change needs a restart
  assert_int_equal(server.listening().size(), 1);
  bool done = false;
  server.shutdown([&] { done = true; });
  assert_false(done);  // never synchronously
  uv_run(&loop, UV_RUN_DEFAULT);
  assert_true(done);
  assert_int_equal(uv_loop_close(&loop), 0);
}

void listen_errors_are_reported(void**) {
  Router router = make_router();
  uv_loop_t loop;
  uv_loop_init(&loop);
  config::HttpSection config = base_config();
  Server first(&loop, config, router);
  assert_string_equal(first.listen().c_str(), "");
  config.listen = {"127.0.0.1:0", first.listening()[0]};
  {
    Server second(&loop, config, router);
    std::string error = second.listen();
    assert_contains(error, "cannot listen on 127.0.0.1:");
    assert_contains(error, "address already in use");
    assert_int_equal(second.listening().size(), 0);
  }
  bool done = false;
  first.shutdown([&] { done = true; });
  uv_run(&loop, UV_RUN_DEFAULT);
  assert_true(done);
  assert_int_equal(uv_loop_close(&loop), 0);
}

// Without shutdown(), the destructor still closes everything; the loop has
// to run once more for the closes to finish.
void destroying_a_busy_server_leaks_nothing(void**) {
  Router router = make_router();
  uv_loop_t loop;
  uv_loop_init(&loop);
  auto server = std::make_unique<Server>(&loop, base_config(), router);
  assert_string_equal(server->listen().c_str(), "");
  int port = port_of(server->listening()[0]);
  std::atomic<bool> release{false};
  std::thread client([&] {
    Client idle(port);
    Client busy(port);
    busy.send(get("/big?x"));
    Client partial(port);
    partial.send("GET /echo HTTP/1.1\r\n");
    for (int i = 0; i < 500 && !release; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  });
  for (int i = 0; i < 500 && server->connections() < 3; ++i) {
    uv_run(&loop, UV_RUN_NOWAIT);
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  assert_int_equal(server->connections(), 3);
  server.reset();
  uv_run(&loop, UV_RUN_DEFAULT);
  release = true;
  client.join();
  assert_int_equal(uv_loop_close(&loop), 0);
}

}  // namespace

int main() {
  const CMUnitTest tests[] = {
      cmocka_unit_test(pipelined_requests_answered_in_order),
      cmocka_unit_test(keep_alive_head_and_errors),
      cmocka_unit_test(http10_closes_unless_keep_alive),
      cmocka_unit_test(expect_continue),
      cmocka_unit_test(refused_body_is_answered_before_it_is_sent),
      cmocka_unit_test(listens_on_ipv4_and_ipv6),
      cmocka_unit_test(graceful_shutdown_finishes_responses),
      cmocka_unit_test(shutdown_force_closes_after_timeout),
      cmocka_unit_test(reconfigure_applies_limits),
      cmocka_unit_test(listen_errors_are_reported),
      cmocka_unit_test(destroying_a_busy_server_leaks_nothing),
  };
  return cmocka_run_group_tests(tests, quiet_logs, nullptr);
}
