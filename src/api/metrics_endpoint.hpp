#pragma once
// GET /metrics: the last collection's text (rendered once per collection and
// shared into every response without copying) followed by the daemon's live
// counters, rendered once per loop turn that serves /metrics: the requests
// read in one turn (a client pipelining hundreds of them) share one buffer,
// while a request in a later turn sees what the earlier ones counted.
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "api/gzip_body.hpp"
#include "bus/latest_registry.hpp"
#include "core/uv_handle.hpp"
#include "http/server.hpp"

namespace edgemon::api {

class MetricsEndpoint {
 public:
  // A part of the live families. When `version` is given, the part is
  // rendered again only when the version changes (loop lag moves four times
  // a second, not per request); without it, on every request.
  struct LiveSection {
    std::function<void(metrics::MetricSink&)> write;
    std::function<uint64_t()> version;
  };

  // `families`: what the sources published (the body, re-rendered when its
  // generation moves); `live`: the daemon's own counters.
  MetricsEndpoint(uv_loop_t* loop, const bus::LatestRegistry& families,
                  std::vector<LiveSection> live);
  void handle(const http::Request& request, http::Response& response);

 private:
  struct CachedSection {
    LiveSection section;
    uint64_t version = 0;
    bool valid = false;
    std::string text;
  };

  void refresh();
  void render_live(std::string& out);
  // This turn's live text (and its gzip tail), made on first use.
  const std::shared_ptr<const std::string>& live_text();
  void end_turn();

  const bus::LatestRegistry& families_;
  std::vector<CachedSection> live_;
  std::string static_families_;  // edgemon_build_info: fixed for the process
  uint64_t generation_ = ~uint64_t{0};
  std::shared_ptr<const std::string> body_;
  GzipPrefix gzip_;
  bool gzip_current_ = false;
  std::shared_ptr<const std::string> live_text_;
  std::shared_ptr<const std::string> gzip_tail_;
  // Runs after the turn's I/O callbacks, only in turns that rendered.
  UvHandle<uv_check_t> turn_end_;
};

}  // namespace edgemon::api
