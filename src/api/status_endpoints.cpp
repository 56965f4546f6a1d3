#include "api/status_endpoints.hpp"

#include <algorithm>

#include <cjson/cJSON.h>

#include <memory>

#include "build_info.hpp"
#include "core/clock.hpp"
#include "core/json_document.hpp"
#include "core/rfc3339.hpp"

namespace edgemon::api {
namespace {

// "" for a time that never was.
std::string rfc3339(int64_t unix_ms) {
  return unix_ms == 0 ? "" : format_rfc3339_ms(unix_ms);
}

void send_json(http::Response& response, int status, const JsonPtr& root) {
  response.status = status;
  response.content_type = "application/json";
  response.set_body(json_text(root.get()) + "\n");
}

cJSON* string_array(const std::vector<std::string>& items) {
  cJSON* array = cJSON_CreateArray();
  for (const auto& item : items)
    cJSON_AddItemToArray(array, cJSON_CreateString(item.c_str()));
  return array;
}

}  // namespace

StatusEndpoints::StatusEndpoints(const DaemonInfo& info, const collect::Scheduler& scheduler)
    : info_(info), scheduler_(scheduler) {}

std::vector<std::string> StatusEndpoints::problems(int64_t now_unix_ms) const {
  std::vector<std::string> reasons;
  // A round normally completes within one interval; allow three (and a
  // fixed grace for slow first runs) before calling collection stalled.
  int64_t interval = scheduler_.interval().count();
  int64_t allowed = 3 * interval + 30000;
  int64_t last = scheduler_.last_round_unix_ms();
  int64_t since = last != 0 ? last : info_.start_unix_ms;
  if (now_unix_ms - since > allowed) {
    reasons.push_back("collection stalled: no complete round for " +
                      std::to_string((now_unix_ms - since) / 1000) + "s");
  }
  const auto& statuses = scheduler_.statuses();
  size_t failing = 0;
  size_t ran = 0;
  for (const auto& s : statuses) {
    if (s.runs == 0) continue;
    ++ran;
    if (!s.success) ++failing;
  }
  if (ran > 0 && failing == ran) reasons.push_back("every collector is failing");
  for (const auto& check : health_checks_) {
    if (std::string why = check(); !why.empty()) reasons.push_back(std::move(why));
  }
  return reasons;
}

void StatusEndpoints::health(const http::Request&, http::Response& response) const {
  std::vector<std::string> reasons = problems(unix_now_ms());
  std::vector<std::string> failing;
  for (const auto& s : scheduler_.statuses()) {
    if (s.runs > 0 && !s.success) failing.push_back(s.name + ": " + s.error);
  }
  JsonPtr root = json_object();
  cJSON_AddStringToObject(root.get(), "status", reasons.empty() ? "ok" : "unhealthy");
  cJSON_AddItemToObject(root.get(), "reasons", string_array(reasons));
  // A failing collector alone (no thermal zones on this board…) degrades
  // but does not fail the health check.
  cJSON_AddItemToObject(root.get(), "failing_collectors", string_array(failing));
  send_json(response, reasons.empty() ? 200 : 503, root);
}

void StatusEndpoints::status(const http::Request&, http::Response& response) const {
  int64_t now = unix_now_ms();
  JsonPtr root = json_object();
  cJSON_AddStringToObject(root.get(), "version", build::kVersion);
  cJSON* build = cJSON_AddObjectToObject(root.get(), "build");
  cJSON_AddStringToObject(build, "revision", build::kRevision);
  cJSON_AddStringToObject(build, "type", build::kBuildType);
  cJSON_AddStringToObject(build, "compiler", build::kCompiler);
  cJSON_AddStringToObject(root.get(), "started", rfc3339(info_.start_unix_ms).c_str());
  cJSON_AddNumberToObject(root.get(), "uptime_seconds",
                          static_cast<double>(now - info_.start_unix_ms) / 1000.0);
  cJSON_AddStringToObject(root.get(), "device_id", info_.device_id.c_str());
  cJSON_AddStringToObject(root.get(), "hostname", info_.hostname.c_str());
  if (info_.config_path.empty()) {
    cJSON_AddNullToObject(root.get(), "config_path");
  } else {
    cJSON_AddStringToObject(root.get(), "config_path", info_.config_path.c_str());
  }
  cJSON_AddStringToObject(root.get(), "state_dir", info_.state_dir.c_str());
  cJSON_AddItemToObject(root.get(), "listeners", string_array(info_.listeners));
  cJSON_AddNumberToObject(root.get(), "collect_interval_seconds",
                          static_cast<double>(scheduler_.interval().count()) / 1000.0);
  cJSON* collectors = cJSON_AddArrayToObject(root.get(), "collectors");
  for (const auto& s : scheduler_.statuses()) {
    cJSON* c = cJSON_CreateObject();
    cJSON_AddStringToObject(c, "name", s.name.c_str());
    if (s.last_run_unix_ms == 0) {
      cJSON_AddNullToObject(c, "last_run");
    } else {
      cJSON_AddStringToObject(c, "last_run", rfc3339(s.last_run_unix_ms).c_str());
    }
    cJSON_AddNumberToObject(c, "last_duration_seconds", s.last_duration_seconds);
    // Before its first run a collector has neither succeeded nor failed.
    if (s.runs == 0) {
      cJSON_AddNullToObject(c, "success");
    } else {
      cJSON_AddBoolToObject(c, "success", s.success);
    }
    cJSON_AddStringToObject(c, "state", s.runs == 0 ? "pending" : s.success ? "ok" : "failing");
    if (s.error.empty()) {
      cJSON_AddNullToObject(c, "error");
    } else {
      cJSON_AddStringToObject(c, "error", s.error.c_str());
    }
    cJSON_AddNumberToObject(c, "runs", static_cast<double>(s.runs));
    cJSON_AddNumberToObject(c, "failures", static_cast<double>(s.failures));
    cJSON_AddNumberToObject(c, "skipped", static_cast<double>(s.skipped));
    cJSON_AddItemToArray(collectors, c);
  }
  for (const auto& write : sections_)
    write(root.get());
  send_json(response, 200, root);
}

void StatusEndpoints::index(const http::Request&, http::Response& response) const {
  JsonPtr root = json_object();
  cJSON_AddStringToObject(root.get(), "name", "edgemon");
  cJSON_AddStringToObject(root.get(), "version", build::kVersion);
  // By path, so that the answer is stable whatever order parts registered in.
  std::vector<std::pair<std::string, std::string>> routes;
  if (router_ != nullptr) {
    for (const auto& route : router_->routes()) {
      if (!served_ || served_(route)) routes.emplace_back(route.path, route.method);
    }
  }
  std::sort(routes.begin(), routes.end());
  std::vector<std::string> endpoints;
  for (const auto& [path, method] : routes)
    endpoints.push_back(method + " " + path);
  cJSON_AddItemToObject(root.get(), "endpoints", string_array(endpoints));
  send_json(response, 200, root);
}

}  // namespace edgemon::api
