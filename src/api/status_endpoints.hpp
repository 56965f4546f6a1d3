#pragma once
// GET /health, GET /status and GET / : what an operator or a load balancer
// asks a running daemon.
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include <cjson/cJSON.h>

#include "http/router.hpp"
#include "http/server.hpp"
#include "sources/host/scheduler.hpp"

namespace edgemon::api {

struct DaemonInfo {
  std::string device_id;
  std::string hostname;
  std::string config_path;  // "" when running on the embedded defaults
  std::string state_dir;
  int64_t start_unix_ms = 0;
  std::vector<std::string> listeners;
};

class StatusEndpoints {
 public:
  StatusEndpoints(const DaemonInfo& info, const collect::Scheduler& scheduler);

  void health(const http::Request& request, http::Response& response) const;
  void status(const http::Request& request, http::Response& response) const;
  void index(const http::Request& request, http::Response& response) const;

  // GET / lists what this router serves: every route that is on now.
  // `served` leaves out routes that exist only to explain that their part
  // is off (POST /alert answers 404 with the key to set).
  void set_router(const http::Router* router,
                  std::function<bool(const http::Route&)> served = nullptr) {
    router_ = router;
    served_ = std::move(served);
  }

  // Adds a part of the /status document owned elsewhere (outputs, spool).
  void add_section(std::function<void(cJSON* root)> write) {
    sections_.push_back(std::move(write));
  }

  // A part of the daemon that can make it unhealthy (the spool): returns
  // why, or "" while it works.
  void add_health_check(std::function<std::string()> check) {
    health_checks_.push_back(std::move(check));
  }

  // Why the daemon is unhealthy; empty when healthy. Exposed for tests.
  std::vector<std::string> problems(int64_t now_unix_ms) const;

 private:
  const DaemonInfo& info_;
  const collect::Scheduler& scheduler_;
  const http::Router* router_ = nullptr;
  std::function<bool(const http::Route&)> served_;
  std::vector<std::function<void(cJSON* root)>> sections_;
  std::vector<std::function<std::string()>> health_checks_;
};

}  // namespace edgemon::api
