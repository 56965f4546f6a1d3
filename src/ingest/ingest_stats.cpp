#include "ingest/ingest_stats.hpp"

#include <string>

namespace edgemon::ingest {

std::string_view endpoint_name(Endpoint endpoint) {
  switch (endpoint) {
    case Endpoint::kJson:
      return "json";
    case Endpoint::kWrite:
      return "write";
    case Endpoint::kV2Write:
      return "v2_write";
    case Endpoint::kCount:
      break;
  }
  return "unknown";
}

void IngestStats::write_metrics(metrics::MetricSink& sink) const {
  using metrics::Type;
  sink.begin({"edgemon_ingest_requests_total",
              "Requests to the ingest endpoints by endpoint and status code.", Type::kCounter});
  for (const auto& [key, count] : requests_) {
    std::string code = std::to_string(key.second);
    sink.sample({{"endpoint", endpoint_name(key.first)}, {"code", code}},
                static_cast<double>(count));
  }
  auto per_endpoint = [&](metrics::FamilyDesc family, uint64_t PerEndpoint::*member) {
    sink.begin(family);
    for (size_t i = 0; i < per_endpoint_.size(); ++i) {
      sink.sample({{"endpoint", endpoint_name(static_cast<Endpoint>(i))}},
                  static_cast<double>(per_endpoint_[i].*member));
    }
  };
  per_endpoint({"edgemon_ingest_points_total",
                "Points accepted by the ingest endpoints (durable in the spool when answered).",
                Type::kCounter},
               &PerEndpoint::accepted);
  per_endpoint(
      {"edgemon_ingest_points_rejected_total",
       "Points (lines, payloads) refused as invalid; the answer names the first.", Type::kCounter},
      &PerEndpoint::rejected);
  per_endpoint({"edgemon_ingest_received_bytes_total",
                "Request body bytes received by the ingest endpoints, as sent.", Type::kCounter},
               &PerEndpoint::bytes);
  sink.begin({"edgemon_ingest_pending_bytes",
              "Decoded bytes of accepted requests not yet durable (ingest.limits."
              "max_pending_bytes bounds it).",
              Type::kGauge});
  sink.sample(static_cast<double>(pending_bytes_));
}

}  // namespace edgemon::ingest
