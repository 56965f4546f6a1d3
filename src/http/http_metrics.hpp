#pragma once
// The HTTP server's live counters, written at scrape time. Label values are
// bounded: methods are folded into a fixed set, routes are the route table
// plus "other".
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "metrics/histogram.hpp"
#include "metrics/metric_sink.hpp"

namespace edgemon::http {

enum class RejectReason {
  kTooManyConnections,
  kHeaderTooLarge,
  kBodyTooLarge,
  kHeaderTimeout,
  kBodyTimeout,
  kBadRequest,
  kForbidden,
  kRateLimited,
  kUnauthorized,
  kHandlerTimeout,
  kTooManyFromAddress,
  kMemoryBudget,
  kMemoryPerAddress,
};
inline constexpr size_t kRejectReasons = 13;

// "header_too_large" -> kHeaderTooLarge; false for an unknown name.
bool parse_reject_reason(std::string_view name, RejectReason* out);

class HttpMetrics {
 public:
  HttpMetrics();

  void request_done(std::string_view method, std::string_view route, int status, double seconds);
  void reject(RejectReason reason) { ++rejected_[static_cast<size_t>(reason)]; }
  void request_started() { ++in_flight_; }
  void request_finished() { --in_flight_; }
  void connection_opened() {
    ++connections_;
    ++connections_total_;
  }
  void connection_closed() { --connections_; }
  void accept_failed() { ++accept_errors_; }

  int64_t in_flight() const { return in_flight_; }
  int64_t connections() const { return connections_; }
  uint64_t connections_total() const { return connections_total_; }
  uint64_t accept_errors() const { return accept_errors_; }
  uint64_t rejected(RejectReason reason) const { return rejected_[static_cast<size_t>(reason)]; }

  void write(metrics::MetricSink& sink) const;

 private:
  size_t route_id(std::string_view route);

  std::vector<std::string> routes_;                             // interned route labels; id = index
  std::vector<std::unique_ptr<metrics::Histogram>> durations_;  // by route id
  std::map<uint64_t, uint64_t> requests_;  // (route id, method, status) -> count
  uint64_t rejected_[kRejectReasons] = {};
  int64_t in_flight_ = 0;
  int64_t connections_ = 0;
  uint64_t connections_total_ = 0;
  uint64_t accept_errors_ = 0;
};

}  // namespace edgemon::http
