#pragma once
// Counters of the hub's ingest endpoints for /metrics: requests by endpoint
// and status code, points accepted and rejected, bytes received.
#include <array>
#include <cstdint>
#include <map>
#include <string_view>
#include <utility>

#include "metrics/metric_sink.hpp"

namespace edgemon::ingest {

enum class Endpoint { kJson, kWrite, kV2Write, kCount };
std::string_view endpoint_name(Endpoint endpoint);

class IngestStats {
 public:
  void request(Endpoint endpoint, int status) { ++requests_[{endpoint, status}]; }
  void received(Endpoint endpoint, uint64_t bytes) { at(endpoint).bytes += bytes; }
  void accepted(Endpoint endpoint, uint64_t points) { at(endpoint).accepted += points; }
  void rejected(Endpoint endpoint, uint64_t points) { at(endpoint).rejected += points; }
  void set_pending_bytes(uint64_t bytes) { pending_bytes_ = bytes; }

  void write_metrics(metrics::MetricSink& sink) const;

 private:
  struct PerEndpoint {
    uint64_t bytes = 0;
    uint64_t accepted = 0;
    uint64_t rejected = 0;
  };
  PerEndpoint& at(Endpoint e) { return per_endpoint_[static_cast<size_t>(e)]; }

  // Status codes are the handful the endpoints answer, so the map stays small.
  std::map<std::pair<Endpoint, int>, uint64_t> requests_;
  std::array<PerEndpoint, static_cast<size_t>(Endpoint::kCount)> per_endpoint_{};
  uint64_t pending_bytes_ = 0;
};

}  // namespace edgemon::ingest
