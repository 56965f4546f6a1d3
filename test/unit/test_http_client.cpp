// The outbound HTTP client against servers on loopback, all on the test's
// own loop: edgemon's HTTP server for ordinary answers; fake peers (raw
// libuv listeners) for a server that never answers, canned bytes (chunked,
// HTTP/1.0, oversized heads, over a unix socket) and a keep-alive server
// that closes connections under the client. Every run ends with
// uv_loop_close() succeeding, so no handle of the client may be left behind.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>
#include <uv.h>

#include <chrono>
#include <cstdlib>
#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "build_info.hpp"
#include "core/log.hpp"
#include "http/http_client.hpp"
#include "http/response_writer.hpp"
#include "http/server.hpp"

// cmocka last: its fail() macro breaks later standard headers.
#include "cmocka_all.hpp"

namespace {

using namespace edgemon;
using namespace edgemon::http;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

constexpr size_t kBigBody = 256 * 1024;

int64_t ms_since(Clock::time_point start) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start).count();
}

// A loop with a guard timer, so that no test can hang.
class TestLoop {
 public:
  TestLoop() {
    uv_loop_init(&loop_);
    uv_timer_init(&loop_, &guard_);
    guard_.data = this;
    uv_prepare_init(&loop_, &check_);
    check_.data = this;
  }
  ~TestLoop() {
    if (!closed_) finish();
  }
  TestLoop(const TestLoop&) = delete;
  TestLoop& operator=(const TestLoop&) = delete;

  uv_loop_t* get() { return &loop_; }

  // Runs until `done` holds; false when the guard expired first.
  bool run_until(const std::function<bool()>& done, std::chrono::milliseconds guard = 10s) {
    expired_ = false;
    done_ = &done;
    uv_timer_start(
        &guard_, [](uv_timer_t* t) { static_cast<TestLoop*>(t->data)->expired_ = true; },
        static_cast<uint64_t>(guard.count()), 0);
    // Checked before the loop blocks, so a condition met by a timer callback
    // does not wait for the next I/O.
    uv_prepare_start(&check_, [](uv_prepare_t* p) {
      auto* self = static_cast<TestLoop*>(p->data);
      if ((*self->done_)()) uv_stop(p->loop);
    });
    while (!done() && !expired_)
      uv_run(&loop_, UV_RUN_ONCE);
    uv_prepare_stop(&check_);
    uv_timer_stop(&guard_);
    done_ = nullptr;
    return done();
  }

  // Lets every close complete; then closes the loop. 0 when no handle is left.
  int finish() {
    closed_ = true;
    uv_close(reinterpret_cast<uv_handle_t*>(&guard_), nullptr);
    uv_close(reinterpret_cast<uv_handle_t*>(&check_), nullptr);
    uv_run(&loop_, UV_RUN_DEFAULT);
    return uv_loop_close(&loop_);
  }

 private:
  uv_loop_t loop_;
  uv_timer_t guard_;
  uv_prepare_t check_;
  const std::function<bool()>* done_ = nullptr;
  bool expired_ = false;
  bool closed_ = false;
};

// ---- edgemon's own server with the routes the client is tried against ----

std::string echo(const Request& req) {
  auto h = [&req](std::string_view name) {
    const std::string* v = req.header(name);
    return v == nullptr ? std::string("-") : *v;
  };
  return "method=" + std::string(req.method) + " len=" + std::to_string(req.body.size()) +
         " ct=" + h("content-type") + " auth=" + h("authorization") + " expect=" + h("expect") +
         " ua=" + h("user-agent") + " x=" + h("x-test");
}

void add_routes(Router& router) {
  router.add("GET", "/empty", Group::kRead,
             [](const Request&, Response& res) { res.status = 204; });
  router.add("GET", "/fail", Group::kRead, [](const Request&, Response& res) {
    res.status = 500;
    res.content_type = "text/plain";
    res.set_body("boom");
  });
  router.add("GET", "/busy", Group::kRead, [](const Request&, Response& res) {
    res.status = 429;
    res.headers.emplace_back("Retry-After", "7");
    res.set_body("slow down");
  });
  router.add("GET", "/padded", Group::kRead, [](const Request&, Response& res) {
    res.headers.emplace_back("X-Padded", "  spaced out \t");
    res.headers.emplace_back("X-Twice", "first");
    res.headers.emplace_back("X-Twice", "second");
    res.set_body("{}");
  });
  for (const char* method : {"GET", "POST", "PUT", "DELETE"}) {
    router.add(method, "/echo", Group::kRead,
               [](const Request& req, Response& res) { res.set_body(echo(req)); });
  }
  auto big = std::make_shared<const std::string>(kBigBody, 'b');
  router.add("GET", "/big", Group::kRead, [big](const Request&, Response& res) {
    res.content_type = "text/plain";
    res.add_body(big);
  });
}

class ApiServer {
 public:
  explicit ApiServer(TestLoop& loop) : loop_(loop) {
    add_routes(router_);
    config::HttpSection config;
    config.listen = {"127.0.0.1:0"};
    config.access.read = {{"127.0.0.0/8"}, 0, 0, {}};
    config.access.write = {{"127.0.0.0/8"}, 0, 0, {}};
    server_ = std::make_unique<Server>(loop.get(), config, router_);
    std::string error = server_->listen();
    if (!error.empty()) fail_msg("listen: %s", error.c_str());
    std::string address = server_->listening().at(0);
    port_ = std::atoi(address.c_str() + address.rfind(':') + 1);
  }
  ~ApiServer() { stop(); }
  ApiServer(const ApiServer&) = delete;
  ApiServer& operator=(const ApiServer&) = delete;

