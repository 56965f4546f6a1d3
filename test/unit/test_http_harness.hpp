#pragma once
// Shared by the HTTP server tests: the server runs on a real loop on the
// test's main thread while a client thread talks to it over loopback with
// blocking sockets (each with a receive timeout, so nothing can hang). Every
// run ends with a graceful shutdown after which uv_loop_close() must succeed.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>
#include <uv.h>

#include <atomic>
#include <cctype>
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "core/log.hpp"
#include "http/server.hpp"
#include "metrics/prometheus_text.hpp"

// cmocka last: its fail() macro breaks later standard headers.
#include "cmocka_all.hpp"

namespace http_test {

using namespace edgemon;
using namespace edgemon::http;
using Clock = std::chrono::steady_clock;

// ---- client side (runs on the client thread; no cmocka asserts there) ----

struct HttpResponse {
  bool complete = false;
  int status = 0;
  std::vector<std::pair<std::string, std::string>> headers;  // names lower-cased
  std::string body;

  std::string header(const std::string& name) const {
    for (const auto& [n, v] : headers) {
      if (n == name) return v;
    }
    return "";
  }
  bool has_header(const std::string& name) const {
    for (const auto& [n, v] : headers) {
      if (n == name) return true;
    }
    return false;
  }
};

class Client {
 public:
  explicit Client(int port, int family = AF_INET) {
    fd_ = socket(family, SOCK_STREAM, 0);
    timeval tv{5, 0};
    setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd_, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    sockaddr_storage ss{};
    socklen_t len;
    if (family == AF_INET6) {
      auto* a = reinterpret_cast<sockaddr_in6*>(&ss);
      a->sin6_family = AF_INET6;
      a->sin6_port = htons(static_cast<uint16_t>(port));
      a->sin6_addr = in6addr_loopback;
      len = sizeof *a;
    } else {
      auto* a = reinterpret_cast<sockaddr_in*>(&ss);
      a->sin_family = AF_INET;
      a->sin_port = htons(static_cast<uint16_t>(port));
      a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      len = sizeof *a;
    }
    connected_ = connect(fd_, reinterpret_cast<sockaddr*>(&ss), len) == 0;
  }
  ~Client() { ::close(fd_); }
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  bool connected() const { return connected_; }
  bool readable() const {
    pollfd p{fd_, POLLIN, 0};
    return poll(&p, 1, 0) == 1;
  }

  bool send(std::string_view data) {
    while (!data.empty()) {
      ssize_t n = ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
      if (n <= 0) return false;
      data.remove_prefix(static_cast<size_t>(n));
    }
    return true;
  }

  // One more read into the buffer; false on EOF, error or timeout.
  bool fill() {
    char chunk[65536];
    ssize_t n = recv(fd_, chunk, sizeof chunk, 0);
    if (n <= 0) {
      eof_ = n == 0;
      return false;
    }
    buf_.append(chunk, static_cast<size_t>(n));
    return true;
  }

  HttpResponse response(bool head = false) {
    HttpResponse r;
    size_t end;
    while ((end = buf_.find("\r\n\r\n")) == std::string::npos) {
      if (!fill()) return r;
    }
    parse_head(buf_.substr(0, end + 2), &r);
    buf_.erase(0, end + 4);
    size_t length = 0;
    if (!head && r.has_header("content-length")) length = std::stoul(r.header("content-length"));
    while (buf_.size() < length) {
      if (!fill()) return r;
    }
    r.body = buf_.substr(0, length);
    buf_.erase(0, length);
    r.complete = true;
    return r;
  }

  // True when the server closed the connection without sending more.
  bool closed_by_server() {
    while (fill()) {
    }
    return eof_ && buf_.empty();
  }
  const std::string& buffered() const { return buf_; }

 private:
  static void parse_head(const std::string& head, HttpResponse* r) {
    r->status = std::atoi(head.c_str() + 9);
    size_t pos = head.find("\r\n") + 2;
    while (pos < head.size()) {
      size_t eol = head.find("\r\n", pos);
      std::string line = head.substr(pos, eol - pos);
      size_t colon = line.find(':');
      std::string name = line.substr(0, colon);
      for (char& c : name)
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      size_t value = line.find_first_not_of(' ', colon + 1);
      r->headers.emplace_back(name, value == std::string::npos ? "" : line.substr(value));
      pos = eol + 2;
    }
  }

  int fd_;
  bool connected_ = false;
  bool eof_ = false;
  std::string buf_;
};

inline std::string get(std::string_view path, std::string_view extra = "") {
  return "GET " + std::string(path) + " HTTP/1.1\r\nHost: t\r\n" + std::string(extra) + "\r\n";
}

inline int64_t ms_since(Clock::time_point start) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start).count();
}

// ---- server side (main thread) ----

