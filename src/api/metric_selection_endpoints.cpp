#include "api/metric_selection_endpoints.hpp"

#include <map>
#include <memory>
#include <vector>

#include "core/json_document.hpp"

namespace edgemon::api {
namespace {

// An error names the first few: the body may hold thousands.
std::string joined(const std::vector<std::string>& names) {
  constexpr size_t kNamed = 20;
  std::string out;
  for (size_t i = 0; i < names.size() && i < kNamed; ++i)
    out += (out.empty() ? "" : ", ") + names[i].substr(0, 200);
  if (names.size() > kNamed) out += " and " + std::to_string(names.size() - kNamed) + " more";
  return out;
}

}  // namespace

void MetricSelectionEndpoints::add_routes(http::Router& router) {
  router.add("GET", "/metrics/list", http::Group::kRead,
             [this](const http::Request& q, http::Response& r) { list(q, r); });
  router
      .add("POST", "/metrics/enable", http::Group::kWrite,
           [this](const http::Request& q, http::Response& r) { enable(q, r); })
      .max_body_bytes = kMaxBodyBytes;
}

std::string MetricSelectionEndpoints::listing(const char* status, size_t updated) const {
  JsonPtr root = json_object();
  if (status != nullptr) {
    cJSON_AddStringToObject(root.get(), "status", status);
    cJSON_AddNumberToObject(root.get(), "updated", static_cast<double>(updated));
  }
  add_listing(root.get());
  return json_text(root.get()) + "\n";
}

void MetricSelectionEndpoints::add_listing(cJSON* root) const {
  cJSON* metrics = cJSON_AddObjectToObject(root, "metrics");
  cJSON* origins = cJSON_AddObjectToObject(root, "origins");
  for (const auto& [name, choice] : selection_.families()) {
    cJSON_AddBoolToObject(metrics, name.c_str(), choice.enabled);
    cJSON_AddStringToObject(origins, name.c_str(),
                            std::string(bus::origin_name(choice.origin)).c_str());
  }
  if (device_type_.empty()) {
    cJSON_AddNullToObject(root, "device_type");
  } else {
    cJSON_AddStringToObject(root, "device_type", device_type_.c_str());
  }
  cJSON_AddStringToObject(root, "source", source_.c_str());
  cJSON_AddStringToObject(root, "new_metrics", selection_.new_metrics().c_str());
  cJSON_AddBoolToObject(root, "new_metrics_enabled", selection_.new_enabled());
}

void MetricSelectionEndpoints::list(const http::Request&, http::Response& response) const {
  response.set_body(listing(nullptr, 0));
}

void MetricSelectionEndpoints::enable(const http::Request& request, http::Response& response) {
  std::map<std::string, bool> changes;
  if (std::string err = bus::parse_family_changes(request.body, &changes); !err.empty()) {
    response = http::json_error(400, err);
    return;
  }
  if (auto unknown = selection_.unknown(changes); !unknown.empty()) {
    response =
        http::json_error(400,
                         "unknown metric families (not produced by any source nor named in the "
                         "configuration; GET /metrics/list shows the known ones): " +
                             joined(unknown));
    return;
  }
  size_t updated = selection_.apply(changes);
  if (updated > 0 && on_change_) on_change_();
  saver_.save([this, updated, responder = response.defer()](const std::string& err) mutable {
    http::Response answer;
    if (err.empty()) {
      answer.set_body(listing("success", updated));
    } else {
      answer = http::json_error(500, "applied until edgemon restarts, but not saved: " + err);
    }
    responder.send(std::move(answer));
  });
}

}  // namespace edgemon::api