  std::string url(std::string_view path) const {
    return "http://127.0.0.1:" + std::to_string(port_) + std::string(path);
  }
  uint64_t connections_total() const { return server_->metrics_snapshot().connections_total(); }
  int64_t connections() const { return server_->metrics_snapshot().connections(); }

  void stop() {
    if (!server_) return;
    bool done = false;
    server_->shutdown([&done] { done = true; });
    assert_true(loop_.run_until([&done] { return done; }));
    server_.reset();
  }

 private:
  TestLoop& loop_;
  Router router_;
  std::unique_ptr<Server> server_;
  int port_ = 0;
};

// ---- a raw listener: never answers, or answers one canned response ----

class RawServer {
 public:
  // Empty `reply`: accept, read and never answer.
  explicit RawServer(uv_loop_t* loop, std::string reply = "")
      : loop_(loop), reply_(std::move(reply)) {}
  ~RawServer() { close(); }
  RawServer(const RawServer&) = delete;
  RawServer& operator=(const RawServer&) = delete;

  int listen_tcp() {
    listener_ = new Endpoint{};
    uv_tcp_init(loop_, &listener_->tcp);
    sockaddr_in addr{};
    uv_ip4_addr("127.0.0.1", 0, &addr);
    uv_tcp_bind(&listener_->tcp, reinterpret_cast<const sockaddr*>(&addr), 0);
    start();
    sockaddr_storage bound{};
    int len = sizeof bound;
    uv_tcp_getsockname(&listener_->tcp, reinterpret_cast<sockaddr*>(&bound), &len);
    return ntohs(reinterpret_cast<sockaddr_in*>(&bound)->sin_port);
  }

  void listen_unix(const std::string& path) {
    listener_ = new Endpoint{};
    unix_ = true;
    uv_pipe_init(loop_, &listener_->pipe, 0);
    if (uv_pipe_bind(&listener_->pipe, path.c_str()) != 0) fail_msg("bind %s", path.c_str());
    start();
  }

  size_t accepted() const { return accepted_; }
  // Request heads received so far, one string per connection.
  const std::vector<std::string>& requests() const { return requests_; }
  size_t open_peers() const { return peers_.size(); }

  void close() {
    for (Peer* p : peers_)
      uv_close(p->handle(), free_peer);
    peers_.clear();
    if (listener_ != nullptr) {
      uv_close(reinterpret_cast<uv_handle_t*>(&listener_->tcp),
               [](uv_handle_t* h) { delete reinterpret_cast<Endpoint*>(h); });
      listener_ = nullptr;
    }
  }

 private:
  // The first member of both is the uv_handle_t, so one pointer serves all.
  union Endpoint {
    uv_tcp_t tcp;
    uv_pipe_t pipe;
  };
  struct Peer {
    Endpoint endpoint;
    RawServer* owner;
    std::string received;
    std::string reply;
    uv_write_t write;
    size_t index = 0;  // into requests_
    bool answered = false;
    uv_handle_t* handle() { return reinterpret_cast<uv_handle_t*>(&endpoint.tcp); }
    uv_stream_t* stream() { return reinterpret_cast<uv_stream_t*>(&endpoint.tcp); }
  };

  static void free_peer(uv_handle_t* h) { delete static_cast<Peer*>(h->data); }

  void start() {
    listener_->tcp.data = this;
    int rc = uv_listen(reinterpret_cast<uv_stream_t*>(&listener_->tcp), 256,
                       [](uv_stream_t* s, int status) {
                         if (status == 0) static_cast<RawServer*>(s->data)->accept(s);
                       });
    if (rc != 0) fail_msg("listen: %s", uv_strerror(rc));
  }

  void accept(uv_stream_t* listener) {
    auto* peer = new Peer{};
    peer->owner = this;
    if (unix_) {
      uv_pipe_init(loop_, &peer->endpoint.pipe, 0);
    } else {
      uv_tcp_init(loop_, &peer->endpoint.tcp);
    }
    peer->handle()->data = peer;
    if (uv_accept(listener, peer->stream()) != 0) {
      uv_close(peer->handle(), free_peer);
      return;
    }
    ++accepted_;
    peers_.insert(peer);
    peer->index = requests_.size();
    requests_.emplace_back();
    uv_read_start(
        peer->stream(),
        [](uv_handle_t*, size_t, uv_buf_t* buf) {
          static char chunk[64 * 1024];
          *buf = uv_buf_init(chunk, sizeof chunk);
        },
        [](uv_stream_t* s, ssize_t n, const uv_buf_t* buf) {
          auto* p = static_cast<Peer*>(s->data);
          if (n > 0) p->owner->received(p, std::string_view(buf->base, static_cast<size_t>(n)));
          if (n < 0) p->owner->drop(p);
        });
  }

  void received(Peer* peer, std::string_view data) {
    peer->received.append(data);
    size_t end = peer->received.find("\r\n\r\n");
    if (end == std::string::npos || peer->answered) return;
    requests_[peer->index] = peer->received.substr(0, end);
    if (reply_.empty()) return;
    peer->answered = true;
    peer->reply = reply_;
    uv_buf_t buf = uv_buf_init(peer->reply.data(), static_cast<unsigned>(peer->reply.size()));
    peer->write.data = peer;
    uv_write(&peer->write, peer->stream(), &buf, 1, [](uv_write_t* req, int status) {
      auto* p = static_cast<Peer*>(req->data);
      // Closed already when the server itself is closing.
      if (status == 0 && !uv_is_closing(p->handle())) p->owner->drop(p);
    });
  }

