#include "http/http_metrics.hpp"

#include <charconv>

namespace edgemon::http {

namespace {

constexpr std::string_view kMethods[] = {"GET",    "HEAD",    "POST",  "PUT",
                                         "DELETE", "OPTIONS", "PATCH", "other"};
constexpr uint64_t kOtherMethod = 7;

constexpr std::string_view kReasonNames[kRejectReasons] = {"too_many_connections",
                                                           "header_too_large",
                                                           "body_too_large",
                                                           "header_timeout",
                                                           "body_timeout",
                                                           "bad_request",
                                                           "forbidden",
                                                           "rate_limited",
                                                           "unauthorized",
                                                           "handler_timeout",
                                                           "too_many_from_address",
                                                           "memory_budget",
                                                           "memory_per_address"};

uint64_t method_id(std::string_view method) {
  for (uint64_t i = 0; i < kOtherMethod; ++i) {
    if (kMethods[i] == method) return i;
  }
  return kOtherMethod;
}

uint64_t pack(size_t route, uint64_t method, int status) {
  return (static_cast<uint64_t>(route) << 20) | (method << 10) |
         static_cast<uint64_t>(status & 0x3ff);
}

}  // namespace

bool parse_reject_reason(std::string_view name, RejectReason* out) {
  for (size_t i = 0; i < kRejectReasons; ++i) {
    if (kReasonNames[i] == name) {
      *out = static_cast<RejectReason>(i);
      return true;
    }
  }
  return false;
}

HttpMetrics::HttpMetrics() {
  route_id("other");
}

size_t HttpMetrics::route_id(std::string_view route) {
  // A linear scan: the route table has a handful of entries.
  for (size_t i = 0; i < routes_.size(); ++i) {
    if (routes_[i] == route) return i;
  }
  size_t id = routes_.size();
  routes_.emplace_back(route);
  durations_.push_back(std::make_unique<metrics::Histogram>(metrics::latency_buckets()));
  return id;
}

void HttpMetrics::request_done(std::string_view method, std::string_view route, int status,
                               double seconds) {
  size_t route_index = route_id(route);
  ++requests_[pack(route_index, method_id(method), status)];
  durations_[route_index]->observe(seconds);
}

void HttpMetrics::write(metrics::MetricSink& sink) const {
  using metrics::Type;
  sink.begin({"edgemon_http_requests_total",
              "HTTP requests answered, by method, route (\"other\" for unknown paths) and status.",
              Type::kCounter});
  for (const auto& [key, count] : requests_) {
    char status[8];
    auto end = std::to_chars(status, status + sizeof status, key & 0x3ff).ptr;
    sink.sample({{"method", kMethods[(key >> 10) & 0x3ff]},
                 {"route", routes_[key >> 20]},
                 {"status", std::string_view(status, static_cast<size_t>(end - status))}},
                static_cast<double>(count));
  }
  sink.begin({"edgemon_http_request_duration_seconds",
              "Time from a request's complete head to its response being queued.",
              Type::kHistogram});
  for (size_t i = 0; i < routes_.size(); ++i) {
    if (durations_[i]->count() == 0) continue;
    metrics::Label label{"route", routes_[i]};
    durations_[i]->write(sink, metrics::Labels(&label, 1));
  }
  sink.begin({"edgemon_http_requests_in_flight",
              "HTTP requests received and not yet completely answered.", Type::kGauge});
  sink.sample(static_cast<double>(in_flight_));
  sink.begin({"edgemon_http_connections", "HTTP connections open now.", Type::kGauge});
  sink.sample(static_cast<double>(connections_));
  sink.begin({"edgemon_http_connections_total", "HTTP connections accepted.", Type::kCounter});
  sink.sample(static_cast<double>(connections_total_));
  sink.begin({"edgemon_http_rejected_total",
              "HTTP requests or connections refused by a limit or access rule, by reason.",
              Type::kCounter});
  for (size_t i = 0; i < kRejectReasons; ++i) {
    sink.sample({{"reason", kReasonNames[i]}}, static_cast<double>(rejected_[i]));
  }
  sink.begin({"edgemon_http_accept_errors_total",
              "Failures to accept a connection (e.g. out of file descriptors).", Type::kCounter});
  sink.sample(static_cast<double>(accept_errors_));
}

}  // namespace edgemon::http
