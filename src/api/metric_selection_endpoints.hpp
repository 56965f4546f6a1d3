#pragma once
// GET /metrics/list and POST /metrics/enable: the edge power exporter's
// management endpoints (its port 9101), on edgemon's one server. Listing is
// in the read group; changing is in the write group (token and allowlist),
// like POST /reload.
#include <cjson/cJSON.h>

#include <functional>
#include <string>

#include "bus/family_selection.hpp"
#include "bus/family_selection_file.hpp"
#include "http/router.hpp"

namespace edgemon::api {

class MetricSelectionEndpoints {
 public:
  // A change names each family once; 10,000 names of 200 bytes at most.
  static constexpr uint64_t kMaxBodyBytes = 4 << 20;

  MetricSelectionEndpoints(bus::FamilySelection& selection, bus::FamilySelectionSaver& saver)
      : selection_(selection), saver_(saver) {}

  // The exporter's `device_type`: the device_type tag, null without one.
  void set_device_type(std::string device_type) { device_type_ = std::move(device_type); }
  // The exporter's `source`: "server" while the running configuration
  // includes what a config server serves, else "local".
  void set_source(std::string source) { source_ = std::move(source); }
  // Called after POST /metrics/enable changed something (the config
  // server's report goes out then).
  void set_on_change(std::function<void()> on_change) { on_change_ = std::move(on_change); }
  void add_routes(http::Router& router);

  void list(const http::Request& request, http::Response& response) const;
  // Applied from the next collection of each source; answered once the
  // change is saved, so a 200 survives a restart.
  void enable(const http::Request& request, http::Response& response);

  // The listing's fields (metrics, origins, device_type, source,
  // new_metrics) added to `root`.
  void add_listing(cJSON* root) const;

 private:
  std::string listing(const char* status, size_t updated) const;

  bus::FamilySelection& selection_;
  bus::FamilySelectionSaver& saver_;
  std::string device_type_;
  std::string source_ = "local";
  std::function<void()> on_change_;
};

}  // namespace edgemon::api