  void drop(Peer* peer) {
    if (peers_.erase(peer) == 0) return;
    uv_close(peer->handle(), free_peer);
  }

  uv_loop_t* loop_;
  std::string reply_;
  Endpoint* listener_ = nullptr;
  bool unix_ = false;
  std::set<Peer*> peers_;
  std::vector<std::string> requests_;
  size_t accepted_ = 0;
};

// ---- a fake keep-alive peer: answers every request on a connection ----

// Answers each request head (requests without a body) with `reply`, which
// must keep the connection open. `drop_at` > 0: the connection's request
// number `drop_at` is not answered, the connection is closed instead -- a
// server closing an idle connection just as the client reuses it.
class FakeKeepAlivePeer {
 public:
  FakeKeepAlivePeer(uv_loop_t* loop, std::string reply, size_t drop_at = 0)
      : loop_(loop), reply_(std::move(reply)), drop_at_(drop_at) {}
  ~FakeKeepAlivePeer() { close(); }
  FakeKeepAlivePeer(const FakeKeepAlivePeer&) = delete;
  FakeKeepAlivePeer& operator=(const FakeKeepAlivePeer&) = delete;

  int listen() {
    listener_ = new uv_tcp_t{};
    uv_tcp_init(loop_, listener_);
    listener_->data = this;
    sockaddr_in addr{};
    uv_ip4_addr("127.0.0.1", 0, &addr);
    uv_tcp_bind(listener_, reinterpret_cast<const sockaddr*>(&addr), 0);
    uv_listen(reinterpret_cast<uv_stream_t*>(listener_), 64, [](uv_stream_t* s, int status) {
      if (status == 0) static_cast<FakeKeepAlivePeer*>(s->data)->accept(s);
    });
    sockaddr_storage bound{};
    int len = sizeof bound;
    uv_tcp_getsockname(listener_, reinterpret_cast<sockaddr*>(&bound), &len);
    return ntohs(reinterpret_cast<sockaddr_in*>(&bound)->sin_port);
  }

  size_t accepted() const { return accepted_; }
  size_t answered() const { return answered_; }
  size_t open_peers() const { return peers_.size(); }

  // The server side closes every connection it has (an idle timeout).
  void close_peers() {
    for (Peer* p : peers_)
      uv_close(reinterpret_cast<uv_handle_t*>(&p->tcp), free_peer);
    peers_.clear();
  }

  void close() {
    close_peers();
    if (listener_ != nullptr) {
      uv_close(reinterpret_cast<uv_handle_t*>(listener_),
               [](uv_handle_t* h) { delete reinterpret_cast<uv_tcp_t*>(h); });
      listener_ = nullptr;
    }
  }

 private:
  struct Peer {
    uv_tcp_t tcp;
    FakeKeepAlivePeer* owner;
    std::string received;
    size_t requests = 0;
  };
  struct Write {
    uv_write_t req;
    std::string data;
  };

  static void free_peer(uv_handle_t* h) { delete static_cast<Peer*>(h->data); }

  void accept(uv_stream_t* listener) {
    auto* peer = new Peer{};
    peer->owner = this;
    uv_tcp_init(loop_, &peer->tcp);
    peer->tcp.data = peer;
    if (uv_accept(listener, reinterpret_cast<uv_stream_t*>(&peer->tcp)) != 0) {
      uv_close(reinterpret_cast<uv_handle_t*>(&peer->tcp), free_peer);
      return;
    }
    ++accepted_;
    peers_.insert(peer);
    uv_read_start(
        reinterpret_cast<uv_stream_t*>(&peer->tcp),
        [](uv_handle_t*, size_t, uv_buf_t* buf) {
          static char chunk[16 * 1024];
          *buf = uv_buf_init(chunk, sizeof chunk);
        },
        [](uv_stream_t* s, ssize_t n, const uv_buf_t* buf) {
          auto* p = static_cast<Peer*>(s->data);
          if (n > 0) p->owner->received(p, std::string_view(buf->base, static_cast<size_t>(n)));
          if (n < 0) p->owner->drop(p);
        });
  }

  void received(Peer* peer, std::string_view data) {
    peer->received.append(data);
    size_t end = 0;
    while ((end = peer->received.find("\r\n\r\n")) != std::string::npos) {
      peer->received.erase(0, end + 4);
      if (++peer->requests == drop_at_) {
        drop(peer);
        return;
      }
      ++answered_;
      auto* w = new Write{{}, reply_};
      uv_buf_t buf = uv_buf_init(w->data.data(), static_cast<unsigned>(w->data.size()));
      uv_write(&w->req, reinterpret_cast<uv_stream_t*>(&peer->tcp), &buf, 1,
               [](uv_write_t* req, int) { delete reinterpret_cast<Write*>(req); });
    }
  }

  void drop(Peer* peer) {
    if (peers_.erase(peer) == 0) return;
    uv_close(reinterpret_cast<uv_handle_t*>(&peer->tcp), free_peer);
  }

  uv_loop_t* loop_;
  std::string reply_;
  size_t drop_at_;
  uv_tcp_t* listener_ = nullptr;
  std::set<Peer*> peers_;
  size_t accepted_ = 0;
  size_t answered_ = 0;
};

constexpr const char* kKeepAliveReply = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";

// A port nothing listens on: bound (so nobody else gets it) but not listening.
class ClosedPort {
 public:
  ClosedPort() {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    socklen_t len = sizeof addr;
    getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
  }
  ~ClosedPort() { ::close(fd_); }
  ClosedPort(const ClosedPort&) = delete;
  ClosedPort& operator=(const ClosedPort&) = delete;
  int port() const { return port_; }

