#include "http/router.hpp"

#include <algorithm>

namespace edgemon::http {

Route& Router::add(std::string_view method, std::string path, Group group, Handler handler) {
  Route fresh;
  fresh.method = std::string(method);
  fresh.path = std::move(path);
  fresh.group = group;
  fresh.handler = std::move(handler);
  for (Route& route : routes_) {
    // What an earlier add() of the route set does not carry over.
    if (route.method == fresh.method && route.path == fresh.path) return route = std::move(fresh);
  }
  return routes_.emplace_back(std::move(fresh));
}

void Router::remove(std::string_view method, std::string_view path) {
  std::erase_if(routes_, [&](const Route& r) { return r.method == method && r.path == path; });
}

namespace {

// "/config/*" takes "/config/dev1" and "/config/dev1/report", not "/config/".
bool below(std::string_view pattern, std::string_view path) {
  if (pattern.size() < 2 || !pattern.ends_with("/*")) return false;
  std::string_view prefix = pattern.substr(0, pattern.size() - 1);
  return path.size() > prefix.size() && path.starts_with(prefix);
}

}  // namespace

Router::Match Router::find(std::string_view method, std::string_view path) const {
  bool exact = std::any_of(routes_.begin(), routes_.end(),
                           [&](const Route& route) { return route.path == path; });
  Match match;
  const Route* get_route = nullptr;
  std::vector<std::string_view> methods;
  for (const Route& route : routes_) {
    if (exact ? route.path != path : !below(route.path, path)) continue;
    match.label = route.path;
    if (route.method == method) {
      match.route = &route;
      match.status = 200;
      return match;
    }
    if (route.method == "GET") get_route = &route;
    methods.push_back(route.method);
  }
  if (methods.empty()) return match;
  if (get_route != nullptr) {
    if (method == "HEAD") {
      match.route = get_route;
      match.status = 200;
      return match;
    }
    if (std::find(methods.begin(), methods.end(), "HEAD") == methods.end()) {
      methods.push_back("HEAD");
    }
  }
  std::sort(methods.begin(), methods.end());
  for (std::string_view m : methods) {
    if (!match.allow.empty()) match.allow += ", ";
    match.allow += m;
  }
  match.status = 405;
  return match;
}

}  // namespace edgemon::http
