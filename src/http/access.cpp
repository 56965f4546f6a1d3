#include "http/access.hpp"

#include <strings.h>

#include <algorithm>

namespace edgemon::http {

namespace {

// Dual-stack sockets report IPv4 peers as ::ffff:a.b.c.d; match them against
// IPv4 entries.
IpAddress unmap(const IpAddress& address) {
  static constexpr uint8_t kMappedPrefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  if (address.family != AF_INET6 ||
      !std::equal(std::begin(kMappedPrefix), std::end(kMappedPrefix), address.bytes.begin())) {
    return address;
  }
  IpAddress v4;
  v4.family = AF_INET;
  std::copy(address.bytes.begin() + 12, address.bytes.end(), v4.bytes.begin());
  return v4;
}

AccessDecision unauthorized(std::string message) {
  AccessDecision d;
  d.status = 401;
  d.reason = "unauthorized";
  d.message = std::move(message);
  return d;
}

}  // namespace

bool constant_time_equal(std::string_view presented, std::string_view secret) {
  // Runs over the presented token only, so its time depends on nothing the
  // client does not already know: not on the secret's content, nor on how
  // long a matching prefix is, nor on the secret's length (folded into the
  // result rather than returned early).
  size_t diff = presented.size() ^ secret.size();
  if (secret.empty()) return false;
  for (size_t i = 0; i < presented.size(); ++i) {
    diff |= static_cast<uint8_t>(presented[i]) ^ static_cast<uint8_t>(secret[i % secret.size()]);
  }
  return diff == 0;
}

bool token_matches(std::string_view presented, const std::vector<std::string>& tokens) {
  bool match = false;
  for (const auto& token : tokens)
    match |= constant_time_equal(presented, token);  // no early exit
  return match;
}

Response AccessDecision::response() const {
  Response r = json_error(status, message);
  if (status == 429) r.headers.emplace_back("Retry-After", std::to_string(retry_after_s));
  if (status == 401) r.headers.emplace_back("WWW-Authenticate", "Bearer realm=\"edgemon\"");
  return r;
}

AccessControl::AccessControl() {
  config::AccessSection defaults;
  configure(defaults);
}

std::string AccessControl::build(const config::AccessGroup& group, bool write, Policy* policy) {
  for (const std::string& text : group.allow) {
    CidrBlock block;
    std::string error = CidrBlock::parse(text, &block);
    if (!error.empty()) return error;
    policy->allow.push_back(block);
  }
  for (const std::string& token : group.tokens)
    policy->tokens.push_back(token);
  policy->write = write;
  return "";
}

std::string AccessControl::configure(const config::AccessSection& section) {
  Policy read;
  Policy write;
  std::string error = build(section.read, false, &read);
  if (error.empty()) error = build(section.write, true, &write);
  if (!error.empty()) return error;
  // Keep the buckets clients have drained: a reload must not reset limits.
  read_.allow = std::move(read.allow);
  read_.tokens = std::move(read.tokens);
  read_.write = false;
  read_.limiter.configure(section.read.rate, section.read.burst);
  write_.allow = std::move(write.allow);
  write_.tokens = std::move(write.tokens);
  write_.write = true;
  write_.limiter.configure(section.write.rate, section.write.burst);
  return "";
}

std::string AccessControl::configure_ingest(const config::IngestSection& section) {
  Policy ingest;
  config::AccessGroup group{section.allow, section.rate, section.burst, {}};
  if (std::string error = build(group, false, &ingest); !error.empty()) return error;
  ingest_.allow = std::move(ingest.allow);
  ingest_.limiter.configure(section.rate, section.burst);
  return "";
}

AccessDecision AccessControl::check(Group group, const IpAddress& client,
                                    const std::string* authorization, uint64_t now_ms) {
  Policy& policy = group == Group::kWrite ? write_ : group == Group::kIngest ? ingest_ : read_;
  IpAddress address = unmap(client);
  bool allowed = false;
  for (const CidrBlock& block : policy.allow)
    allowed = allowed || block.contains(address);
  if (!allowed) {
    AccessDecision d;
    d.status = 403;
    d.reason = "forbidden";
    d.message = "client " + address.to_string() + " is not allowed";
    return d;
  }
  if (uint64_t wait_ms = policy.limiter.acquire(address, now_ms); wait_ms > 0) {
    AccessDecision d;
    d.status = 429;
    d.reason = "rate_limited";
    d.message = "rate limit exceeded";
    d.retry_after_s = (wait_ms + 999) / 1000;
    return d;
  }
  return check_token(policy, authorization);
}

AccessDecision AccessControl::check_token(const Policy& policy, const std::string* authorization) {
  if (policy.tokens.empty()) {
    if (!policy.write) return {};
    AccessDecision d;
    d.status = 403;
    d.reason = "forbidden";
    d.message = "write API disabled: set http.access.write.tokens";
    return d;
  }
  if (authorization == nullptr) return unauthorized("missing bearer token");
  std::string_view value = *authorization;
  constexpr std::string_view kScheme = "bearer ";
  if (value.size() <= kScheme.size() ||
      strncasecmp(value.data(), kScheme.data(), kScheme.size()) != 0) {
    return unauthorized("malformed Authorization header (expected: Bearer TOKEN)");
  }
  std::string_view token = value.substr(kScheme.size());
  while (!token.empty() && token.front() == ' ')
    token.remove_prefix(1);
  if (token.empty()) return unauthorized("malformed Authorization header (expected: Bearer TOKEN)");
  if (!token_matches(token, policy.tokens)) return unauthorized("invalid bearer token");
  return {};
}

}  // namespace edgemon::http