 private:
  int fd_;
  int port_ = 0;
};

// Sends one request and runs the loop until its answer is in.
ClientResponse fetch(TestLoop& loop, HttpClient& client, ClientRequest request) {
  std::optional<ClientResponse> out;
  client.send(std::move(request), [&out](ClientResponse&& r) { out = std::move(r); });
  if (!loop.run_until([&out] { return out.has_value(); })) fail_msg("no answer in time");
  return std::move(*out);
}

ClientRequest get(std::string url) {
  ClientRequest r;
  r.url = std::move(url);
  return r;
}

// ---- tests ----

void status_body_and_headers(void**) {
  TestLoop loop;
  {
    ApiServer api(loop);
    HttpClient client(loop.get());
    ClientResponse fail = fetch(loop, client, get(api.url("/fail")));
    assert_int_equal(fail.status, 500);
    assert_string_equal(fail.error.c_str(), "");
    assert_false(fail.timed_out);
    assert_string_equal(fail.body.c_str(), "boom");
    assert_false(fail.truncated);
    assert_non_null(fail.header("content-type"));
    assert_string_equal(fail.header("content-type")->c_str(), "text/plain");
    assert_string_equal(fail.header("server")->c_str(), "edgemon");
    assert_null(fail.header("Content-Type"));  // names are lower-cased
    assert_true(fail.total_seconds > 0 && fail.total_seconds < 5);

    ClientResponse empty = fetch(loop, client, get(api.url("/empty")));
    assert_int_equal(empty.status, 204);
    assert_true(empty.body.empty());

    ClientResponse padded = fetch(loop, client, get(api.url("/padded")));
    assert_string_equal(padded.header("x-padded")->c_str(), "spaced out");
    assert_string_equal(padded.header("x-twice")->c_str(), "first");
    assert_false(padded.retry_after().has_value());
    // The status line is not a header.
    for (const auto& [name, value] : padded.headers)
      assert_true(name.find("http/") == std::string::npos);

    ClientResponse missing = fetch(loop, client, get(api.url("/nope")));
    assert_int_equal(missing.status, 404);
    assert_string_equal(missing.error.c_str(), "");
    assert_int_equal(client.in_flight(), 0);
  }
  assert_int_equal(loop.finish(), 0);
}

void methods_headers_body_and_auth(void**) {
  TestLoop loop;
  {
    ApiServer api(loop);
    HttpClient client(loop.get());
    ClientRequest post = get(api.url("/echo"));
    post.method = "POST";
    post.body = "abc";
    post.headers = {"Content-Type: text/plain; charset=utf-8", "X-Test: 1"};
    post.username = "user";
    post.password = "pass";
    std::string agent = std::string("edgemon/") + build::kVersion;
    ClientResponse r = fetch(loop, client, post);
    assert_int_equal(r.status, 200);
    assert_string_equal(r.body.c_str(), ("method=POST len=3 ct=text/plain; charset=utf-8 "
                                         "auth=Basic dXNlcjpwYXNz expect=- ua=" +
                                         agent + " x=1")
                                            .c_str());

    // A large body is sent at once (no Expect: 100-continue), and without
    // Content-Type none is invented.
    ClientRequest put = get(api.url("/echo"));
    put.method = "PUT";
    put.body.assign(300 * 1024, 'x');
    r = fetch(loop, client, put);
    assert_string_equal(
        r.body.c_str(),
        ("method=PUT len=307200 ct=- auth=- expect=- ua=" + agent + " x=-").c_str());

    ClientRequest del = get(api.url("/echo"));
    del.method = "DELETE";
    r = fetch(loop, client, del);
    assert_string_equal(r.body.c_str(),
                        ("method=DELETE len=0 ct=- auth=- expect=- ua=" + agent + " x=-").c_str());

    ClientRequest empty_post = get(api.url("/echo"));
    empty_post.method = "POST";
    r = fetch(loop, client, empty_post);
    assert_contains(r.body, "method=POST len=0 ct=- ");

    ClientRequest head = get(api.url("/big"));
    head.method = "HEAD";
    r = fetch(loop, client, head);
    assert_int_equal(r.status, 200);
    assert_true(r.body.empty());
    assert_string_equal(r.header("content-length")->c_str(), std::to_string(kBigBody).c_str());

    // Every request above went over one kept-alive connection.
    assert_int_equal(api.connections_total(), 1);
  }
  assert_int_equal(loop.finish(), 0);
}

void large_body_is_cut_and_connection_kept(void**) {
  TestLoop loop;
  {
    ApiServer api(loop);
    HttpClient client(loop.get());
    ClientRequest small = get(api.url("/big"));
    small.max_response_bytes = 1000;
    ClientResponse r = fetch(loop, client, small);
    assert_int_equal(r.status, 200);
    assert_string_equal(r.error.c_str(), "");
    assert_true(r.truncated);
    assert_int_equal(r.body.size(), 1000);
    assert_string_equal(r.body.c_str(), std::string(1000, 'b').c_str());

    r = fetch(loop, client, get(api.url("/big")));  // the default cap, 64 KiB
    assert_true(r.truncated);
    assert_int_equal(r.body.size(), 64 * 1024);

    ClientRequest whole = get(api.url("/big"));
    whole.max_response_bytes = 1024 * 1024;
    r = fetch(loop, client, whole);
    assert_false(r.truncated);
    assert_int_equal(r.body.size(), kBigBody);

    // The cut bodies were read to the end, so the connection was reused.
    r = fetch(loop, client, get(api.url("/empty")));
    assert_int_equal(r.status, 204);
    assert_int_equal(api.connections_total(), 1);
  }
  assert_int_equal(loop.finish(), 0);
}

