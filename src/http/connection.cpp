#include "http/connection.hpp"

#include <unistd.h>

#include <algorithm>
#include <vector>

#include "core/log.hpp"
#include "http/response_writer.hpp"

namespace edgemon::http {

namespace {

// After the last response of a connection we close our side for writing and
// read (and discard) whatever the client still sends, for at most this long.
// Closing with unread input makes the kernel send a reset, and a reset can
// destroy the response before the client has read it.
constexpr uint64_t kLingerMs = 2000;

// Bodies up to this size are copied behind the head: one buffer is cheaper
// than a vectored write for the small JSON answers.
constexpr size_t kInlineBodyBytes = 4096;

// How long a connection over the limits has to send its head (to be
// answered if it asks for /health).
constexpr uint64_t kOverLimitHeadMs = 1000;

constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";

}  // namespace

struct Connection::Write {
  uv_write_t req{};
  Connection* connection = nullptr;
  std::string head;
  std::vector<std::shared_ptr<const std::string>> body;
  size_t bytes = 0;
  bool completes_request = false;  // in flight until written
};

Connection* Connection::create(ConnectionOwner* owner, uv_loop_t* loop) {
  return new Connection(owner, loop);
}

Connection::Connection(ConnectionOwner* owner, uv_loop_t* loop)
    : owner_(owner), parser_(&owner->limits().parser) {
  // Neither init can fail on a valid loop without flags.
  uv_tcp_init(loop, &tcp_);
  uv_timer_init(loop, &timer_);
  tcp_.data = this;
  timer_.data = this;
  shutdown_req_.data = this;
}

bool Connection::start(int fd, Admission admission, bool reads_head) {
  rejected_ = admission != Admission::kServe;
  admission_ = admission;
  if (uv_tcp_open(&tcp_, fd) != 0) {
    ::close(fd);
    close();
    return false;
  }
  sockaddr_storage address{};
  int length = sizeof address;
  if (uv_tcp_getpeername(&tcp_, reinterpret_cast<sockaddr*>(&address), &length) == 0) {
    peer_ = IpAddress::from_sockaddr(reinterpret_cast<const sockaddr*>(&address));
  }
  // Responses are written whole; Nagle would only delay the last segment.
  uv_tcp_nodelay(&tcp_, 1);
  counted_ = true;
  owner_->metrics().connection_opened();
  start_reading();
  if (!rejected_) {
    arm(TimerKind::kIdle);
  } else if (reads_head) {
    // The head must come at once: the slot is one of a few.
    request_started_ = true;
    arm(TimerKind::kHeader);
  } else {
    refuse_admission();
  }
  return !closing_;
}

void Connection::refuse_admission() {
  if (admission_ == Admission::kTooMany) {
    respond_error(503, "too many connections", RejectReason::kTooManyConnections);
  } else {
    respond_error(503, "too many connections from this address", RejectReason::kTooManyFromAddress);
  }
}

void Connection::start_reading() {
  if (reading_ || closing_) return;
  int rc = uv_read_start(
      stream(),
      [](uv_handle_t* handle, size_t, uv_buf_t* buf) {
        auto* self = static_cast<Connection*>(handle->data);
        *buf = self->owner_ != nullptr ? self->owner_->read_buffer() : uv_buf_init(nullptr, 0);
      },
      [](uv_stream_t* s, ssize_t nread, const uv_buf_t* buf) {
        static_cast<Connection*>(s->data)->on_read(nread, buf);
      });
  if (rc != 0) {
    close();
    return;
  }
  reading_ = true;
}

void Connection::stop_reading() {
  if (!reading_) return;
  uv_read_stop(stream());
  reading_ = false;
}

void Connection::on_read(ssize_t nread, const uv_buf_t* buf) {
  if (nread > 0) {
    // After the last response, input is read only to be thrown away.
    if (close_after_write_ || lingering_) return;
    process(buf->base, static_cast<size_t>(nread));
  } else if (nread == UV_EOF) {
    on_eof();
  } else if (nread < 0) {
    close();
  }
}

void Connection::on_eof() {
  peer_eof_ = true;
  stop_reading();
  if (lingering_ || pending_writes_ == 0) {
    close();
    return;
  }
  // A half-closed client still reads: deliver what it asked for, then close.
  close_after_write_ = true;
  arm(TimerKind::kIdle);
}

void Connection::process(const char* data, size_t len) {
  bool head_done = false;
  while (!closing_ && !close_after_write_ && !paused_ && (len > 0 || head_done)) {
    head_done = false;
    if (!request_started_ && len > 0) {
      // The header deadline runs from the first byte, not from each read:
      // that is what stops a client trickling a head in byte by byte.
      request_started_ = true;
      arm(TimerKind::kHeader);
    }
    size_t used = 0;
    RequestParser::Result result = parser_.feed(data, len, &used);
    data += used;
    len -= used;
    switch (result) {
      case RequestParser::Result::kNeedMore:
        break;
      case RequestParser::Result::kHeadersComplete:
        on_headers_complete();
        head_done = true;
        break;
      case RequestParser::Result::kRequestComplete:
        on_request_complete();
        break;
      case RequestParser::Result::kError: {
        RejectReason reason = RejectReason::kBadRequest;
        parse_reject_reason(parser_.error_reason(), &reason);
        respond_error(parser_.error_status(), parser_.error_message(), reason);
        return;
      }
    }
  }
  if (paused_ && len > 0) remainder_.assign(data, len);
}

void Connection::on_headers_complete() {
  if (rejected_ && (parser_.has_body() || !owner_->always_answered(parser_.request()))) {
    refuse_admission();
    return;
  }
  head_done_ns_ = uv_hrtime();
  request_counted_ = true;
  owner_->metrics().request_started();
  Request& head = parser_.request();
  head.client = peer_;
  uint64_t body = parser_.body_reservation();
  uint64_t reserve = 0;
  Response rejection;
  std::string_view route;
  if (!owner_->admit(head, body, &reserve, &rejection, &route)) {
    // The body is never read, so the connection cannot continue.
    owner_->metrics().request_done(head.method, route, rejection.status, 0);
    close_after_write_ = true;
    queue_response(std::move(rejection), false, false);
    if (!closing_) start_reading();  // notice the client's EOF; discard its input
    return;
  }
  reserved_ = reserve;
  owner_->charge(this, reserve);
  if (!parser_.has_body()) return;  // completes on the next feed
  head.admitted = true;
  body_charged_ = body;
  owner_->charge(this, body);
  arm(TimerKind::kBody);
  if (parser_.expects_continue()) {
    // Earlier pipelined responses are all queued already, so the interim
    // response cannot overtake them.
    auto* write = new Write;
    write->head = kContinue;
    write->bytes = write->head.size();
    queue_write(write);
  }
}

void Connection::on_request_complete() {
  Request& request = parser_.request();
  request.client = peer_;
  Response response;
  std::string_view route = owner_->handle(request, response);
  if (response.deferred && response.deferred->early) {
    Response early = std::move(*response.deferred->early);
    finish_request(route, std::move(early));
    return;
  }
  if (response.deferred) {
    // Pausing keeps later pipelined requests unread, so responses stay in
    // order without a reorder queue.
    deferred_ = std::move(response.deferred);
    deferred_->attached = true;
    deferred_route_ = route;
    deferred_->deliver = [this](Response&& r) { finish_request(deferred_route_, std::move(r)); };
    pause();
    arm(TimerKind::kHandler);
    return;
  }
  finish_request(route, std::move(response));
}

void Connection::drop_deferred() {
  if (!deferred_) return;
  deferred_->deliver = nullptr;
  deferred_.reset();
}

void Connection::finish_request(std::string_view route, Response&& response) {
  bool was_deferred = deferred_ != nullptr;
  drop_deferred();
  if (closing_) return;
  const Request& request = parser_.request();
  std::string_view method = request.method;  // static storage
  int status = response.status;
  bool keep_alive = parser_.keep_alive() && !owner_->draining() && !rejected_;
  release_reservation();  // the answer's own bytes are charged instead
  queue_response(std::move(response), method == "HEAD", keep_alive);
  owner_->metrics().request_done(method, route, status,
                                 static_cast<double>(uv_hrtime() - head_done_ns_) / 1e9);
  parser_.reset();
  release_body();
  request_started_ = false;
  if (!keep_alive) close_after_write_ = true;
  if (closing_) return;
  // A client that does not read its answers is served no more of its
  // pipelined requests while it holds its share, or any bytes at all while
  // the budget is spent; one that reads gets its next answer either way.
  if (pending_bytes_ > owner_->limits().max_pending_response_bytes ||
      (pending_bytes_ > 0 && over_budget())) {
    pause();
  } else if (was_deferred) {
    // Not from here: send() may be called from inside a component that the
    // next pipelined request would call into again.
    arm(TimerKind::kResume);
    return;
  }
  arm(TimerKind::kIdle);
}

void Connection::respond_error(int status, std::string_view message, RejectReason reason) {
  release_reservation();
  owner_->metrics().reject(reason);
  log::debug("http_rejected",
             {{"client", peer_.to_string()}, {"status", status}, {"error", message}});
  close_after_write_ = true;
  queue_response(json_error(status, message), false, false);
  if (closing_) return;
  arm(TimerKind::kIdle);
  start_reading();  // notice the client's EOF; its further input is discarded
}

void Connection::queue_response(Response&& response, bool head_only, bool keep_alive) {
  auto* write = new Write;
  size_t length = response.body_size();
  ConnectionHeader connection = ConnectionHeader::kNone;
  if (!keep_alive) {
    connection = ConnectionHeader::kClose;
  } else if (parser_.request().http_minor == 0) {
    connection = ConnectionHeader::kKeepAlive;
  }
  append_response_head(write->head, response, length, connection, owner_->http_date());
  write->bytes = write->head.size();
  if (!head_only && status_has_body(response.status)) {
    if (length <= kInlineBodyBytes) {
      for (const auto& part : response.body)
        write->head += *part;
    } else {
      write->body = std::move(response.body);
    }
    write->bytes += length;
  }
  write->completes_request = request_counted_;
  request_counted_ = false;
  queue_write(write);
}

void Connection::queue_write(Write* write) {
  write->connection = this;
  write->req.data = write;
  std::vector<uv_buf_t> bufs;
  bufs.reserve(1 + write->body.size());
  bufs.push_back(uv_buf_init(write->head.data(), static_cast<unsigned>(write->head.size())));
  for (const auto& part : write->body) {
    bufs.push_back(
        uv_buf_init(const_cast<char*>(part->data()), static_cast<unsigned>(part->size())));
  }
  pending_bytes_ += write->bytes;
  ++pending_writes_;
  if (owner_ != nullptr) owner_->charge(this, write->bytes);
  int rc = uv_write(&write->req, stream(), bufs.data(), static_cast<unsigned>(bufs.size()),
                    [](uv_write_t* req, int status) {
                      auto* w = static_cast<Write*>(req->data);
                      w->connection->on_write_done(w, status);
                    });
  if (rc != 0) on_write_done(write, rc);
}

void Connection::on_write_done(Write* write, int status) {
  pending_bytes_ -= write->bytes;
  if (owner_ != nullptr) owner_->refund(this, write->bytes);
  --pending_writes_;
  if (write->completes_request && owner_ != nullptr) owner_->metrics().request_finished();
  delete write;
  if (closing_) return;  // UV_ECANCELED from close(): nothing left to do
  if (status < 0) {
    close();
    return;
  }
  if (pending_writes_ == 0 && close_after_write_) {
    if (peer_eof_) {
      close();
    } else {
      start_linger();
    }
    return;
  }
  // The client is reading: that is activity for the idle deadline.
  if (timer_kind_ == TimerKind::kIdle) arm(TimerKind::kIdle);
  if (paused_ && !deferred_ &&
      (pending_bytes_ == 0 ||
       (pending_bytes_ <= owner_->limits().max_pending_response_bytes / 2 && !over_budget()))) {
    resume();
  }
}

void Connection::pause() {
  paused_ = true;
  stop_reading();
}

void Connection::resume() {
  paused_ = false;
  std::string rest;
  rest.swap(remainder_);
  process(rest.data(), rest.size());
  if (!paused_ && !close_after_write_) start_reading();
}

void Connection::start_linger() {
  lingering_ = true;
  int rc = uv_shutdown(&shutdown_req_, stream(), [](uv_shutdown_t* req, int status) {
    auto* self = static_cast<Connection*>(req->data);
    if (status < 0 && !self->closing_) self->close();
  });
  if (rc != 0) {
    close();
    return;
  }
  start_reading();
  arm(TimerKind::kLinger);
}

void Connection::arm(TimerKind kind) {
  if (closing_ || owner_ == nullptr) return;
  const ConnectionLimits& limits = owner_->limits();
  uint64_t timeout_ms = kLingerMs;
  switch (kind) {
    case TimerKind::kIdle:
      timeout_ms = limits.idle_timeout_ms;
      break;
    case TimerKind::kHeader:
      timeout_ms = rejected_ ? std::min<uint64_t>(limits.header_timeout_ms, kOverLimitHeadMs)
                             : limits.header_timeout_ms;
      break;
    case TimerKind::kBody:
    case TimerKind::kHandler:
      timeout_ms = limits.body_timeout_ms;
      break;
    case TimerKind::kResume:
      timeout_ms = 0;
      break;
    case TimerKind::kLinger:
    case TimerKind::kNone:
      break;
  }
  if (draining_) {
    uint64_t now = uv_now(tcp_.loop);
    timeout_ms = std::min(timeout_ms, drain_deadline_ms_ > now ? drain_deadline_ms_ - now : 0);
  }
  timer_kind_ = kind;
  uv_timer_start(
      &timer_, [](uv_timer_t* t) { static_cast<Connection*>(t->data)->on_timer(); }, timeout_ms, 0);
}

void Connection::on_timer() {
  if (closing_) return;
  if (draining_ && uv_now(tcp_.loop) >= drain_deadline_ms_) {
    log::debug("http_shutdown_close", {{"client", peer_.to_string()}});
    close();
    return;
  }
  if (close_after_write_ || lingering_) {
    close();
    return;
  }
  switch (timer_kind_) {
    case TimerKind::kHeader:
      if (rejected_) {
        refuse_admission();
      } else {
        respond_error(408, "timed out waiting for the request head", RejectReason::kHeaderTimeout);
      }
      break;
    case TimerKind::kBody:
      respond_error(408, "timed out waiting for the request body", RejectReason::kBodyTimeout);
      break;
    case TimerKind::kHandler: {
      std::string message = deferred_ && !deferred_->timeout_message.empty()
                                ? deferred_->timeout_message
                                : "timed out waiting for the response";
      drop_deferred();
      respond_error(503, message, RejectReason::kHandlerTimeout);
      break;
    }
    case TimerKind::kResume:
      arm(TimerKind::kIdle);
      if (paused_) resume();
      break;
    case TimerKind::kIdle:
    case TimerKind::kLinger:
    case TimerKind::kNone:
      close();
      break;
  }
}

void Connection::drain(uint64_t deadline_ms) {
  if (closing_) return;
  draining_ = true;
  drain_deadline_ms_ = deadline_ms;
  if (!close_after_write_ && !lingering_ && !request_started_) {
    if (pending_writes_ == 0) {
      close();
      return;
    }
    close_after_write_ = true;
  }
  // A request in progress is answered with Connection: close (draining()).
  // Re-arming applies the deadline to whatever the connection waits for.
  if (uv_timer_get_due_in(&timer_) > deadline_ms - std::min(deadline_ms, uv_now(tcp_.loop))) {
    arm(timer_kind_);
  }
}

void Connection::settle_request() {
  if (request_counted_ && owner_ != nullptr) owner_->metrics().request_finished();
  request_counted_ = false;
}

void Connection::release_body() {
  if (body_charged_ > 0 && owner_ != nullptr) owner_->refund(this, body_charged_);
  body_charged_ = 0;
}

void Connection::release_reservation() {
  if (reserved_ > 0 && owner_ != nullptr) owner_->refund(this, reserved_);
  reserved_ = 0;
}

void Connection::close() {
  if (closing_) return;
  closing_ = true;
  reading_ = false;
  drop_deferred();
  settle_request();
  release_body();
  release_reservation();
  if (owner_ != nullptr) {
    if (counted_) owner_->metrics().connection_closed();
    owner_->connection_closing(this);
  }
  pending_closes_ = 2;
  uv_close(reinterpret_cast<uv_handle_t*>(&tcp_), on_handle_closed);
  uv_close(reinterpret_cast<uv_handle_t*>(&timer_), on_handle_closed);
}

void Connection::on_handle_closed(uv_handle_t* handle) {
  auto* self = static_cast<Connection*>(handle->data);
  if (--self->pending_closes_ > 0) return;
  if (self->owner_ != nullptr) self->owner_->connection_freed(self);
  delete self;
}

}  // namespace edgemon::http
