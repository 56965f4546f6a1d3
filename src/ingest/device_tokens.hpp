#pragma once
// Who is pushing: the per-device bearer tokens of config ingest.tokens. A
// device's token only writes that device's points; the entry "*" is a fleet
// token for any device. InfluxDB clients cannot send a bearer token, so the
// token is also taken from `Authorization: Token T`, from the password of
// Basic authentication and from the `p` query parameter of /write.
#include <string>
#include <string_view>
#include <vector>

#include "core/config_types.hpp"
#include "http/query_string.hpp"
#include "http/request.hpp"

namespace edgemon::ingest {

// The device a request may write for: "*" for any (a fleet token, or no
// tokens configured).
inline constexpr std::string_view kAnyDevice = "*";
// The ingest.tokens entry whose token Alertmanager sends to POST /alert;
// it writes no points.
inline constexpr std::string_view kAlertmanagerEntry = "alertmanager";

struct Identity {
  int status = 0;  // 0: identified; else 401 with `message`
  std::string message;
  std::string device;
};

class DeviceTokens {
 public:
  void configure(const config::StringMap& tokens);
  bool required() const { return !entries_.empty(); }
  // `params` are the request's query parameters (for `p`).
  Identity identify(const http::Request& request, const http::QueryParams& params) const;
  // The device owning `token`, or "" -- compared in constant time per entry.
  std::string device_of(std::string_view token) const;

 private:
  struct Entry {
    std::string device;
    std::string token;
  };
  std::vector<Entry> entries_;
};

// The credential a request presents, by any of the accepted spellings; ""
// when none.
std::string presented_token(const http::Request& request, const http::QueryParams& params);

}  // namespace edgemon::ingest