void retry_after_from_a_429(void**) {
  TestLoop loop;
  {
    ApiServer api(loop);
    HttpClient client(loop.get());
    ClientResponse r = fetch(loop, client, get(api.url("/busy")));
    assert_int_equal(r.status, 429);
    assert_string_equal(r.body.c_str(), "slow down");
    assert_true(r.retry_after().has_value());
    assert_int_equal(r.retry_after()->count(), 7000);
  }
  assert_int_equal(loop.finish(), 0);
}

std::optional<std::chrono::milliseconds> retry_after(std::string value) {
  ClientResponse r;
  r.headers = {{"date", "x"}, {"retry-after", std::move(value)}};
  return r.retry_after();
}

void retry_after_parsing(void**) {
  assert_int_equal(retry_after("120")->count(), 120000);
  assert_int_equal(retry_after("0")->count(), 0);
  assert_int_equal(retry_after(" 5 ")->count(), 5000);
  assert_int_equal(retry_after("99999999999999999999999")->count(), 1'000'000'000'000);
  int64_t ahead = retry_after(HttpDate::format(time(nullptr) + 60))->count();
  assert_true(ahead >= 58000 && ahead <= 60000);
  assert_int_equal(retry_after(HttpDate::format(time(nullptr) - 3600))->count(), 0);
  assert_int_equal(retry_after("Sun, 06 Nov 1994 08:49:37 GMT")->count(), 0);
  int64_t asctime_form = retry_after("Sun Nov  6 08:49:37 2094")->count();
  assert_true(asctime_form > 0);
  assert_false(retry_after("").has_value());
  assert_false(retry_after("-5").has_value());
  assert_false(retry_after("1.5").has_value());
  assert_false(retry_after("soon").has_value());
  assert_false(retry_after("+10").has_value());
  assert_false(ClientResponse{}.retry_after().has_value());
}

void hanging_server_times_out(void**) {
  TestLoop loop;
  {
    RawServer silent(loop.get());
    int port = silent.listen_tcp();
    HttpClient client(loop.get());
    ClientRequest request = get("http://127.0.0.1:" + std::to_string(port) + "/write");
    request.timeout = 300ms;
    Clock::time_point start = Clock::now();
    ClientResponse r = fetch(loop, client, request);
    int64_t took = ms_since(start);
    assert_true(r.timed_out);
    assert_int_equal(r.status, 0);
    assert_contains(r.error, "timed out after 300 ms");
    assert_true(took >= 290);
    assert_true(took < 3000);
    assert_int_equal(silent.accepted(), 1);
    assert_contains(silent.requests().at(0), "GET /write HTTP/1.1\r\n");
  }
  assert_int_equal(loop.finish(), 0);
}

void refused_connection_is_an_error(void**) {
  TestLoop loop;
  {
    ClosedPort closed;
    HttpClient client(loop.get());
    Clock::time_point start = Clock::now();
    ClientResponse r =
        fetch(loop, client, get("http://127.0.0.1:" + std::to_string(closed.port()) + "/"));
    assert_int_equal(r.status, 0);
    assert_false(r.timed_out);
    assert_contains(r.error, "connection refused");
    assert_true(ms_since(start) < 3000);
  }
  assert_int_equal(loop.finish(), 0);
}

std::string temp_socket_dir() {
  char dir[] = "/tmp/edgemon-http-client-XXXXXX";
  if (mkdtemp(dir) == nullptr) fail_msg("mkdtemp failed");
  return dir;
}

void over_a_unix_socket(void**) {
  std::string dir = temp_socket_dir();
  std::string path = dir + "/api.sock";
  TestLoop loop;
  {
    RawServer docker(loop.get(),
                     "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 7\r\n"
                     "Connection: close\r\n\r\n{\"a\":1}");
    docker.listen_unix(path);
    HttpClient client(loop.get());
    ClientRequest request = get("http://localhost/v1.41/info");
    request.unix_socket = path;
    ClientResponse r = fetch(loop, client, request);
    assert_string_equal(r.error.c_str(), "");
    assert_int_equal(r.status, 200);
    assert_string_equal(r.body.c_str(), "{\"a\":1}");
    assert_string_equal(r.header("content-type")->c_str(), "application/json");
    assert_int_equal(docker.accepted(), 1);
    assert_contains(docker.requests().at(0), "GET /v1.41/info HTTP/1.1\r\nHost: localhost\r\n");
  }
  assert_int_equal(loop.finish(), 0);
  unlink(path.c_str());
  rmdir(dir.c_str());
}

void only_final_response_headers_are_kept(void**) {
  std::string dir = temp_socket_dir();
  std::string path = dir + "/s.sock";
  TestLoop loop;
  {
    RawServer server(loop.get(),
                     "HTTP/1.1 100 Continue\r\nX-Early: 1\r\n\r\n"
                     "HTTP/1.1 201 Created\r\nX-Final: 2\r\n  folded\r\nContent-Length: 2\r\n"
                     "Connection: close\r\n\r\nok");
    server.listen_unix(path);
    HttpClient client(loop.get());
    ClientRequest request = get("http://localhost/x");
    request.unix_socket = path;
    ClientResponse r = fetch(loop, client, request);
    assert_int_equal(r.status, 201);
    assert_string_equal(r.body.c_str(), "ok");
    assert_null(r.header("x-early"));
    assert_string_equal(r.header("x-final")->c_str(), "2 folded");
    assert_int_equal(r.headers.size(), 3);
  }
  assert_int_equal(loop.finish(), 0);
  unlink(path.c_str());
  rmdir(dir.c_str());
}

