#pragma once
// One accepted HTTP connection: a TCP handle, a timer for its deadlines, a
// request parser and a queue of responses being written.
//
// Lifetime: a Connection frees itself. It owns two libuv handles, and libuv
// may call back into it until both close callbacks have run, so `delete`
// happens in the second close callback and nowhere else. Write callbacks of
// a closed connection still run (with UV_ECANCELED) before that, so they
// only settle counters.
#include <uv.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "core/net_address.hpp"
#include "http/http_metrics.hpp"
#include "http/memory_budget.hpp"
#include "http/request.hpp"
#include "http/request_parser.hpp"

namespace edgemon::http {

struct ConnectionLimits {
  ParserLimits parser;
  uint64_t header_timeout_ms = 10000;
  uint64_t body_timeout_ms = 30000;
  uint64_t idle_timeout_ms = 60000;
  uint64_t max_pending_response_bytes = 4 * 1024 * 1024;
};

class Connection;

// What a connection needs from the server that accepted it.
class ConnectionOwner {
 public:
  virtual ~ConnectionOwner() = default;
  virtual const ConnectionLimits& limits() const = 0;
  // One buffer shared by every connection: reads are processed to the end
  // before the loop reads again, so nothing but an unparsed remainder is
  // ever kept per connection.
  virtual uv_buf_t read_buffer() = 0;
  virtual std::string_view http_date() = 0;
  // True once the server is shutting down: answer what is in progress with
  // Connection: close.
  virtual bool draining() const = 0;
  // Decides on a request at its head, before its body is read, so a refused
  // client is answered at once (not after sending, or being told to send
  // with 100 Continue, a body it may not deliver): the access rules for
  // requests with a body (`body_bytes` > 0; the others are checked when
  // handled), then the memory budget and the client address's share of it
  // for every request. Returns false with the refusal in
  // *rejection and the route label for metrics in *route.
  // An admitted request's answer estimate (Route::response_estimate) is in
  // *reserve, to hold of the budget until the answer is queued.
  virtual bool admit(const Request& head, uint64_t body_bytes, uint64_t* reserve,
                     Response* rejection, std::string_view* route) = 0;
  // Shared by every connection (http.limits.memory_budget).
  virtual MemoryBudget& budget() = 0;
  // What a connection holds, charged to the budget and to its address's
  // share; refunds may come after connection_closing(), until connection_freed().
  virtual void charge(const Connection* connection, uint64_t bytes) = 0;
  virtual void refund(const Connection* connection, uint64_t bytes) = 0;
  // A route answered even to a connection over the limits (Route::always_answered).
  virtual bool always_answered(const Request& head) = 0;
  // Routes the request and runs access checks (unless admitted already) and
  // the handler; returns the route label for metrics.
  virtual std::string_view handle(const Request& request, Response& response) = 0;
  virtual HttpMetrics& metrics() = 0;
  virtual void connection_closing(Connection* connection) = 0;
  virtual void connection_freed(Connection* connection) = 0;
};

class Connection {
 public:
  // The owner keeps track of the returned object until connection_freed().
  static Connection* create(ConnectionOwner* owner, uv_loop_t* loop);
  // Takes over an accepted socket. A rejected connection (over
  // max_connections, or its address's share) is answered 503 and closed;
  // with `reads_head`, only once its first request head shows that it is
  // not for a route that is always answered (GET /health), within a
  // second. On failure the connection closes itself and returns false.
  enum class Admission { kServe, kTooMany, kTooManyFromAddress };
  bool start(int fd, Admission admission, bool reads_head = false);

  // Graceful stop: close now if idle, else after the response in progress,
  // and at `deadline_ms` (uv_now) at the latest.
  void drain(uint64_t deadline_ms);
  void close();
  // The owner is going away: no more calls to it.
  void detach() { owner_ = nullptr; }
  bool closing() const { return closing_; }
  bool rejected() const { return rejected_; }
  // Over the limits and still waiting for the head that decides.
  bool awaiting_head() const { return rejected_ && !closing_ && timer_kind_ == TimerKind::kHeader; }

 private:
  enum class TimerKind { kNone, kIdle, kHeader, kBody, kHandler, kResume, kLinger };
  struct Write;

  Connection(ConnectionOwner* owner, uv_loop_t* loop);
  ~Connection() = default;
  uv_stream_t* stream() { return reinterpret_cast<uv_stream_t*>(&tcp_); }

  void start_reading();
  void stop_reading();
  void on_read(ssize_t nread, const uv_buf_t* buf);
  void on_eof();
  void process(const char* data, size_t len);
  void on_headers_complete();
  void on_request_complete();
  void finish_request(std::string_view route, Response&& response);
  void drop_deferred();
  void respond_error(int status, std::string_view message, RejectReason reason);
  void refuse_admission();
  void queue_response(Response&& response, bool head_only, bool keep_alive);
  void queue_write(Write* write);
  void on_write_done(Write* write, int status);
  void pause();
  void resume();
  void start_linger();
  void arm(TimerKind kind);
  void on_timer();
  void settle_request();
  // Returns the request body's share of the budget (and the answer's
  // reservation).
  void release_body();
  void release_reservation();
  bool over_budget() const { return owner_ != nullptr && owner_->budget().exhausted(); }

  static void on_handle_closed(uv_handle_t* handle);

  ConnectionOwner* owner_;
  uv_tcp_t tcp_{};
  uv_timer_t timer_{};
  uv_shutdown_t shutdown_req_{};
  RequestParser parser_;
  // The handler deferred its response (Response::defer); reading waits.
  std::shared_ptr<Responder::State> deferred_;
  std::string_view deferred_route_;
  IpAddress peer_;
  std::string remainder_;  // unparsed input kept while paused
  TimerKind timer_kind_ = TimerKind::kNone;
  uint64_t pending_bytes_ = 0;
  uint64_t body_charged_ = 0;  // the request body's share of the budget
  uint64_t reserved_ = 0;      // held for the answer until it is queued
  uint32_t pending_writes_ = 0;
  int pending_closes_ = 0;
  uint64_t head_done_ns_ = 0;
  uint64_t drain_deadline_ms_ = 0;
  bool reading_ = false;
  bool paused_ = false;
  bool request_started_ = false;  // bytes of the next request have arrived
  bool request_counted_ = false;  // counted in flight, response not queued yet
  bool close_after_write_ = false;
  bool lingering_ = false;
  bool peer_eof_ = false;
  bool closing_ = false;
  bool rejected_ = false;
  Admission admission_ = Admission::kServe;
  bool draining_ = false;
  bool counted_ = false;  // in the connections gauge
};

}  // namespace edgemon::http
