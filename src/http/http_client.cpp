#include "http/http_client.hpp"

#include <algorithm>
#include <charconv>
#include <ctime>
#include <deque>
#include <map>
#include <string_view>
#include <unordered_map>
#include <utility>

#include "core/timer.hpp"
#include "http/client_connection.hpp"
#include "http/request_head.hpp"
#include "http/response_writer.hpp"
#include "http/tls_session.hpp"
#include "http/url.hpp"

namespace edgemon::http {

namespace {

// Connections open to one destination at once; more requests wait for one
// of them. An output sends one batch at a time, so this only bounds bursts.
constexpr size_t kMaxConnectionsPerDestination = 4;
// How long an idle connection is kept. Long enough to span an output's
// default 10 s flush interval (no new TCP and TLS handshake per batch),
// short of the 60 s after which servers such as edgemon's own close it; a
// server that closes earlier is noticed at once (we keep reading), and a
// request that races that close is sent again on a fresh connection.
constexpr std::chrono::seconds kIdleTimeout{15};
// Retry-After beyond this (about 30 years) is clamped so that the conversion
// to milliseconds cannot overflow.
constexpr uint64_t kMaxRetryAfterSeconds = 1'000'000'000;

using Clock = std::chrono::steady_clock;

std::string_view trim(std::string_view s) {
  size_t begin = s.find_first_not_of(" \t\r\n");
  if (begin == std::string_view::npos) return {};
  size_t end = s.find_last_not_of(" \t\r\n");
  return s.substr(begin, end - begin + 1);
}

}  // namespace

// ---- ClientResponse ----

const std::string* ClientResponse::header(std::string_view name) const {
  for (const auto& [key, value] : headers) {
    if (key == name) return &value;
  }
  return nullptr;
}

std::optional<std::chrono::milliseconds> ClientResponse::retry_after() const {
  const std::string* value = header("retry-after");
  if (value == nullptr) return std::nullopt;
  std::string_view text = trim(*value);
  if (text.empty()) return std::nullopt;
  if (std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    uint64_t seconds = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), seconds);
    (void)end;
    if (ec == std::errc::result_out_of_range) seconds = kMaxRetryAfterSeconds;
    seconds = std::min(seconds, kMaxRetryAfterSeconds);
    return std::chrono::seconds(static_cast<int64_t>(seconds));
  }
  std::optional<time_t> when = HttpDate::parse(text);
  if (!when) return std::nullopt;
  int64_t delta = static_cast<int64_t>(*when) - static_cast<int64_t>(time(nullptr));
  delta = std::clamp<int64_t>(delta, 0, static_cast<int64_t>(kMaxRetryAfterSeconds));
  return std::chrono::seconds(delta);
}

// ---- HttpClient ----

struct HttpClient::Impl {
  // One request from send() until its callback.
  struct Transfer {
    explicit Transfer(uv_loop_t* loop) : deadline(loop) {}
    uint64_t id = 0;
    ClientCallback done;
    std::string key;  // of its destination
    Destination destination;
    Exchange exchange;  // copied for each attempt; the body is shared
    std::chrono::milliseconds timeout{0};
    std::chrono::milliseconds connect_timeout{0};
    Clock::time_point start;
    Timer deadline;
    ClientConnection* connection = nullptr;  // while on the wire
    bool retried = false;
    ClientResponse response;  // set when it ends
  };

  // The connections to one destination and the requests waiting for one.
  struct Pool {
    size_t open = 0;
    std::vector<ClientConnection*> idle;  // the most recently used last
    std::deque<uint64_t> waiting;
  };

  struct Owned {
    std::unique_ptr<ClientConnection> connection;
    std::string key;
  };

  explicit Impl(uv_loop_t* loop) : loop_(loop), deferred_(loop), kick_(loop) {}
  ~Impl();

  uint64_t send(ClientRequest request, ClientCallback done);
  void cancel(uint64_t id);
  size_t in_flight() const { return transfers_.size(); }

 private:
  std::string prepare(Transfer& t, ClientRequest& request);
  std::shared_ptr<TlsContext> tls_context(const Destination& d, std::string* error);
  void dispatch(const std::string& key);
  void start(Transfer& t, Pool& pool);
  void finished(ClientConnection* connection, uint64_t id, bool reused, ExchangeResult&& result);
  void timed_out(uint64_t id);
  void park(ClientConnection* connection, const std::string& key);
  void close_connection(ClientConnection* connection);
  void close_idle(Pool& pool);
  void fail_deferred();
  bool deliver(std::unique_ptr<Transfer> transfer);
  std::unique_ptr<Transfer> take(uint64_t id);

  uv_loop_t* loop_;
  Timer deferred_;  // failures found in send(), reported from the loop
  Timer kick_;      // starts what send() queued
  std::vector<std::string> to_dispatch_;
  std::unordered_map<uint64_t, std::unique_ptr<Transfer>> transfers_;
  std::unordered_map<std::string, Pool> pools_;
  std::unordered_map<ClientConnection*, Owned> connections_;
  std::map<std::pair<std::string, bool>, std::shared_ptr<TlsContext>> tls_contexts_;
  std::vector<uint64_t> failed_early_;
  uint64_t next_id_ = 1;
  // Set while a user callback runs: that callback may destroy the client.
  bool* destroyed_ = nullptr;
};

