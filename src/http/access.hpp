#pragma once
// Who may call a route group, checked in this order: the client network
// allowlist (403), the per-client rate limit (429), then the bearer token
// (401). Routes of the write group are refused outright (403) until a token
// is configured, so a fresh install exposes nothing that changes state.
#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/config.hpp"
#include "core/net_address.hpp"
#include "http/rate_limiter.hpp"
#include "http/request.hpp"

namespace edgemon::http {

struct AccessDecision {
  int status = 0;           // 0: allowed; else 401, 403 or 429
  std::string_view reason;  // edgemon_http_rejected_total reason
  std::string message;
  uint64_t retry_after_s = 0;  // for 429

  bool allowed() const { return status == 0; }
  // The JSON error response, with Retry-After or WWW-Authenticate.
  Response response() const;
};

class AccessControl {
 public:
  AccessControl();

  // Applies a configuration; on error (an invalid CIDR) returns why and
  // keeps the previous one. Rate-limit state survives a reload.
  std::string configure(const config::AccessSection& section);
  // The ingest group: networks and rate only; the ingest handlers check
  // their per-device tokens themselves.
  std::string configure_ingest(const config::IngestSection& section);

  // `authorization` is the request's Authorization header or nullptr;
  // `now_ms` a monotonic clock in milliseconds (uv_now).
  AccessDecision check(Group group, const IpAddress& client, const std::string* authorization,
                       uint64_t now_ms);

 private:
  struct Policy {
    std::vector<CidrBlock> allow;
    std::vector<std::string> tokens;
    bool write = false;
    RateLimiter limiter;
  };
  static std::string build(const config::AccessGroup& group, bool write, Policy* policy);
  static AccessDecision check_token(const Policy& policy, const std::string* authorization);

  Policy read_;
  Policy write_;
  Policy ingest_;  // allows nobody until configured
};

// Exposed for tests: comparisons whose time does not depend on the secrets.
bool constant_time_equal(std::string_view presented, std::string_view secret);
bool token_matches(std::string_view presented, const std::vector<std::string>& tokens);

}  // namespace edgemon::http
