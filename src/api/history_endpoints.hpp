#pragma once
// GET /history, /avg_usage, /metrics_usage and /devices. Parameters are
// checked on the loop (api/query_params.hpp); the query and the rendering of
// its JSON run on the history's read thread, and the response is sent from
// the completion back on the loop (Response::defer), so a query of ten
// thousand points never stalls the loop.
#include <string>

#include "http/request.hpp"
#include "http/router.hpp"
#include "store/history.hpp"

namespace edgemon::api {

class HistoryEndpoints {
 public:
  explicit HistoryEndpoints(store::History& history) : history_(history) {}

  // Registers the four routes (http::Group::kRead).
  void add_routes(http::Router& router);

  void history(const http::Request& request, http::Response& response);
  void avg_usage(const http::Request& request, http::Response& response);
  void metrics_usage(const http::Request& request, http::Response& response);
  void devices(const http::Request& request, http::Response& response) const;

 private:
  // False (and `response` filled with a 503) when no query can run.
  bool available(http::Response& response) const;
  // Route::response_estimate of /history.
  uint64_t history_estimate(const http::Request& head) const;

  store::History& history_;
};

}  // namespace edgemon::api
