#include "http/listener.hpp"

#include <arpa/inet.h>
#include <unistd.h>

#include <cerrno>

namespace edgemon::http {

namespace {

constexpr int kBacklog = 511;
// Accepts per readable event, so one busy listener cannot starve the loop.
constexpr int kAcceptBatch = 64;
// Pause after running out of descriptors (or memory) before trying again.
constexpr uint64_t kRetryMs = 100;

bool to_sockaddr(const ListenAddress& address, sockaddr_storage* out, socklen_t* length) {
  *out = {};
  auto* v4 = reinterpret_cast<sockaddr_in*>(out);
  if (inet_pton(AF_INET, address.host.c_str(), &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons(address.port);
    *length = sizeof *v4;
    return true;
  }
  auto* v6 = reinterpret_cast<sockaddr_in6*>(out);
  if (inet_pton(AF_INET6, address.host.c_str(), &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(address.port);
    *length = sizeof *v6;
    return true;
  }
  return false;
}

// Errors of one pending connection that Linux reports through accept(); the
// next accept() may well succeed (see accept(2), "Error handling").
bool connection_error(int err) {
  switch (err) {
    case ECONNABORTED:
    case EPROTO:
    case ENETDOWN:
    case ENOPROTOOPT:
    case EHOSTDOWN:
    case ENONET:
    case EHOSTUNREACH:
    case EOPNOTSUPP:
    case ENETUNREACH:
    case EPERM:  // refused by a firewall rule
      return true;
    default:
      return false;
  }
}

// Returns the listening socket or -errno.
int listen_socket(const sockaddr_storage& address, socklen_t length, uint16_t* port) {
  int fd = socket(address.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return -errno;
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (address.ss_family == AF_INET6) setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
  sockaddr_storage bound{};
  socklen_t bound_length = sizeof bound;
  if (bind(fd, reinterpret_cast<const sockaddr*>(&address), length) != 0 ||
      ::listen(fd, kBacklog) != 0 ||
      getsockname(fd, reinterpret_cast<sockaddr*>(&bound), &bound_length) != 0) {
    int err = errno;
    ::close(fd);
    return -err;
  }
  *port = ntohs(bound.ss_family == AF_INET6 ? reinterpret_cast<sockaddr_in6*>(&bound)->sin6_port
                                            : reinterpret_cast<sockaddr_in*>(&bound)->sin_port);
  return fd;
}

}  // namespace

std::string Listener::open(uv_loop_t* loop, const ListenAddress& address, AcceptFn on_accept,
                           ErrorFn on_error, Listener** out) {
  sockaddr_storage storage;
  socklen_t length = 0;
  if (!to_sockaddr(address, &storage, &length)) {
    return "cannot listen on " + address.to_string() + ": not an IP address";
  }
  uint16_t port = 0;
  int fd = listen_socket(storage, length, &port);
  if (fd < 0) return "cannot listen on " + address.to_string() + ": " + uv_strerror(fd);
  auto* listener = new Listener(loop, fd);
  listener->address_ = ListenAddress{address.host, port}.to_string();
  listener->on_accept_ = std::move(on_accept);
  listener->on_error_ = std::move(on_error);
  listener->start_polling();
  *out = listener;
  return "";
}

Listener::Listener(uv_loop_t* loop, int fd) : fd_(fd) {
  // Neither init fails for a valid socket on a valid loop.
  uv_poll_init_socket(loop, &poll_, fd);
  uv_timer_init(loop, &retry_);
  poll_.data = this;
  retry_.data = this;
}

void Listener::start_polling() {
  uv_poll_start(&poll_, UV_READABLE, [](uv_poll_t* p, int status, int) {
    auto* self = static_cast<Listener*>(p->data);
    if (status < 0) {
      self->on_error_(status);
      self->pause_accepting();
      return;
    }
    self->on_readable();
  });
}

void Listener::on_readable() {
  for (int i = 0; i < kAcceptBatch && !closing_; ++i) {
    int fd = accept4(fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd >= 0) {
      on_accept_(fd);
      continue;
    }
    int err = errno;
    if (err == EAGAIN || err == EWOULDBLOCK) return;
    if (err == EINTR || connection_error(err)) continue;
    // EMFILE, ENFILE, ENOBUFS, ENOMEM, or something unexpected: trying
    // again at once would fail the same way.
    on_error_(-err);
    pause_accepting();
    return;
  }
}

void Listener::pause_accepting() {
  if (closing_) return;
  uv_poll_stop(&poll_);
  uv_timer_start(
      &retry_,
      [](uv_timer_t* t) {
        auto* self = static_cast<Listener*>(t->data);
        if (!self->closing_) self->start_polling();
      },
      kRetryMs, 0);
}

void Listener::close(std::function<void()> closed) {
  if (closing_) return;
  closing_ = true;
  closed_ = std::move(closed);
  pending_closes_ = 2;
  uv_close(reinterpret_cast<uv_handle_t*>(&poll_), on_handle_closed);
  uv_close(reinterpret_cast<uv_handle_t*>(&retry_), on_handle_closed);
}

void Listener::on_handle_closed(uv_handle_t* handle) {
  auto* self = static_cast<Listener*>(handle->data);
  if (--self->pending_closes_ > 0) return;
  // uv_poll does not own the descriptor.
  ::close(self->fd_);
  auto closed = std::move(self->closed_);
  delete self;
  if (closed) closed();
}

}  // namespace edgemon::http
