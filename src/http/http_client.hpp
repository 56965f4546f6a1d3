#pragma once
// Outbound HTTP for the whole daemon: edgemon's own HTTP/1.1 client on the
// libuv loop (llhttp reads the responses, OpenSSL does TLS through memory
// buffers and is loaded only by the first https:// request). Every request
// is asynchronous; the callback runs on the loop thread. This is the one
// client every outbound request uses (InfluxDB writes, hub push, remote
// write, sources such as the Docker socket and Shelly).
//
// It replaced libcurl, whose Debian build maps some 29 libraries (+9 MiB) as
// soon as one output is configured. Features the outputs do not need are
// left out on purpose: redirects, proxies, digest auth, HTTP/2. HTTP checks
// (a later source) want curl's timing breakdown and certificate details;
// they will bring libcurl back, loaded with dlopen() on demand as before,
// without touching this client.
#include <uv.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace edgemon::http {

struct ClientRequest {
  std::string method = "GET";
  std::string url;
  // Full header lines, e.g. "Content-Type: text/plain; charset=utf-8".
  std::vector<std::string> headers;
  std::string body;
  // The whole exchange, connect included; 0 means no limit.
  std::chrono::milliseconds timeout{10000};
  std::chrono::milliseconds connect_timeout{5000};
  // HTTP Basic credentials; empty username means none.
  std::string username;
  std::string password;
  // Talk HTTP over this unix socket instead of TCP (the Docker API).
  std::string unix_socket;
  std::string ca_file;  // empty: the system store
  bool verify_tls = true;
  // Response bodies beyond this are cut (and `truncated` set): error bodies
  // are only logged, and a misbehaving server must not cost memory.
  size_t max_response_bytes = 64 * 1024;
};

struct ClientResponse {
  // 0 when no HTTP status was received (see `error`).
  int status = 0;
  // "" when a response arrived; else what went wrong (timeout, refused...).
  std::string error;
  bool timed_out = false;
  std::string body;
  bool truncated = false;
  // Header names lower-cased, values trimmed; in arrival order of the final
  // response (headers of 1xx responses are not kept).
  std::vector<std::pair<std::string, std::string>> headers;
  double total_seconds = 0;

  // The value of the first header `name` (lower-case), or null.
  const std::string* header(std::string_view name) const;
  // Retry-After as a delay: delta-seconds or an HTTP-date (relative to now).
  std::optional<std::chrono::milliseconds> retry_after() const;
};

using ClientCallback = std::function<void(ClientResponse&&)>;

class HttpClient {
 public:
  explicit HttpClient(uv_loop_t* loop);
  // Abandons requests in flight without calling their callbacks.
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  // Starts the request; `done` is called exactly once on the loop thread,
  // never from inside send(). Returns an id for cancel().
  uint64_t send(ClientRequest request, ClientCallback done);
  // Abandons one request; its callback is not called. Unknown ids are ignored.
  void cancel(uint64_t id);
  size_t in_flight() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace edgemon::http
