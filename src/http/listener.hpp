#pragma once
// A listening TCP socket on the loop.
//
// accept() is done here rather than by uv_listen: when the process is out of
// file descriptors libuv accepts and drops every pending connection without
// telling its caller, so the failure could be neither counted nor logged.
// Here an EMFILE is reported and accepting pauses briefly, leaving pending
// connections in the kernel's backlog until descriptors free up, and the
// loop never spins on a socket that stays readable.
#include <uv.h>

#include <functional>
#include <string>

#include "core/net_address.hpp"

namespace edgemon::http {

class Listener {
 public:
  using AcceptFn = std::function<void(int fd)>;  // takes ownership of fd
  using ErrorFn = std::function<void(int uv_error)>;

  // Binds and listens (IPv6 sockets are IPv6-only, so "0.0.0.0:P" and
  // "[::]:P" can both be listed). Returns "" or what failed.
  [[nodiscard]] static std::string open(uv_loop_t* loop, const ListenAddress& address,
                                        AcceptFn on_accept, ErrorFn on_error, Listener** out);

  // "host:port" with the port actually bound.
  const std::string& address() const { return address_; }

  // Stops listening; `closed` runs once libuv has released the handles.
  void close(std::function<void()> closed);
  // The owner is going away: `closed` will not be called.
  void detach() { closed_ = nullptr; }

 private:
  Listener(uv_loop_t* loop, int fd);
  ~Listener() = default;
  void on_readable();
  void pause_accepting();
  void start_polling();
  static void on_handle_closed(uv_handle_t* handle);

  int fd_;
  uv_poll_t poll_{};
  uv_timer_t retry_{};
  std::string address_;
  AcceptFn on_accept_;
  ErrorFn on_error_;
  std::function<void()> closed_;
  int pending_closes_ = 0;
  bool closing_ = false;
};

}  // namespace edgemon::http
