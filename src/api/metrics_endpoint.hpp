#pragma once
// GET /metrics: the last collection's text (rendered once per collection and
// shared into every response without copying) followed by the daemon's live
// counters, which are rendered per request because they move per request.
#include <functional>
#include <memory>
#include <string>

#include "api/gzip_body.hpp"
#include "collect/scheduler.hpp"
#include "http/server.hpp"

namespace edgemon::api {

class MetricsEndpoint {
 public:
  using LiveWriter = std::function<void(metrics::MetricSink&)>;

  MetricsEndpoint(const collect::Scheduler& scheduler, LiveWriter live);
  void handle(const http::Request& request, http::Response& response);

 private:
  void refresh();

  const collect::Scheduler& scheduler_;
  LiveWriter live_;
  std::string static_families_;  // edgemon_build_info: fixed for the process
  uint64_t generation_ = ~uint64_t{0};
  std::shared_ptr<const std::string> body_;
  GzipPrefix gzip_;
  bool gzip_current_ = false;
};

}  // namespace edgemon::api
