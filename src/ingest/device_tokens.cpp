#include "ingest/device_tokens.hpp"

#include <strings.h>

#include "core/base64.hpp"
#include "http/access.hpp"

namespace edgemon::ingest {
namespace {

bool has_scheme(std::string_view value, std::string_view scheme, std::string_view* rest) {
  if (value.size() <= scheme.size() ||
      strncasecmp(value.data(), scheme.data(), scheme.size()) != 0 || value[scheme.size()] != ' ') {
    return false;
  }
  *rest = value.substr(scheme.size() + 1);
  while (!rest->empty() && rest->front() == ' ')
    rest->remove_prefix(1);
  return true;
}

}  // namespace

std::string presented_token(const http::Request& request, const http::QueryParams& params) {
  if (const std::string* auth = request.header("authorization")) {
    std::string_view rest;
    if (has_scheme(*auth, "Bearer", &rest) || has_scheme(*auth, "Token", &rest)) {
      return std::string(rest);
    }
    if (has_scheme(*auth, "Basic", &rest)) {
      std::optional<std::string> decoded = base64_decode(rest);
      if (!decoded) return "";
      size_t colon = decoded->find(':');
      return colon == std::string::npos ? "" : decoded->substr(colon + 1);
    }
    return "";
  }
  if (const std::string* p = http::find_param(params, "p")) return *p;
  return "";
}

void DeviceTokens::configure(const config::StringMap& tokens) {
  entries_.clear();
  for (const auto& [device, token] : tokens)
    entries_.push_back({device, token});
}

std::string DeviceTokens::device_of(std::string_view token) const {
  std::string found;
  // Every entry is compared, so the time taken does not say which matched.
  for (const Entry& e : entries_) {
    if (http::constant_time_equal(token, e.token) && found.empty()) found = e.device;
  }
  return found;
}

Identity DeviceTokens::identify(const http::Request& request,
                                const http::QueryParams& params) const {
  Identity id;
  if (entries_.empty()) {
    id.device = std::string(kAnyDevice);
    return id;
  }
  std::string token = presented_token(request, params);
  if (token.empty()) {
    id.status = 401;
    id.message = "missing token (Authorization: Bearer TOKEN)";
    return id;
  }
  id.device = device_of(token);
  if (id.device.empty()) {
    id.status = 401;
    id.message = "invalid token";
  }
  return id;
}

}  // namespace edgemon::ingest
