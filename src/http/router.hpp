#pragma once
// Maps (method, path) to a handler. Paths match exactly, except a route
// whose path ends in "/*", which takes every path below that prefix (the
// config server's /config/{device_id}); an exact route wins over it. Either
// way the metrics' route label is the route's own path, bounded by the
// route table whatever clients ask for.
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "http/request.hpp"

namespace edgemon::http {

struct Route {
  std::string method;
  std::string path;
  Group group = Group::kRead;
  Handler handler;
  uint64_t max_body_bytes = 0;  // 0: http.limits.max_body_bytes
  // Answered even when the memory budget is spent (a small, bounded answer
  // that a supervisor must always get: GET /health).
  bool always_answered = false;
  // Checks a request's head before its body is read (after the access
  // rules): false with the refusal, so that a client that will be refused
  // (a wrong device token) cannot make the server hold its body first.
  std::function<bool(const Request& head, Response* refusal)> head_check;
  // What the answer to a request may come to, held of the memory budget from
  // its head until the answer is queued: a route answered later (a history
  // query on its own thread) would otherwise let a crowd of requests in
  // while nothing is queued yet, and each answer arrive over the budget.
  std::function<uint64_t(const Request& head)> response_estimate;
};

class Router {
 public:
  // A second add() for the same method and path replaces the first. The
  // reference is valid until the next add().
  Route& add(std::string_view method, std::string path, Group group, Handler handler);
  // Removes a route (a part turned off by a reload); absent ones are ignored.
  void remove(std::string_view method, std::string_view path);

  struct Match {
    const Route* route = nullptr;  // set when status is 200
    int status = 404;              // 200, 404, or 405 (path known, method not)
    std::string allow;             // for 405: "GET, HEAD"
    // Label for metrics: the route's path, or "other" for unknown paths so
    // that random URLs cannot grow the number of series.
    std::string_view label = "other";
  };
  // HEAD is served by the GET route of the same path unless one is added.
  Match find(std::string_view method, std::string_view path) const;

  const std::vector<Route>& routes() const { return routes_; }

 private:
  std::vector<Route> routes_;
};

}  // namespace edgemon::http
