#include "http/client_connection.hpp"

#include <algorithm>
#include <cstring>

namespace edgemon::http {

namespace {

// Plaintext handed to OpenSSL at once: one TLS record's worth.
constexpr size_t kTlsChunk = 16 * 1024;
// Ciphertext waiting in libuv's queue before more of the body is encrypted:
// a large body never exists twice in memory, once in the clear and once
// encrypted.
constexpr size_t kTlsWindow = 64 * 1024;

// One loop thread reads every connection, and every read is consumed before
// its callback returns, so one buffer serves them all.
char g_read_buffer[64 * 1024];
char g_plain_buffer[kTlsChunk];

// A write owns what it sends until libuv is done with it, even when the
// connection is destroyed first.
struct WriteRequest {
  uv_write_t req;
  std::string data;
  std::shared_ptr<const std::string> body;
};

bool is_ipv4(const std::string& host) {
  sockaddr_in addr{};
  return uv_ip4_addr(host.c_str(), 0, &addr) == 0;
}

}  // namespace

struct ClientConnection::Resolve {
  uv_getaddrinfo_t req;  // first: the callback's pointer is the Resolve's
  ClientConnection* owner;
};

std::string Destination::key() const {
  return std::string(tls ? "https" : "http") + '\n' + host + '\n' + std::to_string(port) + '\n' +
         unix_socket + '\n' + ca_file + '\n' + (verify_tls ? "1" : "0");
}

std::string Destination::name() const {
  if (!unix_socket.empty()) return unix_socket;
  return (host_is_ipv6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

ClientConnection::ClientConnection(uv_loop_t* loop, Destination destination,
                                   std::shared_ptr<TlsContext> tls)
    : loop_(loop),
      destination_(std::move(destination)),
      tls_context_(std::move(tls)),
      timer_(loop) {}

ClientConnection::~ClientConnection() {
  if (resolve_ != nullptr) {
    // The lookup may be running already; its callback frees the request.
    resolve_->owner = nullptr;
    uv_cancel(reinterpret_cast<uv_req_t*>(&resolve_->req));
  }
}

uv_stream_t* ClientConnection::stream() const {
  return destination_.unix_socket.empty() ? tcp_.stream() : pipe_.stream();
}

void ClientConnection::run(Exchange exchange, std::chrono::milliseconds connect_timeout,
                           Finished finished) {
  exchange_ = std::move(exchange);
  finished_ = std::move(finished);
  parser_ = std::make_unique<ResponseParser>(exchange_.max_response_bytes, exchange_.head_request);
  tls_sent_ = 0;
  request_queued_ = false;
  write_error_.clear();
  if (state_ == State::kNew) {
    start_connect(connect_timeout);
    return;
  }
  timer_.stop();
  timer_.ref();
  uv_ref(reinterpret_cast<uv_handle_t*>(stream()));
  closed_ = nullptr;
  state_ = State::kBusy;
  send_request();
}

void ClientConnection::park(std::chrono::milliseconds idle_timeout, Closed closed) {
  closed_ = std::move(closed);
  timer_.start(static_cast<uint64_t>(idle_timeout.count()), 0, [this] { call_closed(); });
  // A connection kept for later is no work in progress: it must not keep
  // the loop (and so a stopping daemon) running.
  timer_.unref();
  uv_unref(reinterpret_cast<uv_handle_t*>(stream()));
}

void ClientConnection::start_connect(std::chrono::milliseconds connect_timeout) {
  if (connect_timeout.count() > 0) {
    timer_.start(static_cast<uint64_t>(connect_timeout.count()), 0, [this, connect_timeout] {
      fail("connecting to " + destination_.name() + " timed out after " +
               std::to_string(connect_timeout.count()) + " ms",
           true);
    });
  }
  const std::string& host = destination_.host;
  if (!destination_.unix_socket.empty()) {
    uv_pipe_init(loop_, pipe_.get(), 0);  // cannot fail on a valid loop
    pipe_.mark_initialized();
    pipe_.get()->data = this;
    state_ = State::kConnecting;
    uv_pipe_connect(new uv_connect_t{}, pipe_.get(), destination_.unix_socket.c_str(),
                    on_connected);
    return;
  }
  // An address needs no lookup, and a lookup costs a thread-pool slot.
  sockaddr_storage addr{};
  if (uv_ip4_addr(host.c_str(), destination_.port, reinterpret_cast<sockaddr_in*>(&addr)) == 0 ||
      uv_ip6_addr(host.c_str(), destination_.port, reinterpret_cast<sockaddr_in6*>(&addr)) == 0) {
    addresses_.push_back(addr);
    state_ = State::kConnecting;
    if (!connect_next()) fail_soon(connect_failure(), false);
    return;
  }
  state_ = State::kResolving;
  resolve_ = new Resolve{{}, this};
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  int rc = uv_getaddrinfo(loop_, &resolve_->req, on_resolved, host.c_str(),
                          std::to_string(destination_.port).c_str(), &hints);
  if (rc != 0) {
    delete resolve_;
    resolve_ = nullptr;
    fail_soon("cannot resolve " + host + ": " + uv_strerror(rc), false);
  }
}

void ClientConnection::on_resolved(uv_getaddrinfo_t* req, int status, addrinfo* res) {
  auto* resolve = reinterpret_cast<Resolve*>(req);
  ClientConnection* self = resolve->owner;
  delete resolve;
  if (self == nullptr) {
    uv_freeaddrinfo(res);
    return;
  }
  self->resolve_ = nullptr;
  self->resolved(status, res);
}

void ClientConnection::resolved(int status, addrinfo* res) {
  if (status < 0) {
    uv_freeaddrinfo(res);
    fail("cannot resolve " + destination_.host + ": " + uv_strerror(status));
    return;
  }
  for (addrinfo* ai = res; ai != nullptr; ai = ai->ai_next) {
    if (ai->ai_addr == nullptr || ai->ai_addrlen > sizeof(sockaddr_storage)) continue;
    sockaddr_storage addr{};
    std::memcpy(&addr, ai->ai_addr, ai->ai_addrlen);
    addresses_.push_back(addr);
  }
  uv_freeaddrinfo(res);
  state_ = State::kConnecting;
  if (addresses_.empty()) connect_error_ = "no address";
  if (!connect_next()) fail(connect_failure());
}

std::string ClientConnection::connect_failure() const {
  return "cannot connect to " + destination_.name() + ": " + connect_error_;
}

// Starts connecting to the next address; false when none is left.
bool ClientConnection::connect_next() {
  while (next_address_ < addresses_.size()) {
    const auto* addr = reinterpret_cast<const sockaddr*>(&addresses_[next_address_++]);
    tcp_ = UvHandle<uv_tcp_t>();  // closes the previous attempt
    if (int rc = uv_tcp_init(loop_, tcp_.get()); rc != 0) {
      connect_error_ = uv_strerror(rc);
      continue;
    }
    tcp_.mark_initialized();
    tcp_.get()->data = this;
    auto* req = new uv_connect_t{};
    if (int rc = uv_tcp_connect(req, tcp_.get(), addr, on_connected); rc != 0) {
      delete req;
      connect_error_ = uv_strerror(rc);
      continue;
    }
    return true;
  }
  return false;
}

void ClientConnection::on_connected(uv_connect_t* req, int status) {
  uv_stream_t* handle = req->handle;
  delete req;
  // Null once the attempt's handle is closing (a timeout, the next address).
  if (auto* self = static_cast<ClientConnection*>(handle->data)) self->connected(status);
}

void ClientConnection::connected(int status) {
  if (state_ != State::kConnecting) return;
  if (status < 0) {
    connect_error_ = uv_strerror(status);
    if (!destination_.unix_socket.empty() || !connect_next()) fail(connect_failure());
    return;
  }
  if (destination_.unix_socket.empty()) uv_tcp_nodelay(tcp_.get(), 1);
  uv_read_start(
      stream(),
      [](uv_handle_t*, size_t, uv_buf_t* buf) {
        *buf = uv_buf_init(g_read_buffer, sizeof g_read_buffer);
      },
      on_read);
  if (!destination_.tls) {
    timer_.stop();
    state_ = State::kBusy;
    send_request();
    return;
  }
  std::string error;
  bool is_ip = destination_.host_is_ipv6 || is_ipv4(destination_.host);
  tls_ = TlsSession::create(tls_context_, destination_.host, is_ip, &error);
  if (!tls_) {
    fail(error);
    return;
  }
  state_ = State::kHandshaking;
  handshake();
}

void ClientConnection::handshake() {
  TlsSession::Status status = tls_->handshake();
  if (!flush_tls()) return;
  if (status == TlsSession::Status::kWantMore) return;
  if (status != TlsSession::Status::kOk) {
    fail("cannot connect to " + destination_.name() + ": " + tls_->error());
    return;
  }
  timer_.stop();
  state_ = State::kBusy;
  send_request();
}

// Sends what OpenSSL produced; false when the exchange failed.
bool ClientConnection::flush_tls() {
  std::string out = tls_->take_output();
  return out.empty() || write(std::move(out), nullptr);
}

// False (and the failure reported from the loop) when libuv refused.
bool ClientConnection::write(std::string data, std::shared_ptr<const std::string> body) {
  auto* w = new WriteRequest{{}, std::move(data), std::move(body)};
  uv_buf_t bufs[2] = {uv_buf_init(w->data.data(), static_cast<unsigned>(w->data.size())),
                      uv_buf_init(nullptr, 0)};
  unsigned count = 1;
  if (w->body && !w->body->empty()) {
    bufs[1] =
        uv_buf_init(const_cast<char*>(w->body->data()), static_cast<unsigned>(w->body->size()));
    count = 2;
  }
  int rc = uv_write(&w->req, stream(), bufs, count, on_written);
  if (rc == 0) return true;
  delete w;
  fail_soon("cannot send the request to " + destination_.name() + ": " + uv_strerror(rc), true);
  return false;
}

void ClientConnection::send_request() {
  if (!tls_) {
    if (write(std::move(exchange_.head), exchange_.body)) request_queued_ = true;
    return;
  }
  pump_tls();
}

// Encrypts the next part of the request while libuv's queue is short.
void ClientConnection::pump_tls() {
  const std::string& head = exchange_.head;
  size_t body_size = exchange_.body ? exchange_.body->size() : 0;
  size_t total = head.size() + body_size;
  while (tls_sent_ < total && uv_stream_get_write_queue_size(stream()) < kTlsWindow) {
    const char* from = nullptr;
    size_t n = 0;
    if (tls_sent_ < head.size()) {
      from = head.data() + tls_sent_;
      n = std::min(head.size() - tls_sent_, kTlsChunk);
    } else {
      size_t offset = tls_sent_ - head.size();
      from = exchange_.body->data() + offset;
      n = std::min(body_size - offset, kTlsChunk);
    }
    if (tls_->write(from, n) != TlsSession::Status::kOk) {
      fail_soon("cannot send the request to " + destination_.name() + ": " + tls_->error(), true);
      return;
    }
    tls_sent_ += n;
    if (!flush_tls()) return;
  }
  if (tls_sent_ == total) request_queued_ = true;
}

void ClientConnection::on_written(uv_write_t* req, int status) {
  uv_stream_t* handle = req->handle;
  delete reinterpret_cast<WriteRequest*>(req);
  auto* self = static_cast<ClientConnection*>(handle->data);
  if (self == nullptr || status == UV_ECANCELED) return;
  if (status < 0) {
    // The server may have answered (413) and closed before reading all of
    // the body: the read side says which, when it sees the end.
    if (self->write_error_.empty()) self->write_error_ = uv_strerror(status);
    return;
  }
  if (self->state_ == State::kBusy && self->tls_ && !self->request_queued_) self->pump_tls();
}

void ClientConnection::on_read(uv_stream_t* stream, ssize_t n, const uv_buf_t* buf) {
  auto* self = static_cast<ClientConnection*>(stream->data);
  if (self == nullptr) return;
  if (n > 0) {
    self->received(buf->base, static_cast<size_t>(n));
  } else if (n < 0) {
    self->peer_closed(static_cast<int>(n));
  }
}

void ClientConnection::received(const char* data, size_t len) {
  switch (state_) {
    case State::kIdle:
      // Nothing is owed to us between requests: the connection is unusable.
      call_closed();
      return;
    case State::kHandshaking:
      if (!tls_->received(data, len)) {
        fail("cannot connect to " + destination_.name() + ": " + tls_->error());
        return;
      }
      handshake();
      return;
    case State::kBusy:
      break;
    default:
      return;
  }
  if (!tls_) {
    parse(data, len);
    return;
  }
  if (!tls_->received(data, len)) {
    fail(tls_->error());
    return;
  }
  for (;;) {
    size_t n = 0;
    TlsSession::Status status = tls_->read(g_plain_buffer, sizeof g_plain_buffer, &n);
    if (status == TlsSession::Status::kOk) {
      if (!parse(g_plain_buffer, n)) return;
      continue;
    }
    if (status == TlsSession::Status::kClosed) {
      peer_closed(UV_EOF);
      return;
    }
    if (status == TlsSession::Status::kError) {
      fail("reading the response from " + destination_.name() + ": " + tls_->error());
      return;
    }
    break;
  }
  flush_tls();  // OpenSSL may answer the peer (key updates)
}

// False when the exchange ended (and the connection may be gone).
bool ClientConnection::parse(const char* data, size_t len) {
  ResponseParser::Result result = parser_->feed(data, len);
  if (result == ResponseParser::Result::kNeedMore) return true;
  if (result == ResponseParser::Result::kError) {
    fail(parser_->error() + " (from " + destination_.name() + ")");
    return false;
  }
  ExchangeResult done;
  done.response = std::move(parser_->response());
  done.reusable = parser_->keep_alive() && request_queued_ && write_error_.empty();
  complete(std::move(done));
  return false;
}

void ClientConnection::peer_closed(int status) {
  if (state_ == State::kIdle) {
    call_closed();
    return;
  }
  if (state_ == State::kConnecting || state_ == State::kHandshaking) {
    fail("cannot connect to " + destination_.name() + ": the server closed the connection" +
         (status == UV_EOF ? std::string() : std::string(" (") + uv_strerror(status) + ")"));
    return;
  }
  if (state_ != State::kBusy) return;
  if (status == UV_EOF) {
    ResponseParser::Result result = parser_->finish();
    if (result == ResponseParser::Result::kComplete) {
      ExchangeResult done;
      done.response = std::move(parser_->response());
      complete(std::move(done));
      return;
    }
    if (result == ResponseParser::Result::kError) {
      fail(parser_->error() + " (from " + destination_.name() + ")");
      return;
    }
  }
  bool unanswered = !parser_->started();
  std::string why;
  if (unanswered && !write_error_.empty()) {
    why = "cannot send the request to " + destination_.name() + ": " + write_error_;
  } else if (unanswered && status == UV_EOF) {
    why = destination_.name() + " closed the connection without answering";
  } else {
    why = "connection to " + destination_.name() + " failed: " + uv_strerror(status);
  }
  fail(std::move(why), false, unanswered);
}

void ClientConnection::fail(std::string error, bool timed_out, bool unanswered) {
  ExchangeResult result;
  result.response.error = std::move(error);
  result.response.timed_out = timed_out;
  result.unanswered = unanswered;
  complete(std::move(result));
}

// For failures found while the caller of run() is still on the stack.
void ClientConnection::fail_soon(std::string error, bool unanswered) {
  state_ = State::kDead;  // nothing else is reported meanwhile
  timer_.start(0, 0, [this, error, unanswered] { fail(error, false, unanswered); });
}

void ClientConnection::complete(ExchangeResult&& result) {
  timer_.stop();
  if (result.reusable) {
    state_ = State::kIdle;
    ++completed_;
    exchange_ = {};
    parser_.reset();
  } else {
    state_ = State::kDead;
    if (stream() != nullptr && uv_is_active(reinterpret_cast<uv_handle_t*>(stream()))) {
      uv_read_stop(stream());
    }
  }
  Finished done = std::move(finished_);
  finished_ = nullptr;
  if (done) done(std::move(result));  // may destroy this
}

void ClientConnection::call_closed() {
  state_ = State::kDead;
  timer_.stop();
  Closed closed = std::move(closed_);
  closed_ = nullptr;
  if (closed) closed();  // may destroy this
}

}  // namespace edgemon::http
