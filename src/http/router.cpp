#include "http/router.hpp"

#include <algorithm>

namespace edgemon::http {

Route& Router::add(std::string_view method, std::string path, Group group, Handler handler) {
  for (Route& route : routes_) {
    if (route.method == method && route.path == path) {
      route.group = group;
      route.handler = std::move(handler);
      return route;
    }
  }
  routes_.push_back(Route{std::string(method), std::move(path), group, std::move(handler)});
  return routes_.back();
}

void Router::remove(std::string_view method, std::string_view path) {
  std::erase_if(routes_, [&](const Route& r) { return r.method == method && r.path == path; });
}

Router::Match Router::find(std::string_view method, std::string_view path) const {
  Match match;
  const Route* get_route = nullptr;
  std::vector<std::string_view> methods;
  for (const Route& route : routes_) {
    if (route.path != path) continue;
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
