// Route lookup: exact paths, 404, 405 with Allow, HEAD served by GET.
#include "http/router.hpp"

// cmocka last: its fail() macro breaks later standard headers.
#include "cmocka_all.hpp"

using namespace edgemon::http;

namespace {

Handler answer(std::string text) {
  return [text](const Request&, Response& r) { r.set_body(text); };
}

Router make_router() {
  Router router;
  router.add("GET", "/metrics", Group::kRead, answer("metrics"));
  router.add("GET", "/status", Group::kRead, answer("status"));
  router.add("POST", "/reload", Group::kWrite, answer("reload"));
  router.add("PUT", "/status", Group::kWrite, answer("put status"));
  return router;
}

std::string run(const Router::Match& m) {
  Request request;
  Response response;
  m.route->handler(request, response);
  return *response.body.at(0);
}

void finds_exact_routes(void**) {
  Router router = make_router();
  Router::Match m = router.find("GET", "/metrics");
  assert_int_equal(m.status, 200);
  assert_non_null(m.route);
  assert_string_equal(run(m).c_str(), "metrics");
  assert_string_equal(std::string(m.label).c_str(), "/metrics");
  m = router.find("POST", "/reload");
  assert_int_equal(m.status, 200);
  assert_true(m.route->group == Group::kWrite);
}

void unknown_path_is_404_with_bounded_label(void**) {
  Router router = make_router();
  for (const char* path : {"/", "/metrics/", "/metricsx", "/random/123", ""}) {
    Router::Match m = router.find("GET", path);
    assert_int_equal(m.status, 404);
    assert_null(m.route);
    assert_string_equal(std::string(m.label).c_str(), "other");
  }
}

void wrong_method_is_405_with_allow(void**) {
  Router router = make_router();
  Router::Match m = router.find("DELETE", "/metrics");
  assert_int_equal(m.status, 405);
  assert_null(m.route);
  assert_string_equal(m.allow.c_str(), "GET, HEAD");
  assert_string_equal(std::string(m.label).c_str(), "/metrics");
  m = router.find("GET", "/reload");
  assert_int_equal(m.status, 405);
  assert_string_equal(m.allow.c_str(), "POST");
  m = router.find("POST", "/status");
  assert_int_equal(m.status, 405);
  assert_string_equal(m.allow.c_str(), "GET, HEAD, PUT");
}

void head_uses_get(void**) {
  Router router = make_router();
  Router::Match m = router.find("HEAD", "/status");
  assert_int_equal(m.status, 200);
  assert_string_equal(run(m).c_str(), "status");
  assert_int_equal(router.find("HEAD", "/reload").status, 405);
  // An explicit HEAD route wins.
  router.add("HEAD", "/status", Group::kRead, answer("head"));
  assert_string_equal(run(router.find("HEAD", "/status")).c_str(), "head");
}

void add_replaces(void**) {
  Router router = make_router();
  router.add("GET", "/metrics", Group::kRead, answer("v2"));
  assert_int_equal(router.routes().size(), 4);
  assert_string_equal(run(router.find("GET", "/metrics")).c_str(), "v2");
}

void prefix_routes_take_paths_below_them(void**) {
  Router router = make_router();
  router.add("GET", "/config/*", Group::kRead, answer("config"));
  router.add("PUT", "/config/*", Group::kWrite, answer("put"));
  router.add("GET", "/config/list", Group::kRead, answer("list"));
  Router::Match m = router.find("GET", "/config/dev1");
  assert_int_equal(m.status, 200);
  assert_string_equal(run(m).c_str(), "config");
  assert_string_equal(std::string(m.label).c_str(), "/config/*");
  assert_string_equal(run(router.find("GET", "/config/dev1/report")).c_str(), "config");
  assert_string_equal(run(router.find("PUT", "/config/dev1")).c_str(), "put");
  // An exact route wins, and only its methods are allowed there.
  assert_string_equal(run(router.find("GET", "/config/list")).c_str(), "list");
  assert_int_equal(router.find("PUT", "/config/list").status, 405);
  // The prefix itself is not below it.
  assert_int_equal(router.find("GET", "/config/").status, 404);
  assert_int_equal(router.find("GET", "/config").status, 404);
  assert_int_equal(router.find("GET", "/configx/a").status, 404);
  m = router.find("POST", "/config/dev1");
  assert_int_equal(m.status, 405);
  assert_string_equal(m.allow.c_str(), "GET, HEAD, PUT");
}

}  // namespace

int main() {
  const CMUnitTest tests[] = {
      cmocka_unit_test(finds_exact_routes),
      cmocka_unit_test(unknown_path_is_404_with_bounded_label),
      cmocka_unit_test(wrong_method_is_405_with_allow),
      cmocka_unit_test(head_uses_get),
      cmocka_unit_test(add_replaces),
      cmocka_unit_test(prefix_routes_take_paths_below_them),
  };
  return cmocka_run_group_tests(tests, nullptr, nullptr);
}
