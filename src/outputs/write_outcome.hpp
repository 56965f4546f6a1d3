#pragma once
// What an InfluxDB write answer means for the batch that was sent
// (reference: influxdb-line-protocol.md §6).
#include <string>

#include "http/http_client.hpp"

namespace edgemon::outputs {

enum class WriteOutcome {
  kDelivered,  // 2xx: delete from the spool
  kRejected,   // 400/422: bad or partially stored data; resending cannot help -> dead letter
  kRefused,    // 401/403/404 and other 4xx: configuration; stop sending, keep spooling
  kTooLarge,   // 413: split and resend
  kRetry,      // 408/429/5xx, timeouts, connection errors: back off and resend
};

WriteOutcome classify(const http::ClientResponse& response);
const char* outcome_name(WriteOutcome outcome);

// A one-line description for logs and /status: the transport error, or the
// status with the server's message (v1 `error`, v2 `message`, else the body).
std::string describe_failure(const http::ClientResponse& response);

}  // namespace edgemon::outputs
