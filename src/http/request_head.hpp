#pragma once
// The bytes of an outbound request head. Kept apart from the connection so
// that what edgemon puts on the wire is testable without sockets.
#include <string>

#include "http/http_client.hpp"
#include "http/url.hpp"

namespace edgemon::http {

// Whether `request` carries a body (and so a Content-Length): any non-empty
// body, and an empty one for the methods whose servers expect one.
bool sends_body(const ClientRequest& request);

// "" and *out set to the request line and headers (blank line included), or
// why the request cannot be sent. Adds Host, User-Agent (unless the caller
// set them), Authorization for Basic credentials (from the request, else
// the URL's userinfo) and Content-Length; caller lines with an empty value
// ("Expect:") are not sent, as libcurl did not send them.
std::string build_request_head(const ClientRequest& request, const Url& url, std::string* out);

}  // namespace edgemon::http
