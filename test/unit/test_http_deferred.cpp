// Deferred responses (Response::defer): a handler answers later, pipelined
// requests behind it wait so responses stay in order, an answer given before
// the handler returns is sent at once, a handler that never answers gets 503
// after the body timeout, and a route's own body limit applies.
#include "test_http_harness.hpp"

using namespace http_test;

namespace {

// Handlers run on the loop thread only; the client thread reads these after
// the server has stopped.
std::vector<Responder> g_held;
int g_echo_calls = 0;
int g_echo_calls_at_release = -1;

Router deferred_router() {
  Router router = make_router();
  router.add("GET", "/later", Group::kRead,
             [](const Request&, Response& res) { g_held.push_back(res.defer()); });
  router.add("GET", "/count", Group::kRead, [](const Request& req, Response& res) {
    ++g_echo_calls;
    res.set_body(req.query);
  });
  router.add("GET", "/release", Group::kRead, [](const Request&, Response& res) {
    g_echo_calls_at_release = g_echo_calls;
    for (auto& r : g_held) {
      Response later;
      later.set_body("later");
      r.send(std::move(later));
    }
    g_held.clear();
    res.set_body("released");
  });
  router.add("GET", "/early", Group::kRead, [](const Request&, Response& res) {
    Responder r = res.defer();
    Response now;
    now.status = 201;
    now.set_body("early");
    r.send(std::move(now));
  });
  router.add("GET", "/held", Group::kRead,
             [](const Request&, Response& res) { res.set_body(std::to_string(g_held.size())); });
  router.add("GET", "/never", Group::kRead, [](const Request&, Response& res) { res.defer(); });
  router.add("GET", "/never-but-says-why", Group::kRead,
             [](const Request&, Response& res) { res.defer("still writing; may be stored"); });
  router
      .add("POST", "/small", Group::kRead,
           [](const Request& req, Response& res) { res.set_body(req.body); })
      .max_body_bytes = 8;
  return router;
}

void pipelined_requests_wait_for_a_deferred_one(void**) {
  Router router = deferred_router();
  std::vector<HttpResponse> held;
  HttpResponse released;
  Outcome out = run_server(base_config(), router, [&](Context& ctx) {
    Client a(ctx.port);
    a.send(get("/later") + get("/count?2"));
    // /count must not run while /later waits; release from another client
    // once /later is held (both requests came in one segment, so /count has
    // been read by then).
    Client b(ctx.port);
    for (int i = 0; i < 500; ++i) {
      b.send(get("/held"));
      if (b.response().body == "1") break;
    }
    b.send(get("/release"));
    released = b.response();
    held.push_back(a.response());
    held.push_back(a.response());
  });
  assert_clean(out);
  assert_int_equal(g_echo_calls_at_release, 0);
  assert_string_equal(released.body.c_str(), "released");
  assert_int_equal(held.size(), 2);
  assert_string_equal(held[0].body.c_str(), "later");
  assert_string_equal(held[1].body.c_str(), "2");
  assert_int_equal(g_echo_calls, 1);
}

void early_answer_and_handler_timeout(void**) {
  config::HttpSection config = base_config();
  config.limits.body_timeout = std::chrono::milliseconds(300);
  Router router = deferred_router();
  HttpResponse early, never, says_why;
  int64_t waited = 0;
  Outcome out = run_server(config, router, [&](Context& ctx) {
    Client c(ctx.port);
    c.send(get("/early"));
    early = c.response();
    auto start = Clock::now();
    c.send(get("/never"));
    never = c.response();
    waited = ms_since(start);
    Client d(ctx.port);
    d.send(get("/never-but-says-why"));
    says_why = d.response();
  });
  assert_clean(out);
  assert_int_equal(early.status, 201);
  assert_string_equal(early.body.c_str(), "early");
  assert_int_equal(never.status, 503);
  assert_true(waited >= 250 && waited < 3000);
  assert_contains(never.body, "timed out waiting for the response");
  // The handler says what the timeout means for its work.
  assert_int_equal(says_why.status, 503);
  assert_contains(says_why.body, "still writing; may be stored");
  assert_contains(out.metrics, "reason=\"handler_timeout\"} 2");
}

void a_route_has_its_own_body_limit(void**) {
  Router router = deferred_router();
  HttpResponse small_ok, small_big, echo_big;
  Outcome out = run_server(base_config(), router, [&](Context& ctx) {
    Client a(ctx.port);
    a.send("POST /small HTTP/1.1\r\nHost: t\r\nContent-Length: 8\r\n\r\n12345678");
    small_ok = a.response();
    Client b(ctx.port);
    b.send("POST /small HTTP/1.1\r\nHost: t\r\nContent-Length: 9\r\n\r\n123456789");
    small_big = b.response();
    Client c(ctx.port);
    c.send("POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 9\r\n\r\n123456789");
    echo_big = c.response();
  });
  assert_clean(out);
  assert_int_equal(small_ok.status, 200);
  assert_int_equal(small_big.status, 413);
  assert_int_equal(echo_big.status, 200);
  assert_string_equal(echo_big.body.c_str(), "123456789");
}

}  // namespace

int main() {
  const CMUnitTest tests[] = {
      cmocka_unit_test(pipelined_requests_wait_for_a_deferred_one),
      cmocka_unit_test(early_answer_and_handler_timeout),
      cmocka_unit_test(a_route_has_its_own_body_limit),
  };
  return cmocka_run_group_tests(tests, quiet_logs, nullptr);
}
