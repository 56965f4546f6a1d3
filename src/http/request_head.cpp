#include "http/request_head.hpp"

#include <algorithm>
#include <string_view>

#include "build_info.hpp"
#include "core/base64.hpp"

namespace edgemon::http {

namespace {

std::string_view trim(std::string_view s) {
  size_t begin = s.find_first_not_of(" \t");
  if (begin == std::string_view::npos) return {};
  size_t end = s.find_last_not_of(" \t");
  return s.substr(begin, end - begin + 1);
}

bool iequals(std::string_view a, std::string_view b) {
  auto lower = [](char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c; };
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(),
                                            [&](char x, char y) { return lower(x) == lower(y); });
}

bool is_token(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
    if (!ok) return false;
  }
  return true;
}

// Framing is ours: a caller's value would contradict the body we send.
bool framing_header(std::string_view name) {
  return iequals(name, "content-length") || iequals(name, "transfer-encoding") ||
         iequals(name, "connection");
}

}  // namespace

bool sends_body(const ClientRequest& request) {
  const std::string& m = request.method;
  return m != "HEAD" && (!request.body.empty() || m == "POST" || m == "PUT" || m == "PATCH");
}

std::string build_request_head(const ClientRequest& request, const Url& url, std::string* out) {
  if (!is_token(request.method)) return "invalid request method '" + request.method + "'";
  std::string head;
  head.reserve(256);
  head.append(request.method).append(" ").append(url.target).append(" HTTP/1.1\r\n");
  bool has_host = false;
  bool has_agent = false;
  bool has_auth = false;
  std::string lines;
  for (const std::string& line : request.headers) {
    if (line.find_first_of("\r\n") != std::string::npos || line.find('\0') != std::string::npos) {
      return "the request header '" + line.substr(0, line.find_first_of("\r\n")) +
             "' contains a line break";
    }
    size_t colon = line.find(':');
    std::string_view name = colon == std::string::npos
                                ? std::string_view()
                                : trim(std::string_view(line).substr(0, colon));
    if (!is_token(name)) return "invalid request header line '" + line + "'";
    std::string_view value = trim(std::string_view(line).substr(colon + 1));
    if (value.empty() || framing_header(name)) continue;
    has_host = has_host || iequals(name, "host");
    has_agent = has_agent || iequals(name, "user-agent");
    has_auth = has_auth || iequals(name, "authorization");
    lines.append(name).append(": ").append(value).append("\r\n");
  }
  if (!has_host) head.append("Host: ").append(url.authority()).append("\r\n");
  if (!has_agent) head.append("User-Agent: edgemon/").append(build::kVersion).append("\r\n");
  const std::string& user = request.username.empty() ? url.username : request.username;
  const std::string& password = request.username.empty() ? url.password : request.password;
  if (!user.empty() && !has_auth) {
    head.append("Authorization: Basic ")
        .append(base64_encode(user + ":" + password))
        .append("\r\n");
  }
  head.append(lines);
  if (sends_body(request)) {
    head.append("Content-Length: ").append(std::to_string(request.body.size())).append("\r\n");
  }
  head.append("\r\n");
  *out = std::move(head);
  return "";
}

}  // namespace edgemon::http