void failures_are_reported_from_the_loop(void**) {
  TestLoop loop;
  {
    HttpClient client(loop.get());
    std::vector<ClientResponse> answers;
    size_t returned = 0;
    for (const char* url : {"not a url", "ftp://127.0.0.1/file", "http://[::1"}) {
      client.send(get(url), [&](ClientResponse&& r) {
        // Answer i before send() i returned would break the contract.
        assert_true(answers.size() < returned);
        answers.push_back(std::move(r));
      });
      ++returned;
    }
    assert_int_equal(answers.size(), 0);
    assert_int_equal(client.in_flight(), 3);
    assert_true(loop.run_until([&] { return answers.size() == 3; }));
    for (const ClientResponse& r : answers) {
      assert_int_equal(r.status, 0);
      assert_false(r.error.empty());
      assert_false(r.timed_out);
    }
    assert_int_equal(client.in_flight(), 0);
  }
  assert_int_equal(loop.finish(), 0);
}

void cancel_suppresses_the_callback(void**) {
  TestLoop loop;
  {
    ApiServer api(loop);
    RawServer silent(loop.get());
    int port = silent.listen_tcp();
    std::string hang_url = "http://127.0.0.1:" + std::to_string(port) + "/";
    HttpClient client(loop.get());
    int cancelled_calls = 0;
    auto never = [&cancelled_calls](ClientResponse&&) { ++cancelled_calls; };
    uint64_t before_start = client.send(get(hang_url), never);
    client.cancel(before_start);
    uint64_t waiting = client.send(get(hang_url), never);
    uint64_t bad = client.send(get("not a url"), never);
    client.cancel(bad);
    assert_int_equal(client.in_flight(), 1);
    // Cancel once the request is on the wire and the server sits on it.
    assert_true(loop.run_until(
        [&] { return silent.requests().size() == 1 && !silent.requests()[0].empty(); }));
    client.cancel(waiting);
    client.cancel(waiting);  // twice, and ids never issued, are ignored
    client.cancel(987654);
    assert_int_equal(client.in_flight(), 0);
    // The abandoned connection is closed, not left to the server.
    assert_true(loop.run_until([&] { return silent.open_peers() == 0; }));

    ClientResponse r = fetch(loop, client, get(api.url("/empty")));
    assert_int_equal(r.status, 204);
    assert_int_equal(cancelled_calls, 0);
    // A callback may cancel a request that finished in the same round.
    std::vector<int> order;
    uint64_t second = 0;
    client.send(get(api.url("/empty")), [&](ClientResponse&&) {
      order.push_back(1);
      client.cancel(second);
    });
    second = client.send(get(api.url("/empty")), [&](ClientResponse&&) { order.push_back(2); });
    assert_true(loop.run_until([&] { return client.in_flight() == 0; }));
    // Either both finished in one round and the cancel held, or the second
    // had finished (and was reported) first.
    assert_true(order == std::vector<int>{1} || order == (std::vector<int>{2, 1}));
  }
  assert_int_equal(loop.finish(), 0);
}

// The first requests that all wrote their request to the silent server.
bool heads_received(const RawServer& server, size_t count) {
  size_t n = 0;
  for (const std::string& head : server.requests())
    n += head.empty() ? 0 : 1;
  return n >= count;
}

void destroying_the_client_abandons_requests(void**) {
  TestLoop loop;
  {
    RawServer silent(loop.get());
    int port = silent.listen_tcp();
    std::string url = "http://127.0.0.1:" + std::to_string(port) + "/";
    auto client = std::make_unique<HttpClient>(loop.get());
    int calls = 0;
    // Four on the wire (the limit per destination) and two waiting.
    for (int i = 0; i < 6; ++i)
      client->send(get(url), [&calls](ClientResponse&&) { ++calls; });
    assert_true(loop.run_until([&] { return heads_received(silent, 4); }));
    assert_int_equal(silent.accepted(), 4);
    assert_int_equal(client->in_flight(), 6);
    client.reset();
    // The loop keeps running after the client is gone: the server sees the
    // connections close and nothing calls back.
    assert_true(loop.run_until([&] { return silent.open_peers() == 0; }));

    // Destroyed before the loop ever ran: not even a failure is reported.
    client = std::make_unique<HttpClient>(loop.get());
    client->send(get("not a url"), [&calls](ClientResponse&&) { ++calls; });
    client->send(get(url), [&calls](ClientResponse&&) { ++calls; });
    client.reset();
    assert_true(loop.run_until([&] { return silent.open_peers() == 0; }));
    assert_int_equal(calls, 0);
  }
  assert_int_equal(loop.finish(), 0);
}

void a_callback_may_destroy_the_client(void**) {
  TestLoop loop;
  {
    ApiServer api(loop);
    auto client = std::make_unique<HttpClient>(loop.get());
    int calls = 0;
    auto destroy = [&](ClientResponse&&) {
      ++calls;
      client.reset();
    };
    // The bad URLs all fail in one round: the first callback destroys the
    // client while the others are still to be delivered.
    for (int i = 0; i < 3; ++i)
      client->send(get("not a url"), destroy);
    for (int i = 0; i < 5; ++i)
      client->send(get(api.url("/empty")), destroy);
    assert_true(loop.run_until([&] { return client == nullptr; }));
    assert_true(loop.run_until([&] { return api.connections() == 0; }));
    assert_int_equal(calls, 1);
  }
  assert_int_equal(loop.finish(), 0);
}