HttpClient::Impl::~Impl() {
  if (destroyed_ != nullptr) *destroyed_ = true;
  transfers_.clear();
  connections_.clear();  // closes their sockets; nothing calls back
}

// "" or why the request cannot be sent.
std::string HttpClient::Impl::prepare(Transfer& t, ClientRequest& request) {
  Url url;
  if (std::string error = parse_url(request.url, &url); !error.empty()) return error;
  Destination& d = t.destination;
  d.tls = url.tls;
  d.host = url.host;
  d.host_is_ipv6 = url.host_is_ipv6;
  d.port = url.port;
  d.unix_socket = request.unix_socket;
  if (d.tls) {
    d.ca_file = request.ca_file;
    d.verify_tls = request.verify_tls;
  }
  t.key = d.key();
  if (std::string error = build_request_head(request, url, &t.exchange.head); !error.empty()) {
    return error;
  }
  if (sends_body(request)) {
    t.exchange.body = std::make_shared<const std::string>(std::move(request.body));
  }
  t.exchange.max_response_bytes = request.max_response_bytes;
  t.exchange.head_request = request.method == "HEAD";
  t.timeout = request.timeout;
  t.connect_timeout = request.connect_timeout;
  return "";
}

// The CA store is read once per CA file, by the first request that needs it.
std::shared_ptr<TlsContext> HttpClient::Impl::tls_context(const Destination& d,
                                                          std::string* error) {
  auto key = std::make_pair(d.ca_file, d.verify_tls);
  auto it = tls_contexts_.find(key);
  if (it != tls_contexts_.end()) return it->second;
  std::shared_ptr<TlsContext> context = TlsContext::create(d.ca_file, d.verify_tls, error);
  if (context) tls_contexts_.emplace(key, context);
  return context;
}

uint64_t HttpClient::Impl::send(ClientRequest request, ClientCallback done) {
  uint64_t id = next_id_++;
  auto t = std::make_unique<Transfer>(loop_);
  t->id = id;
  t->done = std::move(done);
  t->start = Clock::now();
  std::string error = prepare(*t, request);
  if (error.empty() && t->destination.tls) {
    // Fails early (and only once per CA file) rather than per connection.
    if (!tls_context(t->destination, &error)) error = "TLS unavailable: " + error;
  }
  Transfer& transfer = *t;
  transfers_.emplace(id, std::move(t));
  if (!error.empty()) {
    transfer.response.error = std::move(error);
    failed_early_.push_back(id);
    deferred_.start(0, 0, [this] { fail_deferred(); });
    return id;
  }
  if (transfer.timeout.count() > 0) {
    transfer.deadline.start(static_cast<uint64_t>(transfer.timeout.count()), 0,
                            [this, id] { timed_out(id); });
  }
  pools_[transfer.key].waiting.push_back(id);
  // Started from the loop, as libcurl did: a request cancelled right after
  // send() never touches the network, and a burst of sends is one round.
  if (std::find(to_dispatch_.begin(), to_dispatch_.end(), transfer.key) == to_dispatch_.end()) {
    to_dispatch_.push_back(transfer.key);
  }
  kick_.start(0, 0, [this] {
    for (const std::string& key : std::exchange(to_dispatch_, {}))
      dispatch(key);
  });
  return id;
}

// Starts waiting requests while the destination has a connection for them.
void HttpClient::Impl::dispatch(const std::string& key) {
  auto pool_it = pools_.find(key);
  if (pool_it == pools_.end()) return;
  Pool& pool = pool_it->second;
  while (!pool.waiting.empty() &&
         (!pool.idle.empty() || pool.open < kMaxConnectionsPerDestination)) {
    uint64_t id = pool.waiting.front();
    pool.waiting.pop_front();
    auto it = transfers_.find(id);
    if (it != transfers_.end()) start(*it->second, pool);
  }
  if (pool.open == 0 && pool.waiting.empty()) pools_.erase(pool_it);
}

void HttpClient::Impl::start(Transfer& t, Pool& pool) {
  ClientConnection* connection = nullptr;
  if (!pool.idle.empty()) {
    connection = pool.idle.back();
    pool.idle.pop_back();
  } else {
    std::string error;
    std::shared_ptr<TlsContext> tls;
    if (t.destination.tls) tls = tls_context(t.destination, &error);
    auto created = std::make_unique<ClientConnection>(loop_, t.destination, std::move(tls));
    connection = created.get();
    connections_.emplace(connection, Owned{std::move(created), t.key});
    ++pool.open;
  }
  t.connection = connection;
  bool reused = connection->completed() > 0;
  uint64_t id = t.id;
  connection->run(t.exchange, t.connect_timeout,
                  [this, connection, id, reused](ExchangeResult&& result) {
                    finished(connection, id, reused, std::move(result));
                  });
}

