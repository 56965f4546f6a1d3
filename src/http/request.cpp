#include "http/request.hpp"

#include <strings.h>

#include "core/json_text.hpp"
#include "core/text.hpp"

namespace edgemon::http {

namespace {

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && strncasecmp(a.data(), b.data(), a.size()) == 0;
}

// RFC 9110 qvalue: "0", "0.", "0.0", ... all mean "not acceptable".
bool qvalue_is_zero(std::string_view params) {
  while (!params.empty()) {
    size_t semi = params.find(';');
    std::string_view param = trim(params.substr(0, semi));
    params = semi == std::string_view::npos ? std::string_view() : params.substr(semi + 1);
    if (param.size() < 2 || (param[0] != 'q' && param[0] != 'Q') || param[1] != '=') continue;
    std::string_view value = trim(param.substr(2));
    if (value.empty() || value[0] != '0') return false;
    for (char c : value.substr(1)) {
      if (c != '.' && c != '0') return false;
    }
    return true;
  }
  return false;
}

}  // namespace

const std::string* Request::header(std::string_view lower_name) const {
  for (const auto& [name, value] : headers) {
    if (name == lower_name) return &value;
  }
  return nullptr;
}

bool Request::accepts_gzip() const {
  int gzip = -1;  // -1 not named, 0 refused, 1 accepted
  int star = -1;
  for (const auto& [name, value] : headers) {
    if (name != "accept-encoding") continue;
    std::string_view rest = value;
    while (!rest.empty()) {
      size_t comma = rest.find(',');
      std::string_view item = rest.substr(0, comma);
      rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
      size_t semi = item.find(';');
      std::string_view coding = trim(item.substr(0, semi));
      std::string_view params = semi == std::string_view::npos ? "" : item.substr(semi + 1);
      int verdict = qvalue_is_zero(params) ? 0 : 1;
      if (iequals(coding, "gzip") || iequals(coding, "x-gzip")) {
        gzip = verdict;
      } else if (coding == "*") {
        star = verdict;
      }
    }
  }
  if (gzip >= 0) return gzip == 1;
  return star == 1;
}

Responder Response::defer(std::string timeout_message) {
  deferred = std::make_shared<Responder::State>();
  deferred->timeout_message = std::move(timeout_message);
  return Responder(deferred);
}

void Responder::send(Response&& response) {
  if (!state_ || state_->sent) return;
  state_->sent = true;
  if (!state_->attached) {
    state_->early = std::make_shared<Response>(std::move(response));
    return;
  }
  if (auto deliver = std::move(state_->deliver)) deliver(std::move(response));
}

void Response::set_body(std::string text) {
  body.clear();
  body.push_back(std::make_shared<const std::string>(std::move(text)));
}

void Response::add_body(std::shared_ptr<const std::string> part) {
  if (part) body.push_back(std::move(part));
}

size_t Response::body_size() const {
  size_t total = 0;
  for (const auto& part : body)
    total += part->size();
  return total;
}

Response json_error(int status, std::string_view message) {
  Response response;
  response.status = status;
  std::string text = "{\"error\":";
  append_json_string(text, message);
  text += ",\"status\":";
  text += std::to_string(status);
  text += "}\n";
  response.set_body(std::move(text));
  return response;
}

std::string_view status_reason(int status) {
  switch (status) {
    case 100:
      return "Continue";
    case 200:
      return "OK";
    case 201:
      return "Created";
    case 202:
      return "Accepted";
    case 204:
      return "No Content";
    case 301:
      return "Moved Permanently";
    case 302:
      return "Found";
    case 304:
      return "Not Modified";
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthorized";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 408:
      return "Request Timeout";
    case 409:
      return "Conflict";
    case 413:
      return "Content Too Large";
    case 415:
      return "Unsupported Media Type";
    case 422:
      return "Unprocessable Content";
    case 429:
      return "Too Many Requests";
    case 431:
      return "Request Header Fields Too Large";
    case 500:
      return "Internal Server Error";
    case 501:
      return "Not Implemented";
    case 503:
      return "Service Unavailable";
    default:
      return "Unknown";
  }
}

}  // namespace edgemon::http