void many_concurrent_requests(void**) {
  constexpr int kRequests = 200;
  TestLoop loop;
  {
    ApiServer api(loop);
    HttpClient client(loop.get());
    int answered = 0;
    int correct = 0;
    for (int i = 0; i < kRequests; ++i) {
      ClientRequest post = get(api.url("/echo"));
      post.method = "POST";
      post.body.assign(static_cast<size_t>(i) * 37, 'z');
      std::string expected = "method=POST len=" + std::to_string(i * 37) + " ";
      client.send(std::move(post), [&, expected](ClientResponse&& r) {
        ++answered;
        if (r.status == 200 && r.body.starts_with(expected)) ++correct;
      });
    }
    assert_int_equal(client.in_flight(), kRequests);
    assert_true(loop.run_until([&] { return answered == kRequests; }, 30s));
    assert_int_equal(correct, kRequests);
    assert_int_equal(client.in_flight(), 0);
    // Spread over at most four connections to the one destination.
    assert_true(api.connections_total() >= 1 && api.connections_total() <= 4);

    // A callback may start the next request (as a retry does).
    int chain = 0;
    std::function<void(ClientResponse &&)> next = [&](ClientResponse&& r) {
      if (r.status == 204 && ++chain < 5) client.send(get(api.url("/empty")), next);
    };
    client.send(get(api.url("/empty")), next);
    assert_true(loop.run_until([&] { return chain == 5; }));
  }
  assert_int_equal(loop.finish(), 0);
}

std::string local_url(int port, std::string_view path = "/") {
  return "http://127.0.0.1:" + std::to_string(port) + std::string(path);
}

void keep_alive_reuses_one_connection(void**) {
  TestLoop loop;
  {
    FakeKeepAlivePeer fake(loop.get(), kKeepAliveReply);
    int port = fake.listen();
    HttpClient client(loop.get());
    for (int i = 0; i < 3; ++i) {
      ClientResponse r = fetch(loop, client, get(local_url(port)));
      assert_string_equal(r.error.c_str(), "");
      assert_int_equal(r.status, 200);
      assert_string_equal(r.body.c_str(), "ok");
    }
    assert_int_equal(fake.accepted(), 1);
    assert_int_equal(fake.answered(), 3);
  }
  assert_int_equal(loop.finish(), 0);
}

void server_closing_an_idle_connection(void**) {
  TestLoop loop;
  {
    FakeKeepAlivePeer fake(loop.get(), kKeepAliveReply);
    int port = fake.listen();
    HttpClient client(loop.get());
    assert_int_equal(fetch(loop, client, get(local_url(port))).status, 200);
    fake.close_peers();
    ClientResponse r = fetch(loop, client, get(local_url(port)));
    assert_string_equal(r.error.c_str(), "");
    assert_int_equal(r.status, 200);
    assert_int_equal(fake.accepted(), 2);
  }
  assert_int_equal(loop.finish(), 0);
}

void request_racing_the_servers_close_is_sent_again(void**) {
  TestLoop loop;
  {
    // The server closes each connection when its second request arrives.
    FakeKeepAlivePeer fake(loop.get(), kKeepAliveReply, 2);
    int port = fake.listen();
    HttpClient client(loop.get());
    assert_int_equal(fetch(loop, client, get(local_url(port))).status, 200);
    ClientResponse r = fetch(loop, client, get(local_url(port)));
    assert_string_equal(r.error.c_str(), "");
    assert_int_equal(r.status, 200);
    assert_int_equal(fake.accepted(), 2);
    assert_int_equal(fake.answered(), 2);
  }
  assert_int_equal(loop.finish(), 0);
}

void fresh_connection_closed_unanswered_is_an_error(void**) {
  TestLoop loop;
  {
    // Every first request is dropped: on a fresh connection that is the
    // server's answer, not a stale connection, so it is not sent again.
    FakeKeepAlivePeer fake(loop.get(), kKeepAliveReply, 1);
    int port = fake.listen();
    HttpClient client(loop.get());
    ClientResponse r = fetch(loop, client, get(local_url(port)));
    assert_int_equal(r.status, 0);
    assert_false(r.timed_out);
    assert_contains(r.error, "closed the connection without answering");
    assert_int_equal(fake.accepted(), 1);
  }
  assert_int_equal(loop.finish(), 0);
}

// One canned answer over a unix socket.
ClientResponse canned(std::string reply, size_t max_response_bytes = 64 * 1024,
                      std::string method = "GET") {
  std::string dir = temp_socket_dir();
  std::string path = dir + "/fake.sock";
  std::optional<ClientResponse> out;
  TestLoop loop;
  {
    RawServer fake(loop.get(), std::move(reply));
    fake.listen_unix(path);
    HttpClient client(loop.get());
    ClientRequest request = get("http://localhost/x");
    request.unix_socket = path;
    request.max_response_bytes = max_response_bytes;
    request.method = std::move(method);
    out = fetch(loop, client, request);
  }
  assert_int_equal(loop.finish(), 0);
  unlink(path.c_str());
  rmdir(dir.c_str());
  return std::move(*out);
}

void chunked_body(void**) {
  std::string reply =
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
      "5\r\nhello\r\n6\r\n world\r\n0\r\nX-Trailer: t\r\n\r\n";
  ClientResponse r = canned(reply);
  assert_string_equal(r.error.c_str(), "");
  assert_int_equal(r.status, 200);
  assert_string_equal(r.body.c_str(), "hello world");
  assert_false(r.truncated);
  assert_null(r.header("x-trailer"));
  r = canned(reply, 7);
  assert_string_equal(r.body.c_str(), "hello w");
  assert_true(r.truncated);
}

