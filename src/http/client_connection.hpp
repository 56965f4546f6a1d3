#pragma once
// One outbound connection of the HTTP client: resolve (on libuv's thread
// pool), connect to each address in turn, TLS when the URL says https, then
// one request and its response at a time. Kept alive between requests by
// the client's pool (http_client.cpp), which decides what runs on it.
#include <uv.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/timer.hpp"
#include "core/uv_handle.hpp"
#include "http/http_client.hpp"
#include "http/response_parser.hpp"
#include "http/tls_session.hpp"

namespace edgemon::http {

// Where a connection goes; connections are shared only between requests
// with equal destinations (key()).
struct Destination {
  bool tls = false;
  std::string host;
  bool host_is_ipv6 = false;
  uint16_t port = 0;
  std::string unix_socket;
  std::string ca_file;
  bool verify_tls = true;

  std::string key() const;
  // "host:port", or the socket path, for error messages.
  std::string name() const;
};

// One request on the wire.
struct Exchange {
  std::string head;  // request line and headers, up to the blank line
  std::shared_ptr<const std::string> body;
  size_t max_response_bytes = 0;
  bool head_request = false;
};

struct ExchangeResult {
  // status, headers, body and truncated; or error and timed_out.
  ClientResponse response;
  // The connection may carry another request.
  bool reusable = false;
  // It failed before any byte of a response arrived: the server may never
  // have seen the request (it closed an idle connection as we sent).
  bool unanswered = false;
};

class ClientConnection {
 public:
  using Finished = std::function<void(ExchangeResult&&)>;
  using Closed = std::function<void()>;

  // `tls` is required when the destination says TLS.
  ClientConnection(uv_loop_t* loop, Destination destination, std::shared_ptr<TlsContext> tls);
  ~ClientConnection();
  ClientConnection(const ClientConnection&) = delete;
  ClientConnection& operator=(const ClientConnection&) = delete;

  // Sends one request, connecting first when the connection is new
  // (resolving, connecting and the TLS handshake together bounded by
  // `connect_timeout`, 0 for none). `finished` runs exactly once, from a
  // libuv callback, never inside run(); the connection may be destroyed
  // inside it. Destroying the connection earlier abandons the exchange.
  void run(Exchange exchange, std::chrono::milliseconds connect_timeout, Finished finished);

  // Waiting for the next request: `closed` runs once when the peer closes,
  // sends anything, or `idle_timeout` passes; the owner then destroys it.
  void park(std::chrono::milliseconds idle_timeout, Closed closed);

  // How many exchanges completed on this connection.
  uint64_t completed() const { return completed_; }

 private:
  enum class State { kNew, kResolving, kConnecting, kHandshaking, kBusy, kIdle, kDead };

  struct Resolve;
  static void on_resolved(uv_getaddrinfo_t* req, int status, addrinfo* res);
  static void on_connected(uv_connect_t* req, int status);
  static void on_read(uv_stream_t* stream, ssize_t n, const uv_buf_t* buf);
  static void on_written(uv_write_t* req, int status);

  void start_connect(std::chrono::milliseconds connect_timeout);
  void resolved(int status, addrinfo* res);
  bool connect_next();
  std::string connect_failure() const;
  void connected(int status);
  void handshake();
  bool flush_tls();
  void send_request();
  void pump_tls();
  bool write(std::string data, std::shared_ptr<const std::string> body);
  void received(const char* data, size_t len);
  bool parse(const char* data, size_t len);
  void peer_closed(int status);
  void fail(std::string error, bool timed_out = false, bool unanswered = false);
  void fail_soon(std::string error, bool unanswered);
  void complete(ExchangeResult&& result);
  void call_closed();
  uv_stream_t* stream() const;

  uv_loop_t* loop_;
  Destination destination_;
  std::shared_ptr<TlsContext> tls_context_;
  State state_ = State::kNew;
  Timer timer_;                 // connect timeout, idle timeout, a failure found synchronously
  Resolve* resolve_ = nullptr;  // in flight on the thread pool; frees itself
  std::vector<sockaddr_storage> addresses_;
  size_t next_address_ = 0;
  std::string connect_error_;
  UvHandle<uv_tcp_t> tcp_;
  UvHandle<uv_pipe_t> pipe_;
  std::unique_ptr<TlsSession> tls_;
  Exchange exchange_;
  size_t tls_sent_ = 0;          // plaintext bytes of the exchange encrypted so far
  bool request_queued_ = false;  // all of the request is handed to libuv
  std::string write_error_;
  std::unique_ptr<ResponseParser> parser_;
  Finished finished_;
  Closed closed_;
  uint64_t completed_ = 0;
};

}  // namespace edgemon::http