std::unique_ptr<HttpClient::Impl::Transfer> HttpClient::Impl::take(uint64_t id) {
  auto it = transfers_.find(id);
  if (it == transfers_.end()) return nullptr;
  std::unique_ptr<Transfer> t = std::move(it->second);
  transfers_.erase(it);
  return t;
}

void HttpClient::Impl::finished(ClientConnection* connection, uint64_t id, bool reused,
                                ExchangeResult&& result) {
  std::string key = connections_.at(connection).key;
  if (result.reusable) {
    park(connection, key);
  } else {
    close_connection(connection);
  }
  auto it = transfers_.find(id);
  if (it == transfers_.end()) {
    dispatch(key);
    return;
  }
  Transfer& t = *it->second;
  t.connection = nullptr;
  if (!result.response.error.empty() && result.unanswered && reused && !t.retried) {
    // The server closed the kept-alive connection as we sent: the request
    // never reached it. Once more, on a fresh connection, and the other
    // idle ones are likely stale too.
    t.retried = true;
    Pool& pool = pools_[key];
    close_idle(pool);
    pool.waiting.push_front(id);
    dispatch(key);
    return;
  }
  std::unique_ptr<Transfer> done = take(id);
  done->response = std::move(result.response);
  dispatch(key);
  deliver(std::move(done));
}

void HttpClient::Impl::timed_out(uint64_t id) {
  auto it = transfers_.find(id);
  if (it == transfers_.end()) return;
  Transfer& t = *it->second;
  std::string key = t.key;
  if (t.connection != nullptr) {
    close_connection(t.connection);
    t.connection = nullptr;
  } else if (auto pool = pools_.find(key); pool != pools_.end()) {
    std::erase(pool->second.waiting, id);
  }
  std::unique_ptr<Transfer> done = take(id);
  done->response = {};
  done->response.error = "the request to " + done->destination.name() + " timed out after " +
                         std::to_string(done->timeout.count()) + " ms";
  done->response.timed_out = true;
  dispatch(key);
  deliver(std::move(done));
}

void HttpClient::Impl::park(ClientConnection* connection, const std::string& key) {
  pools_[key].idle.push_back(connection);
  connection->park(kIdleTimeout, [this, connection] {
    const std::string& k = connections_.at(connection).key;
    std::erase(pools_[k].idle, connection);
    close_connection(connection);
  });
}

void HttpClient::Impl::close_connection(ClientConnection* connection) {
  auto it = connections_.find(connection);
  if (it == connections_.end()) return;
  std::string key = std::move(it->second.key);
  std::unique_ptr<ClientConnection> owned = std::move(it->second.connection);
  connections_.erase(it);
  if (auto pool = pools_.find(key); pool != pools_.end()) {
    --pool->second.open;
    if (pool->second.open == 0 && pool->second.waiting.empty()) pools_.erase(pool);
  }
}

void HttpClient::Impl::close_idle(Pool& pool) {
  std::vector<ClientConnection*> idle = std::exchange(pool.idle, {});
  for (ClientConnection* c : idle) {
    auto it = connections_.find(c);
    if (it == connections_.end()) continue;
    connections_.erase(it);
    --pool.open;
  }
}

void HttpClient::Impl::cancel(uint64_t id) {
  std::unique_ptr<Transfer> t = take(id);
  if (!t) return;
  std::erase(failed_early_, id);
  if (t->connection != nullptr) {
    // Mid-exchange: the connection cannot carry another request.
    close_connection(t->connection);
  } else if (auto pool = pools_.find(t->key); pool != pools_.end()) {
    std::erase(pool->second.waiting, id);
  }
  dispatch(t->key);
}

void HttpClient::Impl::fail_deferred() {
  std::vector<uint64_t> ids = std::exchange(failed_early_, {});
  for (uint64_t id : ids) {
    std::unique_ptr<Transfer> t = take(id);
    if (t && !deliver(std::move(t))) return;
  }
}

// Frees the transfer, then runs its callback. False when the callback
// destroyed the client (nothing of it may be touched then).
bool HttpClient::Impl::deliver(std::unique_ptr<Transfer> transfer) {
  ClientCallback done = std::move(transfer->done);
  ClientResponse response = std::move(transfer->response);
  response.total_seconds = std::chrono::duration<double>(Clock::now() - transfer->start).count();
  transfer.reset();
  bool destroyed = false;
  bool* outer = std::exchange(destroyed_, &destroyed);
  if (done) done(std::move(response));
  if (destroyed) {
    if (outer != nullptr) *outer = true;
    return false;
  }
  destroyed_ = outer;
  return true;
}

HttpClient::HttpClient(uv_loop_t* loop) : impl_(std::make_unique<Impl>(loop)) {}

HttpClient::~HttpClient() = default;

uint64_t HttpClient::send(ClientRequest request, ClientCallback done) {
  return impl_->send(std::move(request), std::move(done));
}

void HttpClient::cancel(uint64_t id) {
  impl_->cancel(id);
}

size_t HttpClient::in_flight() const {
  return impl_->in_flight();
}

}  // namespace edgemon::http