struct Context {
  int port = 0;
  int port6 = 0;  // 0 when the second listener is not [::1]
  std::function<void()> request_shutdown;
};

struct Outcome {
  bool timed_out = false;
  int loop_close = -1;
  std::string metrics;
};

struct LoopState {
  Server* server = nullptr;
  uv_async_t async{};
  uv_timer_t watchdog{};
  bool shutting_down = false;
  bool timed_out = false;
};

inline void begin_shutdown(LoopState* s) {
  if (s->shutting_down) return;
  s->shutting_down = true;
  s->server->shutdown([] {});
}

inline int port_of(const std::string& address) {
  return std::atoi(address.c_str() + address.rfind(':') + 1);
}

inline Outcome run_server(const config::HttpSection& config, Router& router,
                          const std::function<void(Context&)>& client) {
  Outcome out;
  uv_loop_t loop;
  uv_loop_init(&loop);
  auto server = std::make_unique<Server>(&loop, config, router);
  std::string error = server->listen();
  if (!error.empty()) fail_msg("listen: %s", error.c_str());
  LoopState state;
  state.server = server.get();
  // Both unreferenced: the loop ends when the server's own handles are gone.
  uv_async_init(&loop, &state.async,
                [](uv_async_t* a) { begin_shutdown(static_cast<LoopState*>(a->data)); });
  state.async.data = &state;
  uv_unref(reinterpret_cast<uv_handle_t*>(&state.async));
  uv_timer_init(&loop, &state.watchdog);
  state.watchdog.data = &state;
  uv_unref(reinterpret_cast<uv_handle_t*>(&state.watchdog));
  uv_timer_start(
      &state.watchdog,
      [](uv_timer_t* t) {
        auto* s = static_cast<LoopState*>(t->data);
        if (s->timed_out) {
          uv_stop(t->loop);  // the server did not finish even after the forced shutdown
          return;
        }
        s->timed_out = true;
        begin_shutdown(s);
        uv_timer_start(t, t->timer_cb, 5000, 0);
      },
      30000, 0);

  Context context;
  std::vector<std::string> listening = server->listening();
  context.port = port_of(listening.at(0));
  if (listening.size() > 1 && listening[1].rfind("[::1]", 0) == 0) {
    context.port6 = port_of(listening[1]);
  }
  context.request_shutdown = [&state] { uv_async_send(&state.async); };
  std::thread thread([&] {
    client(context);
    uv_async_send(&state.async);
  });
  uv_run(&loop, UV_RUN_DEFAULT);
  thread.join();
  out.timed_out = state.timed_out;
  metrics::PrometheusTextWriter writer(out.metrics);
  server->write_metrics(writer);
  uv_close(reinterpret_cast<uv_handle_t*>(&state.async), nullptr);
  uv_close(reinterpret_cast<uv_handle_t*>(&state.watchdog), nullptr);
  uv_run(&loop, UV_RUN_DEFAULT);
  // Closing the loop fails if the server left any handle behind.
  out.loop_close = uv_loop_close(&loop);
  server.reset();
  return out;
}

inline void assert_clean(const Outcome& out) {
  assert_false(out.timed_out);
  assert_int_equal(out.loop_close, 0);
  assert_contains(out.metrics, "edgemon_http_connections 0\n");
  assert_contains(out.metrics, "edgemon_http_requests_in_flight 0\n");
}

inline config::HttpSection base_config() {
  config::HttpSection c;
  c.listen = {"127.0.0.1:0"};
  c.limits.header_timeout = std::chrono::milliseconds(3000);
  c.limits.idle_timeout = std::chrono::milliseconds(5000);
  c.access.read = {{"127.0.0.0/8", "::1/128"}, 0, 0, {}};
  c.access.write = {{"127.0.0.0/8", "::1/128"}, 0, 0, {}};
  return c;
}

inline constexpr size_t kBigBody = 256 * 1024;
inline std::atomic<int> g_big_calls{0};

inline Router make_router() {
  Router router;
  router.add("GET", "/echo", Group::kRead,
             [](const Request& req, Response& res) { res.set_body(req.query); });
  router.add("POST", "/echo", Group::kRead,
             [](const Request& req, Response& res) { res.set_body(req.body); });
  auto big = std::make_shared<const std::string>(kBigBody, 'b');
  router.add("GET", "/big", Group::kRead, [big](const Request& req, Response& res) {
    ++g_big_calls;
    res.content_type = "text/plain";
    res.headers.emplace_back("X-Query", req.query);
    res.add_body(big);
  });
  router.add("POST", "/admin", Group::kWrite,
             [](const Request&, Response& res) { res.set_body("done"); });
  return router;
}

inline int quiet_logs(void**) {
  log::Options options;
  options.level = log::Level::kWarn;
  std::string error;
  log::configure(options, &error);
  return 0;
}

}  // namespace http_test