void content_length_body(void**) {
  ClientResponse r = canned("HTTP/1.1 201 Created\r\nContent-Length: 10\r\n\r\n0123456789");
  assert_int_equal(r.status, 201);
  assert_string_equal(r.body.c_str(), "0123456789");
  r = canned("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n0123456789", 4);
  assert_string_equal(r.body.c_str(), "0123");
  assert_true(r.truncated);
  // Cut short by the server: an error, not a short body.
  r = canned("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n01234");
  assert_int_equal(r.status, 0);
  assert_contains(r.error, "closed the connection before the response was complete");
}

void http10_body_runs_to_the_close(void**) {
  ClientResponse r = canned("HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nuntil the end");
  assert_string_equal(r.error.c_str(), "");
  assert_int_equal(r.status, 200);
  assert_string_equal(r.body.c_str(), "until the end");
}

void oversized_head_is_an_error(void**) {
  std::string reply = "HTTP/1.1 200 OK\r\n";
  for (int i = 0; i < 2000; ++i)
    reply += "X-Pad-" + std::to_string(i) + ": " + std::string(40, 'p') + "\r\n";
  reply += "Content-Length: 0\r\n\r\n";
  ClientResponse r = canned(reply);
  assert_int_equal(r.status, 0);
  assert_contains(r.error, "response headers are larger than 65536 bytes");
  assert_true(r.headers.empty());
}

void malformed_response_is_an_error(void**) {
  ClientResponse r = canned("SMTP ready\r\n\r\n");
  assert_int_equal(r.status, 0);
  assert_contains(r.error, "malformed response");
}

// A status under 100 is no informational response: taking it for one would
// read its bytes as a body the final response then carries (found by the fuzzer).
void status_under_100_is_an_error(void**) {
  ClientResponse r =
      canned("HTTP/1.1 20 X\r\nX: 1\r\n\r\nokHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n",
             64 * 1024, "HEAD");
  assert_contains(r.error, "malformed response: status code 20");
  assert_true(r.body.empty());
}

void head_response_has_no_body(void**) {
  ClientResponse r = canned("HTTP/1.1 200 OK\r\nContent-Length: 5000\r\n\r\n", 64 * 1024, "HEAD");
  assert_string_equal(r.error.c_str(), "");
  assert_int_equal(r.status, 200);
  assert_true(r.body.empty());
}

void unknown_host_is_an_error(void**) {
  TestLoop loop;
  {
    HttpClient client(loop.get());
    ClientRequest request = get("http://no-such-host.invalid:8086/write");
    request.timeout = 5s;
    ClientResponse r = fetch(loop, client, request);
    assert_int_equal(r.status, 0);
    // The resolver's answer, or its silence with no network at all.
    if (!r.timed_out) assert_contains(r.error, "cannot resolve no-such-host.invalid");
  }
  assert_int_equal(loop.finish(), 0);
}

void unreadable_ca_file_is_an_error(void**) {
  TestLoop loop;
  {
    HttpClient client(loop.get());
    ClientRequest request = get("https://127.0.0.1:1/write");
    request.ca_file = "/nonexistent/ca.pem";
    ClientResponse r = fetch(loop, client, request);
    assert_int_equal(r.status, 0);
    assert_contains(r.error, "cannot load the CA file /nonexistent/ca.pem");
  }
  assert_int_equal(loop.finish(), 0);
}

int quiet_logs(void**) {
  log::Options options;
  options.level = log::Level::kWarn;
  std::string error;
  log::configure(options, &error);
  return 0;
}

}  // namespace

int main() {
  const CMUnitTest tests[] = {
      cmocka_unit_test(status_body_and_headers),
      cmocka_unit_test(methods_headers_body_and_auth),
      cmocka_unit_test(large_body_is_cut_and_connection_kept),
      cmocka_unit_test(retry_after_from_a_429),
      cmocka_unit_test(retry_after_parsing),
      cmocka_unit_test(hanging_server_times_out),
      cmocka_unit_test(refused_connection_is_an_error),
      cmocka_unit_test(over_a_unix_socket),
      cmocka_unit_test(only_final_response_headers_are_kept),
      cmocka_unit_test(failures_are_reported_from_the_loop),
      cmocka_unit_test(cancel_suppresses_the_callback),
      cmocka_unit_test(destroying_the_client_abandons_requests),
      cmocka_unit_test(a_callback_may_destroy_the_client),
      cmocka_unit_test(many_concurrent_requests),
      cmocka_unit_test(keep_alive_reuses_one_connection),
      cmocka_unit_test(server_closing_an_idle_connection),
      cmocka_unit_test(request_racing_the_servers_close_is_sent_again),
      cmocka_unit_test(fresh_connection_closed_unanswered_is_an_error),
      cmocka_unit_test(chunked_body),
      cmocka_unit_test(content_length_body),
      cmocka_unit_test(http10_body_runs_to_the_close),
      cmocka_unit_test(oversized_head_is_an_error),
      cmocka_unit_test(malformed_response_is_an_error),
      cmocka_unit_test(status_under_100_is_an_error),
      cmocka_unit_test(head_response_has_no_body),
      cmocka_unit_test(unknown_host_is_an_error),
      cmocka_unit_test(unreadable_ca_file_is_an_error),
  };
  return cmocka_run_group_tests(tests, quiet_logs, nullptr);
}
